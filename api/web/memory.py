"""A serving process's memory: what it freed handed back to the system, and its long-lived
objects kept out of the cycle collector's passes."""

from __future__ import annotations

import ctypes
import gc


def release_free_memory() -> None:
    """Return freed heap pages to the system (glibc keeps them otherwise, in every thread's arena:
    building a 100k-zone layer's indexes leaves ~350 MB of freed scratch resident, and each
    thread that decoded a large photo keeps its ~100 MB)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc
        return
    libc.malloc_trim(0)


def freeze_long_lived() -> None:
    """Collect the garbage there is now, then leave every object alive out of the cycle
    collector's later passes (`gc.freeze`): a serving process's layer, indexes and app are about
    half a million tracked objects, and each full pass over them held the process for 170-230 ms,
    about once a minute per worker under a steady load of reports.

    Objects released later are freed by their reference count as before (a layer holds no
    cycle); a cycle frozen here is collected by the next call, which first thaws what this one
    froze: call it again once the long-lived objects change (a new layer).
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def freezes_long_lived() -> bool:
    """Whether this process keeps its long-lived objects out of collections (`freeze_long_lived`
    was called: a serving process, not a test's or a command's)."""
    return gc.get_freeze_count() > 0
