"""Coverage analysis on hand-made layers with known areas, and on the demo."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from tests.zones.test_router import cell, make_layer
from zones.coverage import analyse


def metric_area(geom) -> float:
    return float(gpd.GeoSeries([geom], crs="EPSG:4326").to_crs("EPSG:32651").area.iloc[0])


def test_known_gaps_and_overlaps():
    zones = [
        {"zone_id": "ZA", "unit_id": "UA", "duties": "sanitation", "geometry": cell(0, 0, 20, 20)},
        {"zone_id": "ZB", "unit_id": "UB", "duties": "sanitation", "geometry": cell(15, 0, 30, 20), "priority": 2},  # overlaps A by 5 units
        {"zone_id": "ZC", "unit_id": "UA", "duties": "order", "geometry": cell(0, 0, 5, 5)},  # same owner: no overlap
    ]
    layer = make_layer(zones, test_points=[
        {"point_id": "T1", "unit_id": "UA", "geometry": shapely.Point(cell(1, 1, 2, 2).centroid)},
        {"point_id": "T2", "unit_id": None, "geometry": shapely.Point(cell(50, 50, 51, 51).centroid)},
    ])
    within = cell(-10, -10, 40, 30)  # analyse a small region around the zones
    result = analyse(layer, within=within)
    s = result.summary
    assert s["scope_area_m2"] == pytest.approx(metric_area(within), abs=1)
    assert s["covered_area_m2"] == pytest.approx(metric_area(cell(0, 0, 30, 20)), abs=1)
    assert s["gap_area_m2"] + s["sliver_area_m2"] == pytest.approx(s["scope_area_m2"] - s["covered_area_m2"], abs=1)
    assert s["gap_count"] == 1  # the ring around the zones is one piece
    assert s["overlap_count"] == 1
    assert s["overlap_area_m2"] == pytest.approx(metric_area(cell(15, 0, 20, 20)), abs=1)
    [overlap] = result.overlaps.itertuples()
    assert (overlap.accountable_unit_id, overlap.accountable_zone_id) == ("UB", "ZB")  # priority 2
    assert (s["test_points_unadopted"], s["test_points_uncovered"]) == (1, 1)
    gap = result.gaps.iloc[0]
    assert gap["neighbour_unit_ids"] == "UA;UB"
    assert gap["suggested_unit_id"] == "UA"  # A's border with the ring is longer (20+20+20 vs 15+20+15 units)
    units = result.units.set_index("unit_id")
    assert units.loc["UA", "zones"] == 2 and units.loc["UA", "test_points"] == 1


def test_isolated_gap_goes_to_the_subdistrict_default_and_slivers_are_counted():
    zones = [{"zone_id": "ZA", "unit_id": "UA", "duties": "sanitation", "geometry": cell(0, 0, 20, 20)}]
    layer = make_layer(zones)
    within = shapely.MultiPolygon([cell(0, 0, 20, 20.001), cell(100, 0, 110, 10)])  # a sliver on A, and a far square
    result = analyse(layer, within=within, min_gap_m2=5)
    s = result.summary
    assert (s["gap_count"], s["slivers_dropped"]) == (1, 1)
    far = result.gaps.iloc[0]
    assert (far["neighbour_unit_ids"], far["suggested_unit_id"], far["suggestion_rule"]) == ("", "JD01", "subdistrict_default")
    assert list(result.suggestions["zone_id"]) == ["GAP-G00001"]


def test_demo_coverage(demo_files):
    from geodata.load import load_categories, load_layer
    from zones.layer import ZoneLayer

    layer = ZoneLayer.build(
        load_layer(demo_files.gpkg, "zones").frame, load_layer(demo_files.gpkg, "test-points").frame,
        load_layer(demo_files.gpkg, "areas").frame, load_categories(demo_files.categories)[0],
    )
    s = analyse(layer).summary
    assert s["gap_count"] > 100 and s["overlap_count"] > 100
    assert s["gap_area_m2"] + s["sliver_area_m2"] == pytest.approx(s["scope_area_m2"] - s["covered_area_m2"], rel=1e-6)
    assert s["test_points_unadopted"] > 0 and s["test_points_uncovered"] > 0
    assert {a["name"] for a in s["areas"]} >= {"城阳街道", "红岛街道"}


def test_a_street_front_unit_is_suggested_only_a_gap_as_small_as_its_frontage():
    front = {"zone_id": "ZF", "unit_id": "UF", "duties": "sanitation", "kind": "frontage", "geometry": cell(0, 0, 30, 2)}  # a shop's strip
    block = {"zone_id": "ZB", "unit_id": "UB", "duties": "sanitation", "kind": "block", "geometry": cell(28, 2, 30, 8)}
    behind = analyse(make_layer([front, block]), within=cell(0, 0, 30, 30)).gaps.iloc[0]  # the block behind the strip: 28 x 28
    assert behind["neighbour_unit_ids"] == "UB;UF"  # the strip shares the longer border, but is 60 units large
    assert (behind["suggested_unit_id"], behind["suggestion_rule"]) == ("UB", "longest_border_area_unit")
    sliver = analyse(make_layer([front]), within=cell(0, 0, 30, 3)).gaps.iloc[0]  # a strip of 30 beside the 60 of frontage
    assert (sliver["suggested_unit_id"], sliver["suggestion_rule"]) == ("UF", "longest_border")
    alone = analyse(make_layer([front]), within=cell(0, 0, 30, 30)).gaps.iloc[0]
    assert (alone["suggested_unit_id"], alone["suggestion_rule"]) == ("JD01", "premises_too_small")  # the sub-district's default unit
