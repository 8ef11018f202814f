"""The dispatch service through the Flask test client, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from flask import g

from api.auth.roles import Caller, Role
from api.layers.live import current_layer
from api.reports import services
from api.web import parsing
from geodata.crs import wgs84_to_gcj02

# A point inside zone Z01439 (P06's block) of the demo, WGS84.
LON, LAT = 120.40, 36.31
pytestmark = pytest.mark.both_databases  # its SQL differs between the two: queries, locking, retention

REPORT = {"lon": LON, "lat": LAT, "category": "litter", "accuracy_m": 3, "description": "垃圾堆放", "reporter_contact": "13800000000"}


def submit(client, headers, body=None, **extra_headers):
    return client.post("/api/v1/reports", json=body or REPORT, headers={**headers, **extra_headers})


def test_submit_routes_and_dispatches_with_a_deadline(client, tokens):
    response = submit(client, tokens["public"])
    assert response.status_code == 201
    body = response.get_json()
    assert (body["state"], body["unit_id"], body["decision"]["status"]) == ("dispatched", "P06", "routed")
    assert body["deadline_at"] and body["decision"]["zone_version"]
    assert "reporter_contact" not in body  # only dispatchers see it
    full = client.get(f"/api/v1/reports/{body['id']}", headers=tokens["dispatcher"]).get_json()
    assert full["reporter_contact"] == "13800000000"
    assert [h["action"] for h in full["history"]] == ["submit", "dispatch"]
    assert full["history"][1]["actor"] == "router"


def test_gcj02_input_is_converted(client, tokens):
    lon, lat = wgs84_to_gcj02(LON, LAT)
    body = submit(client, tokens["public"], {**REPORT, "lon": float(lon), "lat": float(lat), "crs": "gcj02"}).get_json()
    assert body["unit_id"] == "P06"
    assert body["lon"] == pytest.approx(LON, abs=1e-7)
    assert body["input"]["crs"] == "gcj02"


def test_idempotent_retry_and_conflicting_reuse(client, tokens):
    first = submit(client, tokens["public"], **{"Idempotency-Key": "abc-1"})
    again = submit(client, tokens["public"], **{"Idempotency-Key": "abc-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    other = submit(client, tokens["public"], {**REPORT, "description": "另一件事"}, **{"Idempotency-Key": "abc-1"})
    assert other.status_code == 409
    by_ref = [submit(client, tokens["public"], {**REPORT, "client_ref": "app-77"}) for _ in range(2)]
    assert [r.status_code for r in by_ref] == [201, 200]
    listed = client.get("/api/v1/reports?limit=500", headers=tokens["dispatcher"]).get_json()["items"]
    assert len(listed) == 2


def test_full_loop_and_illegal_transitions(client, tokens):
    rid = submit(client, tokens["public"]).get_json()["id"]
    url = f"/api/v1/reports/{rid}/transitions"
    illegal = client.post(url, json={"action": "publish"}, headers=tokens["dispatcher"])
    assert illegal.status_code == 409
    assert "dispatched" in illegal.get_json()["detail"] and "rectify" in illegal.get_json()["detail"]
    assert client.post(url, json={"action": "rectify", "evidence": ["photo-1.jpg"]}, headers=tokens["unit_a"]).status_code == 200
    assert client.post(url, json={"action": "rework", "note": "未清理干净"}, headers=tokens["dispatcher"]).status_code == 200
    assert client.post(url, json={"action": "rectify", "note": "已清理"}, headers=tokens["unit_a"]).status_code == 200
    assert client.post(url, json={"action": "verify"}, headers=tokens["dispatcher"]).status_code == 200
    done = client.post(url, json={"action": "publish"}, headers=tokens["dispatcher"]).get_json()
    assert done["state"] == "published"
    assert [h["to_state"] for h in done["history"]] == ["submitted", "dispatched", "rectified", "rework", "rectified", "verified", "published"]
    board = client.get("/api/v1/public/reports").get_json()["items"]
    assert [b["id"] for b in board] == [rid]
    assert set(board[0]) == {"id", "category", "category_name", "area_id", "unit_id", "unit_name", "reported_on", "lon", "lat", "result"}
    assert "13800000000" not in str(board)
    figures = client.get("/api/v1/units/P06", headers=tokens["unit_a"]).get_json()["figures"]
    assert (figures["fixed"], figures["rework_rate"], figures["on_time_rate"]) == (1, 1.0, 1.0)  # sent back once, then fixed in time


def test_dispute_and_reassign(client, tokens):
    rid = submit(client, tokens["public"]).get_json()["id"]
    url = f"/api/v1/reports/{rid}/transitions"
    assert client.post(url, json={"action": "dispute"}, headers=tokens["unit_a"]).status_code == 422  # needs a reason
    assert client.post(url, json={"action": "dispute", "note": "不是我单位的责任区"}, headers=tokens["unit_a"]).get_json()["state"] == "disputed"
    assert client.post(url, json={"action": "reassign"}, headers=tokens["dispatcher"]).status_code == 422
    moved = client.post(url, json={"action": "reassign", "unit_id": "HW01", "note": "改派"}, headers=tokens["dispatcher"]).get_json()
    assert (moved["state"], moved["unit_id"]) == ("dispatched", "HW01")
    assert client.get(f"/api/v1/reports/{rid}", headers=tokens["unit_a"]).status_code == 404  # no longer theirs
    assert client.get(f"/api/v1/reports/{rid}", headers=tokens["unit_b"]).status_code == 200


def test_roles(client, tokens):
    rid = submit(client, tokens["public"]).get_json()["id"]
    assert client.get(f"/api/v1/reports/{rid}", headers=tokens["unit_b"]).status_code == 404  # another unit's report
    assert client.get(f"/api/v1/reports/{rid}", headers=tokens["public"]).status_code == 403
    assert client.get(f"/api/v1/reports/{rid}").status_code == 401
    assert client.get(f"/api/v1/reports/{rid}", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.post(f"/api/v1/reports/{rid}/transitions", json={"action": "verify"}, headers=tokens["unit_a"]).status_code == 403
    assert client.post(f"/api/v1/reports/{rid}/transitions", json={"action": "rectify"}, headers=tokens["planner"]).status_code == 403
    assert client.get("/api/v1/reports", headers=tokens["unit_b"]).get_json()["items"] == []
    assert client.get("/api/v1/units/P06", headers=tokens["unit_b"]).status_code == 404
    assert client.get("/api/v1/units", headers=tokens["unit_a"]).status_code == 403
    assert client.get("/api/v1/units", headers=tokens["planner"]).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**REPORT, "lon": "east"}, "lon"),  # not a number
        ({**REPORT, "lat": float("nan")}, "lat"),  # NaN
        ({**REPORT, "lat": 95}, "lat"),  # out of range
        ({**REPORT, "lon": 36.31, "lat": 120.40}, "lon"),  # swapped
        ({k: v for k, v in REPORT.items() if k != "category"}, "category"),  # missing
        ({**REPORT, "crs": "mars"}, "crs"),
        ({**REPORT, "accuracy_m": -1}, "accuracy_m"),
        ({**REPORT, "photos": "one.jpg"}, "photos"),
    ],
)
def test_malformed_input_names_the_field(client, tokens, body, field):
    response = client.post("/api/v1/reports", data=__import__("json").dumps(body, allow_nan=True), content_type="application/json", headers=tokens["public"])
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["errors"][0]["field"] == field


def test_unknown_category_bad_json_and_oversized_body(client, tokens):
    unknown = submit(client, tokens["public"], {**REPORT, "category": "graffiti"})
    assert unknown.status_code == 422 and "known categories" in unknown.get_json()["detail"]
    bad = client.post("/api/v1/reports", data="{not json", content_type="application/json", headers=tokens["public"])
    assert bad.status_code == 400
    huge = client.post("/api/v1/reports", data="x" * (2 * 1024 * 1024), content_type="application/json", headers=tokens["public"])
    assert huge.status_code == 413


def test_route_endpoint_stores_nothing(client, tokens):
    decision = client.get(f"/api/v1/route?lon={LON}&lat={LAT}&category=litter", headers=tokens["public"]).get_json()
    assert (decision["status"], decision["unit_id"]) == ("routed", "P06")
    assert client.get("/api/v1/reports", headers=tokens["dispatcher"]).get_json()["items"] == []


def test_list_filters_and_paging(client, tokens):
    for k in range(3):
        submit(client, tokens["public"], {**REPORT, "client_ref": f"c{k}"})
    submit(client, tokens["public"], {**REPORT, "category": "street_vending", "client_ref": "v"})
    page = client.get("/api/v1/reports?limit=2", headers=tokens["dispatcher"]).get_json()
    assert len(page["items"]) == 2 and "offset=2" in page["next"]
    vending = client.get("/api/v1/reports?category=street_vending", headers=tokens["dispatcher"]).get_json()["items"]
    assert len(vending) == 1
    boxed = client.get(f"/api/v1/reports?bbox={LON - 0.01},{LAT - 0.01},{LON + 0.01},{LAT + 0.01}", headers=tokens["dispatcher"]).get_json()["items"]
    assert len(boxed) == 4
    assert client.get("/api/v1/reports?status=sleeping", headers=tokens["dispatcher"]).status_code == 422
    assert client.get("/api/v1/reports?overdue=true", headers=tokens["dispatcher"]).get_json()["items"] == []


def test_method_not_allowed_keeps_allow_header(client):
    response = client.delete("/healthz")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


def test_overdue_reports_are_escalated(app, client, tokens):
    from datetime import timedelta

    from api.reports import services

    rid = submit(client, tokens["public"]).get_json()["id"]
    later = services.now() + timedelta(hours=25)  # litter: 24 hours
    with app.extensions["zonemap.db"].session() as session:
        assert services.escalate_overdue(session, later - timedelta(hours=2)) == 0
        assert services.escalate_overdue(session, later) == 1
    report = client.get(f"/api/v1/reports/{rid}", headers=tokens["dispatcher"]).get_json()
    assert report["state"] == "escalated" and report["history"][-1]["actor"] == "escalator"
    assert client.post(f"/api/v1/reports/{rid}/transitions", json={"action": "rectify"}, headers=tokens["unit_a"]).get_json()["state"] == "rectified"


def test_nothing_of_a_submission_is_visible_before_it_commits(app):
    """Another connection sees neither the report nor its history until the request commits."""
    database = app.extensions["zonemap.db"]
    item = services.Submission(parsing.location(REPORT), "litter", "", [], "citizen", None, None)
    with app.test_request_context(), database.sessions() as session:
        g.db = session
        report, created = services.submit(session, current_layer(), app.config["ROUTING"], item, idempotency_key="k-1", caller=Caller(Role.PUBLIC, None, 1))
        session.flush()
        assert created and report.state == "dispatched"
        with database.engine.connect() as other:
            seen = [other.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar() for table in ("reports", "transitions", "outbox")]
        assert seen == [0, 0, 0]
        session.rollback()
    with database.engine.connect() as other:
        assert other.exec_driver_sql("SELECT count(*) FROM reports").scalar() == 0
