"""The router against spatial databases on the same points and zones, in one run: PostGIS
(``ST_Covers`` joined through a GiST index, on the machine's PostgreSQL) and DuckDB spatial
(``ST_Covers`` join, DuckDB 1.5.5 with the ``duckdb-extension-spatial`` wheel).

Loading the tables and building the indexes is not timed (as the router's index build is not);
each engine answers "which zones cover each point" for every point, the router additionally
applies every routing rule, test points and reasons. Rates are points per second, best of 2.

    python bench/engines_bench.py [--points 1000000] [--layers 10000,100000] [--dsn postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import io
import os
from pathlib import Path

import duckdb
import duckdb_extension_spatial
import numpy as np
import pandas as pd
import psycopg
import shapely

from route_bench import points_near, timed  # the same points as the routing benchmark
from geodata.demo.generate import generate, load_district
from geodata.demo.synthetic import synthetic_zones
from zones.config import RoutingConfig
from zones.layer import ZoneLayer
from zones.router import route

SPATIAL = Path(duckdb_extension_spatial.__file__).parent / "extensions" / "v1.5.5" / "spatial.duckdb_extension"


def postgis(dsn: str, zones_wkb: list[bytes], lon: np.ndarray, lat: np.ndarray) -> tuple[float, int]:
    """Seconds of the best ``ST_Covers`` join, and the pairs it found."""
    schema = f"bench_{os.getpid()}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        conn.execute(f"CREATE SCHEMA {schema}")
        try:
            conn.execute(f"SET search_path = {schema}, public")
            conn.execute("CREATE TABLE zones (id int, geom geometry(Geometry, 4326))")
            with conn.cursor().copy("COPY zones (id, geom) FROM STDIN") as copy:
                for k, wkb in enumerate(zones_wkb):
                    copy.write_row((k, "SRID=4326;" + wkb.hex()))
            conn.execute("CREATE TABLE pts (id int, lon float8, lat float8)")
            buffer = io.StringIO()
            pd.DataFrame({"id": np.arange(len(lon)), "lon": lon, "lat": lat}).to_csv(buffer, index=False, header=False)
            with conn.cursor().copy("COPY pts FROM STDIN WITH (FORMAT csv)") as copy:
                copy.write(buffer.getvalue())
            conn.execute("ALTER TABLE pts ADD COLUMN geom geometry(Point, 4326)")
            conn.execute("UPDATE pts SET geom = ST_SetSRID(ST_MakePoint(lon, lat), 4326)")
            conn.execute("CREATE INDEX ON zones USING gist (geom)")
            conn.execute("ANALYZE zones")
            conn.execute("ANALYZE pts")
            query = "SELECT count(*) FROM pts JOIN zones ON ST_Covers(zones.geom, pts.geom)"
            seconds, pairs = timed(lambda: conn.execute(query).fetchone()[0])
        finally:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
    return seconds, int(pairs)


def duck(zones_wkb: list[bytes], lon: np.ndarray, lat: np.ndarray) -> tuple[float, int]:
    """Seconds of the best DuckDB ``ST_Covers`` join, and the pairs it found."""
    conn = duckdb.connect()
    conn.execute(f"LOAD '{SPATIAL}'")
    zones = pd.DataFrame({"id": np.arange(len(zones_wkb)), "wkb": zones_wkb})  # noqa: F841 - read by DuckDB
    points = pd.DataFrame({"id": np.arange(len(lon)), "lon": lon, "lat": lat})  # noqa: F841
    conn.execute("CREATE TABLE z AS SELECT id, ST_GeomFromWKB(wkb) AS geom FROM zones")
    conn.execute("CREATE TABLE p AS SELECT id, ST_Point(lon, lat) AS geom FROM points")
    query = "SELECT count(*) FROM p JOIN z ON ST_Covers(z.geom, p.geom)"
    seconds, pairs = timed(lambda: conn.execute(query).fetchone()[0])
    conn.close()
    return seconds, int(pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--layers", default="10000,100000")
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    demo = generate()
    district = load_district().geometry.union_all()
    categories = demo.categories.assign(deadline_hours=demo.categories["deadline_hours"].astype(float))
    n, rng, config = args.points, np.random.default_rng(5), RoutingConfig()
    rows = []
    for name in args.layers.split(","):
        zones = synthetic_zones(int(name), district, seed=1)
        lon, lat = points_near(zones, district, n, seed=2)
        frame = pd.DataFrame({"id": np.arange(n).astype(str), "lon": lon, "lat": lat,
                              "category": rng.choice(categories["code"].to_numpy(dtype=object), n), "accuracy_m": np.clip(rng.lognormal(np.log(6), 0.6, n), 2, 80)})
        layer = ZoneLayer.build(zones, demo.test_points, demo.areas, categories)
        route(frame.head(1000), layer, config)
        t_router, decisions = timed(lambda: route(frame, layer, config))
        wkb = list(shapely.to_wkb(zones.geometry.to_numpy()))
        t_pg, pg_pairs = postgis(args.dsn, wkb, lon, lat)
        t_duck, duck_pairs = duck(wkb, lon, lat)
        rows.append((name, len(zones), n / t_router, n / t_pg, n / t_duck, t_pg / t_router, t_duck / t_router, pg_pairs, duck_pairs))
        print(f"  {name}: router {decisions['status'].value_counts().to_dict()}; PostGIS pairs {pg_pairs:,}, DuckDB pairs {duck_pairs:,}", flush=True)
    print(f"{n:,} points per layer; points per second, best of 2")
    print(f"{'zones':>8}{'router':>12}{'PostGIS':>12}{'DuckDB':>12}{'vs PostGIS':>12}{'vs DuckDB':>11}")
    for _name, count, r, p, d, rp, rd, _pp, _dp in rows:
        print(f"{count:>8}{r:>12,.0f}{p:>12,.0f}{d:>12,.0f}{rp:>11.1f}x{rd:>10.1f}x")


if __name__ == "__main__":
    main()
