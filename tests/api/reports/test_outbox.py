"""Notifications through the outbox: written with their cause, delivered with retries to a real
HTTP receiver, marked sent only after a 2xx, re-sent at most once after a crash."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from api.persistence.models import OutboxMessage, Transition
from api.reports import notifications, services
from tests.api.reports.test_reports import REPORT, submit
from tests.support.receiver import receiving
from tests.support.server import ZONEMAP

# Points in three owners' zones of the demo (P06 and two others), WGS84.
pytestmark = pytest.mark.both_databases  # its SQL differs between the two: queries, locking, retention

POINTS = [(120.40, 36.31), (120.3853, 36.3065), (120.4246, 36.2961)]


def _fill(app, client, tokens, count: int = 6) -> list[int]:
    ids = [submit(client, tokens["public"], {**REPORT, "lon": POINTS[i % 3][0], "lat": POINTS[i % 3][1], "description": f"第{i}件"}).get_json()["id"]
           for i in range(count)]
    url = f"/api/v1/reports/{ids[0]}/transitions"
    for action in ("rectify", "verify", "publish"):
        assert client.post(url, json={"action": action}, headers=tokens["dispatcher"]).status_code == 200
    with app.extensions["zonemap.db"].session() as session:
        assert services.escalate_overdue(session, at=services.now() + timedelta(days=30)) == count - 1
    return ids


def _messages(app) -> list[OutboxMessage]:
    with app.extensions["zonemap.db"].session() as session:
        return list(session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def test_every_notified_step_writes_one_message_in_its_transaction(app, client, tokens):
    _fill(app, client, tokens)
    with app.extensions["zonemap.db"].session() as session:
        steps = session.execute(sa.select(Transition.report_id, Transition.action).where(
            Transition.action.in_([a.value for a in notifications.NOTIFIED])).order_by(Transition.id)).all()
    assert [(m.report_id, m.event) for m in _messages(app)] == [tuple(s) for s in steps]
    assert {m.event for m in _messages(app)} == {"dispatch", "publish", "escalate"}
    # A refused move writes nothing.
    before = len(_messages(app))
    assert client.post(f"/api/v1/reports/{steps[0][0]}/transitions", json={"action": "rectify"}, headers=tokens["dispatcher"]).status_code == 409
    assert len(_messages(app)) == before


def test_delivery_retries_with_backoff_and_marks_sent_only_after_2xx(app, client, tokens):
    _fill(app, client, tokens)
    database = app.extensions["zonemap.db"]
    policy = notifications.Policy(backoff_s=0.05, max_attempts=5, timeout_s=5)
    with receiving(fail_first=2) as receiver:
        with database.session() as session:
            for unit in {m.unit_id for m in _messages(app)}:
                notifications.set_webhook(session, unit, receiver.url, "s3cret")
        first = True
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with database.session() as session:
                message = notifications.deliver_one(session, policy)
            if message is None:
                with database.session() as session:
                    if not notifications.counts(session).get("pending"):
                        break
                time.sleep(0.05)
                continue
            if first:  # the receiver answered 503: not sent, retried later
                assert (message.status, message.attempts, message.sent_at) == ("pending", 1, None)
                assert message.last_error.startswith("HTTP 503")
                first = False
    messages = _messages(app)
    assert {m.status for m in messages} == {"sent"}
    assert all(m.attempts == 3 for m in messages)
    assert set(receiver.accepted) == {f"zonemap-outbox-{m.id}" for m in messages}
    assert set(receiver.accepted.values()) == {1}
    body = receiver.bodies[f"zonemap-outbox-{messages[0].id}"]
    assert body["report_id"] == messages[0].report_id and "reporter_contact" not in body


def test_a_unit_without_webhook_and_a_dead_receiver(app, client, tokens):
    _fill(app, client, tokens, count=3)
    database = app.extensions["zonemap.db"]
    messages = _messages(app)
    with database.session() as session:
        notifications.set_webhook(session, messages[0].unit_id, "http://127.0.0.1:9/nobody-listens", None)
    policy = notifications.Policy(backoff_s=0.0, max_attempts=2, timeout_s=2)
    for _ in range(3 * len(messages)):
        with database.session() as session:
            notifications.deliver_one(session, policy)
    by_status = {m.id: (m.status, m.unit_id) for m in _messages(app)}
    assert {s for s, u in by_status.values() if u == messages[0].unit_id} == {"failed"}
    assert {s for s, u in by_status.values() if u != messages[0].unit_id} == {"no_webhook"}


@pytest.mark.slow  # a real delivery process, killed
def test_a_crash_between_send_and_mark_resends_that_message_once(app, client, tokens, database_url, demo_files, tmp_path):
    _fill(app, client, tokens, count=4)
    messages = _messages(app)
    held = f"zonemap-outbox-{messages[1].id}"
    env = {**os.environ, "DATABASE_URL": database_url, "ZONEMAP_LAYER_DIR": str(demo_files.root), "ZONEMAP_DATA_DIR": str(tmp_path)}
    command = [ZONEMAP, "deliver", "--poll-seconds", "0.1", "--backoff-seconds", "0.05"]
    database = app.extensions["zonemap.db"]
    with receiving(fail_first=1, hold_key=held) as receiver:
        with database.session() as session:
            for unit in {m.unit_id for m in messages}:
                notifications.set_webhook(session, unit, receiver.url, None)
        worker = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            assert receiver.held.wait(120), "the held message never arrived"
            os.killpg(worker.pid, signal.SIGKILL)  # sent, answered 200 later, never marked
            worker.wait(30)
        finally:
            receiver.release.set()
        status = {m.id: m.status for m in _messages(app)}
        assert status[messages[1].id] == "pending"
        worker = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            deadline = time.monotonic() + 120
            while {m.status for m in _messages(app)} != {"sent"} and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            worker.terminate()
            worker.wait(30)
    assert {m.status for m in _messages(app)} == {"sent"}
    assert receiver.accepted[held] == 2  # the crashed send, and its one re-send
    assert all(receiver.accepted[f"zonemap-outbox-{m.id}"] == 1 for m in messages if m.id != messages[1].id)
