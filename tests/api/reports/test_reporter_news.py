"""Reporters who left a phone number are told when their report is accepted, not accepted,
merged or done, through the outbox to the reporters' webhook (an SMS gateway or WeChat relay)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from api.persistence.models import OutboxMessage, Report
from api.reports import citizens, notifications, services
from tests.api.reports.test_reports import REPORT, submit
from tests.support.receiver import receiving

pytestmark = pytest.mark.both_databases  # the payload rewritten on retention, a JSON column


def _reporter_messages(app) -> list[dict]:
    with app.extensions["zonemap.db"].session() as session:
        rows = session.scalars(sa.select(OutboxMessage).where(OutboxMessage.unit_id == notifications.REPORTERS).order_by(OutboxMessage.id))
        return [row.payload for row in rows]


def _deliver_all(app) -> None:
    policy = notifications.Policy(backoff_s=0.0, max_attempts=3, timeout_s=5)
    for _ in range(50):
        with app.extensions["zonemap.db"].session() as session:
            if notifications.deliver_one(session, policy) is None:
                return


def test_reporters_are_told_each_step_that_concerns_them(app, client, tokens):
    with receiving() as receiver:
        with app.extensions["zonemap.db"].session() as session:
            notifications.set_webhook(session, notifications.REPORTERS, receiver.url, "s3cret")
        report = submit(client, tokens["public"]).get_json()
        with app.extensions["zonemap.db"].session() as session:
            citizens.join(session, session.get(Report, report["id"]), "13900000001")
            citizens.join(session, session.get(Report, report["id"]), None)  # a +1 without a number is told nothing
        url = f"/api/v1/reports/{report['id']}/transitions"
        for action in ("rectify", "verify", "publish"):
            assert client.post(url, json={"action": action}, headers=tokens["dispatcher"]).status_code == 200
        _deliver_all(app)
    told = _reporter_messages(app)
    assert [(m["template"], m["phone"]) for m in told] == [("accepted", "13800000000"), ("done", "13800000000"), ("done", "13900000001")]
    accepted, done = told[0], told[1]
    ref = report["public_ref"]
    assert accepted["params"]["ref"] == ref and ref in accepted["text"] and "已受理" in accepted["text"]
    assert accepted["params"]["deadline"] != "另行告知"  # litter has a deadline, said in Beijing time
    assert done["params"]["url"].endswith(f"/r/{ref}") and "整改不满意" in done["text"] and "7 日内" in done["text"]
    # Delivered once each; the unit (without a webhook here) is not the reporters' channel.
    assert len(receiver.accepted) == len(told) and set(receiver.accepted.values()) == {1}
    assert [body["phone"] for body in receiver.bodies.values()] == [m["phone"] for m in told]
    with app.extensions["zonemap.db"].session() as session:
        status = {(m.unit_id == notifications.REPORTERS, m.status) for m in session.scalars(sa.select(OutboxMessage))}
    assert status == {(True, "sent"), (False, "no_webhook")}


def test_a_rejected_report_and_a_merged_one_say_why(app, client, tokens):
    with app.extensions["zonemap.db"].session() as session:
        notifications.set_webhook(session, notifications.REPORTERS, "http://127.0.0.1:9/", None)
    first = submit(client, tokens["public"]).get_json()
    second = submit(client, tokens["public"], {**REPORT, "reporter_contact": "13700000002"}).get_json()
    third = submit(client, tokens["public"], {**REPORT, "reporter_contact": "13700000003"}).get_json()
    headers = tokens["dispatcher"]
    assert client.post(f"/api/v1/reports/{second['id']}/transitions", json={"action": "reject", "note": "不在本区范围"}, headers=headers).status_code == 200
    assert client.post(f"/api/v1/reports/{first['id']}/merge", json={"report_ids": [third["id"]]}, headers=headers).status_code == 200
    told = {(m["phone"], m["template"]): m for m in _reporter_messages(app)}
    assert told[("13700000002", "not_accepted")]["text"].count("不在本区范围") == 1
    assert "合并办理" in told[("13700000003", "merged")]["text"]


def test_without_the_reporters_webhook_no_number_is_copied(app, client, tokens):
    report = submit(client, tokens["public"]).get_json()
    assert client.post(f"/api/v1/reports/{report['id']}/transitions", json={"action": "reject", "note": "重复"},
                       headers=tokens["dispatcher"]).status_code == 200
    assert _reporter_messages(app) == []


def test_retention_erases_the_numbers_in_messages(app, client, tokens):
    with app.extensions["zonemap.db"].session() as session:
        notifications.set_webhook(session, notifications.REPORTERS, "http://127.0.0.1:9/", None)
    submit(client, tokens["public"])
    assert [m["phone"] for m in _reporter_messages(app)] == ["13800000000"]
    with app.extensions["zonemap.db"].session() as session:
        services.erase_contacts(session, 0, at=services.now() + __import__("datetime").timedelta(seconds=1))
    assert [m["phone"] for m in _reporter_messages(app)] == [None]
