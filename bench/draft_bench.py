"""What a planner waits for when a draft layer is compared with the current one: the diff (zones
added, removed, reshaped, new owner or duties; test points adopted or dropped) and the impact on
open reports (which would route to another owner), at 10k and 100k zones, against a baseline
measured in the same run on the same layers and reports.

The draft changes 1 % of the zones' owners, reshapes 0.5 %, removes 0.5 % and adds as many, and
drops the adoption of 5 % of the test points. Open reports lie near the zones (80 %) or anywhere.

- ``diff``: `zones.diff.diff_layers`; baseline: geopandas, a merge on zone_id and
  ``GeoSeries.geom_equals_exact`` with the same tolerance, owners and duties compared as text.
- ``impact``: `zones.diff.rerouted` (both layers' routers, indexes warm: the current layer's
  are built when it is installed, a draft's when it is loaded); baseline: ``geopandas.sjoin`` of
  the reports with both layers' zones, the smallest holding zone's owner compared (a simplified
  router: no tolerances, duties or test points), spatial indexes warmed.
- ``first impact``: the same with the draft's routing indexes built on the way (the first view).

    python bench/draft_bench.py [--layers 10000,100000] [--reports 10000]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.crs import METRIC_CRS, STORAGE_CRS
from geodata.demo.generate import generate, load_district
from geodata.demo.synthetic import synthetic_zones
from zones.diff import SAME_SHAPE_DEG, diff_layers, rerouted
from zones.layer import ZoneLayer
from zones.router import route, warm


def points_near(zones: gpd.GeoDataFrame, district: shapely.Geometry, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """80 % near zones (50 m of noise), 20 % anywhere in the district's bounding box (WGS84)."""
    rng = np.random.default_rng(seed)
    near = int(count * 0.8)
    at = shapely.point_on_surface(zones.geometry.to_numpy()[rng.integers(0, len(zones), near)])
    noise = rng.normal(0, 50 / 111_000, (near, 2))
    box = district.bounds
    lon = np.r_[shapely.get_x(at) + noise[:, 0], rng.uniform(box[0], box[2], count - near)]
    lat = np.r_[shapely.get_y(at) + noise[:, 1], rng.uniform(box[1], box[3], count - near)]
    return lon, lat


