"""Property tests at the edges of the router's spatial indexes: points just beyond the extremes
of random layers (every side and corner of the zones', test points' and areas' extents, 0–60 m
out) and on the cells' boundaries, against a brute-force oracle written with shapely, for every
output column."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.zones.test_router import CATEGORIES, cell
from zones.config import RoutingConfig
from zones.layer import ZoneLayer
from zones.router import route

WGS84, UTM = "EPSG:4326", "EPSG:32651"
TO_UTM = pyproj.Transformer.from_crs(WGS84, UTM, always_xy=True)
FROM_UTM = pyproj.Transformer.from_crs(UTM, WGS84, always_xy=True)
DUTIES = ["sanitation", "order", "sanitation,order", "greening", ""]
CONFIG = RoutingConfig()  # 30 m tolerance, 50 m test-point radius
SIDES = [(-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1)]  # every side and corner


@st.composite
def layers(draw):
    zones = []
    for k in range(draw(st.integers(1, 8))):
        i0, j0 = draw(st.integers(0, 40)), draw(st.integers(0, 40))
        zones.append({"zone_id": f"Z{k:02d}", "unit_id": f"U{draw(st.integers(0, 3))}", "duties": draw(st.sampled_from(DUTIES)),
                      "priority": draw(st.integers(0, 2)), "geometry": cell(i0, j0, i0 + draw(st.integers(1, 12)), j0 + draw(st.integers(1, 12)))})
    points = []
    for k in range(draw(st.integers(0, 6))):
        i, j = draw(st.floats(-10, 60)), draw(st.floats(-10, 60))
        geometry = shapely.Point(*cell(i, j, i, j).bounds[:2]) if draw(st.booleans()) else cell(i, j, i + draw(st.floats(0.5, 4)), j + draw(st.floats(0.5, 4)))
        points.append({"point_id": f"T{k}", "unit_id": draw(st.sampled_from([None, "U0", "U9"])), "geometry": geometry})
    # The district and one sub-district: their edges may cut through the zones.
    d = [draw(st.integers(-20, 5)), draw(st.integers(-20, 5)), draw(st.integers(45, 70)), draw(st.integers(45, 70))]
    split = draw(st.integers(d[0] + 1, d[2] - 1))
    areas = [("D", "district", "D-ZH", cell(*d)), ("S1", "subdistrict", "JD01", cell(split, d[1], d[2], d[3]))]
    return zones, points, areas


def build(zones, points, areas) -> ZoneLayer:
    zone_frame = gpd.GeoDataFrame([{"name": "", "unit_name": "", "kind": "block", **{k: v for k, v in z.items() if k != "geometry"}} for z in zones],
                                  geometry=[z["geometry"] for z in zones], crs=WGS84)
    point_frame = gpd.GeoDataFrame({"point_id": [p["point_id"] for p in points], "name": ["点"] * len(points), "type": ["toilet"] * len(points),
                                    "unit_id": [p["unit_id"] for p in points]}, geometry=[p["geometry"] for p in points], crs=WGS84)
    area_frame = gpd.GeoDataFrame({"area_id": [a[0] for a in areas], "name": ["区", "街道"], "level": [a[1] for a in areas],
                                   "default_unit_id": [a[2] for a in areas]}, geometry=[a[3] for a in areas], crs=WGS84)
    return ZoneLayer.build(zone_frame, point_frame, area_frame, CATEGORIES)


def beyond(bounds, side: tuple[int, int], along: float, metres: float) -> tuple[float, float]:
    """A point ``metres`` beyond the side or corner ``side`` of ``bounds`` (lon/lat), at fraction
    ``along`` of the side."""
    x0, y0 = TO_UTM.transform(bounds[0], bounds[1])
    x1, y1 = TO_UTM.transform(bounds[2], bounds[3])
    sx, sy = side
    x = (x0 - metres if sx < 0 else x1 + metres) if sx else x0 + along * (x1 - x0)
    y = (y0 - metres if sy < 0 else y1 + metres) if sy else y0 + along * (y1 - y0)
    return FROM_UTM.transform(x, y)


def cell_edges(grid, draw) -> tuple[float, float]:
    """A point on a cell boundary of ``grid`` (an edge in x, y or both)."""
    ix, iy = draw(st.integers(0, grid.nx)), draw(st.integers(0, grid.ny))
    x = grid.x0 + ix * grid.dx
    y = grid.y0 + iy * grid.dy
    which = draw(st.sampled_from(["x", "y", "both"]))
    fx, fy = draw(st.floats(0, 1)), draw(st.floats(0, 1))
    return (x if which != "y" else x + fx * grid.dx), (y if which != "x" else y + fy * grid.dy)


@st.composite
def cases(draw):
    zones, points, areas = draw(layers())
    layer = build(zones, points, areas)
    extents = [layer.zones.total_bounds, layer.areas.total_bounds] + ([layer.test_points.total_bounds] if len(points) else [])
    grids = [layer.zone_grid, layer.area_index.grid] + ([layer.test_point_index(CONFIG.test_point_radius_m).grid] if len(points) else [])
    located = []
    for _ in range(draw(st.integers(4, 24))):
        if draw(st.booleans()):
            located.append(beyond(draw(st.sampled_from(extents)), draw(st.sampled_from(SIDES)), draw(st.floats(0, 1)), draw(st.floats(0, 60))))
        else:
            located.append(cell_edges(draw(st.sampled_from(grids)), draw))
    categories = [draw(st.sampled_from(["litter", "vending", "greenery", "illegal_construction"])) for _ in located]
    accuracy = [draw(st.one_of(st.none(), st.floats(0.5, 60))) for _ in located]
    return zones, points, areas, layer, located, categories, accuracy


def _metric(geometry):
    return shapely.transform(geometry, lambda gx, gy: np.array(TO_UTM.transform(gx, gy)), interleaved=False)


def _distance(geometry, x: float, y: float) -> float:
    """Metres from a point (UTM) to a geometry (lon/lat): 0 inside."""
    return _metric(geometry).distance(shapely.Point(x, y))


def oracle(zones, points, areas, lon: float, lat: float, category: str, accuracy: float | None) -> dict:
    """Every output column for one report, from the routing rules and shapely alone."""
    x, y = TO_UTM.transform(lon, lat)
    here = shapely.Point(lon, lat)
    inside = sorted((a for a in areas if a[3].intersects(here)), key=lambda a: (a[1] == "district", a[0]))
    out = {"status": None, "unit_id": None, "zone_id": None, "co": set(), "candidates": None, "rule": None, "distance_m": None,
           "test_point_id": None, "area_id": None, "test_point_unit_id": None}
    if not inside:
        return {**out, "status": "outside", "rule": "outside"}
    area = inside[0]
    out["area_id"] = area[0]
    # Rule 6: the nearest test point within the radius, ties to the smaller point_id.
    near = [(int(_distance(p["geometry"], x, y) * 1000), p["point_id"], p) for p in points]
    near = [n for n in near if n[0] <= CONFIG.test_point_radius_m * 1000]
    if near:
        best = min(near, key=lambda n: (n[0], n[1]))[2]
        out["test_point_id"], out["test_point_unit_id"] = best["point_id"], best["unit_id"]
    metric_area = {z["zone_id"]: round(_metric(z["geometry"]).area) for z in zones}
    rank = {z["zone_id"]: r for r, z in enumerate(sorted(zones, key=lambda z: (-z["priority"], metric_area[z["zone_id"]], z["zone_id"])))}
    duty = dict(zip(CATEGORIES["code"], CATEGORIES["duty"], strict=True))[category]
    covering = sorted((z for z in zones if z["geometry"].intersects(here)), key=lambda z: rank[z["zone_id"]])
    if not isinstance(duty, str):
        department = dict(zip(CATEGORIES["code"], CATEGORIES["department_unit_id"], strict=True))[category]
        return {**out, "status": "department", "rule": "department", "unit_id": department, "zone_id": covering[0]["zone_id"] if covering else None}
    holders = [z for z in zones if duty in z["duties"].split(",")]
    distance = {z["zone_id"]: _distance(z["geometry"], x, y) for z in holders}
    key = {z["zone_id"]: (int(distance[z["zone_id"]] * 1000), rank[z["zone_id"]]) for z in holders}
    duty_cover = [z for z in covering if z in holders]

    def owners_by_key(candidates) -> list[str]:
        best: dict[str, tuple] = {}
        for z in candidates:
            if z["unit_id"] not in best or key[z["zone_id"]] < best[z["unit_id"]]:
                best[z["unit_id"]] = key[z["zone_id"]]
        return sorted(best, key=best.__getitem__)

    if duty_cover:
        accountable = duty_cover[0]
        owners = list(dict.fromkeys(z["unit_id"] for z in duty_cover))
        out.update(status="routed", rule="overlap" if len(owners) > 1 else "zone", unit_id=accountable["unit_id"], zone_id=accountable["zone_id"],
                   distance_m=0.0, co=set(owners[1:]))
        others = owners_by_key([z for z in holders if z["unit_id"] not in owners and distance[z["zone_id"]] <= (accuracy or 0)])
        if accuracy and others:
            out.update(status="ambiguous", rule="ambiguous", candidates=[*owners, *others])
        return out
    within = [z for z in holders if distance[z["zone_id"]] <= CONFIG.nearest_tolerance_m]
    if within:
        best = min(within, key=lambda z: key[z["zone_id"]])
        out.update(status="nearest", rule="nearest", unit_id=best["unit_id"], zone_id=best["zone_id"], distance_m=distance[best["zone_id"]])
        reach = owners_by_key([z for z in holders if distance[z["zone_id"]] <= (accuracy or 0)])
        if len(reach) > 1:
            out.update(status="ambiguous", rule="ambiguous", candidates=reach)
        return out
    return {**out, "status": "fallback", "rule": "fallback", "unit_id": area[2]}


def _value(v):
    return None if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) else v


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(cases())
def test_points_beyond_the_extents_and_on_cell_edges_route_like_the_oracle(case):
    zones, points, areas, layer, located, categories, accuracy = case
    frame = pd.DataFrame({"id": [f"r{k}" for k in range(len(located))], "lon": [p[0] for p in located], "lat": [p[1] for p in located],
                          "category": categories, "accuracy_m": accuracy})
    got = route(frame, layer, CONFIG)
    for k, row in frame.iterrows():
        want = oracle(zones, points, areas, row.lon, row.lat, row.category, row.accuracy_m if not pd.isna(row.accuracy_m) else None)
        have = {c: _value(got.iloc[k][c]) for c in ["status", "unit_id", "zone_id", "rule", "test_point_id", "area_id", "test_point_unit_id"]}
        assert have == {c: want[c] for c in have}, (row.lon, row.lat, row.category, row.accuracy_m)
        if want["distance_m"] is None:
            assert _value(got.iloc[k]["distance_m"]) is None
        else:
            assert got.iloc[k]["distance_m"] == pytest.approx(want["distance_m"], abs=1e-6)
        co = _value(got.iloc[k]["co_owner_unit_ids"])
        assert (set(co.split(";")) if co else set()) == want["co"]
        candidates = _value(got.iloc[k]["candidate_unit_ids"])
        assert (candidates.split(";") if candidates else None) == want["candidates"], (row.lon, row.lat, row.category, row.accuracy_m)


def test_a_report_just_beyond_the_outermost_test_point_gets_it():
    """The test-point grid covered only the test points' own extent: a report 22 m south of the
    southernmost test point fell outside the grid and got none."""
    zone = {"zone_id": "Z1", "unit_id": "U1", "duties": "sanitation", "priority": 0, "geometry": cell(10, 10, 20, 20)}
    tp = [{"point_id": "T1", "unit_id": "U1", "geometry": shapely.Point(*cell(15, 15, 15, 15).bounds[:2])},
          {"point_id": "T2", "unit_id": None, "geometry": shapely.Point(*cell(18, 18, 18, 18).bounds[:2])}]
    layer = build([zone], tp, [("D", "district", "D-ZH", cell(-50, -50, 80, 80)), ("S1", "subdistrict", "JD01", cell(0, -50, 80, 80))])
    lon, lat = cell(15, 13, 15, 13).bounds[:2]
    got = route(pd.DataFrame({"id": ["r"], "lon": [lon], "lat": [lat], "category": ["litter"], "accuracy_m": [None]}), layer, CONFIG).iloc[0]
    assert (got["test_point_id"], got["test_point_unit_id"]) == ("T1", "U1")
