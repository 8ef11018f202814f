"""Loading real files of every format, and every bad-input class named by row and field."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon, box

from geodata import crs
from geodata.io import write_layer
from geodata.load import load_categories, load_layer
from zones.errors import CRSError, LayerReadError, SchemaError

# Three zones a few hundred metres apart in Chengyang, WGS84.
CY_LON, CY_LAT = 120.40, 36.30
D = 0.001  # ≈ 90 m in longitude, 111 m in latitude


def zone_frame(n: int = 3, **overrides) -> gpd.GeoDataFrame:
    data = {
        "zone_id": [f"Z{i}" for i in range(n)],
        "name": [f"正阳路{i}号门前" for i in range(n)],
        "unit_id": [f"B{i:03d}" for i in range(n)],
        "unit_name": ["阳光超市", "华阳餐饮店", "鑫源药房"][:n] + ["x"] * max(0, n - 3),
        "duties": ["sanitation,order", "sanitation、greening", "卫生;秩序"][:n] + ["order"] * max(0, n - 3),
        "kind": ["frontage"] * n,
        "priority": [3] * n,
    }
    data.update(overrides)
    geoms = [box(CY_LON + i * D, CY_LAT, CY_LON + (i + 0.8) * D, CY_LAT + 0.3 * D) for i in range(n)]
    return gpd.GeoDataFrame(data, geometry=geoms, crs=crs.STORAGE_CRS)


def problems(err: pytest.ExceptionInfo[SchemaError]) -> list[str]:
    assert err.value.report is not None
    return [str(p) for p in err.value.report.errors]


# --- Formats -------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".shp"])
def test_vector_formats_round_trip_chinese_text(tmp_path, suffix):
    path = tmp_path / f"zones{suffix}"
    write_layer(zone_frame(), path, layer="zones" if suffix == ".gpkg" else None)
    loaded = load_layer(path, "zones")
    assert loaded.report.ok
    assert list(loaded.frame["unit_name"]) == ["阳光超市", "华阳餐饮店", "鑫源药房"]
    assert list(loaded.frame["duties"]) == ["sanitation,order", "sanitation,greening", "sanitation,order"]
    assert loaded.frame.crs.to_epsg() == 4326


def test_geojson_duties_as_a_list(tmp_path):
    features = [{
        "type": "Feature",
        "properties": {"zone_id": "Z1", "unit_id": "U1", "duties": ["greening", "sanitation"], "kind": "park"},
        "geometry": json.loads(shapely.to_geojson(box(CY_LON, CY_LAT, CY_LON + D, CY_LAT + D))),
    }]
    path = tmp_path / "z.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    loaded = load_layer(path, "zones")
    assert loaded.frame["duties"].iloc[0] == "sanitation,greening"


@pytest.mark.parametrize("with_cpg", [True, False], ids=["cpg", "detected"])
def test_gbk_shapefile(tmp_path, with_cpg):
    """A survey office's Shapefile in GBK, with its .cpg and without (then detected)."""
    path = tmp_path / "zones_gbk.shp"
    pyogrio.write_dataframe(zone_frame(), path, encoding="GBK")
    raw = path.with_suffix(".dbf").read_bytes()
    assert "阳光超市".encode("gbk") in raw  # really GBK on disk
    if not with_cpg:
        path.with_suffix(".cpg").unlink()
    loaded = load_layer(path, "zones")
    assert list(loaded.frame["unit_name"]) == ["阳光超市", "华阳餐饮店", "鑫源药房"]
    assert loaded.frame["name"].iloc[0] == "正阳路0号门前"
    if not with_cpg:
        assert loaded.encoding == "GB18030"


def test_utf8_shapefile_without_cpg(tmp_path):
    path = tmp_path / "zones_utf8.shp"
    pyogrio.write_dataframe(zone_frame(), path, encoding="UTF-8")
    path.with_suffix(".cpg").unlink()
    loaded = load_layer(path, "zones")
    assert loaded.frame["unit_name"].iloc[2] == "鑫源药房"
    assert loaded.encoding == "UTF-8"


