"""Coordinate systems: GCJ-02 / BD-09 both ways against the public-domain prcoords oracle,
pinned reference values, input parsing, and the real Chengyang outline's datum shift."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import prcoords
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geodata import crs
from geodata.demo.generate import SOURCES
from zones.errors import CRSError

# (lon, lat) WGS84 → GCJ-02 → BD-09 at Chengyang's centre, computed once with prcoords 1.0.2.
REFERENCE = [
    ((120.4, 36.3), (120.40515696408978, 36.300344234607735), (120.41173425361846, 36.306086622035316)),
]
LON = st.floats(min_value=73.0, max_value=135.0)
LAT = st.floats(min_value=18.0, max_value=53.0)


def metres(lon_a, lat_a, lon_b, lat_b) -> np.ndarray:
    """Great-circle distance in metres (small distances)."""
    lat0 = np.radians((np.asarray(lat_a) + np.asarray(lat_b)) / 2)
    dx = np.radians(np.asarray(lon_a) - np.asarray(lon_b)) * np.cos(lat0) * 6371000.0
    dy = np.radians(np.asarray(lat_a) - np.asarray(lat_b)) * 6371000.0
    return np.hypot(dx, dy)


@pytest.mark.parametrize(("wgs", "gcj", "bd"), REFERENCE)
def test_reference_values(wgs, gcj, bd):
    assert crs.wgs84_to_gcj02(*wgs) == pytest.approx(gcj, abs=1e-12)
    assert crs.wgs84_to_bd09(*wgs) == pytest.approx(bd, abs=1e-9)
    back = crs.gcj02_to_wgs84(*gcj)
    assert metres(*back, *wgs) < 0.001
    back = crs.bd09_to_wgs84(*bd)
    assert metres(*back, *wgs) < 0.001


@settings(max_examples=200, deadline=None)
@given(LON, LAT)
def test_forward_matches_prcoords(lon, lat):
    ref = prcoords.wgs_gcj((lat, lon), check_china=False)
    got = crs.wgs84_to_gcj02(lon, lat)
    assert metres(*got, ref.lon, ref.lat) < 1e-6
    ref_bd = prcoords.gcj_bd(ref)
    got_bd = crs.gcj02_to_bd09(*got)
    assert metres(*got_bd, ref_bd.lon, ref_bd.lat) < 1e-6


@settings(max_examples=200, deadline=None)
@given(LON, LAT)
def test_inverse_is_exact_to_a_centimetre(lon, lat):
    """The iterated inverse reproduces the input of the forward transform to < 0.01 m, and
    agrees with prcoords' iterated ("bored") inverse to its own stated accuracy."""
    gcj = crs.wgs84_to_gcj02(lon, lat)
    back = crs.gcj02_to_wgs84(*gcj)
    assert metres(*back, lon, lat) < 0.01
    bd = crs.wgs84_to_bd09(lon, lat)
    back_bd = crs.bd09_to_wgs84(*bd)
    assert metres(*back_bd, lon, lat) < 0.01
    assert metres(*crs.bd09_to_gcj02(*bd), *gcj) < 0.01
    ref = prcoords.gcj_wgs_bored((gcj[1], gcj[0]), check_china=False)
    assert metres(*back, ref.lon, ref.lat) < 0.1


def test_one_step_inverse_would_be_metres_off():
    """The common one-step inverse (coordtransform's) is off by metres; ours is not."""
    lon, lat = np.linspace(115.0, 125.0, 50), np.linspace(30.0, 40.0, 50)
    g_lon, g_lat = crs.wgs84_to_gcj02(lon, lat)
    d_lon, d_lat = g_lon - lon, g_lat - lat
    rough = metres(g_lon - (crs.wgs84_to_gcj02(g_lon, g_lat)[0] - g_lon), g_lat - (crs.wgs84_to_gcj02(g_lon, g_lat)[1] - g_lat), lon, lat)
    exact = metres(*crs.gcj02_to_wgs84(g_lon, g_lat), lon, lat)
    assert rough.max() > 0.5
    assert exact.max() < 0.01
    assert np.all(np.hypot(d_lon, d_lat) > 0)


