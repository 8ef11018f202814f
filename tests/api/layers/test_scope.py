"""The coverage scope: where zones are required. Gaps are measured inside it; one gap computation
feeds the page, the map, the OGC collection and the command line, with the same ids and areas;
every geometry the analysis writes is valid."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

from api.cli import main
from api.routing.batch import LayerFiles, load_zone_layer
from geodata.io import write_layer
from geodata.load import load_scope
from tests.support.pages import signed_in
from zones.coverage import analyse
from zones.errors import SchemaError
from zones.schema import validate_layer


@pytest.fixture(scope="module")
def demo_layer(demo_files):
    return load_zone_layer(LayerFiles.of_demo(demo_files))


def test_the_demo_measures_coverage_in_its_built_up_area(demo_layer):
    s = analyse(demo_layer).summary
    assert s["scope"] == "scope" and s["scope_area_m2"] < 0.1 * s["district_area_m2"]  # the towns, not the farmland and hills
    gap_share = s["gap_area_m2"] / s["scope_area_m2"]
    assert 0.04 < gap_share < 0.12, gap_share  # the generator aims at 5-10 % of the built-up area
    assert max(a["gap_area_m2"] for a in s["areas"] if a["level"] == "subdistrict") < 2e6  # no gap is the countryside


def test_every_geometry_the_analysis_writes_is_valid(demo_layer):
    result = analyse(demo_layer)
    for name in ("gaps", "overlaps", "suggestions"):
        frame = getattr(result, name)
        assert shapely.is_valid(frame.geometry.to_numpy()).all(), name
    _, report = validate_layer(result.suggestions, "zones")
    assert not report.errors, report.errors[:3]  # a planner can upload the suggestions as they are


def test_the_page_the_maps_ogc_and_the_command_line_agree_on_every_gap(app, client, demo_files, tmp_path):
    ogc = client.get("/ogc/collections/coverage_gaps/items?limit=10000").get_json()
    from_ogc = {(f["id"], f["properties"]["area_m2"]) for f in ogc["features"]}
    html = client.get("/maps/coverage").get_data(as_text=True)
    from_map = set(re.findall(r'"area_m2":([0-9.]+),"gap_id":"(G\d{5})"', html))
    from_map = {(gap, float(area)) for area, gap in from_map}
    out = tmp_path / "cli"
    gpkg = str(demo_files.gpkg)
    result = CliRunner().invoke(main, ["coverage", "--zones", gpkg, "--areas", gpkg, "--test-points", gpkg, "--scope", gpkg, "--out", str(out)])
    assert result.exit_code == 0, result.output
    cli = gpd.read_file(out / "coverage.gpkg", layer="gaps")
    from_cli = set(zip(cli["gap_id"], cli["area_m2"].round(1), strict=True))
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    signed_in(app, client, "planner")
    page = client.get("/console/plan").get_data(as_text=True)
    assert f"<b>{summary['gap_count']}</b>" in page
    console_map = client.get("/console/plan/map.json").get_json()["gaps"]
    from_console = {(f["id"], f["properties"]["area_m2"]) for f in console_map}
    listed = re.findall(r'data-place="gap" data-id="(G\d{5})">G\d{5}</a>\s*</td>\s*<td>([\d,]+) m²', page)
    assert listed and all((gap, float(area.replace(",", ""))) in {(g, round(a)) for g, a in from_console} for gap, area in listed)
    assert from_ogc == from_map == from_cli == from_console and len(from_ogc) == summary["gap_count"] > 100


def test_a_scope_is_validated_like_any_layer(tmp_path, demo_files):
    scope = gpd.read_file(demo_files.gpkg, layer="scope")
    broken = gpd.GeoDataFrame({"name": ["建成区", "一个点"]}, geometry=[scope.geometry.iloc[0], shapely.Point(120.4, 36.3)], crs=scope.crs)
    path = tmp_path / "scope.geojson"
    write_layer(broken, path)
    with pytest.raises(SchemaError, match="geometry"):
        load_scope(path)
    named = load_scope(demo_files.gpkg)
    assert list(named["scope_id"]) == list(scope["area_id"])
