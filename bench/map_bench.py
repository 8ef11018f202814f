"""Coverage analysis and coverage-map generation at growing layer sizes.

Prints, per layer, the seconds of the analysis, of building and rendering the map, and the HTML
size; the baseline in the same run is folium rendering the bare zones (no styling, no other
layers) on the same data.

    python bench/map_bench.py [--zones 1000,10000,100000]
"""

from __future__ import annotations

import argparse
import time

import folium

from geodata.demo.generate import generate, load_district
from geodata.demo.synthetic import synthetic_zones
from maps.coverage import coverage_map
from zones.coverage import analyse
from zones.layer import ZoneLayer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zones", default="1000,10000,100000")
    args = parser.parse_args()
    demo = generate()
    district = load_district().geometry.union_all()
    print(f"{'zones':>8}{'analysis s':>12}{'map s':>8}{'HTML MB':>9}{'bare folium s':>15}{'bare MB':>9}")
    for count in (int(c) for c in args.zones.split(",")):
        zones = synthetic_zones(count, district, seed=1)
        layer = ZoneLayer.build(zones, demo.test_points, demo.areas, demo.categories.assign(deadline_hours=demo.categories["deadline_hours"].astype(float)))
        t = time.perf_counter()
        result = analyse(layer)
        analysis = time.perf_counter() - t
        t = time.perf_counter()
        html = coverage_map(layer, result, asset_prefix="/assets/").get_root().render()
        build = time.perf_counter() - t
        t = time.perf_counter()
        bare = folium.Map(tiles=None)
        folium.GeoJson(zones[["zone_id", "geometry"]]).add_to(bare)
        bare_html = bare.get_root().render()
        bare_time = time.perf_counter() - t
        print(f"{len(zones):>8}{analysis:>12.2f}{build:>8.2f}{len(html.encode()) / 1e6:>9.1f}{bare_time:>15.2f}{len(bare_html.encode()) / 1e6:>9.1f}", flush=True)


if __name__ == "__main__":
    main()