def test_wrong_encoding_given_is_a_clear_error(tmp_path):
    path = tmp_path / "zones_gbk.shp"
    pyogrio.write_dataframe(zone_frame(), path, encoding="GBK")
    with pytest.raises(LayerReadError, match=r"zones_gbk"):
        load_layer(path, "zones", encoding="UTF-8")


def test_gpkg_named_layer_and_ambiguous_file(tmp_path):
    path = tmp_path / "set.gpkg"
    write_layer(zone_frame(), path, layer="my_zones")
    write_layer(zone_frame(), path, layer="other")
    assert len(load_layer(path, "zones", layer="my_zones").frame) == 3
    with pytest.raises(LayerReadError, match=r"2 layers \(my_zones, other\)"):
        load_layer(path, "zones")


def test_csv_test_points_in_gcj02(tmp_path):
    """An Excel-style sheet of test points copied from Amap (GCJ-02), converted to WGS84."""
    wgs = np.array([[120.40, 36.30], [120.41, 36.31]])
    gcj_lon, gcj_lat = crs.wgs84_to_gcj02(wgs[:, 0], wgs[:, 1])
    table = pd.DataFrame({"point_id": ["TP1", "TP2"], "name": ["城阳农贸市场", "第一实验小学"], "type": ["market", "school"], "经度": gcj_lon, "纬度": gcj_lat,
                          "unit_id": ["M01", ""]})
    path = tmp_path / "points.csv"
    table.to_csv(path, index=False, encoding="utf-8-sig")
    loaded = load_layer(path, "test-points", crs="gcj02")
    np.testing.assert_allclose(loaded.frame.geometry.x, wgs[:, 0], atol=1e-8)
    np.testing.assert_allclose(loaded.frame.geometry.y, wgs[:, 1], atol=1e-8)
    assert loaded.frame["unit_id"].tolist() == ["M01", None]
    assert loaded.frame["name"].iloc[0] == "城阳农贸市场"


def test_xlsx_test_points(tmp_path):
    table = pd.DataFrame({"编号": ["TP1", "TP2"], "名称": ["公厕1号", "城阳广场"], "类型": ["toilet", "plaza"], "lng": [120.40, 120.41], "lat": [36.30, 36.31]})
    path = tmp_path / "points.xlsx"
    table.to_excel(path, index=False)
    loaded = load_layer(path, "test-points", columns=["编号=point_id", "名称=name", "类型=type"])
    assert loaded.frame["point_id"].tolist() == ["TP1", "TP2"]
    assert loaded.frame.geometry.x.iloc[1] == pytest.approx(120.41)


def test_gbk_csv_is_detected(tmp_path):
    table = pd.DataFrame({"point_id": ["TP1"], "name": ["城阳农贸市场"], "type": ["market"], "lon": [120.4], "lat": [36.3]})
    path = tmp_path / "points_gbk.csv"
    table.to_csv(path, index=False, encoding="gbk")
    loaded = load_layer(path, "test-points")
    assert loaded.frame["name"].iloc[0] == "城阳农贸市场"
    assert loaded.encoding == "gb18030"


def test_csv_with_wkt_zones(tmp_path):
    frame = zone_frame()
    path = tmp_path / "zones.csv"
    write_layer(frame, path)
    loaded = load_layer(path, "zones")
    assert loaded.frame.geometry.iloc[0].equals_exact(frame.geometry.iloc[0], tolerance=1e-7)


