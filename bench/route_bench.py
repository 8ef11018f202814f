"""Router throughput and memory against the baselines, all measured in the same run on the
same points and zones.

For each layer (the demo, and generated 10k- and 100k-zone layers) it routes 1M points with the
full router (every rule, test points, reasons) and answers "which zones hold each point" on the
same points with:

- shapely's bulk ``STRtree.query(points, predicate="intersects")`` (tree and point geometries
  built beforehand);
- ``geopandas.sjoin(points, zones, predicate="intersects")`` (spatial index warmed);
- PostGIS ``ST_Covers`` joined through a GiST index, on the machine's PostgreSQL (PostGIS from
  Debian: ``apt-get install postgresql-15-postgis-3``);
- DuckDB spatial's ``ST_Covers`` join (``duckdb==1.5.5`` with the ``duckdb-extension-spatial``
  wheel of the same version).

Building indexes and loading tables is not timed for any of them. Rates are points per second,
best of 2 (sjoin: 1). Peak memory is how far the resident size rose above its level before the
run (``/proc/<pid>/clear_refs`` resets the high-water mark); for PostGIS, that of the server
process running the query (its parallel workers, if the planner starts any, are not counted).
Then it times single-report routing (``route_one``) over 2,000 reports.

    python bench/route_bench.py [--points 1000000] [--layers demo,10000,100000] [--workers 2]
        [--dsn postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import ctypes
import io
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import duckdb_extension_spatial
import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import shapely

from geodata.crs import METRIC_CRS, STORAGE_CRS, points_to_wgs84
from geodata.demo.generate import generate, load_district
from geodata.demo.reports import generate_reports
from geodata.demo.synthetic import synthetic_zones
from zones.config import RoutingConfig
from zones.layer import ZoneLayer
from zones.router import route, route_one, warm

SPATIAL = Path(duckdb_extension_spatial.__file__).parent / "extensions" / "v1.5.5" / "spatial.duckdb_extension"
ENGINES = ("router", "STRtree", "sjoin", "PostGIS", "DuckDB")
LIBC = ctypes.CDLL("libc.so.6")


def points_near(zones: gpd.GeoDataFrame, district: shapely.Geometry, count: int, seed: int) -> pd.DataFrame:
    """80 % near zones (50 m noise), 20 % anywhere in the district's bounding box."""
    rng = np.random.default_rng(seed)
    metric = zones.to_crs(METRIC_CRS)
    anchors = shapely.point_on_surface(metric.geometry.to_numpy())
    near = int(count * 0.8)
    pick = rng.integers(len(anchors), size=near)
    xy = np.column_stack([shapely.get_x(anchors[pick]), shapely.get_y(anchors[pick])]) + rng.normal(0, 50, (near, 2))
    lonlat = gpd.GeoSeries(shapely.points(xy), crs=METRIC_CRS).to_crs(STORAGE_CRS)
    minx, miny, maxx, maxy = district.bounds
    lon = np.concatenate([lonlat.x.to_numpy(), rng.uniform(minx, maxx, count - near)])
    lat = np.concatenate([lonlat.y.to_numpy(), rng.uniform(miny, maxy, count - near)])
    return lon, lat


def _status_mb(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(key)


def measured(func: Callable[[], Any], *, repeat: int = 2, pid: int | None = None) -> tuple[float, float, Any]:
    """Best seconds of ``repeat`` calls, the peak MB process ``pid`` (default: this one) rose to
    above its resident size before them, and the last result."""
    pid = pid or os.getpid()
    if pid == os.getpid():
        LIBC.malloc_trim(0)  # hand freed heap back first, or reusing it would hide a run's growth
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # high-water mark := resident size now
    before = _status_mb(pid, "VmRSS")
    best, result = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - t)
    return best, _status_mb(pid, "VmHWM") - before, result


def postgis(dsn: str, zones_wkb: list[bytes], lon: np.ndarray, lat: np.ndarray) -> tuple[float, float, int]:
    """Seconds of the best ``ST_Covers`` join, the server process's peak MB, and the pairs found."""
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
            backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
            seconds, peak, pairs = measured(lambda: conn.execute(query).fetchone()[0], pid=backend)
        finally:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
    return seconds, peak, int(pairs)


def duck(zones_wkb: list[bytes], lon: np.ndarray, lat: np.ndarray) -> tuple[float, float, int]:
    """Seconds of the best DuckDB ``ST_Covers`` join, its peak MB, and the pairs it found."""
    conn = duckdb.connect()
    conn.execute(f"LOAD '{SPATIAL}'")
    zones = pd.DataFrame({"id": np.arange(len(zones_wkb)), "wkb": zones_wkb})  # noqa: F841 - read by DuckDB
    points = pd.DataFrame({"id": np.arange(len(lon)), "lon": lon, "lat": lat})  # noqa: F841
    conn.execute("CREATE TABLE z AS SELECT id, ST_GeomFromWKB(wkb) AS geom FROM zones")
    conn.execute("CREATE TABLE p AS SELECT id, ST_Point(lon, lat) AS geom FROM points")
    query = "SELECT count(*) FROM p JOIN z ON ST_Covers(z.geom, p.geom)"
    seconds, peak, pairs = measured(lambda: conn.execute(query).fetchone()[0])
    conn.close()
    return seconds, peak, int(pairs)


