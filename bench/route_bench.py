"""Router throughput against the bare spatial-join baselines, measured in the same run.

For each layer (the demo, and generated 10k- and 100k-zone layers) it routes 1M points with
the full router (every rule, test points, reasons) and times, on the same points, shapely's bulk
``STRtree.query(points, predicate="intersects")`` (tree and point geometries built beforehand,
not timed) and ``geopandas.sjoin(points, zones, predicate="intersects")`` (spatial index warmed).
Then it times single-report routing (``route_one``) over 2,000 reports.

    python bench/route_bench.py [--points 1000000] [--layers demo,10000,100000] [--workers 2]
"""

from __future__ import annotations

import argparse
import statistics
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.crs import METRIC_CRS, STORAGE_CRS
from geodata.demo.generate import generate, load_district
from geodata.demo.reports import generate_reports
from geodata.demo.synthetic import synthetic_zones
from zones.config import RoutingConfig
from zones.layer import ZoneLayer
from zones.router import route, route_one


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


def timed(func, repeat: int = 2):
    best = float("inf")
    result = None
    for _ in range(repeat):
        t = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - t)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--layers", default="demo,10000,100000")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    demo = generate()
    district = load_district().geometry.union_all()
    categories = demo.categories.copy()
    categories["deadline_hours"] = categories["deadline_hours"].astype(float)
    n = args.points
    rng = np.random.default_rng(5)
    config = RoutingConfig()
    print(f"{n:,} points per layer; rates in points (decisions) per second; best of 2 runs")
    header = f"{'layer':<8}{'zones':>8}{'build s':>9}{'router':>12}{'STRtree':>12}{'sjoin':>12}{'vs STRtree':>11}{'vs sjoin':>9}"
    rows = []
    for name in args.layers.split(","):
        if name == "demo":
            zones = demo.zones
            reports = generate_reports(demo, n, seed=11)
            from geodata.crs import points_to_wgs84

            lon = np.empty(n)
            lat = np.empty(n)
            for label in reports["crs"].unique():
                sel = (reports["crs"] == label).to_numpy()
                lon[sel], lat[sel] = points_to_wgs84(reports["lon"].to_numpy()[sel], reports["lat"].to_numpy()[sel], label)
            category = reports["category"].to_numpy(dtype=object)
            accuracy = reports["accuracy_m"].to_numpy()
        else:
            zones = synthetic_zones(int(name), district, seed=1)
            lon, lat = points_near(zones, district, n, seed=2)
            category = rng.choice(categories["code"].to_numpy(dtype=object), n)
            accuracy = np.clip(rng.lognormal(np.log(6), 0.6, n), 2, 80)
        t = time.perf_counter()
        layer = ZoneLayer.build(zones, demo.test_points, demo.areas, categories)
        frame = pd.DataFrame({"id": np.arange(n).astype(str), "lon": lon, "lat": lat, "category": category, "accuracy_m": accuracy})
        route(frame.head(1000), layer, config)  # builds the indexes
        build = time.perf_counter() - t
        t_router, decisions = timed(lambda: route(frame, layer, config, workers=args.workers))
        tree = shapely.STRtree(zones.geometry.to_numpy())
        pts = shapely.points(lon, lat)
        t_tree, _ = timed(lambda: tree.query(pts, predicate="intersects"))
        pts_gdf = gpd.GeoDataFrame(geometry=pts, crs=STORAGE_CRS)
        zones.sindex  # noqa: B018 - warm the index
        t_sjoin, _ = timed(lambda: gpd.sjoin(pts_gdf, zones[["zone_id", "geometry"]], predicate="intersects"), repeat=1)
        rows.append((name, len(zones), build, n / t_router, n / t_tree, n / t_sjoin, t_tree / t_router, t_sjoin / t_router))
        counts = decisions["status"].value_counts().to_dict()
        print(f"  {name}: " + ", ".join(f"{k} {v}" for k, v in counts.items()), flush=True)
    print(header)
    for name, count, build, r, s, j, rs, rj in rows:
        print(f"{name:<8}{count:>8}{build:>9.2f}{r:>12,.0f}{s:>12,.0f}{j:>12,.0f}{rs:>10.2f}x{rj:>8.2f}x")
    # Single reports, in-process.
    layer = ZoneLayer.build(demo.zones, demo.test_points, demo.areas, categories)
    sample = generate_reports(demo, 2000, seed=3)
    sample = sample[sample["crs"] == "wgs84"]
    route_one(120.4, 36.3, "litter", layer)
    times = []
    for row in sample.itertuples():
        t = time.perf_counter()
        route_one(row.lon, row.lat, row.category, layer, accuracy_m=row.accuracy_m)
        times.append(time.perf_counter() - t)
    times.sort()
    print(f"route_one on the demo layer: median {statistics.median(times) * 1000:.3f} ms, p99 {times[int(len(times) * 0.99)] * 1000:.3f} ms over {len(times)} reports")


if __name__ == "__main__":
    main()