def test_column_mapping_of_chinese_headers(tmp_path):
    frame = zone_frame().rename(columns={"unit_name": "责任单位", "unit_id": "单位编码", "zone_id": "责任区编号"})
    path = tmp_path / "zones.gpkg"
    write_layer(frame, path, layer="zones")
    loaded = load_layer(path, "zones", columns={"责任单位": "unit_name", "单位编码": "unit_id", "责任区编号": "zone_id"})
    assert loaded.frame["unit_name"].tolist() == ["阳光超市", "华阳餐饮店", "鑫源药房"]


def test_column_mapping_naming_an_absent_header(tmp_path):
    path = tmp_path / "zones.geojson"
    write_layer(zone_frame(), path)
    with pytest.raises(SchemaError) as err:
        load_layer(path, "zones", columns=["责任单位=unit_name"])
    assert "column mapping names '责任单位'" in problems(err)[0]


def test_projected_layer_with_its_crs(tmp_path):
    metric = zone_frame().to_crs(crs.METRIC_CRS)
    path = tmp_path / "zones_utm.gpkg"
    write_layer(metric, path, layer="zones")
    loaded = load_layer(path, "zones")
    assert loaded.frame.crs.to_epsg() == 4326
    assert loaded.frame.geometry.iloc[0].centroid.x == pytest.approx(CY_LON + 0.4 * D, abs=1e-6)


def test_categories_file(tmp_path):
    path = tmp_path / "categories.csv"
    path.write_text(
        "code,name_zh,name_en,duty,department_unit_id,deadline_hours\n"
        "litter,垃圾杂物,Litter,sanitation,,24\n"
        "illegal_construction,违法建设,Illegal construction,,D-ZF,720\n"
        "both,两者,Both,order,D-ZF,24\n"
        "litter,重复,Dup,cleaning,,-1\n",
        encoding="utf-8",
    )
    with pytest.raises(SchemaError) as err:
        load_categories(path)
    found = problems(err)
    assert "error: row 3 (both) field 'duty': give exactly one of duty or department_unit_id" in found
    assert any("row 4" in p and "duplicate code 'litter' (first at row 1)" in p for p in found)
    assert any("row 4" in p and "unknown duty 'cleaning'" in p for p in found)
    assert any("row 4" in p and "deadline_hours" in p for p in found)


# --- Bad input, one class per test, each in a real file ------------------------------------


def test_missing_required_columns(tmp_path):
    path = tmp_path / "zones.geojson"
    write_layer(zone_frame().drop(columns=["unit_id", "duties"]), path)
    with pytest.raises(SchemaError, match=r"missing required columns \['unit_id', 'duties'\]"):
        load_layer(path, "zones")


def test_duplicate_zone_id(tmp_path):
    path = tmp_path / "zones.gpkg"
    write_layer(zone_frame(zone_id=["Z1", "Z2", "Z1"]), path, layer="zones")
    with pytest.raises(SchemaError) as err:
        load_layer(path, "zones")
    assert problems(err) == ["error: row 3 (Z1) field 'zone_id': duplicate zone_id 'Z1' (first at row 1)"]


def test_empty_and_null_geometry(tmp_path):
    path = tmp_path / "zones.geojson"
    frame = zone_frame()
    frame.loc[1, "geometry"] = None
    frame.loc[2, "geometry"] = Polygon()
    write_layer(frame, path)
    with pytest.raises(SchemaError) as err:
        load_layer(path, "zones")
    found = problems(err)
    assert "error: row 2 (Z1) field 'geometry': geometry is empty or missing" in found
    assert "error: row 3 (Z2) field 'geometry': geometry is empty or missing" in found


def test_wrong_geometry_type(tmp_path):
    frame = zone_frame(n=2)
    frame = frame.set_geometry([frame.geometry.iloc[0], LineString([(CY_LON, CY_LAT), (CY_LON + D, CY_LAT)])])
    path = tmp_path / "zones.gpkg"
    write_layer(frame, path, layer="zones")
    with pytest.raises(SchemaError) as err:
        load_layer(path, "zones")
    assert any("row 2 (Z1)" in p and "geometry is a LineString, expected MultiPolygon or Polygon" in p for p in problems(err))