def test_outside_china_is_unchanged():
    lon, lat = np.array([2.35, -74.0]), np.array([48.85, 40.7])
    out = crs.wgs84_to_gcj02(lon, lat)
    np.testing.assert_array_equal(out[0], lon)
    np.testing.assert_array_equal(out[1], lat)
    np.testing.assert_array_equal(crs.gcj02_to_wgs84(lon, lat)[0], lon)


@pytest.mark.parametrize(
    ("value", "label", "datum"),
    [
        ("wgs84", "wgs84", None),
        ("WGS-84", "wgs84", None),
        ("cgcs2000", "cgcs2000", None),
        ("gcj02", "gcj02", "gcj02"),
        ("GCJ-02", "gcj02", "gcj02"),
        ("bd09", "bd09", "bd09"),
        ("EPSG:4490", "EPSG:4490", None),
        ("4547", "EPSG:4547", None),  # a bare EPSG number
        (None, "wgs84", None),
    ],
)
def test_parse_input_crs(value, label, datum):
    spec = crs.parse_input_crs(value)
    assert spec.label == label
    assert spec.datum == datum


@pytest.mark.parametrize("value", ["mars", "EPSG:999999", "gcj-03"])
def test_parse_input_crs_lists_valid_values(value):
    with pytest.raises(CRSError, match=r"wgs84, cgcs2000, gcj02, bd09|unknown EPSG"):
        crs.parse_input_crs(value)


def test_points_to_wgs84_from_projected():
    # A point in UTM 51N comes back to lon/lat.
    lon, lat = crs.points_to_wgs84([0.0 + 500000.0], [4000000.0], "EPSG:32651")
    assert lon[0] == pytest.approx(123.0, abs=1e-9)
    assert 36.0 < lat[0] < 36.2


def test_chengyang_outline_moves_a_few_hundred_metres():
    """The Amap outline (GCJ-02) shifts 300–600 m when converted to WGS84, and then matches
    the independent Tianditu CGCS2000 outline better than before."""
    amap = gpd.read_file(SOURCES / "370214.geojson")
    converted = crs.to_storage(amap, "gcj02")
    before = shapely.get_coordinates(amap.geometry.to_numpy())
    after = shapely.get_coordinates(converted.geometry.to_numpy())
    shift = metres(before[:, 0], before[:, 1], after[:, 0], after[:, 1])
    assert shift.min() > 300 and shift.max() < 600
    assert 450 < np.median(shift) < 480  # ≈ +463 m east, +38 m north near Chengyang
    tianditu = gpd.read_file(SOURCES / "370214_tianditu_wgs84.geojson").to_crs(crs.METRIC_CRS).geometry.union_all()
    raw_m = amap.set_crs(crs.STORAGE_CRS, allow_override=True).to_crs(crs.METRIC_CRS).geometry.union_all()
    conv_m = converted.to_crs(crs.METRIC_CRS).geometry.union_all()

    def iou(a, b):
        return a.intersection(b).area / a.union(b).area

    assert iou(conv_m, tianditu) > iou(raw_m, tianditu) + 0.03


def test_to_display_round_trip():
    pts = gpd.GeoDataFrame(geometry=shapely.points([120.4, 120.3], [36.3, 36.2]), crs=crs.STORAGE_CRS)
    shown = crs.to_display(pts, "gcj02")
    back = crs.to_storage(shown, "gcj02")
    assert metres(back.geometry.x, back.geometry.y, pts.geometry.x, pts.geometry.y).max() < 0.01


def test_check_crs_names_both_systems():
    pts = gpd.GeoDataFrame(geometry=shapely.points([500000.0], [4000000.0]), crs=crs.METRIC_CRS)
    with pytest.raises(CRSError, match=r"EPSG:32651.*expected EPSG:4326"):
        crs.check_crs(pts, crs.STORAGE_CRS)
