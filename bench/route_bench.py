"""Router throughput and memory against the bare kernel and the libraries, all measured in the
same run on the same points and zones.

Layers: the demo; the project's generated 10k- and 100k-zone layers (``10000``, ``100000``:
`geodata.demo.synthetic`, 80 % of the points near zones); and an independently generated
city-like layer at 10k and 100k zones (``city10000``, ``city100000``: `city_layer`, a Voronoi
tessellation with densely vertexed shared edges, street strips, stars, 10 % of the district
uncovered, 19 % of the points in gaps). On each it routes the points with the full router
(every rule, test points, reasons) and answers "which zones hold each point" on the same points
with:

- ``kernel``: the bare containment kernel, 2 threads: ``STRtree.query`` on bounding boxes, then
  ``shapely.contains_xy`` on prepared zones (point geometries built beforehand, as for STRtree);
- ``STRtree``: shapely's bulk ``STRtree.query(points, predicate="intersects")``;
- ``sjoin``: ``geopandas.sjoin(points, zones, predicate="intersects")`` (spatial index warmed);
- ``DuckDB``: DuckDB spatial's ``ST_Covers`` join, when ``duckdb`` and the
  ``duckdb-extension-spatial`` wheel of the same version are installed (optional: not in
  requirements);
- ``PostGIS``: ``ST_Covers`` joined through a GiST index, when the PostgreSQL at ``--dsn``
  accepts ``CREATE EXTENSION postgis``.

Building indexes and loading tables is not timed for any of them. Rates are points per second:
for the router and the kernel the median of ``--rounds`` runs taken in turn (so that a change in
the machine's load hits both), for the others the best of 2 (sjoin: 1). Peak memory is how far the resident size rose above its level before the
run (``/proc/<pid>/clear_refs`` resets the high-water mark); for PostGIS, that of the server
process running the query (its parallel workers, if the planner starts any, are not counted).
Then it times single-report routing (``route_one``) over 2,000 reports on the demo layer.

    python bench/route_bench.py [--points 1000000] [--layers demo,10000,100000,city10000,city100000]
        [--engines router,kernel,STRtree,sjoin,DuckDB,PostGIS] [--workers 2] [--rounds 3] [--single 2000]
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import shapely
from city_layer import city_points, city_zones

from geodata.crs import METRIC_CRS, STORAGE_CRS, points_to_wgs84
from geodata.demo.generate import generate, load_district
from geodata.demo.reports import generate_reports
from geodata.demo.synthetic import synthetic_zones
from zones.config import RoutingConfig
from zones.layer import ZoneLayer
from zones.router import route, route_one, warm

ENGINES = ("router", "kernel", "STRtree", "sjoin", "DuckDB", "PostGIS")
LIBC = ctypes.CDLL("libc.so.6")
KERNEL_THREADS = 2


def points_near(zones: gpd.GeoDataFrame, district: shapely.Geometry, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
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


def kernel(tree: shapely.STRtree, prepared: np.ndarray, points: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> int:
    """The bare containment kernel on ``KERNEL_THREADS`` threads: bounding-box candidates from
    the tree, then prepared point-in-polygon tests; returns the (point, zone) pairs found."""
    bounds = np.linspace(0, len(points), KERNEL_THREADS + 1).astype(int)

    def part(k: int) -> int:
        sl = slice(bounds[k], bounds[k + 1])
        p, z = tree.query(points[sl])
        return int(shapely.contains_xy(prepared[z], lon[sl][p], lat[sl][p]).sum())

    with ThreadPoolExecutor(KERNEL_THREADS) as pool:
        return sum(pool.map(part, range(KERNEL_THREADS)))


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


def postgis_missing(dsn: str) -> str | None:
    """Why PostGIS cannot be measured at ``dsn``, or None when it can."""
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    except psycopg.Error as err:
        return f"PostGIS absent at {dsn}: {str(err).strip().splitlines()[0]}"
    return None


def duckdb_spatial() -> tuple[Any, Path] | str:
    """The ``duckdb`` module and the spatial extension's file, or why they are absent."""
    try:
        import duckdb
        import duckdb_extension_spatial
    except ImportError as err:
        return f"DuckDB absent ({err.name} not installed: pip install duckdb duckdb-extension-spatial of one version)"
    found = sorted((Path(duckdb_extension_spatial.__file__).parent / "extensions").glob(f"v{duckdb.__version__}/spatial.duckdb_extension"))
    if not found:
        return f"DuckDB absent (no spatial extension for duckdb {duckdb.__version__})"
    return duckdb, found[0]


