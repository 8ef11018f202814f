"""The workflow's rules for extensions, holds and overruled disputes, alone."""

from __future__ import annotations

import pytest

from zones.errors import IllegalTransitionError
from zones.workflow import CLOSED_STATES, OPEN_STATES, REPORTER_ACTIONS, TRANSITIONS, UNIT_ACTIONS, Action, State, allowed_actions, apply


@pytest.mark.parametrize("state", sorted(OPEN_STATES))
def test_an_extension_is_asked_once_and_answered_once(state):
    assert "request_extension" in allowed_actions(state) and "approve_extension" not in allowed_actions(state)
    waiting = allowed_actions(state, extension_requested=True)
    assert {"approve_extension", "refuse_extension"} <= set(waiting) and "request_extension" not in waiting
    assert apply(state, Action.REQUEST_EXTENSION) == state  # asking leaves the state as it is
    assert apply(state, Action.APPROVE_EXTENSION, extension_requested=True) == state
    with pytest.raises(IllegalTransitionError, match="waiting for its answer"):
        apply(state, Action.REQUEST_EXTENSION, extension_requested=True)
    with pytest.raises(IllegalTransitionError, match=r"allowed: .*request_extension"):
        apply(state, Action.APPROVE_EXTENSION)


def test_a_hold_parks_the_report_until_released_and_a_dispute_is_overruled():
    for state in (*OPEN_STATES, State.DISPUTED):
        assert apply(state, Action.HOLD) == State.HELD
    assert apply(State.HELD, Action.RELEASE) == State.DISPATCHED
    assert State.HELD not in OPEN_STATES  # never overdue while held
    assert set(allowed_actions(State.HELD)) == {"release", "reassign", "reject", "mark_duplicate"}
    assert apply(State.DISPUTED, Action.OVERRULE) == State.DISPATCHED
    with pytest.raises(IllegalTransitionError):
        apply(State.DISPATCHED, Action.OVERRULE)


def test_every_action_is_reachable_and_closed_states_are_final():
    reachable = {action for moves in TRANSITIONS.values() for action in moves}
    assert reachable == set(Action)
    assert all(set(TRANSITIONS[state]) <= REPORTER_ACTIONS for state in CLOSED_STATES)  # a reporter may reopen a published fix
    assert apply(State.PUBLISHED, Action.REOPEN) == State.REOPENED and apply(State.REOPENED, Action.REWORK) == State.REWORK
    assert {Action.RECTIFY, Action.DISPUTE, Action.REQUEST_EXTENSION} == UNIT_ACTIONS
