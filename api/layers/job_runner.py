"""Worker processes for planners' uploads (`api.layers.jobs`), the same under ``zonemap serve``
and gunicorn: every serving process runs one small thread that claims queued drafts while one
of the host's slots is free and hands each to a child process. A request never parses an upload,
and the parsing's memory is the child's, returned to the system when it ends.

The slots are file locks shared by every process of the host (``LAYER_JOBS`` of them); the queue
is the database, shared by every host. Children are forked from a server process that imported
the readers once (``forkserver``), so a job starts in milliseconds, never from a serving process
with its threads. No Flask."""

from __future__ import annotations

import fcntl
import functools
import hashlib
import logging
import multiprocessing
import os
import socket
import tempfile
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pandas as pd

from api.layers import drafts, jobs
from api.layers.drafts import Comparison
from api.layers.store import current_stored, layer_of_version, stored_layer
from api.persistence import Database
from api.persistence.models import LayerDraft
from api.routing.batch import LayerFiles
from zones.config import RoutingConfig

#: How often a serving process looks for queued drafts (an upload to the same process wakes it at once).
POLL_SECONDS = 2.0
MAX_POLL_SECONDS = 60.0  # while the database cannot be reached
#: How often work waiting for one of the host's slots tries again.
SLOT_POLL_SECONDS = 0.2
#: Comparisons a serving process keeps (by draft, current version and open reports).
KEPT_COMPARISONS = 4

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobSettings:
    """What a child process needs: the database, the layer files a service starts on, the limit of vertices."""

    database_url: str
    layer_files: LayerFiles
    max_vertices: int
    routing: RoutingConfig


class HostSlots:
    """``count`` slots shared by every process of this host that serves the same database: an
    exclusive lock on one of ``count`` files, held while a child processes a draft."""

    def __init__(self, database_url: str, count: int) -> None:
        self.count = count
        self.folder = Path(tempfile.gettempdir()) / f"zonemap-jobs-{hashlib.sha256(database_url.encode()).hexdigest()[:12]}"
        self.folder.mkdir(mode=0o700, exist_ok=True)

    def take(self) -> IO[str] | None:
        """A free slot, held until it is closed; None when every slot is busy."""
        for index in range(self.count):
            handle = (self.folder / f"slot-{index}.lock").open("a")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            return handle
        return None

    def wait(self) -> IO[str]:
        """A free slot, waited for as long as it takes."""
        while (slot := self.take()) is None:
            time.sleep(SLOT_POLL_SECONDS)
        return slot


@functools.cache
def _children() -> multiprocessing.context.ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])  # the readers, imported once by the fork server
    return context


