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
    and dataclasses through Flask's ``default``; an integer beyond 64 bits falls back to Flask's
    encoder; a NaN is ``null``, not the invalid ``NaN``."""
    import dataclasses
    import json
    from datetime import UTC, date, datetime

    from flask.json.provider import DefaultJSONProvider

    @dataclasses.dataclass
    class Place:
        name: str
        at: date

    body = {"zone": "中山路", "b": [1, 2.5, None, True], "a": {"z": 1, "y": "城阳区"}, "when": datetime(2026, 12, 8, 4, 0, tzinfo=UTC),
            "place": Place("台东", date(2026, 12, 8)), "tiny": 1e-07, "big": 1e16}
    flasks = DefaultJSONProvider(app)
    flasks.ensure_ascii = False
    with app.test_request_context():
        answer = app.json.response(body)
        assert answer.mimetype == "application/json"
        assert json.loads(answer.get_data()) == json.loads(flasks.response(body).get_data())
        assert answer.get_data(as_text=True).startswith('{"a":{"y":"城阳区","z":1},"b":[1,2.5,null,true],"big":')
        assert app.json.response({"n": 2**70}).get_data() == flasks.response({"n": 2**70}).get_data()
        assert app.json.response({"x": float("nan")}).get_json() == {"x": None}
