"""A serving process's long-lived objects kept out of the cycle collector's passes: what is
garbage is collected first, what stays alive is frozen, and a cycle frozen once is collected by
the next call, after a new layer (nothing leaks for good)."""

from __future__ import annotations

import gc
import weakref

import pytest

from api.web.memory import freeze_long_lived, freezes_long_lived


class Node:
    """An object in a reference cycle of its own."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def thawed():
    """The test process as it was: nothing frozen before or after."""
    gc.unfreeze()
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("thawed")
def test_garbage_goes_first_and_what_is_alive_stays_out_of_later_passes_until_the_next_call():
    assert not freezes_long_lived()
    garbage = Node()
    gone = weakref.ref(garbage)
    del garbage
    kept = Node()
    held = weakref.ref(kept)
    freeze_long_lived()
    assert freezes_long_lived()
    assert gone() is None  # collected before the freeze, not kept for good
    del kept
    gc.collect()
    assert held() is not None  # frozen: a full pass leaves the released cycle
    freeze_long_lived()  # a new layer: what the last call froze is thawed and collected
    assert held() is None
