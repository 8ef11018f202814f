"""One check refuses a reported row: the router's reasons and a request's errors come from it."""

import numpy as np
import pandas as pd
import pytest

from tests.zones.test_router import A, at, make_layer
from zones.intake import MAX_ACCURACY_M, refusals, refusals_of_one
from zones.router import route, route_one

X, Y = at(15, 15)
CASES = [  # lon, lat, accuracy, category → the codes refused, by field
    (X, Y, None, "litter", []),
    (float("nan"), Y, None, "litter", [("lon", "point_not_finite")]),
    (Y, X, None, "litter", [("lon", "point_swapped")]),
    (X, 95.0, None, "litter", [("lat", "point_outside_china")]),
    (2.35, 48.85, None, "litter", [("lon", "point_outside_china")]),
    (X, Y, -3.0, "litter", [("accuracy_m", "bad_accuracy")]),
    (X, Y, MAX_ACCURACY_M + 1, "litter", [("accuracy_m", "bad_accuracy")]),
    (X, Y, MAX_ACCURACY_M, "litter", []),
    (X, Y, None, "graffiti", [("category", "unknown_category")]),
    (X, Y, None, " ", [("category", "empty_value")]),
    (float("inf"), Y, float("inf"), None, [("lon", "point_not_finite"), ("accuracy_m", "bad_accuracy"), ("category", "empty_value")]),
]


@pytest.fixture(scope="module")
def layer():
    return make_layer([A])


def test_the_router_and_a_request_refuse_the_same_rows(layer):
    frame = pd.DataFrame({"id": [str(k) for k in range(len(CASES))], "lon": [c[0] for c in CASES], "lat": [c[1] for c in CASES],
                          "accuracy_m": [c[2] for c in CASES], "category": [c[3] for c in CASES]})
    batch = route(frame, layer)
    known = layer.category_codes(frame["category"].to_numpy(dtype=object)) >= 0
    lon, lat, accuracy = (frame[c].to_numpy(float) for c in ("lon", "lat", "accuracy_m"))
    found = refusals(lon, lat, accuracy, frame["category"].to_numpy(dtype=object), known)
    for k, (lon, lat, accuracy, category, expected) in enumerate(CASES):
        assert [(r.field, r.code) for r in found.get(k, [])] == expected, CASES[k]
        decision = route_one(lon, lat, category, layer, accuracy_m=accuracy)
        assert (decision.status == "error") == bool(expected) == (batch["status"].iloc[k] == "error")
        if expected:
            reason = "无法派单：" + "；".join(r.reason for r in found[k])
            assert decision.reason == batch["reason"].iloc[k] == reason
            place_and_accuracy = [(r.field, r.code) for r in refusals_of_one(lon, lat, accuracy)]
            assert place_and_accuracy == [e for e in expected if e[0] != "category"]


def test_a_refusal_names_the_values_as_written():
    (refusal,) = refusals_of_one(36.31, 120.4, None)
    assert refusal.message == "lon=36.31, lat=120.4 look swapped: lon is the longitude (73–136 in China)"
    assert "经纬度疑似颠倒（lon=36.31, lat=120.4）" in refusal.reason
    assert refusals(np.array([X]), np.array([Y]), np.array([np.nan])) == {}