def timed(run: Callable[[], Any], repeat: int = 2) -> tuple[float, Any]:
    """Best wall time of ``repeat`` runs, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    return best, result


def draft_of(zones: gpd.GeoDataFrame, points: gpd.GeoDataFrame, rng: np.random.Generator) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The draft's zones and test points: owners changed, zones reshaped, removed and added, adoptions dropped."""
    n = len(zones)
    order = rng.permutation(n)
    owner, reshape, remove = order[: n // 100], order[n // 100: n // 100 + n // 200], order[n // 100 + n // 200: n // 100 + n // 100]
    after = zones.copy()
    units = after["unit_id"].unique()
    after.loc[after.index[owner], "unit_id"] = rng.choice(units, len(owner))
    metric = gpd.GeoSeries(after.geometry.to_numpy()[reshape], crs=STORAGE_CRS).to_crs(METRIC_CRS).buffer(3.0, join_style="mitre")
    after.loc[after.index[reshape], "geometry"] = metric.to_crs(STORAGE_CRS).to_numpy()
    added = after.iloc[remove].copy()
    added["zone_id"] = [f"NEW{k:06d}" for k in range(len(added))]
    after = pd.concat([after.drop(index=after.index[remove]), added], ignore_index=True)
    dropped = points.copy()
    dropped.loc[dropped.sample(frac=0.05, random_state=3).index, "unit_id"] = None
    return gpd.GeoDataFrame(after, geometry="geometry", crs=STORAGE_CRS), dropped


def baseline_diff(before: gpd.GeoDataFrame, after: gpd.GeoDataFrame) -> int:
    """Zone changes found with geopandas: a merge on zone_id, geometries compared row by row."""
    both = before.merge(pd.DataFrame(after), on="zone_id", how="outer", suffixes=("_b", "_a"), indicator=True)
    common = both[both["_merge"] == "both"]
    shapes = gpd.GeoSeries(common["geometry_b"].to_numpy(), crs=STORAGE_CRS).geom_equals_exact(
        gpd.GeoSeries(common["geometry_a"].to_numpy(), crs=STORAGE_CRS), tolerance=SAME_SHAPE_DEG)
    changed = (~shapes.to_numpy()) | (common["unit_id_b"].astype(str) != common["unit_id_a"].astype(str)).to_numpy()
    changed |= (common["duties_b"].astype(str) != common["duties_a"].astype(str)).to_numpy()
    return int(changed.sum() + (both["_merge"] != "both").sum())


def baseline_impact(reports: gpd.GeoDataFrame, before: gpd.GeoDataFrame, after: gpd.GeoDataFrame) -> int:
    """Reports whose smallest holding zone changes owner, with geopandas.sjoin."""
    def owner(zones: gpd.GeoDataFrame) -> pd.Series:
        zones = zones.assign(area=shapely.area(zones.geometry.to_numpy()))
        joined = gpd.sjoin(reports, zones[["unit_id", "area", "geometry"]], predicate="intersects")
        return joined.sort_values("area").groupby(level=0)["unit_id"].first().reindex(reports.index)
    old, new = owner(before), owner(after)
    return int(((old != new) & new.notna()).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", default="10000,100000")
    parser.add_argument("--reports", type=int, default=10_000)
    args = parser.parse_args()
    demo = generate()
    district = load_district().geometry.union_all()
    categories = demo.categories.assign(deadline_hours=demo.categories["deadline_hours"].astype(float))
    rng = np.random.default_rng(5)
    print(f"{'zones':>7} {'step':<13} {'zonemap s':>10} {'baseline s':>11} {'ratio':>6}  found")
    for size in (int(s) for s in args.layers.split(",")):
        zones = synthetic_zones(size, district, seed=1)
        after_zones, after_points = draft_of(zones, demo.test_points, rng)
        before = ZoneLayer.build(zones, demo.test_points, demo.areas, categories)
        after = ZoneLayer.build(after_zones, after_points, demo.areas, categories)
        lon, lat = points_near(zones, district, args.reports, seed=2)
        reports = pd.DataFrame({"id": np.arange(args.reports), "lon": lon, "lat": lat, "category": "litter", "accuracy_m": 5.0})
        warm(before)
        reports["unit_id"] = route(reports, before)["unit_id"]
        geo_reports = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=STORAGE_CRS)
        first, moved = timed(lambda: rerouted(reports, before, after), repeat=1)  # builds the draft's indexes on the way
        diff_s, diff = timed(lambda: diff_layers(before, after))
        base_diff_s, base_changes = timed(lambda: baseline_diff(zones, after_zones))
        impact_s, moved = timed(lambda: rerouted(reports, before, after))
        geo_reports.sindex, gpd.GeoDataFrame(zones).sindex, after_zones.sindex
        base_impact_s, base_moved = timed(lambda: baseline_impact(geo_reports, zones, after_zones))
        counts = diff.counts()["zones"]
        print(f"{len(zones):>7} {'diff':<13} {diff_s:>10.2f} {base_diff_s:>11.2f} {base_diff_s / diff_s:>6.1f}  "
              f"{counts} (baseline: {base_changes} zones changed)")
        print(f"{len(zones):>7} {'impact':<13} {impact_s:>10.2f} {base_impact_s:>11.2f} {base_impact_s / impact_s:>6.1f}  "
              f"{len(moved)} of {args.reports} open reports to another owner (baseline: {base_moved})")
        print(f"{len(zones):>7} {'first impact':<13} {first:>10.2f} {'':>11} {'':>6}  with the draft's routing indexes built")


if __name__ == "__main__":
    main()
