"""The closed loop of a report: states, the transitions between them, and per-unit figures.

``submitted`` → ``dispatched`` (owner + deadline) → ``rectified`` (unit, with evidence) →
``verified`` (or ``rework`` back to the unit) → ``published``. Side exits: ``disputed`` (the
unit says "not my zone"; a dispatcher reassigns), ``escalated`` (overdue), ``rejected`` and
``duplicate`` (closed with a reason), ``held`` (挂账: parked with a reason and a review date, not
overdue; released back to the unit with a new deadline). A published report may be ``reopened``
by a reporter who says it is not fixed (整改不满意); a dispatcher sends it back for rework,
publishes it again or rejects the complaint. While the unit works on it, it may ask
for an extension (延期) of its deadline, which a dispatcher approves (the deadline moves) or
refuses; a dispute the dispatcher does not accept is overruled: back to the same unit. Illegal
transitions raise `IllegalTransitionError` naming the current state and the allowed actions.
"""

from __future__ import annotations

from zones.enums import StrEnumChecked
from zones.errors import IllegalTransitionError


class State(StrEnumChecked):
    """Where a report is in the loop."""

    SUBMITTED = "submitted"
    DISPATCHED = "dispatched"
    RECTIFIED = "rectified"
    REWORK = "rework"
    VERIFIED = "verified"
    PUBLISHED = "published"
    DISPUTED = "disputed"
    ESCALATED = "escalated"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    HELD = "held"
    REOPENED = "reopened"  # a reporter says the published fix did not hold: back to the dispatchers


class Action(StrEnumChecked):
    """What someone does to a report."""

    DISPATCH = "dispatch"
    RECTIFY = "rectify"
    VERIFY = "verify"
    REWORK = "rework"
    PUBLISH = "publish"
    DISPUTE = "dispute"
    REASSIGN = "reassign"
    ESCALATE = "escalate"
    REJECT = "reject"
    MARK_DUPLICATE = "mark_duplicate"
    CONFIRM = "confirm"  # a dispatcher keeps the unit the router chose (an ambiguous spot, a gap), deadline unchanged
    REQUEST_EXTENSION = "request_extension"  # the unit asks for a later deadline (延期申请), with a reason
    APPROVE_EXTENSION = "approve_extension"  # the deadline moves to the one asked for
    REFUSE_EXTENSION = "refuse_extension"
    HOLD = "hold"  # 挂账: parked with a reason and a review date
    RELEASE = "release"  # back to the unit, its deadline counted again from now
    OVERRULE = "overrule"  # the dispute is not accepted: back to the same unit, its deadline counted again from now
    REOPEN = "reopen"  # 整改不满意: a reporter, holding the reference, says it is not fixed (within days of publication)


S, A = State, Action


def _working(state: State, moves: dict[Action, State]) -> dict[Action, State]:
    """``moves`` of a state in which the unit works on the report, and what it adds: the unit may ask
    for more time (the answer leaves the state as it is), a dispatcher may park the report."""
    return {**moves, A.REQUEST_EXTENSION: state, A.APPROVE_EXTENSION: state, A.REFUSE_EXTENSION: state, A.HOLD: S.HELD}


TRANSITIONS: dict[State, dict[Action, State]] = {
    S.SUBMITTED: {A.DISPATCH: S.DISPATCHED, A.REASSIGN: S.DISPATCHED, A.REJECT: S.REJECTED, A.MARK_DUPLICATE: S.DUPLICATE},
    S.DISPATCHED: _working(S.DISPATCHED, {A.RECTIFY: S.RECTIFIED, A.DISPUTE: S.DISPUTED, A.ESCALATE: S.ESCALATED, A.REASSIGN: S.DISPATCHED,
                                          A.CONFIRM: S.DISPATCHED, A.REJECT: S.REJECTED, A.MARK_DUPLICATE: S.DUPLICATE}),
    S.REWORK: _working(S.REWORK, {A.RECTIFY: S.RECTIFIED, A.DISPUTE: S.DISPUTED, A.ESCALATE: S.ESCALATED, A.REASSIGN: S.DISPATCHED}),
    S.ESCALATED: _working(S.ESCALATED, {A.RECTIFY: S.RECTIFIED, A.DISPUTE: S.DISPUTED, A.REASSIGN: S.DISPATCHED}),
    S.DISPUTED: {A.OVERRULE: S.DISPATCHED, A.REASSIGN: S.DISPATCHED, A.DISPATCH: S.DISPATCHED, A.HOLD: S.HELD, A.REJECT: S.REJECTED,
                 A.MARK_DUPLICATE: S.DUPLICATE},
    S.HELD: {A.RELEASE: S.DISPATCHED, A.REASSIGN: S.DISPATCHED, A.REJECT: S.REJECTED, A.MARK_DUPLICATE: S.DUPLICATE},
    S.RECTIFIED: {A.VERIFY: S.VERIFIED, A.REWORK: S.REWORK},
    S.VERIFIED: {A.PUBLISH: S.PUBLISHED},
    S.PUBLISHED: {A.REOPEN: S.REOPENED},
    S.REOPENED: {A.REWORK: S.REWORK, A.PUBLISH: S.PUBLISHED, A.REJECT: S.REJECTED},
    S.REJECTED: {},
    S.DUPLICATE: {},
}
#: Actions a responsible unit may take on its own reports; every other action is a dispatcher's.
UNIT_ACTIONS = frozenset({A.RECTIFY, A.DISPUTE, A.REQUEST_EXTENSION})
#: States in which the owner still has to act: they count towards "overdue".
OPEN_STATES = frozenset({S.DISPATCHED, S.REWORK, S.ESCALATED})
CLOSED_STATES = frozenset({S.PUBLISHED, S.REJECTED, S.DUPLICATE})  # published: unless a reporter reopens it
#: Actions taken by a reporter holding the reference, not by staff.
REPORTER_ACTIONS = frozenset({A.REOPEN})
#: Actions that answer an extension request: allowed only while one waits, as asking is only while none does.
ANSWERS = frozenset({A.APPROVE_EXTENSION, A.REFUSE_EXTENSION})
#: Actions after which an extension request still waits for its answer (the report stays with its unit).
KEEPS_REQUEST = frozenset({A.REQUEST_EXTENSION, A.ESCALATE, A.CONFIRM})
#: Actions that count the category's time limit again from their moment.
SETS_DEADLINE = frozenset({A.DISPATCH, A.REASSIGN, A.RELEASE, A.OVERRULE})


def allowed_actions(state: State | str, *, extension_requested: bool = False) -> list[str]:
    """The actions the state allows, in declaration order: an extension is asked for while none
    waits for its answer, and answered while one does."""
    actions = TRANSITIONS[State(state)]
    return [a.value for a in actions if (a == A.REQUEST_EXTENSION and not extension_requested)
            or (a in ANSWERS and extension_requested) or a not in ANSWERS | {A.REQUEST_EXTENSION}]


def apply(state: State | str, action: Action | str, *, extension_requested: bool = False) -> State:
    """The state after ``action``; `IllegalTransitionError` names the state and the allowed actions."""
    current, act = State(state), Action(action)
    allowed = allowed_actions(current, extension_requested=extension_requested)
    if act.value not in allowed:
        waiting = " with an extension request waiting for its answer" if extension_requested else ""
        msg = f"cannot {act.value} a report that is {current.value}{waiting}; allowed: {', '.join(allowed) or 'none (the report is closed)'}"
        raise IllegalTransitionError(msg)
    return TRANSITIONS[current][act]
