"""Handing memory a worker freed back to the system."""

from __future__ import annotations

import ctypes


def release_free_memory() -> None:
    """Return freed heap pages to the system (glibc keeps them otherwise, in every thread's arena:
    building a 100k-zone layer's indexes leaves ~350 MB of freed scratch resident, and each
    thread that decoded a large photo keeps its ~100 MB)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc
        return
    libc.malloc_trim(0)
