"""A planner reads a refused upload's findings in the page's language: every finding the
validators make of a broken layer is recognised and said in Chinese, with its values."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from api.layers import upload_reader
from api.layers.finding_text import finding_text
from geodata.io import write_layer
from geodata.load import load_categories, load_layer
from zones.enums import LayerKind


def _two_shapefiles() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("a.shp", b"x")
        out.writestr("b.shp", b"y")
    return archive.getvalue()


def _plain(problem) -> dict:
    return {"code": problem.code, "params": dict(problem.params), "message": problem.message}


def _findings(demo_files, tmp_path) -> list[dict]:
    zones = pyogrio.read_dataframe(demo_files.gpkg, layer="zones").head(12)
    zones.loc[0, "duties"] = "cleaning"
    zones.loc[1, "duties"] = ""
    zones.loc[2, "zone_id"] = zones.loc[3, "zone_id"]
    zones.loc[4, "priority"] = 10**9
    zones.loc[5, "kind"] = "canal"
    zones.loc[6, "geometry"] = None
    zones.loc[7, "geometry"] = shapely.Point(120.4, 36.3)
    zones.loc[8, "geometry"] = shapely.Polygon([(120.40, 36.30), (120.41, 36.31), (120.41, 36.30), (120.40, 36.31)])  # a bow tie
    zones.loc[9, "geometry"] = shapely.Polygon([(36.30, 120.40), (36.31, 120.40), (36.31, 120.41)])  # swapped
    zones.loc[10, "unit_id"] = None
    path = tmp_path / "zones.geojson"
    write_layer(zones, path)
    found = [_plain(p) for p in load_layer(path, LayerKind.ZONES, strict=False).report.problems]
    points = gpd.GeoDataFrame({"point_id": ["T1", "T2"], "name": ["菜市场", "学校"], "type": ["", "kiosk"]},
                              geometry=[shapely.Point(120.4, 36.3), shapely.Point(120.41, 36.31)], crs="EPSG:4326")
    write_layer(points, tmp_path / "points.geojson")
    found += [_plain(p) for p in load_layer(tmp_path / "points.geojson", LayerKind.TEST_POINTS, strict=False).report.problems]
    areas = gpd.GeoDataFrame({"area_id": ["A1"], "name": ["城阳街道"], "level": ["town"]}, geometry=[shapely.box(120.3, 36.2, 120.5, 36.4)], crs="EPSG:4326")
    write_layer(areas, tmp_path / "areas.geojson")
    found += [_plain(p) for p in load_layer(tmp_path / "areas.geojson", LayerKind.AREAS, strict=False).report.problems]
    far = gpd.GeoDataFrame({"名称": ["x"]}, geometry=[shapely.box(2, 48, 3, 49)], crs="EPSG:4326")
    write_layer(far, tmp_path / "far.geojson")
    found += [_plain(p) for p in load_layer(tmp_path / "far.geojson", LayerKind.ZONES, strict=False).report.problems]
    pd.DataFrame({"code": ["a", "a", "b"], "name_zh": ["甲", "乙", "丙"], "duty": ["sanitation", "cleaning", ""],
                  "department_unit_id": ["", "", ""], "deadline_hours": [24, -1, 8]}).to_csv(tmp_path / "categories.csv", index=False)
    found += [_plain(p) for p in load_categories(tmp_path / "categories.csv", strict=False)[1].problems]
    return found


def _stored(tmp_path, files: dict[str, tuple[str, bytes]]) -> dict[str, tuple[str, Path]]:
    """An upload's files as a worker process has them: on disk under names of ours."""
    stored = {}
    for field, (name, data) in files.items():
        (tmp_path / f"upload-{field}").write_bytes(data)
        stored[field] = (name, tmp_path / f"upload-{field}")
    return stored


def test_every_finding_of_a_broken_layer_is_said_in_chinese(app, demo_files, tmp_path):
    findings = _findings(demo_files, tmp_path)
    current = lambda: app.extensions["zonemap.layer"]  # noqa: E731
    broken = {"zones": ("坏.zip", b"not a zip"), "areas": ("片区.docx", b""), "test_points": ("点位.zip", _two_shapefiles())}
    upload = upload_reader.read_upload(_stored(tmp_path, broken), current, max_vertices=1000)
    findings += upload_reader.problems(upload.reports)
    garbled = {"zones": ("责任区.gpkg", b"SQLite format 3\x00 but nothing more"), "scope": ("建成区.geojson", b"{not json"),
               "categories": ("类别.csv", "代码,名称\n".encode() + bytes([0xFF, 0xFE, 0x81]) + b"\n")}
    unreadable = upload_reader.read_upload(_stored(tmp_path, garbled), current, max_vertices=1000)
    read_errors = [p for p in upload_reader.problems(unreadable.reports) if p["severity"] == "error"]
    said = " ".join(p["message"] for p in read_errors)
    assert len(read_errors) == 3 and all(name in said for name in ("责任区.gpkg", "建成区.geojson", "类别.csv")), read_errors  # the planner's names
    findings += read_errors
    assert len(findings) >= 19, findings
    with app.test_request_context("/console/layers?lang=zh"):
        said = [(finding["message"], finding_text(finding)) for finding in findings]
    untold = [message for message, text in said if text == message]
    assert not untold, untold
    assert any("cleaning" in text and "未知职责" in text for _, text in said)  # the values found stay in the sentence
    with app.test_request_context("/console/layers?lang=en"):
        assert all(finding_text(finding) for finding in findings)
