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
