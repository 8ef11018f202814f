"""Reply templates (常用回复): the notes dispatchers and units often write for an action, kept by
the district and offered beside the action's note field; a chosen reply comes before what is typed."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.persistence.clock import now
from api.persistence.models import REPLY_LENGTH, ReplyTemplate
from zones.errors import InvalidInputError
from zones.workflow import Action

#: The actions a reply may be kept for: every step taken on a report's page (not the reporter's own).
REPLIED = tuple(a for a in Action if a is not Action.REOPEN)
#: Replies one action may keep, so the choice stays short.
MAX_PER_ACTION = 20


def by_action(session: Session) -> dict[str, list[ReplyTemplate]]:
    """Every reply, by its action's value, oldest first."""
    out: dict[str, list[ReplyTemplate]] = defaultdict(list)
    for reply in session.scalars(select(ReplyTemplate).order_by(ReplyTemplate.id)):
        out[reply.action].append(reply)
    return dict(out)


def add(session: Session, action: str, text: str, actor: str) -> ReplyTemplate:
    """Keep a reply for ``action``; an unknown action, an empty or long text, a repeat or one
    too many is refused by its field."""
    if action not in {a.value for a in REPLIED}:
        raise InvalidInputError(f"action: {action!r} is not an action a reply can be kept for", field="action", problems=["unknown action"])
    text = " ".join(text.split())
    if not text or len(text) > REPLY_LENGTH:
        raise InvalidInputError(f"text: a reply has 1 to {REPLY_LENGTH} characters", field="text", problems=["empty or too long"])
    kept = by_action(session).get(action, [])
    if any(reply.text == text for reply in kept):
        raise InvalidInputError("text: this reply is already kept for the action", field="text", problems=["already kept"])
    if len(kept) >= MAX_PER_ACTION:
        raise InvalidInputError(f"action: an action keeps at most {MAX_PER_ACTION} replies", field="action", problems=["too many"])
    reply = ReplyTemplate(action=action, text=text, created_by=actor, created_at=now())
    session.add(reply)
    return reply


def remove(session: Session, reply_id: int) -> bool:
    """Forget a reply; False when there is none by that id."""
    reply = session.get(ReplyTemplate, reply_id)
    if reply is None:
        return False
    session.delete(reply)
    return True


def compose(session: Session, action: str, reply_id: str | None, typed: str) -> str:
    """The note an action's form gives: the chosen reply of that action (if any), then what was typed."""
    reply = session.get(ReplyTemplate, int(reply_id)) if reply_id and reply_id.isdigit() else None
    chosen = reply.text if reply is not None and reply.action == action else ""
    return "；".join(part for part in (chosen, typed.strip()) if part)
