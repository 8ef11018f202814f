"""Notifications to units through a transactional outbox.

`enqueue` writes a message in the same transaction as the dispatch, escalation or publication
that causes it, so a message exists exactly when its cause was committed. `deliver_due` (run by
``zonemap deliver``) posts each pending message to its unit's webhook: a message is marked sent
only after a 2xx answer; failures are retried with exponential backoff; a crash between sending
and marking sends that one message again (receivers deduplicate on the ``Idempotency-Key``
header, ``zonemap-outbox-<id>``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.persistence.clock import iso
from api.persistence.models import OutboxMessage, Report, Webhook
from zones.workflow import Action

NOTIFIED = {Action.DISPATCH, Action.REASSIGN, Action.ESCALATE, Action.PUBLISH, Action.APPROVE_EXTENSION, Action.REFUSE_EXTENSION, Action.HOLD,
            Action.RELEASE, Action.OVERRULE}
PENDING, SENT, FAILED, NO_WEBHOOK = "pending", "sent", "failed", "no_webhook"


def enqueue(session: Session, report: Report, action: Action, at: datetime) -> None:
    """Write the message for ``action`` on ``report`` (no-op for actions units are not told of)."""
    if action in NOTIFIED:
        session.add(OutboxMessage(**message(report, action, at)))


def message(report: Report, action: Action, at: datetime) -> dict[str, Any]:
    """The outbox row telling ``report``'s unit of ``action``."""
    payload = {
        "event": action.value, "report_id": report.id, "unit_id": report.unit_id, "state": report.state,
        "category": report.category, "description": report.description, "lon": report.lon, "lat": report.lat,
        "decision": report.decision.as_json(), "deadline_at": iso(report.deadline_at), "review_at": iso(report.review_at), "at": iso(at),
    }
    return {"event": action.value, "report_id": report.id, "unit_id": report.unit_id, "payload": payload, "created_at": at,
            "status": PENDING, "attempts": 0, "next_attempt_at": datetime.now(UTC), "sent_at": None, "last_error": ""}


def set_webhook(session: Session, unit_id: str, url: str, secret: str | None) -> None:
    """Configure (or replace) a unit's webhook; only http and https URLs."""
    if not url.startswith(("http://", "https://")):
        msg = f"webhook URL must start with http:// or https://, got {url!r}"
        raise ValueError(msg)
    row = session.get(Webhook, unit_id)
    if row is None:
        session.add(Webhook(unit_id=unit_id, url=url, secret=secret, updated_at=datetime.now(UTC)))
    else:
        row.url, row.secret, row.updated_at = url, secret, datetime.now(UTC)


@dataclass(frozen=True)
class Policy:
    """How delivery retries: backoff doubles from ``backoff_s`` up to ``max_backoff_s``; after
    ``max_attempts`` a message is marked failed (kept, and listed by ``zonemap deliver``)."""

    backoff_s: float = 5.0
    max_backoff_s: float = 3600.0
    max_attempts: int = 20
    timeout_s: float = 10.0


def _post(hook: Webhook, message: OutboxMessage, timeout: float) -> None:
    """POST the message; raises on anything but a 2xx answer."""
    body = json.dumps({"id": message.id, **message.payload}, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": f"zonemap-outbox-{message.id}", "X-Zonemap-Event": message.event}
    if hook.secret:
        headers["X-Zonemap-Signature"] = "sha256=" + hmac.new(hook.secret.encode(), body, hashlib.sha256).hexdigest()
    with urllib.request.urlopen(urllib.request.Request(hook.url, data=body, headers=headers, method="POST"), timeout=timeout) as response:
        if not 200 <= response.status < 300:  # 1xx/3xx that urllib did not follow
            msg = f"HTTP {response.status}"
            raise urllib.error.URLError(msg)


def _claim(session: Session, at: datetime) -> OutboxMessage | None:
    """The oldest due message, locked (PostgreSQL: skipped by other deliverers while locked)."""
    query = select(OutboxMessage).where(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= at).order_by(OutboxMessage.id).limit(1)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return session.scalars(query).first()


def deliver_one(session: Session, policy: Policy, at: datetime | None = None) -> OutboxMessage | None:
    """Send the oldest due message and record the outcome in the same transaction; None when
    nothing is due. The caller commits."""
    at = at or datetime.now(UTC)
    message = _claim(session, at)
    if message is None:
        return None
    hook = session.get(Webhook, message.unit_id) if message.unit_id else None
    if hook is None:
        message.status, message.last_error = NO_WEBHOOK, f"unit {message.unit_id} has no webhook"
        return message
    message.attempts += 1
    try:
        _post(hook, message, policy.timeout_s)
    except (OSError, ValueError) as err:  # URLError, HTTPError, timeouts, refused connections, bad URLs
        message.last_error = _describe(err)
        if message.attempts >= policy.max_attempts:
            message.status = FAILED
        else:
            delay = min(policy.backoff_s * 2 ** (message.attempts - 1), policy.max_backoff_s)
            message.next_attempt_at = at + timedelta(seconds=delay)
        return message
    message.status, message.sent_at, message.last_error = SENT, datetime.now(UTC), ""
    return message


def _describe(err: BaseException) -> str:
    if isinstance(err, urllib.error.HTTPError):
        return f"HTTP {err.code} {err.reason}"
    if isinstance(err, urllib.error.URLError):
        return f"{err.reason}"
    return f"{type(err).__name__}: {err}"


def counts(session: Session) -> dict[str, int]:
    """Messages per status."""
    return {status: int(n) for status, n in session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))}
