"""Property tests: the single and batch paths agree row for row, and the batch agrees with a
brute-force oracle written with shapely and pyproj, on random layers and points."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.zones.test_router import CATEGORIES, X0, at, cell, make_layer
from zones.config import RoutingConfig
from zones.decision import CORE_FIELDS
from zones.router import route, route_one

DUTIES = ["sanitation", "order", "sanitation,order", "greening", ""]


@st.composite
def layers_and_points(draw):
    n = draw(st.integers(1, 12))
    zones = []
    for k in range(n):
        i0 = draw(st.integers(0, 40))
        j0 = draw(st.integers(0, 40))
        w = draw(st.integers(1, 15))
        h = draw(st.integers(1, 15))
        zones.append({
            "zone_id": f"Z{k:02d}", "unit_id": f"U{draw(st.integers(0, 4))}", "duties": draw(st.sampled_from(DUTIES)),
            "priority": draw(st.integers(0, 2)), "geometry": cell(i0, j0, i0 + w, j0 + h),
        })
    # Points: on grid lines (vertices and edges) half of the time, anywhere otherwise.
    m = draw(st.integers(1, 30))
    points = [
        (draw(st.integers(-5, 60)), draw(st.integers(-5, 60))) if draw(st.booleans())
        else (draw(st.floats(-5, 60)), draw(st.floats(-5, 60)))
        for _ in range(m)
    ]
    categories = [draw(st.sampled_from(["litter", "vending", "greenery", "illegal_construction"])) for _ in range(m)]
    accuracy = [draw(st.one_of(st.none(), st.floats(0, 40))) for _ in range(m)]
    return zones, points, categories, accuracy


def batch_frame(points, categories, accuracy):
    lon = [at(i, j)[0] for i, j in points]
    lat = [at(i, j)[1] for i, j in points]
    return pd.DataFrame({"id": [f"r{k}" for k in range(len(points))], "lon": lon, "lat": lat, "category": categories, "accuracy_m": accuracy})


def clean(value):
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layers_and_points())
def test_single_equals_batch(case):
    zones, points, categories, accuracy = case
    layer = make_layer(zones)
    frame = batch_frame(points, categories, accuracy)
    batch = route(frame, layer)
    for k, row in frame.iterrows():
        single = route_one(row.lon, row.lat, row.category, layer, accuracy_m=row.accuracy_m).as_row()
        expected = {c: clean(batch.iloc[k][c]) for c in CORE_FIELDS}
        assert {c: clean(single[c]) for c in CORE_FIELDS} == expected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layers_and_points())
def test_batch_agrees_with_a_brute_force_oracle(case):
    zones, points, categories, _ = case
    layer = make_layer(zones)
    frame = batch_frame(points, categories, [None] * len(points))
    batch = route(frame, layer)
    zone_frame = gpd.GeoDataFrame(zones, geometry=[z["geometry"] for z in zones], crs="EPSG:4326")
    metric = zone_frame.to_crs("EPSG:32651")
    area = np.round(metric.area.to_numpy())
    order = sorted(range(len(zones)), key=lambda z: (-zones[z].get("priority", 0), area[z], zones[z]["zone_id"]))
    rank = {z: r for r, z in enumerate(order)}
    duty_of = dict(zip(CATEGORIES["code"], CATEGORIES["duty"], strict=True))
    pts_metric = gpd.GeoSeries(shapely.points(frame["lon"], frame["lat"]), crs="EPSG:4326").to_crs("EPSG:32651")
    for k, row in frame.iterrows():
        point = shapely.Point(row.lon, row.lat)
        got = batch.iloc[k]
        duty = duty_of[row.category]
        if not isinstance(duty, str):
            assert got["status"] == "department"
            continue
        holders = [z for z in range(len(zones)) if duty in zones[z]["duties"].split(",")]
        covering = [z for z in holders if zone_frame.geometry.iloc[z].intersects(point)]
        if covering:
            best = min(covering, key=rank.__getitem__)
            assert (got["status"], got["zone_id"], got["unit_id"]) == ("routed", zones[best]["zone_id"], zones[best]["unit_id"])
            owners = {zones[z]["unit_id"] for z in covering}
            assert got["rule"] == ("overlap" if len(owners) > 1 else "zone")
            continue
        distances = {z: metric.geometry.iloc[z].distance(pts_metric.iloc[k]) for z in holders}
        near = [z for z, d in distances.items() if d <= 30.0]
        if near:
            best = min(near, key=lambda z: (int(distances[z] * 1000), rank[z]))
            assert (got["status"], got["zone_id"]) == ("nearest", zones[best]["zone_id"])
            assert got["distance_m"] == pytest.approx(distances[best], abs=1e-6)
        else:
            assert (got["status"], got["unit_id"]) == ("fallback", "JD01" if row.lon >= X0 else "D-ZH")


def test_demo_batch_single_equals_batch(demo_files):
    """Every fourth row of the 10,000-report demo batch (every status among them) routes the same
    one at a time as in the batch."""
    from geodata.load import load_categories, load_layer
    from zones.layer import ZoneLayer

    layer = ZoneLayer.build(
        load_layer(demo_files.gpkg, "zones").frame, load_layer(demo_files.gpkg, "test-points").frame,
        load_layer(demo_files.gpkg, "areas").frame, load_categories(demo_files.categories)[0],
    )
    reports = load_layer(demo_files.reports, "reports").frame
    frame = pd.DataFrame({"id": reports["id"], "lon": reports.geometry.x, "lat": reports.geometry.y, "category": reports["category"],
                          "accuracy_m": reports["accuracy_m"]})
    batch = route(frame, layer, RoutingConfig())
    assert set(batch["status"]) >= {"routed", "ambiguous", "nearest", "fallback", "department", "outside"}
    sample = frame.iloc[::4]
    assert set(batch["status"].iloc[::4]) == set(batch["status"])
    expected = batch.iloc[::4].to_dict("records")
    for row, want in zip(sample.itertuples(), expected, strict=True):
        single = route_one(row.lon, row.lat, row.category, layer, accuracy_m=row.accuracy_m).as_row()
        assert {c: clean(single[c]) for c in CORE_FIELDS} == {c: clean(want[c]) for c in CORE_FIELDS}, row.id
