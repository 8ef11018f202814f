"""`route_one` takes a compiled single-point path for most reports and the batch path for the
rest; either way each of its decisions equals the batch's row, field for field."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from tests.zones.test_router import CATEGORIES, X0, Y0, make_layer
from zones.config import RoutingConfig
from zones.decision import DECISION_FIELDS
from zones.layer import ZoneLayer
from zones.router import _route_point, route, route_one

D = 1e-4  # degrees: about 9 m east-west, 11 m north-south here


def clean(value):
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def assert_single_equals_batch(layer: ZoneLayer, frame: pd.DataFrame, config: RoutingConfig) -> tuple[int, int]:
    """Every row routed alone equals its batch row in every field; returns how many rows the
    compiled path decided and how many it left to the batch path."""
    batch = route(frame, layer, config)
    compiled = deferred = 0
    for row, want in zip(frame.itertuples(), batch.to_dict("records"), strict=True):
        accuracy = None if pd.isna(row.accuracy_m) else row.accuracy_m
        single = route_one(row.lon, row.lat, row.category, layer, config, accuracy_m=accuracy).as_row()
        assert {c: clean(single[c]) for c in DECISION_FIELDS} == {c: clean(want[c]) for c in DECISION_FIELDS}, row
        if _route_point(row.lon, row.lat, row.category, accuracy, layer, config) is None:
            deferred += 1
        else:
            compiled += 1
    return compiled, deferred


def awkward(lon: np.ndarray, lat: np.ndarray, category: np.ndarray, accuracy: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """Reports with, mixed in, refused ones: places not finite, swapped or outside China,
    accuracies out of range, unknown and empty categories."""
    n = len(lon)
    lon, lat, category, accuracy = lon.copy(), lat.copy(), category.astype(object), accuracy.copy()
    bad = rng.choice(n, n // 50, replace=False)
    for k, pos in enumerate(bad):
        kind = k % 6
        if kind == 0:
            lon[pos] = np.nan
        elif kind == 1:
            lon[pos], lat[pos] = lat[pos], lon[pos]
        elif kind == 2:
            lon[pos] = 10.0
        elif kind == 3:
            accuracy[pos] = -1.0
        elif kind == 4:
            category[pos] = "no_such_category"
        else:
            category[pos] = ""
    return pd.DataFrame({"id": [f"r{k}" for k in range(n)], "lon": lon, "lat": lat, "category": category, "accuracy_m": accuracy})


def accuracies(n: int, rng: np.random.Generator) -> np.ndarray:
    """Not given, zero, GPS-like, and now and then wide enough to reach many owners."""
    return rng.choice([np.nan, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 30.0], n) * rng.uniform(0, 60, n) + rng.choice([0.0] * 49 + [2500.0], n)


def test_demo_layer(demo_files):
    from geodata.load import load_categories, load_layer

    gpkg = demo_files.gpkg
    layer = ZoneLayer.build(load_layer(gpkg, "zones").frame, load_layer(gpkg, "test-points").frame, load_layer(gpkg, "areas").frame,
                            load_categories(demo_files.categories)[0])
    reports = load_layer(demo_files.reports, "reports").frame.iloc[::20]
    rng = np.random.default_rng(5)
    vertices = shapely.get_coordinates(layer.zone_geoms[rng.choice(len(layer.zones), 60)])[::7]  # on boundaries: decided exactly
    lon = np.concatenate([reports.geometry.x.to_numpy(), vertices[:, 0], rng.uniform(120.2, 120.6, 200)])
    lat = np.concatenate([reports.geometry.y.to_numpy(), vertices[:, 1], rng.uniform(36.1, 36.5, 200)])
    n = len(lon)
    category = rng.choice(layer.categories["code"].to_numpy(dtype=object), n)
    frame = awkward(lon, lat, category, accuracies(n, rng), rng)
    for config in (RoutingConfig(), RoutingConfig(nearest_tolerance_m=5.0, test_point_radius_m=120.0)):
        compiled, deferred = assert_single_equals_batch(layer, frame, config)
        assert compiled > 0.75 * n
        assert deferred > n // 50


def random_layer(seed: int) -> ZoneLayer:
    """Boxes on a 10 m lattice, often overlapping, sharing edges and vertices, with owners,
    duties and priorities drawn at random; point and polygon test points."""
    rng = np.random.default_rng(seed)
    zones = []
    for k in range(400):
        i0, j0 = rng.integers(0, 300, 2)
        w, h = rng.integers(1, 25, 2)
        zones.append({
            "zone_id": f"Z{k:03d}", "unit_id": f"U{rng.integers(0, 30)}", "priority": int(rng.integers(0, 3)),
            "duties": str(rng.choice(["sanitation", "order", "sanitation,order", "greening"])),
            "geometry": box(X0 + i0 * D, Y0 + j0 * D, X0 + (i0 + w) * D, Y0 + (j0 + h) * D),
        })
    points = [{"point_id": f"P{k:03d}", "unit_id": f"U{rng.integers(0, 40)}",
               "geometry": shapely.Point(X0 + rng.uniform(0, 320) * D, Y0 + rng.uniform(0, 320) * D)} for k in range(150)]
    points += [{"point_id": f"Q{k:03d}", "unit_id": None,
                "geometry": shapely.Point(X0 + rng.uniform(0, 320) * D, Y0 + rng.uniform(0, 320) * D).buffer(2 * D)} for k in range(30)]
    return make_layer(zones, points)


@pytest.mark.parametrize("seed", [1, 2])
def test_generated_layer(seed):
    layer = random_layer(seed)
    rng = np.random.default_rng(seed)
    n = 2500
    on_lattice = rng.random(n) < 0.3  # on zone edges and vertices
    i = np.where(on_lattice, rng.integers(-10, 330, n), rng.uniform(-10, 330, n))
    j = np.where(on_lattice, rng.integers(-10, 330, n), rng.uniform(-10, 330, n)).astype(float)
    j[rng.random(n) < 0.03] += 500  # beyond the district
    lon, lat = X0 + i * D, Y0 + j * D
    category = rng.choice(CATEGORIES["code"].to_numpy(dtype=object), n)
    frame = awkward(lon, lat, category, accuracies(n, rng), rng)
    compiled, deferred = assert_single_equals_batch(layer, frame, RoutingConfig())
    decided = route(frame, layer)
    assert set(decided["rule"]) >= {"zone", "overlap", "ambiguous", "nearest", "fallback", "department", "outside", "error"}
    assert decided["co_owner_unit_ids"].notna().sum() > 50
    assert compiled > n // 2
    assert deferred > n // 20


def test_non_numeric_input_is_left_to_the_batch_path():
    layer = make_layer([{"zone_id": "ZA", "unit_id": "UA", "duties": "sanitation", "geometry": box(X0, Y0, X0 + 10 * D, Y0 + 10 * D)}])
    config = RoutingConfig()
    assert _route_point(None, Y0, "litter", None, layer, config) is None
    assert _route_point(X0 + D, Y0 + D, "litter", None, layer, config) is not None
    decision = route_one(None, Y0, "litter", layer)
    assert (decision.status, decision.reason) == ("error", route(pd.DataFrame({"lon": [None], "lat": [Y0], "category": ["litter"]}), layer)["reason"].iloc[0])
    with pytest.raises(ValueError, match="could not convert"):
        route_one("east", Y0, "litter", layer)


def test_empty_test_points():
    layer = make_layer([{"zone_id": "ZA", "unit_id": "UA", "duties": "sanitation", "geometry": box(X0, Y0, X0 + 10 * D, Y0 + 10 * D)}])
    assert not len(layer.test_points)
    frame = pd.DataFrame({"id": ["a", "b"], "lon": [X0 + 5 * D, X0 + 12 * D], "lat": [Y0 + 5 * D, Y0 + 5 * D], "category": ["litter", "litter"],
                          "accuracy_m": [5.0, None]})
    assert assert_single_equals_batch(layer, frame, RoutingConfig()) == (2, 0)

