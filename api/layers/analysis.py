"""Coverage analysis and coverage maps, computed once per layer version on a thread of their own.

A request never computes them and never holds a lock that routing or submission takes: it asks
for the result, waits for it at most ``COVERAGE_WAIT_SECONDS`` (while the worker's other threads
keep routing), and otherwise gets a `BusyError` (503 with ``Retry-After``) while the work goes
on. Results of the two newest layer versions are kept. No Flask.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

from zones.coverage import Coverage, analyse
from zones.errors import BusyError
from zones.layer import ZoneLayer

T = TypeVar("T")
KEPT_VERSIONS = 2


class Analyses:
    """Results per (layer version, what), each computed once on the analysis thread."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="zonemap-analysis")
        self._lock = threading.Lock()  # guards the table only, never held while computing
        self._jobs: OrderedDict[str, dict[Any, Future[Any]]] = OrderedDict()

    def submit(self, layer: ZoneLayer, what: Any, make: Callable[[], T]) -> Future[T]:
        """The job computing ``make()`` for ``layer`` (started now if it is new)."""
        with self._lock:
            jobs = self._jobs.setdefault(layer.version, {})
            self._jobs.move_to_end(layer.version)
            while len(self._jobs) > KEPT_VERSIONS:
                self._jobs.popitem(last=False)
            if what not in jobs:
                jobs[what] = self._pool.submit(make)
            return jobs[what]

    def coverage(self, layer: ZoneLayer) -> Future[Coverage]:
        """The coverage analysis of ``layer`` (started now if it is new)."""
        return self.submit(layer, "coverage", lambda: analyse(layer))

    def coverage_now(self, layer: ZoneLayer, wait_s: float) -> Coverage:
        """The coverage analysis of ``layer``, waited for at most ``wait_s``."""
        return wait(self.coverage(layer), wait_s)

    def rendered(self, layer: ZoneLayer, what: Any, make: Callable[[Coverage], T], wait_s: float) -> T:
        """``make(coverage)`` for ``layer`` (a map's HTML, say), computed once, waited for at most ``wait_s``."""
        job = self.coverage(layer)
        return wait(self.submit(layer, what, lambda: make(job.result())), wait_s)


def wait(job: Future[T], wait_s: float) -> T:
    """The job's result, waited for at most ``wait_s``; else a `BusyError` asking to retry."""
    try:
        return job.result(timeout=wait_s)
    except FutureTimeout:
        retry = max(5, int(wait_s))
        raise BusyError(f"this is still being computed; try again in {retry} s", retry_after_s=retry) from None