def workload(name: str, demo: Any, district: shapely.Geometry, categories: pd.DataFrame, n: int,
             rng: np.random.Generator) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The zones of layer ``name`` and ``n`` reports on them (WGS84), the same in every run."""
    if name == "demo":
        reports = generate_reports(demo, n, seed=11)
        lon, lat = np.empty(n), np.empty(n)
        for label in reports["crs"].unique():
            sel = (reports["crs"] == label).to_numpy()
            lon[sel], lat[sel] = points_to_wgs84(reports["lon"].to_numpy()[sel], reports["lat"].to_numpy()[sel], label)
        return demo.zones, pd.DataFrame({"id": np.arange(n).astype(str), "lon": lon, "lat": lat,
                                         "category": reports["category"].to_numpy(dtype=object), "accuracy_m": reports["accuracy_m"].to_numpy()})
    zones = synthetic_zones(int(name), district, seed=1)
    lon, lat = points_near(zones, district, n, seed=2)
    return zones, pd.DataFrame({"id": np.arange(n).astype(str), "lon": lon, "lat": lat, "category": rng.choice(categories["code"].to_numpy(dtype=object), n),
                                "accuracy_m": np.clip(rng.lognormal(np.log(6), 0.6, n), 2, 80)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--layers", default="demo,10000,100000")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    demo = generate()
    district = load_district().geometry.union_all()
    categories = demo.categories.assign(deadline_hours=demo.categories["deadline_hours"].astype(float))
    n, rng, config = args.points, np.random.default_rng(5), RoutingConfig()
    rows = []
    for name in args.layers.split(","):
        zones, frame = workload(name, demo, district, categories, n, rng)
        build, build_mb, layer = measured(lambda: ZoneLayer.build(zones, demo.test_points, demo.areas, categories), repeat=1)
        t, mb, _ = measured(lambda: warm(layer, config), repeat=1)
        build, build_mb = build + t, max(build_mb, mb)
        route(frame.head(1000), layer, config)  # loads the compiled kernels and starts their threads
        rate, peak, pairs = {}, {}, {}
        t, peak["router"], decisions = measured(lambda: route(frame, layer, config, workers=args.workers))
        rate["router"] = n / t
        tree = shapely.STRtree(zones.geometry.to_numpy())
        pts = shapely.points(frame["lon"].to_numpy(), frame["lat"].to_numpy())
        t, peak["STRtree"], found = measured(lambda: tree.query(pts, predicate="intersects"))
        rate["STRtree"], pairs["STRtree"] = n / t, found.shape[1]
        pts_gdf = gpd.GeoDataFrame(geometry=pts, crs=STORAGE_CRS)
        zones.sindex  # noqa: B018 - warm the index
        t, peak["sjoin"], joined = measured(lambda: gpd.sjoin(pts_gdf, zones[["zone_id", "geometry"]], predicate="intersects"), repeat=1)
        rate["sjoin"], pairs["sjoin"] = n / t, len(joined)
        wkb = list(shapely.to_wkb(zones.geometry.to_numpy()))
        t, peak["PostGIS"], pairs["PostGIS"] = postgis(args.dsn, wkb, frame["lon"].to_numpy(), frame["lat"].to_numpy())
        rate["PostGIS"] = n / t
        t, peak["DuckDB"], pairs["DuckDB"] = duck(wkb, frame["lon"].to_numpy(), frame["lat"].to_numpy())
        rate["DuckDB"] = n / t
        rows.append((name, len(zones), build, build_mb, rate, peak))
        counts = decisions["status"].value_counts().to_dict()
        print(f"  {name}: router " + ", ".join(f"{k} {v}" for k, v in counts.items())
              + "; pairs found: " + ", ".join(f"{e} {pairs[e]:,}" for e in ENGINES[1:]), flush=True)
    print(f"{n:,} points per layer; points (router: decisions) per second, best of 2 (sjoin: 1)")
    print(f"{'layer':<8}{'zones':>8}" + "".join(f"{e:>11}" for e in ENGINES) + "".join(f"{'vs ' + e:>12}" for e in ENGINES[1:]))
    for name, count, _, _, rate, _ in rows:
        print(f"{name:<8}{count:>8}" + "".join(f"{rate[e]:>11,.0f}" for e in ENGINES) + "".join(f"{rate['router'] / rate[e]:>11.2f}x" for e in ENGINES[1:]))
    print("peak memory, MB above the resident size before the run; the router's includes its 1M-row decision table with reasons,"
          " the others return pairs or a count")
    print(f"{'layer':<8}{'zones':>8}{'build s':>9}{'index':>8}" + "".join(f"{e:>11}" for e in ENGINES))
    for name, count, build, build_mb, _, peak in rows:
        print(f"{name:<8}{count:>8}{build:>9.2f}{build_mb:>8.0f}" + "".join(f"{peak[e]:>11.0f}" for e in ENGINES))
    # Single reports, in-process.
    layer = ZoneLayer.build(demo.zones, demo.test_points, demo.areas, categories)
    warm(layer, config)
    sample = generate_reports(demo, 2000, seed=3)
    sample = sample[sample["crs"] == "wgs84"]
    times = []
    for row in sample.itertuples():
        t = time.perf_counter()
        route_one(row.lon, row.lat, row.category, layer, accuracy_m=row.accuracy_m)
        times.append(time.perf_counter() - t)
    times.sort()
    print(f"route_one on the demo layer: median {statistics.median(times) * 1000:.3f} ms, p99 {times[int(len(times) * 0.99)] * 1000:.3f} ms "
          f"over {len(times)} reports")


if __name__ == "__main__":
    main()