def test_invalid_polygon_is_repaired_with_a_warning(tmp_path):
    bowtie = Polygon([(CY_LON, CY_LAT), (CY_LON + D, CY_LAT + D), (CY_LON + D, CY_LAT), (CY_LON, CY_LAT + D)])
    frame = zone_frame(n=2)
    frame = frame.set_geometry([frame.geometry.iloc[0], bowtie])
    path = tmp_path / "zones.geojson"
    write_layer(frame, path)
    loaded = load_layer(path, "zones")
    assert loaded.report.ok
    [warning] = loaded.report.warnings
    assert warning.row == 2
    assert warning.feature_id == "Z1"
    assert "Self-intersection" in warning.message and "repaired with make_valid" in warning.message
    assert "area changed by" in warning.message and "m²" in warning.message
    assert loaded.frame.geometry.iloc[1].is_valid


def test_coordinates_out_of_range(tmp_path):
    table = pd.DataFrame({"point_id": ["TP1", "TP2"], "name": ["a", "b"], "type": ["toilet"] * 2, "lon": [120.4, 120.4], "lat": [36.3, 96.3]})
    path = tmp_path / "points.csv"
    table.to_csv(path, index=False)
    with pytest.raises(SchemaError) as err:
        load_layer(path, "test-points")
    [problem] = problems(err)
    assert problem.startswith("error: row 2 (TP2) field 'geometry': coordinates out of range")


@pytest.mark.parametrize(("lon", "lat"), [(36.3, 120.4), (-33.9, 151.2)], ids=["china", "world"])
def test_latitude_longitude_swapped(tmp_path, lon, lat):
    table = pd.DataFrame({"point_id": ["TP1", "TP2"], "name": ["a", "b"], "type": ["toilet"] * 2, "lon": [120.4, lon], "lat": [36.3, lat]})
    path = tmp_path / "points.csv"
    table.to_csv(path, index=False)
    with pytest.raises(SchemaError) as err:
        load_layer(path, "test-points")
    assert any("row 2 (TP2)" in p and "latitude and longitude look swapped" in p for p in problems(err))


def test_non_numeric_coordinates(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("point_id,name,type,lon,lat\nTP1,a,toilet,120.4,36.3\nTP2,b,toilet,东经120度,36.3\n", encoding="utf-8")
    with pytest.raises(SchemaError) as err:
        load_layer(path, "test-points")
    assert problems(err) == ["error: row 2 (TP2) field 'geometry': coordinates are not numbers: lon='东经120度', lat='36.3'"]


@pytest.mark.parametrize("suffix", [".csv", ".geojson"])
def test_projected_coordinates_without_crs(tmp_path, suffix):
    """UTM metres in a file that says nothing (CSV) or claims WGS84 (GeoJSON)."""
    frame = zone_frame().to_crs(crs.METRIC_CRS).set_crs(None, allow_override=True)
    path = tmp_path / f"zones{suffix}"
    if suffix == ".csv":
        write_layer(frame, path)
    else:
        write_layer(frame.set_crs(crs.STORAGE_CRS, allow_override=True), path)
    with pytest.raises(SchemaError) as err:
        load_layer(path, "zones")
    [problem] = problems(err)
    assert "3 rows (rows 1, 2, 3) have projected coordinates in metres" in problem
    assert "--crs EPSG:" in problem


def test_unknown_duties(tmp_path):
    path = tmp_path / "zones.gpkg"
    write_layer(zone_frame(duties=["sanitation", "cleaning, order", "绿化"]), path, layer="zones")
    with pytest.raises(SchemaError) as err:
        load_layer(path, "zones")
    assert problems(err) == ["error: row 2 (Z1) field 'duties': unknown duties ['cleaning']; expected any of sanitation, order, greening, facilities"]


def test_non_integer_priority(tmp_path):
    path = tmp_path / "zones.gpkg"
    write_layer(zone_frame(priority=["1", "high", "2.5"]), path, layer="zones")
    with pytest.raises(SchemaError) as err:
        load_layer(path, "zones")
    assert [p.split(":")[1] for p in problems(err)] == [" row 2 (Z1) field 'priority'", " row 3 (Z2) field 'priority'"]


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("zones.gpkg", b"this is not a geopackage", r"cannot read zones.gpkg"),
        ("zones.geojson", b'{"type": "FeatureCollection", "features": [', r"cannot read zones.geojson"),
        ("zones.kml", b"<kml/>", r"unknown file type '.kml'"),
        ("zones.csv", b"zone_id,unit_id\nZ1,U1\n", r"has no coordinates"),
        ("zones.xlsx", b"PK\x03\x04 not a zip", r"cannot read zones.xlsx as an Excel workbook"),
    ],
)
def test_unreadable_files(tmp_path, name, content, match):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LayerReadError, match=match):
        load_layer(path, "zones")


