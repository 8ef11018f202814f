"""The routing rules, each pinned with a small hand-made layer, and single == batch."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box

from zones.config import RoutingConfig
from zones.decision import CORE_FIELDS
from zones.errors import CRSError
from zones.layer import ZoneLayer
from zones.router import route, route_one

X0, Y0 = 120.40, 36.30  # Chengyang
D = 1e-4  # degrees: about 9 m east-west, 11 m north-south here
WGS84 = "EPSG:4326"
TO_UTM = pyproj.Transformer.from_crs(WGS84, "EPSG:32651", always_xy=True)


def cell(i0: float, j0: float, i1: float, j1: float) -> Polygon:
    """A box in grid units of D degrees from (X0, Y0)."""
    return box(X0 + i0 * D, Y0 + j0 * D, X0 + i1 * D, Y0 + j1 * D)


def at(i: float, j: float) -> tuple[float, float]:
    return X0 + i * D, Y0 + j * D


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    (ax, bx), (ay, by) = TO_UTM.transform([a[0], b[0]], [a[1], b[1]])
    return math.hypot(ax - bx, ay - by)


CATEGORIES = pd.DataFrame({
    "code": ["litter", "vending", "greenery", "illegal_construction"],
    "name_zh": ["垃圾", "占道经营", "绿化破坏", "违法建设"],
    "name_en": ["Litter", "Vending", "Greenery", "Illegal construction"],
    "group": ["", "", "", ""],
    "duty": ["sanitation", "order", "greening", None],
    "department_unit_id": [None, None, None, "D-ZF"],
    "deadline_hours": [24.0, 24.0, 72.0, 720.0],
})


def make_layer(zones: list[dict], test_points: list[dict] | None = None) -> ZoneLayer:
    frame = gpd.GeoDataFrame(
        [{"name": "", "unit_name": "", "kind": "block", "priority": 0, **{k: v for k, v in z.items() if k != "geometry"}} for z in zones],
        geometry=[z["geometry"] for z in zones], crs=WGS84,
    )
    areas = gpd.GeoDataFrame(
        {"area_id": ["D", "S1"], "name": ["区", "东街道"], "level": ["district", "subdistrict"], "default_unit_id": ["D-ZH", "JD01"]},
        geometry=[cell(-400, -400, 400, 400), cell(0, -400, 400, 400)], crs=WGS84,
    )
    points = test_points or []
    tp = gpd.GeoDataFrame(
        {"point_id": [p["point_id"] for p in points], "name": ["点"] * len(points), "type": ["toilet"] * len(points),
         "unit_id": [p.get("unit_id") for p in points]},
        geometry=[p["geometry"] for p in points], crs=WGS84,
    )
    return ZoneLayer.build(frame, tp, areas, CATEGORIES)


def one(layer: ZoneLayer, point: tuple[float, float], category: str = "litter", accuracy: float | None = None, **config) -> dict:
    """Route one point both ways and check they agree."""
    cfg = RoutingConfig(**config)
    single = route_one(point[0], point[1], category, layer, cfg, accuracy_m=accuracy).as_row()
    batch = route(pd.DataFrame({"id": ["r"], "lon": [point[0]], "lat": [point[1]], "category": [category], "accuracy_m": [accuracy]}), layer, cfg)
    row = {k: (None if (isinstance(v, float) and math.isnan(v)) or v is None or v is pd.NA else v) for k, v in batch.iloc[0].to_dict().items()}
    assert {k: single[k] for k in CORE_FIELDS} == {k: row[k] for k in CORE_FIELDS}
    return single


A = {"zone_id": "ZA", "unit_id": "UA", "duties": "sanitation,order", "geometry": cell(10, 10, 20, 20)}
B = {"zone_id": "ZB", "unit_id": "UB", "duties": "sanitation,order", "geometry": cell(20, 10, 30, 20)}  # shares A's east edge
BIG = {"zone_id": "ZC", "unit_id": "UC", "duties": "sanitation", "geometry": cell(20, 10, 40, 20)}  # larger than B


@pytest.mark.parametrize(
    ("point", "unit", "rule", "co"),
    [
        (at(15, 15), "UA", "zone", None),  # interior
        (at(10, 10), "UA", "zone", None),  # a vertex counts as inside
        (at(15, 10), "UA", "zone", None),  # an edge counts as inside
        (at(20, 15), "UA", "overlap", "UB"),  # shared edge, equal priority, equal area: smaller zone_id ZA wins
    ],
)
def test_covering_zone(point, unit, rule, co):
    decision = one(make_layer([A, B]), point)
    assert (decision["status"], decision["unit_id"], decision["rule"], decision["co_owner_unit_ids"]) == ("routed", unit, rule, co)
    assert decision["distance_m"] == 0.0


def test_overlap_smaller_area_then_priority():
    point = at(20, 15)  # on A's east edge, inside BIG
    decision = one(make_layer([A, BIG]), point)
    assert (decision["unit_id"], decision["co_owner_unit_ids"]) == ("UA", "UC")  # equal priority: A is smaller
    decision = one(make_layer([A, {**BIG, "priority": 5}]), point)
    assert (decision["unit_id"], decision["zone_id"], decision["co_owner_unit_ids"]) == ("UC", "ZC", "UA")  # priority beats area


def test_four_owners_meet_at_a_corner():
    zones = [
        {"zone_id": "Z1", "unit_id": "U1", "duties": "sanitation", "geometry": cell(0, 0, 10, 10)},
        {"zone_id": "Z2", "unit_id": "U2", "duties": "sanitation", "geometry": cell(10, 0, 20, 10), "priority": 2},
        {"zone_id": "Z3", "unit_id": "U3", "duties": "sanitation", "geometry": cell(0, 10, 10, 20), "priority": 1},
        {"zone_id": "Z4", "unit_id": "U4", "duties": "sanitation", "geometry": cell(10, 10, 20, 20), "priority": 1},
    ]
    decision = one(make_layer(zones), at(10, 10))
    assert decision["rule"] == "overlap"
    assert decision["unit_id"] == "U2"
    assert decision["co_owner_unit_ids"] == "U3;U4;U1"  # priority 1 (Z3 before Z4 by zone_id), then 0


def test_same_owner_in_two_zones_is_not_an_overlap():
    zones = [A, {**B, "unit_id": "UA", "zone_id": "ZA2"}]
    decision = one(make_layer(zones), at(20, 15))
    assert (decision["rule"], decision["co_owner_unit_ids"]) == ("zone", None)


def test_hole_and_multipolygon():
    ring = Polygon(cell(0, 0, 30, 30).exterior.coords, [cell(10, 10, 20, 20).exterior.coords])
    parts = MultiPolygon([cell(100, 0, 110, 10), cell(130, 0, 140, 10)])
    layer = make_layer([
        {"zone_id": "ZR", "unit_id": "UR", "duties": "sanitation", "geometry": ring},
        {"zone_id": "ZM", "unit_id": "UM", "duties": "sanitation", "geometry": parts},
    ])
    in_hole = one(layer, at(15, 15))  # 5 units from the hole's edge: about 45–55 m, beyond 30 m
    assert (in_hole["status"], in_hole["unit_id"]) == ("fallback", "JD01")
    assert one(layer, at(15, 15), nearest_tolerance_m=60)["unit_id"] == "UR"
    on_hole_edge = one(layer, at(10, 15))
    assert (on_hole_edge["status"], on_hole_edge["unit_id"]) == ("routed", "UR")
    second_part = one(layer, at(135, 5))
    assert (second_part["status"], second_part["zone_id"]) == ("routed", "ZM")


def test_duty_decides_who_is_responsible():
    layer = make_layer([
        {"zone_id": "ZN", "unit_id": "UN", "duties": "", "geometry": cell(0, 0, 10, 10)},  # holds no duty
        {"zone_id": "ZG", "unit_id": "UG", "duties": "greening", "geometry": cell(11, 0, 20, 10)},
    ])
    decision = one(layer, at(9, 5), category="greenery")  # covered only by the duty-less zone
    assert (decision["status"], decision["unit_id"], decision["zone_id"]) == ("nearest", "UG", "ZG")
    assert decision["distance_m"] == pytest.approx(metres(at(9, 5), at(11, 5)), abs=0.01)
    decision = one(layer, at(15, 5), category="litter")  # ZG does not hold sanitation
    assert (decision["status"], decision["unit_id"]) == ("fallback", "JD01")


@pytest.mark.parametrize(
    ("offset", "status", "unit"),
    [
        (2, "nearest", "UA"),  # ~18 m east of A: within 30 m
        (5, "fallback", "JD01"),  # ~45 m: beyond the tolerance, the sub-district's default unit
    ],
)
def test_gap_within_and_beyond_tolerance(offset, status, unit):
    layer = make_layer([A])
    point = at(20 + offset, 15)
    decision = one(layer, point)
    assert (decision["status"], decision["unit_id"]) == (status, unit)
    if status == "nearest":
        assert decision["distance_m"] == pytest.approx(metres(point, at(20, 15)), abs=0.01)
        assert "30 m 容差内最近的责任区 ZA" in decision["reason"]
    else:
        assert "责任空白" in decision["reason"] and "东街道" in decision["reason"]


def test_fallback_in_the_district_outside_any_subdistrict():
    decision = one(make_layer([A]), at(-200, 0))
    assert (decision["status"], decision["unit_id"], decision["area_id"]) == ("fallback", "D-ZH", "D")


def test_accuracy_circle_reaching_another_owner_is_ambiguous():
    layer = make_layer([A, {**B, "geometry": cell(21, 10, 30, 20)}])  # B starts ~9 m east of A
    point = at(19.5, 15)  # inside A, ~4.5 m from A's edge, ~13.5 m from B
    assert one(layer, point, accuracy=5)["status"] == "routed"
    decision = one(layer, point, accuracy=20)
    assert (decision["status"], decision["unit_id"], decision["candidate_unit_ids"]) == ("ambiguous", "UA", "UA;UB")
    assert decision["zone_id"] == "ZA"


def test_accuracy_on_an_uncovered_point():
    layer = make_layer([A, {**B, "geometry": cell(22, 10, 30, 20)}])  # a 2-unit gap between A and B
    point = at(20.8, 15)  # in the gap, nearer A
    assert one(layer, point, accuracy=3)["status"] == "nearest"
    decision = one(layer, point, accuracy=15)
    assert (decision["status"], decision["unit_id"], decision["candidate_unit_ids"]) == ("ambiguous", "UA", "UA;UB")


def test_outside_and_department():
    layer = make_layer([A])
    outside = one(layer, at(500, 0))
    assert (outside["status"], outside["unit_id"], outside["zone_id"]) == ("outside", None, None)
    dept = one(layer, at(15, 15), category="illegal_construction")
    assert (dept["status"], dept["unit_id"], dept["zone_id"], dept["deadline_hours"]) == ("department", "D-ZF", "ZA", 720.0)


def test_test_point_attached_within_radius_ties_by_id():
    layer = make_layer([A], test_points=[
        {"point_id": "TP2", "unit_id": "UA", "geometry": shapely.Point(at(15, 18))},
        {"point_id": "TP1", "unit_id": None, "geometry": shapely.Point(at(15, 12))},  # same distance
        {"point_id": "TP3", "unit_id": "UX", "geometry": shapely.Point(at(15, 80))},  # far
    ])
    decision = one(layer, at(15, 15))
    assert (decision["test_point_id"], decision["test_point_unit_id"]) == ("TP1", None)
    assert one(layer, at(15, 17))["test_point_id"] == "TP2"
    assert one(layer, at(15, 15), test_point_radius_m=10)["test_point_id"] is None


def test_bad_rows_are_errors_and_the_batch_goes_on():
    layer = make_layer([A])
    x, y = at(15, 15)
    batch = pd.DataFrame({
        "id": ["ok", "nan", "range", "category", "accuracy"],
        "lon": [x, float("nan"), x, x, x],
        "lat": [y, y, 95.0, y, y],
        "category": ["litter", "litter", "litter", "graffiti", "litter"],
        "accuracy_m": [None, None, None, None, -3.0],
    })
    out = route(batch, layer).set_index("id")
    assert out.loc["ok", "status"] == "routed"
    assert (out.drop(index="ok")["status"] == "error").all()
    assert "坐标不是有效数字" in out.loc["nan", "reason"]
    assert "坐标超出范围" in out.loc["range", "reason"]
    assert "未知类别 'graffiti'" in out.loc["category", "reason"]
    assert "accuracy_m=-3.0" in out.loc["accuracy", "reason"]


def test_gcj02_input_gives_the_same_decisions(tmp_path):
    from geodata.crs import wgs84_to_gcj02
    from geodata.load import load_layer

    layer = make_layer([A, B])
    rng = np.random.default_rng(1)
    lon = X0 + rng.uniform(5, 35, 200) * D
    lat = Y0 + rng.uniform(5, 25, 200) * D
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    path = tmp_path / "reports.csv"
    pd.DataFrame({"id": [f"R{i}" for i in range(200)], "lon": g_lon, "lat": g_lat, "category": "litter", "accuracy_m": 8.0}).to_csv(path, index=False)
    loaded = load_layer(path, "reports", crs="gcj02").frame
    from_gcj = route(pd.DataFrame({"id": loaded["id"], "lon": loaded.geometry.x, "lat": loaded.geometry.y, "category": loaded["category"],
                                   "accuracy_m": loaded["accuracy_m"]}), layer)
    from_wgs = route(pd.DataFrame({"id": loaded["id"], "lon": lon, "lat": lat, "category": "litter", "accuracy_m": 8.0}), layer)
    pd.testing.assert_frame_equal(from_gcj[["status", "unit_id", "zone_id", "rule"]], from_wgs[["status", "unit_id", "zone_id", "rule"]])
    # Without the conversion the same coordinates land ~460 m east: other decisions.
    raw = route(pd.DataFrame({"id": loaded["id"], "lon": g_lon, "lat": g_lat, "category": "litter"}), layer)
    assert (raw["status"] != from_wgs["status"]).mean() > 0.5


def test_projected_geometry_is_refused():
    layer = make_layer([A])
    pts = gpd.GeoDataFrame({"id": ["a"], "category": ["litter"]}, geometry=[shapely.Point(500000, 4000000)], crs="EPSG:32651")
    with pytest.raises(CRSError, match="WGS84"):
        route(pts, layer)


def test_decisions_carry_version_and_reason():
    layer = make_layer([A])
    decision = one(layer, at(15, 15))
    assert decision["zone_version"] == layer.version and len(layer.version) == 12
    assert decision["reason"].startswith("位于责任区 ZA")
    changed = make_layer([{**A, "unit_id": "UZ"}])
    assert changed.version != layer.version
