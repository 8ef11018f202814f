"""Extensions (延期), holds (挂账) and overruled disputes through the API, on SQLite and PostgreSQL:
the deadline moves only when a dispatcher approves, the history keeps both, a held report is
never overdue nor escalated, and each has its dispatchers' queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.reports import console, services
from tests.api.reports.test_reports import submit

pytestmark = pytest.mark.both_databases


def _when(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat(timespec="seconds")


def _move(client, rid, headers, **body):
    return client.post(f"/api/v1/reports/{rid}/transitions", json=body, headers=headers)


def test_a_unit_asks_for_more_time_and_a_dispatcher_approves_or_refuses(app, client, tokens):
    report = submit(client, tokens["public"]).get_json()
    rid, first = report["id"], report["deadline_at"]
    assert _move(client, rid, tokens["unit_a"], action="request_extension", note="需要协调施工").status_code == 422  # no date
    too_soon = _move(client, rid, tokens["unit_a"], action="request_extension", note="需要协调施工", deadline_at=_when(-1))
    assert too_soon.status_code == 422 and too_soon.get_json()["errors"][0]["field"] == "deadline_at"
    naive = _move(client, rid, tokens["unit_a"], action="request_extension", note="x", deadline_at="2026-12-20T17:30:00")
    assert naive.status_code == 422 and "RFC 3339" in naive.get_json()["errors"][0]["message"]
    asked = _move(client, rid, tokens["unit_a"], action="request_extension", note="需要协调施工", deadline_at=_when(10))
    assert asked.status_code == 200, asked.get_json()
    body = asked.get_json()
    assert (body["state"], body["deadline_at"], body["extension_until"] is not None) == ("dispatched", first, True)
    assert {"approve_extension", "refuse_extension"} <= set(body["allowed_actions"]) and "request_extension" not in body["allowed_actions"]
    again = _move(client, rid, tokens["unit_a"], action="request_extension", note="再申请", deadline_at=_when(12))
    assert again.status_code == 409 and "waiting for its answer" in again.get_json()["detail"]
    assert _move(client, rid, tokens["unit_a"], action="approve_extension").status_code == 403  # a unit does not answer its own request
    with app.extensions["zonemap.db"].session() as session:
        assert console.queue_counts(session, services.now())["extension"] == 1
    approved = _move(client, rid, tokens["dispatcher"], action="approve_extension").get_json()
    assert approved["deadline_at"] == body["extension_until"] and approved["extension_until"] is None
    history = approved["history"]
    assert [h["action"] for h in history[-2:]] == ["request_extension", "approve_extension"]
    assert history[1]["due_at"] == first and history[-1]["due_at"] == approved["deadline_at"]  # both deadlines kept
    asked = _move(client, rid, tokens["unit_a"], action="request_extension", note="还要一周", deadline_at=_when(20)).get_json()
    assert _move(client, rid, tokens["dispatcher"], action="refuse_extension").status_code == 422  # a refusal says why
    refused = _move(client, rid, tokens["dispatcher"], action="refuse_extension", note="时限已够").get_json()
    assert (refused["deadline_at"], refused["extension_until"]) == (approved["deadline_at"], None)
    assert asked["extension_until"] is not None


def test_a_held_report_is_not_overdue_and_is_released_with_a_new_deadline(app, client, tokens):
    rid = submit(client, tokens["public"]).get_json()["id"]
    assert _move(client, rid, tokens["dispatcher"], action="hold", note="待规划").status_code == 422
    held = _move(client, rid, tokens["dispatcher"], action="hold", note="需纳入明年改造计划", review_at=_when(30)).get_json()
    assert held["state"] == "held" and held["review_at"] and not held["overdue"]
    assert _move(client, rid, tokens["unit_a"], action="rectify").status_code == 409
    later = services.now() + timedelta(days=5)  # past the litter limit
    with app.extensions["zonemap.db"].session() as session:
        assert services.escalate_overdue(session, later) == 0
        counts = console.queue_counts(session, later)
    assert (counts["held"], counts["overdue"]) == (1, 0)
    released = _move(client, rid, tokens["dispatcher"], action="release", note="已立项").get_json()
    assert (released["state"], released["review_at"], released["unit_id"]) == ("dispatched", None, "P06")
    assert released["deadline_at"] > held["deadline_at"]  # counted again from the release
    assert _move(client, rid, tokens["dispatcher"], action="release").status_code == 409


def test_a_dispute_is_overruled_back_to_the_same_unit(client, tokens):
    rid = submit(client, tokens["public"]).get_json()["id"]
    _move(client, rid, tokens["unit_a"], action="dispute", note="不是我单位的")
    assert _move(client, rid, tokens["dispatcher"], action="overrule").status_code == 422  # says why
    back = _move(client, rid, tokens["dispatcher"], action="overrule", note="该点位在贵单位责任区内").get_json()
    assert (back["state"], back["unit_id"], back["history"][-1]["action"]) == ("dispatched", "P06", "overrule")
    assert back["history"][-1]["due_at"] == back["deadline_at"]


def test_dates_only_with_their_actions(client, tokens):
    rid = submit(client, tokens["public"]).get_json()["id"]
    wrong = _move(client, rid, tokens["dispatcher"], action="escalate", review_at=_when(3))
    assert wrong.status_code == 422 and wrong.get_json()["errors"][0]["field"] == "review_at"
