"""Coverage analysis and coverage-map generation at growing layer sizes.

Prints, per layer, the seconds of the analysis (gaps, overlaps, test points, per-unit and
per-area figures), of building and rendering the map, and the HTML size. The baselines, in the
same run on the same data: for the analysis, the same questions in plain GeoPandas (union and
difference for the gaps, a self ``sjoin`` and pairwise intersections for the overlaps, an
``sjoin`` for the test points); for the map, folium rendering the bare zones (no styling, no
other layers).

    python bench/map_bench.py [--zones 1000,10000,100000]
"""

from __future__ import annotations

import argparse
import time

import folium
import geopandas as gpd

from geodata.demo.generate import generate, load_district
from geodata.demo.synthetic import synthetic_zones
from maps.coverage import coverage_map
from zones.coverage import analyse
from zones.layer import ZoneLayer


def plain_geopandas(layer: ZoneLayer) -> tuple[int, int]:
    """Gaps and different-owner overlaps (area > 0.01 m²) as a GeoPandas user would find them,
    and the test points no zone holds; returns the gap and overlap counts."""
    zones = layer.zones[["zone_id", "unit_id", "geometry"]].to_crs(layer.metric_crs)
    district = layer.areas[layer.areas["level"] == "district"].to_crs(layer.metric_crs).union_all()
    gaps = gpd.GeoSeries([district.difference(zones.union_all())], crs=layer.metric_crs).explode(index_parts=False)
    gaps = gaps[gaps.area >= 1.0]
    pairs = gpd.sjoin(zones, zones, predicate="intersects")
    pairs = pairs[(pairs.index < pairs["index_right"]) & (pairs["unit_id_left"] != pairs["unit_id_right"])]
    shared = pairs.geometry.intersection(zones.geometry.loc[pairs["index_right"]].set_axis(pairs.index))
    gpd.sjoin(layer.test_points, layer.zones[["geometry"]], how="left", predicate="intersects")
    return len(gaps), int((shared.area > 0.01).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zones", default="1000,10000,100000")
    args = parser.parse_args()
    demo = generate()
    district = load_district().geometry.union_all()
    print(f"{'zones':>8}{'analysis s':>12}{'GeoPandas s':>13}{'ratio':>7}{'map s':>8}{'HTML MB':>9}{'bare folium s':>15}{'bare MB':>9}"
          f"{'gaps':>7}{'overlaps':>10}")
    for count in (int(c) for c in args.zones.split(",")):
        zones = synthetic_zones(count, district, seed=1)
        layer = ZoneLayer.build(zones, demo.test_points, demo.areas, demo.categories.assign(deadline_hours=demo.categories["deadline_hours"].astype(float)))
        t = time.perf_counter()
        result = analyse(layer)
        analysis = time.perf_counter() - t
        t = time.perf_counter()
        plain_gaps, plain_overlaps = plain_geopandas(layer)
        plain = time.perf_counter() - t
        t = time.perf_counter()
        html = coverage_map(layer, result, asset_prefix="/assets/").get_root().render()
        build = time.perf_counter() - t
        t = time.perf_counter()
        bare = folium.Map(tiles=None)
        folium.GeoJson(zones[["zone_id", "geometry"]]).add_to(bare)
        bare_html = bare.get_root().render()
        bare_time = time.perf_counter() - t
        print(f"{len(zones):>8}{analysis:>12.2f}{plain:>13.2f}{plain / analysis:>6.1f}x{build:>8.2f}{len(html.encode()) / 1e6:>9.1f}{bare_time:>15.2f}"
              f"{len(bare_html.encode()) / 1e6:>9.1f}"
              f"{result.summary['gap_count']:>7}{result.summary['overlap_count']:>10}   (GeoPandas: {plain_gaps} gaps, {plain_overlaps} overlaps)", flush=True)


if __name__ == "__main__":
    main()