def duck(module: Any, extension: Path, zones_wkb: list[bytes], lon: np.ndarray, lat: np.ndarray) -> tuple[float, float, int]:
    """Seconds of the best DuckDB ``ST_Covers`` join, its peak MB, and the pairs it found."""
    conn = module.connect()
    conn.execute(f"LOAD '{extension}'")
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
    if name.startswith("city"):
        zones, gaps = city_zones(int(name.removeprefix("city")), district, seed=1)
        lon, lat = city_points(zones, gaps, n, seed=2)
    else:
        zones = synthetic_zones(int(name), district, seed=1)
        lon, lat = points_near(zones, district, n, seed=2)
    return zones, pd.DataFrame({"id": np.arange(n).astype(str), "lon": lon, "lat": lat, "category": rng.choice(categories["code"].to_numpy(dtype=object), n),
                                "accuracy_m": np.clip(rng.lognormal(np.log(6), 0.6, n), 2, 80)})


def run_layer(name: str, zones: gpd.GeoDataFrame, frame: pd.DataFrame, layer: ZoneLayer, config: RoutingConfig, engines: list[str],
              args: argparse.Namespace, duck_found: tuple[Any, Path] | str) -> tuple[dict[str, float], dict[str, float], str]:
    """Rates and peak memory of each engine on one layer, and a line on what they found."""
    n = len(frame)
    lon, lat = frame["lon"].to_numpy(), frame["lat"].to_numpy()
    rate, peak, pairs = {}, {}, {}
    found = ""
    geoms = zones.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    pts = shapely.points(lon, lat)
    prepared = geoms.copy()
    shapely.prepare(prepared)
    # The router and the kernel take turns, so that a change in the machine's load hits both.
    head = [e for e in ("router", "kernel") if e in engines]
    runs: dict[str, Callable[[], Any]] = {"router": lambda: route(frame, layer, config, workers=args.workers),
                                          "kernel": lambda: kernel(tree, prepared, pts, lon, lat)}
    route(frame.head(1000), layer, config)  # loads the compiled kernels
    kernel(tree, prepared, pts[:1000], lon[:1000], lat[:1000])
    seconds: dict[str, list[float]] = {e: [] for e in head}
    for _ in range(args.rounds):
        for engine in head:
            t, mb, result = measured(runs[engine], repeat=1)
            seconds[engine].append(t)
            peak[engine] = max(peak.get(engine, 0.0), mb)
            if engine == "router":
                found = "router " + ", ".join(f"{k} {v}" for k, v in result["status"].value_counts().to_dict().items()) + "; "
            else:
                pairs[engine] = result
            result = None
    for engine in head:
        rate[engine] = n / statistics.median(seconds[engine])
    if "STRtree" in engines:
        t, peak["STRtree"], hits = measured(lambda: tree.query(pts, predicate="intersects"))
        rate["STRtree"], pairs["STRtree"] = n / t, hits.shape[1]
        del hits
    if "sjoin" in engines:
        pts_gdf = gpd.GeoDataFrame(geometry=pts, crs=STORAGE_CRS)
        zones.sindex  # noqa: B018 - warm the index
        t, peak["sjoin"], joined = measured(lambda: gpd.sjoin(pts_gdf, zones[["zone_id", "geometry"]], predicate="intersects"), repeat=1)
        rate["sjoin"], pairs["sjoin"] = n / t, len(joined)
        del joined, pts_gdf
    wkb = list(shapely.to_wkb(geoms))
    if "DuckDB" in engines and not isinstance(duck_found, str):
        t, peak["DuckDB"], pairs["DuckDB"] = duck(*duck_found, wkb, lon, lat)
        rate["DuckDB"] = n / t
    if "PostGIS" in engines and postgis_missing(args.dsn) is None:
        t, peak["PostGIS"], pairs["PostGIS"] = postgis(args.dsn, wkb, lon, lat)
        rate["PostGIS"] = n / t
    found += "pairs found: " + ", ".join(f"{e} {pairs[e]:,}" for e in ENGINES if e in pairs)
    return rate, peak, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--layers", default="demo,10000,100000,city10000,city100000")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=3, help="turns of router and kernel (their median is reported)")
    parser.add_argument("--single", type=int, default=2000, help="reports for route_one (0: skip)")
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    engines = [e for e in ENGINES if e in args.engines.split(",")]
    duck_found = duckdb_spatial() if "DuckDB" in engines else "DuckDB not asked for"
    for absent in (duck_found if isinstance(duck_found, str) and "DuckDB" in engines else None,
                   postgis_missing(args.dsn) if "PostGIS" in engines else None):
        if absent:
            print(absent, "- its columns show '-'", flush=True)
    demo = generate()
    district = load_district().geometry.union_all()
    categories = demo.categories.assign(deadline_hours=demo.categories["deadline_hours"].astype(float))
    n, rng, config = args.points, np.random.default_rng(5), RoutingConfig()
    rows = []
    for name in args.layers.split(","):
        zones, frame = workload(name, demo, district, categories, n, rng)
        build, build_mb, layer = measured(lambda: ZoneLayer.build(zones, demo.test_points, demo.areas, categories), repeat=1)
        t, mb, _ = measured(lambda: warm(layer, config), repeat=1)
        rate, peak, found = run_layer(name, zones, frame, layer, config, engines, args, duck_found)
        rows.append((name, len(zones), build + t, max(build_mb, mb), rate, peak))
        print(f"  {name}: {found}", flush=True)
        zones = frame = layer = None  # free this layer before building the next
    others = [e for e in engines if e != "router"]

    def cell(values: dict[str, float], engine: str, fmt: str, width: int) -> str:
        return f"{values[engine]:>{width}{fmt}}" if engine in values else f"{'-':>{width}}"

    print(f"{n:,} points per layer; points (router: decisions) per second: router and kernel median of {args.rounds} turns taken"
          f" in turn, the others best of 2 (sjoin: 1); kernel: {KERNEL_THREADS} threads")
    print(f"{'layer':<11}{'zones':>8}" + "".join(f"{e:>11}" for e in engines) + "".join(f"{'vs ' + e:>12}" for e in others if "router" in engines))
    for name, count, _, _, rate, _ in rows:
        ratios = "".join(f"{rate['router'] / rate[e]:>11.2f}x" if e in rate else f"{'-':>12}" for e in others if "router" in rate)
        print(f"{name:<11}{count:>8}" + "".join(cell(rate, e, ",.0f", 11) for e in engines) + ratios)
    print("peak memory, MB above the resident size before the run; the router's includes its decision table with reasons,"
          " the others return pairs or a count")
    print(f"{'layer':<11}{'zones':>8}{'build s':>9}{'index':>8}" + "".join(f"{e:>11}" for e in engines))
    for name, count, build, build_mb, _, peak in rows:
        print(f"{name:<11}{count:>8}{build:>9.2f}{build_mb:>8.0f}" + "".join(cell(peak, e, ".0f", 11) for e in engines))
    if args.single:
        single(demo, categories, config, args.single)


def single(demo: Any, categories: pd.DataFrame, config: RoutingConfig, count: int) -> None:
    """Time ``route_one`` in-process on the demo layer."""
    layer = ZoneLayer.build(demo.zones, demo.test_points, demo.areas, categories)
    warm(layer, config)
    sample = generate_reports(demo, count, seed=3)
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
