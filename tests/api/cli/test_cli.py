"""The ``zonemap`` command line: validate, info, demo-data, demo."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from shapely.geometry import Polygon

from api.cli import main
from geodata.io import write_layer
from tests.geodata.test_load import zone_frame


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_validate_valid_layer(runner, tmp_path):
    path = tmp_path / "zones.geojson"
    write_layer(zone_frame(), path)
    result = runner.invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "zones from zones.geojson: 3 rows, 0 errors, 0 warnings" in result.output


def test_validate_reports_every_problem_and_exits_1(runner, tmp_path):
    frame = zone_frame(zone_id=["Z1", "Z1", "Z3"], duties=["order", "order", "cleaning"])
    path = tmp_path / "zones.gpkg"
    write_layer(frame, path, layer="zones")
    result = runner.invoke(main, ["validate", str(path)])
    assert result.exit_code == 1
    assert "error: row 2 (Z1) field 'zone_id': duplicate zone_id 'Z1' (first at row 1)" in result.output
    assert "error: row 3 (Z3) field 'duties': unknown duties ['cleaning']" in result.output


def test_validate_with_mapping_and_gcj02(runner, tmp_path):
    frame = zone_frame().rename(columns={"unit_name": "责任单位"})
    path = tmp_path / "zones.geojson"
    write_layer(frame, path)
    result = runner.invoke(main, ["validate", str(path), "--map", "责任单位=unit_name", "--crs", "gcj02"])
    assert result.exit_code == 0, result.output
    assert "input CRS: gcj02" in result.output


def test_validate_unreadable_exits_2(runner, tmp_path):
    path = tmp_path / "zones.gpkg"
    path.write_bytes(b"garbage")
    result = runner.invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert "cannot read zones.gpkg" in result.output


def test_validate_bad_crs_exits_2(runner, tmp_path):
    path = tmp_path / "zones.geojson"
    write_layer(zone_frame(), path)
    result = runner.invoke(main, ["validate", str(path), "--crs", "mars"])
    assert result.exit_code == 2
    assert "expected one of wgs84, cgcs2000, gcj02, bd09" in result.output


def test_validate_repaired_polygon_is_a_warning(runner, tmp_path):
    frame = zone_frame(n=1)
    x, y = 120.4, 36.3
    frame = frame.set_geometry([Polygon([(x, y), (x + 0.001, y + 0.001), (x + 0.001, y), (x, y + 0.001)])])
    path = tmp_path / "zones.geojson"
    write_layer(frame, path)
    result = runner.invoke(main, ["validate", str(path)])
    assert result.exit_code == 0
    assert "warning: row 1 (Z0) field 'geometry': invalid polygon" in result.output


def test_info_on_files(runner, tmp_path):
    path = tmp_path / "zones.geojson"
    write_layer(zone_frame(), path)
    result = runner.invoke(main, ["info", "--zones", str(path), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["zones"]["count"] == 3
    assert summary["zones"]["units"] == 3
    # three 0.0008° × 0.0003° boxes at 36.3°N: about 71 m × 33 m each, measured in UTM 51N
    assert summary["zones"]["area_km2"] == pytest.approx(0.007, abs=0.0006)


def test_info_without_layers_is_an_error(runner):
    result = runner.invoke(main, ["info"])
    assert result.exit_code == 2
    assert "give --demo" in result.output


def test_demo_data_and_info(runner, tmp_path):
    out = tmp_path / "demo"
    result = runner.invoke(main, ["demo-data", "--out", str(out), "--seed", "3", "--reports", "100"])
    assert result.exit_code == 0, result.output
    assert (out / "chengyang.gpkg").exists() and (out / "reports.csv").exists()
    result = runner.invoke(main, ["info", "--zones", str(out / "chengyang.gpkg"), "--areas", str(out / "chengyang.gpkg"), "--json"])
    summary = json.loads(result.output)
    assert summary["zones"]["count"] > 5000
    assert {a["name"] for a in summary["areas"]} >= {"城阳区", "红岛街道"}


def test_console_script_demo(tmp_path):
    """The README's first command ends in `zonemap demo`: run the installed script for real."""
    script = str(Path(sys.executable).parent / "zonemap")
    done = subprocess.run([script, "demo", "--data-dir", str(tmp_path)], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert "zones from chengyang.gpkg" in done.stdout
    assert "370214 城阳区 (district)" in done.stdout
    assert "test points:" in done.stdout


def test_route_command_writes_one_decision_per_row(runner, tmp_path, demo_files):
    import pandas as pd
    import pyogrio

    reports = pd.read_csv(demo_files.reports).head(300)
    reports.loc[0, ["lon", "lat"]] = [36.31, 120.40]  # swapped: an error row, not a dropped one
    reports.loc[1, "category"] = "graffiti"  # unknown category
    path = tmp_path / "reports.csv"
    reports.to_csv(path, index=False)
    layers = ["--zones", str(demo_files.gpkg), "--areas", str(demo_files.gpkg), "--test-points", str(demo_files.gpkg),
              "--categories", str(demo_files.categories)]
    out = tmp_path / "decisions.csv"
    result = runner.invoke(main, ["route", str(path), *layers, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "routed 300 reports" in result.output and "routed " in result.output
    decisions = pd.read_csv(out, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(decisions.columns[:11]) == ["id", "status", "unit_id", "zone_id", "co_owner_unit_ids", "candidate_unit_ids", "rule", "distance_m",
                                            "test_point_id", "zone_version", "reason"]
    assert list(decisions["id"]) == list(reports["id"])
    assert decisions.loc[0, "status"] == "error" and "swapped" in decisions.loc[0, "reason"]
    assert decisions.loc[1, "status"] == "error" and "graffiti" in decisions.loc[1, "reason"]
    assert decisions["reason"].str.len().min() > 0
    gpkg = tmp_path / "decisions.gpkg"
    result = runner.invoke(main, ["route", str(path), "--demo", "--data-dir", str(tmp_path / "d"), "--out", str(gpkg), "--tolerance-m", "10"])
    assert result.exit_code == 0, result.output
    assert len(pyogrio.read_dataframe(gpkg)) == 300


def test_route_command_needs_layers(runner, tmp_path):
    result = runner.invoke(main, ["route", str(tmp_path / "r.csv"), "--out", str(tmp_path / "o.csv")])
    assert result.exit_code == 2 and "--zones" in result.output


def test_coverage_command(runner, tmp_path, demo_files):
    import pyogrio

    out = tmp_path / "cov"
    result = runner.invoke(main, ["coverage", "--zones", str(demo_files.gpkg), "--areas", str(demo_files.gpkg), "--test-points", str(demo_files.gpkg),
                                  "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    for key in ("district_area_m2", "covered_area_m2", "gap_area_m2", "gap_count", "overlap_area_m2", "overlap_count", "test_points_unadopted",
                "test_points_uncovered", "areas"):
        assert key in summary
    assert len(pyogrio.read_dataframe(out / "coverage.gpkg", layer="gaps")) == summary["gap_count"]
    suggestions = pyogrio.read_dataframe(out / "coverage.gpkg", layer="suggestions")
    assert len(suggestions) == summary["gap_count"] and suggestions["unit_id"].notna().all()


@pytest.mark.parametrize("kind", ["coverage", "unit", "reports"])
def test_map_commands_write_offline_pages(runner, tmp_path, demo_files, kind):
    import re
    import shutil

    data = tmp_path / "data"
    shutil.copytree(demo_files.root, data / "demo")
    out = tmp_path / "maps" / f"{kind}.html"
    extra = ["--unit", "P06"] if kind == "unit" else []
    result = runner.invoke(main, ["map", kind, *extra, "--out", str(out), "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert re.findall(r"https?://", html) == []
    for path in re.findall(r'(?:src|href)="(assets/[^"]+)"', html):
        assert (out.parent / path).is_file(), path


def test_the_same_demo_files_make_one_version_whatever_the_command(runner, tmp_path, demo_files):
    from api.routing.batch import LayerFiles, load_zone_layer

    served = load_zone_layer(LayerFiles.of_demo(demo_files)).version
    shutil.copytree(demo_files.root, tmp_path / "data" / "demo")  # where --data-dir keeps its demo
    data_dir = ["--data-dir", str(tmp_path / "data")]
    analysed = runner.invoke(main, ["coverage", "--demo", *data_dir, "--json"])
    assert analysed.exit_code == 0, analysed.output
    assert json.loads(analysed.stdout)["zone_version"] == served
    routed = runner.invoke(main, ["route", str(demo_files.reports), "--demo", *data_dir, "--out", str(tmp_path / "out.csv")])
    assert routed.exit_code == 0, routed.output
    assert f"zone layer {served}" in routed.output