def test_missing_file(tmp_path):
    with pytest.raises(LayerReadError, match=r"file not found"):
        load_layer(tmp_path / "nope.geojson", "zones")


def test_unknown_crs(tmp_path):
    path = tmp_path / "zones.geojson"
    write_layer(zone_frame(), path)
    with pytest.raises(CRSError, match=r"expected one of wgs84, cgcs2000, gcj02, bd09"):
        load_layer(path, "zones", crs="mars")


def test_every_problem_is_collected_not_just_the_first(tmp_path):
    frame = zone_frame(n=4, zone_id=["Z1", "Z1", None, "Z4"], duties=["x", "order", "order", "order"])
    frame.loc[3, "geometry"] = None
    path = tmp_path / "zones.geojson"
    write_layer(frame, path)
    with pytest.raises(SchemaError) as err:
        load_layer(path, "zones")
    rows = sorted(p.row for p in err.value.report.errors)
    assert rows == [1, 2, 3, 4]


def test_report_rows_keep_per_row_crs(tmp_path):
    """A report batch whose rows come from different apps names each row's CRS."""
    wgs = (120.40, 36.30)
    gcj = crs.wgs84_to_gcj02(*wgs)
    bd = crs.wgs84_to_bd09(*wgs)
    path = tmp_path / "reports.csv"
    pd.DataFrame({
        "id": ["R1", "R2", "R3", "R4"],
        "category": ["litter"] * 4,
        "lon": [wgs[0], float(gcj[0]), float(bd[0]), wgs[0]],
        "lat": [wgs[1], float(gcj[1]), float(bd[1]), wgs[1]],
        "crs": ["wgs84", "gcj02", "bd09", "mars"],
    }).to_csv(path, index=False)
    loaded = load_layer(path, "reports", strict=False)
    xs, ys = loaded.frame.geometry.x.to_numpy()[:3], loaded.frame.geometry.y.to_numpy()[:3]
    np.testing.assert_allclose(xs, wgs[0], atol=1e-9)
    np.testing.assert_allclose(ys, wgs[1], atol=1e-9)
    [problem] = loaded.report.errors
    assert problem.row == 4 and problem.field == "crs"


def test_points_and_polygons_as_test_points(tmp_path):
    frame = gpd.GeoDataFrame(
        {"point_id": ["TP1", "TP2"], "name": ["公厕", "老旧小区"], "type": ["toilet", "residential"], "unit_id": ["C001", None]},
        geometry=[Point(CY_LON, CY_LAT), box(CY_LON, CY_LAT, CY_LON + D, CY_LAT + D)],
        crs=crs.STORAGE_CRS,
    )
    path = tmp_path / "points.gpkg"
    write_layer(frame, path, layer="test_points")
    loaded = load_layer(path, "test-points")
    assert loaded.report.ok
    assert loaded.frame["unit_id"].tolist() == ["C001", None]
