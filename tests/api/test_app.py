"""The request plumbing of `api.create_app`: a request opens a database session only when it
reads or writes (`api.RequestGlobals`), and ends the one it opened."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

ROUTE = "/api/v1/route?lon=120.3916&lat=36.3072&category=litter"


def test_only_requests_that_use_the_database_open_a_session(app, client, tokens):
    database = app.extensions["zonemap.db"]
    factory = database.sessions
    opened: list[Session] = []

    def counted(**kwargs: Any) -> Session:
        session = factory(**kwargs)
        opened.append(session)
        return session

    database.sessions = counted
    assert client.get(ROUTE, headers=tokens["dispatcher"]).status_code == 200  # the token is looked up once, then cached
    assert len(opened) == 1
    app.config["LAYER_CHECK_SECONDS"] = 3600  # no look for a newer layer during the test
    opened.clear()

    assert client.get("/healthz").status_code == 200
    answer = client.get(ROUTE, headers=tokens["dispatcher"])
    assert answer.status_code == 200 and answer.get_json()["unit_id"]
    assert opened == []

    submitted = client.post("/api/v1/reports", json={"lon": 120.3916, "lat": 36.3072, "category": "litter"}, headers=tokens["dispatcher"])
    assert submitted.status_code == 201
    assert len(opened) == 1 and not opened[0].in_transaction()  # committed and closed
    stored = client.get(f"/api/v1/reports/{submitted.get_json()['id']}", headers=tokens["dispatcher"])
    assert stored.status_code == 200 and stored.get_json()["state"] == submitted.get_json()["state"]


def test_json_answers_encode_as_flasks_encoder_does(app):
    """orjson writes what Flask's encoder wrote: keys sorted, compact, Chinese as UTF-8, dates
    and dataclasses through Flask's ``default``; what orjson refuses (keys that are not text, an
    integer beyond 64 bits, numpy values) is Flask's encoder's; a NaN is ``null``, not ``NaN``."""
    import dataclasses
    import json
    import math
    from datetime import UTC, date, datetime

    import numpy as np
    import pytest
    from flask.json.provider import DefaultJSONProvider

    @dataclasses.dataclass
    class Place:
        name: str
        at: date

    def strict(text: bytes) -> Any:
        def refuse(constant: str) -> None:
            raise AssertionError(f"invalid JSON constant {constant}")

        return json.loads(text, parse_constant=refuse)

    body = {"zone": "中山路", "b": [1, 2.5, None, True], "a": {"z": 1, "y": "城阳区"}, "when": datetime(2026, 12, 8, 4, 0, tzinfo=UTC),
            "place": Place("台东", date(2026, 12, 8)), "tiny": 1e-07, "big": 1e16, "nan": float("nan")}
    flasks = DefaultJSONProvider(app)
    flasks.ensure_ascii = False
    with app.test_request_context():
        answer = app.json.response(body)
        assert answer.mimetype == "application/json"
        assert answer.get_data(as_text=True).startswith('{"a":{"y":"城阳区","z":1},"b":[1,2.5,null,true],"big":1e+16,"nan":null,"place":')
        ours, theirs = strict(answer.get_data()), json.loads(flasks.response(body).get_data())
        assert ours.pop("nan") is None and math.isnan(theirs.pop("nan"))  # Flask's encoder wrote NaN
        assert ours == theirs
        for refused in ({"n": 2**70}, {10: "a", 9: "b"}, {"x": np.float64(1.5)}):
            assert app.json.response(refused).get_data() == flasks.response(refused).get_data()
        with pytest.raises(TypeError):
            app.json.response({"x": np.int64(1)})