def run_child(settings: JobSettings, draft_id: int, worker: str) -> None:
    """The child's work: process one claimed draft, then exit (its memory goes with it)."""
    logging.basicConfig(level=logging.WARNING, format=f"[draft {draft_id}] %(levelname)s %(message)s")  # the readers' own notes stay quiet
    log.setLevel(logging.INFO)
    database = Database(settings.database_url)
    try:

        def current():  # noqa: ANN202 (the current layer, loaded only when the upload leaves a layer out)
            with database.sessions() as session:
                return current_stored(session, settings.layer_files, settings.max_vertices)

        state = jobs.process(database.sessions, draft_id, functools.cache(current), settings.max_vertices, worker, settings.routing)
        log.info("draft %d: %s", draft_id, state)
    except Exception as err:
        log.exception("draft %d could not be processed", draft_id)
        with database.session() as session:
            jobs.failed(session, draft_id, worker, type(err).__name__)
    finally:
        database.engine.dispose()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class JobRunner:
    """The thread of a serving process that starts a child for each queued draft while a host slot is free."""

    def __init__(self, database: Database, settings: JobSettings, slots: int) -> None:
        self._database = database
        self._settings = settings
        self._slots = HostSlots(settings.database_url, slots)
        self._worker = jobs.worker_name(os.getpid())
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="zonemap-layer-jobs", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look for queued drafts now (an upload was just committed)."""
        self._wake.set()

    def close(self) -> None:
        """Stop looking for drafts (children already started finish their draft)."""
        self._stopped.set()
        self._wake.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        failures = 0
        while not self._stopped.is_set():
            self._wake.wait(min(MAX_POLL_SECONDS, POLL_SECONDS * 2**failures))  # longer while the database cannot be reached
            self._wake.clear()
            if self._stopped.is_set():
                return
            try:
                self._start_ready()
                failures = 0
            except Exception:
                failures += 1
                if failures == 1:  # said once per outage, not every poll
                    log.exception("looking for queued drafts failed; trying again, less and less often")

    def _start_ready(self) -> None:
        with self._database.session() as session:
            for draft_id in jobs.recover(session, socket.gethostname(), _alive):
                log.warning("draft %d: its worker process ended without an answer; queued again or refused", draft_id)
            if not jobs.is_queued(session):
                return
        while (slot := self._slots.take()) is not None:
            try:
                with self._database.session() as session:
                    draft_id = jobs.claim(session, self._worker)
            except BaseException:
                slot.close()
                raise
            if draft_id is None:
                slot.close()
                return
            threading.Thread(target=self._run, args=(draft_id, slot), name=f"zonemap-draft-{draft_id}", daemon=True).start()

    def _run(self, draft_id: int, slot: IO[str]) -> None:
        try:
            child = _children().Process(target=run_child, args=(self._settings, draft_id, self._worker), name=f"zonemap-draft-{draft_id}", daemon=True)
            child.start()
            child.join()
            failure = None if child.exitcode == 0 else f"its worker process ended with {child.exitcode}"
        except Exception as err:
            log.exception("draft %d: the worker process could not run", draft_id)
            failure = type(err).__name__
        finally:
            slot.close()
        try:
            if failure is not None:
                log.error("draft %d: %s", draft_id, failure)
                with self._database.session() as session:
                    jobs.failed(session, draft_id, self._worker, failure)
        except Exception:  # the database is gone: the draft is found again by `jobs.recover`
            log.exception("draft %d: its failure could not be recorded", draft_id)
        self.wake()  # a slot is free: the next queued draft


def compare_child(settings: JobSettings, draft_id: int, current_version: str, reports: pd.DataFrame, routing: RoutingConfig) -> Comparison:
    """A child's work: the stored draft beside the version ``current_version`` (both loaded here, as
    every worker loads them), with ``reports`` (the open ones) re-routed."""
    database = Database(settings.database_url)
    try:
        with database.sessions() as session:
            row = session.get(LayerDraft, draft_id)
            if row is None:
                msg = f"no draft {draft_id}"
                raise LookupError(msg)
            layer = stored_layer(row, settings.max_vertices)
            current = layer_of_version(session, current_version, settings.layer_files, settings.max_vertices)
        return drafts.comparison(current, layer, reports, routing)
    finally:
        database.engine.dispose()


class Comparisons:
    """Drafts compared with the current version in child processes, one of the host's slots each,
    on threads of this process that only wait for them; each result computed once per (draft,
    current version, open reports) and the newest few kept."""

    def __init__(self, settings: JobSettings, slots: int) -> None:
        self._settings = settings
        self._slots = HostSlots(settings.database_url, slots) if slots > 0 else None
        self._pool = ThreadPoolExecutor(2, thread_name_prefix="zonemap-compare")
        self._lock = threading.Lock()  # guards the table only
        self._kept: OrderedDict[tuple[str, str, str], Future[Comparison]] = OrderedDict()

    def compare(self, draft_id: int, key: tuple[str, str, str], reports: pd.DataFrame, routing: RoutingConfig) -> Future[Comparison]:
        """The comparison of the draft whose ``key`` is (its version, the current version, the open
        reports' digest), started now if it is new (or failed before)."""
        with self._lock:
            job = self._kept.get(key)
            if job is None or (job.done() and job.exception() is not None):
                job = self._pool.submit(self._run, draft_id, key[1], reports, routing)
                self._kept[key] = job
            self._kept.move_to_end(key)
            while len(self._kept) > KEPT_COMPARISONS:
                self._kept.popitem(last=False)
            return job

    def _run(self, draft_id: int, current_version: str, reports: pd.DataFrame, routing: RoutingConfig) -> Comparison:
        slot = self._slots.wait() if self._slots is not None else None
        try:
            with ProcessPoolExecutor(1, mp_context=_children(), max_tasks_per_child=1) as child:
                return child.submit(compare_child, self._settings, draft_id, current_version, reports, routing).result()
        finally:
            if slot is not None:
                slot.close()
