"""Notifications to units, and to reporters who left a phone number, through a transactional outbox.

`enqueue` writes a message in the same transaction as the dispatch, escalation or publication
that causes it, so a message exists exactly when its cause was committed. A unit's messages go to
its webhook; a reporter's (accepted, not accepted, merged, done) go to the one webhook configured
under `REPORTERS`, an SMS gateway or a WeChat template-message relay, each with the phone number,
a template name, its parameters and the text ready to send. `deliver_due` (run by
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
from api.persistence.models import OutboxMessage, Report, Support, Webhook
from zones.workflow import Action
from zones.worktime import TIMEZONE

NOTIFIED = {Action.DISPATCH, Action.REASSIGN, Action.ESCALATE, Action.PUBLISH, Action.APPROVE_EXTENSION, Action.REFUSE_EXTENSION, Action.HOLD,
            Action.RELEASE, Action.OVERRULE}
PENDING, SENT, FAILED, NO_WEBHOOK = "pending", "sent", "failed", "no_webhook"

#: The webhook, kept beside the units' under a name no unit id can take, that carries the
#: messages to reporters; without it reporters are told nothing (and no phone number is copied).
REPORTERS = "@reporters"
#: What a reporter is told, by the step that tells it: the template's name and its text (the
#: gateway may send its own approved template by that name, with the same parameters).
TOLD_TO_REPORTERS: dict[Action, tuple[str, str]] = {
    Action.DISPATCH: ("accepted", "您反映的问题（编号 {ref}）已受理，已交责任单位办理，时限至 {deadline}。进度：{url}"),
    Action.REJECT: ("not_accepted", "您反映的问题（编号 {ref}）未予受理：{note}。详情：{url}"),
    Action.MARK_DUPLICATE: ("merged", "您反映的问题（编号 {ref}）与他人已反映的同一问题合并办理，办结时将告知您。"),
    Action.PUBLISH: ("done", "您反映的问题（编号 {ref}）已办结，结果已公开：{url}。如仍未解决，可在 {days} 日内在该页反映“整改不满意”。"),
}


@dataclass(frozen=True)
class ReporterNews:
    """What a reporter's message needs besides the report: the service's address for the
    case's link, and how long a reporter may say a fix did not hold."""

    base_url: str
    reopen_days: float


def enqueue(session: Session, report: Report, action: Action, at: datetime, *, note: str = "", news: ReporterNews | None = None) -> None:
    """Write the messages for ``action`` on ``report``: the unit's, and its reporters' when
    ``news`` is given (no-op for steps nobody is told of)."""
    session.add_all(OutboxMessage(**row) for row in rows(session, report, action, at, note=note, news=news))


def rows(session: Session, report: Report, action: Action, at: datetime, *, note: str = "", news: ReporterNews | None = None,
         new: bool = False) -> list[dict[str, Any]]:
    """The outbox rows ``action`` on ``report`` writes; ``new``: the report is being stored now,
    so it has no +1s to ask for."""
    out = [message(report, action, at)] if action in NOTIFIED else []
    if news is None or action not in TOLD_TO_REPORTERS:
        return out
    phones = [report.reporter_contact] if report.reporter_contact else []
    if not new:
        phones += session.scalars(select(Support.reporter_contact).where(Support.report_id == report.id, Support.reporter_contact.is_not(None))
                                  .order_by(Support.id)).all()
    if phones and session.get(Webhook, REPORTERS) is not None:
        out += [reporter_message(report, action, at, phone, note, news) for phone in dict.fromkeys(phones)]
    return out


def reporter_message(report: Report, action: Action, at: datetime, phone: str, note: str, news: ReporterNews) -> dict[str, Any]:
    """The outbox row telling the reporter at ``phone`` what ``action`` did to their report."""
    template, text = TOLD_TO_REPORTERS[action]
    deadline = report.deadline_at.astimezone(TIMEZONE).strftime("%Y-%m-%d %H:%M") if report.deadline_at else "另行告知"
    params = {"ref": report.public_ref, "deadline": deadline, "note": note or "不属于受理范围", "days": f"{news.reopen_days:g}",
              "url": f"{news.base_url.rstrip('/')}/r/{report.public_ref}"}
    payload = {"event": f"reporter.{template}", "phone": phone, "template": template, "params": params, "text": text.format(**params),
               "report_ref": report.public_ref, "at": iso(at)}
    return {"event": f"reporter.{template}", "report_id": report.id, "unit_id": REPORTERS, "payload": payload, "created_at": at,
            "status": PENDING, "attempts": 0, "next_attempt_at": datetime.now(UTC), "sent_at": None, "last_error": ""}


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
    """Configure (or replace) a unit's webhook, or the reporters' (`REPORTERS`); only http and https URLs."""
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
        message.status, message.last_error = NO_WEBHOOK, f"{_recipient(message.unit_id)} has no webhook"
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


def _recipient(unit_id: str | None) -> str:
    return "the reporters' channel" if unit_id == REPORTERS else f"unit {unit_id}"


def erase_phones(session: Session, cutoff: datetime) -> int:
    """Remove the phone number from reporters' messages written before ``cutoff`` (the contact
    retention); how many."""
    erased = 0
    for row in session.scalars(select(OutboxMessage).where(OutboxMessage.unit_id == REPORTERS, OutboxMessage.created_at < cutoff)):
        if row.payload.get("phone"):
            row.payload = {**row.payload, "phone": None}
            erased += 1
    return erased


def _describe(err: BaseException) -> str:
    if isinstance(err, urllib.error.HTTPError):
        return f"HTTP {err.code} {err.reason}"
    if isinstance(err, urllib.error.URLError):
        return f"{err.reason}"
    return f"{type(err).__name__}: {err}"


def counts(session: Session) -> dict[str, int]:
    """Messages per status."""
    return {status: int(n) for status, n in session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))}
