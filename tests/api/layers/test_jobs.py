"""The queue of uploads on a real database: of many processes claiming at once each draft goes to
exactly one; a draft whose worker process died is queued again, then refused; the host's slots
bound how many drafts are processed at once, and a worker process that dies refuses its draft."""

from __future__ import annotations

import io
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from api.layers import jobs
from api.layers.job_runner import HostSlots, JobRunner, JobSettings
from api.persistence import Database, migrate
from api.persistence.models import LayerDraft, LayerUploadChunk
from api.routing.batch import LayerFiles
from zones.config import RoutingConfig

pytestmark = pytest.mark.both_databases  # claims are one atomic UPDATE on either


@pytest.fixture
def database(database_url):
    database = Database(database_url)
    migrate(database.engine)
    yield database
    database.engine.dispose()


def _queued(database: Database, count: int, data: bytes = b"not a layer", name: str = "zones.geojson") -> list[int]:
    with database.session() as session:
        return [jobs.enqueue(session, {"zones": (name, io.BytesIO(data))}, "v1", "planner li").id for _ in range(count)]


def test_each_queued_draft_is_claimed_by_exactly_one_of_many_workers(database):
    queued = _queued(database, 5)
    barrier = threading.Barrier(8)

    def worker(index: int) -> list[int]:
        taken = []
        barrier.wait()
        while True:
            with database.session() as session:
                draft_id = jobs.claim(session, f"host:{index}")
            if draft_id is None:
                return taken
            taken.append(draft_id)

    with ThreadPoolExecutor(8) as pool:
        claims = [d for found in pool.map(worker, range(8)) for d in found]
    assert sorted(claims) == queued
    with database.session() as session:
        assert set(session.scalars(select(LayerDraft.state))) == {"processing"}
        assert set(session.scalars(select(LayerDraft.attempts))) == {1}


def test_an_upload_is_stored_in_chunks_and_read_back_whole(database, monkeypatch):
    monkeypatch.setattr(jobs, "CHUNK_BYTES", 1000)
    data = os.urandom(4321)
    (draft_id,) = _queued(database, 1, data)
    with database.session() as session:
        parts = session.scalars(select(LayerUploadChunk.part).where(LayerUploadChunk.draft_id == draft_id).order_by(LayerUploadChunk.part))
        assert parts.all() == [0, 1, 2, 3, 4]
        with jobs._files(session, draft_id) as files:
            name, path = files["zones"]
            assert (name, path.read_bytes()) == ("zones.geojson", data)


def test_a_draft_whose_worker_died_is_queued_again_then_refused(database):
    (draft_id,) = _queued(database, 1)
    host = socket.gethostname()
    for attempt in range(1, jobs.MAX_ATTEMPTS + 1):
        with database.session() as session:
            assert jobs.claim(session, f"{host}:4000000") == draft_id  # no such process
        with database.session() as session:
            assert jobs.recover(session, host, lambda pid: pid != 4000000) == [draft_id]
        with database.session() as session:
            row = session.get(LayerDraft, draft_id)
            assert row.attempts == attempt
            assert row.state == ("queued" if attempt < jobs.MAX_ATTEMPTS else "refused")
    assert row.problems[0]["code"] == "processing_failed" and "3 times" in row.problems[0]["params"]["detail"]
    with database.session() as session:
        assert session.scalars(select(LayerUploadChunk).where(LayerUploadChunk.draft_id == draft_id)).all() == []  # the files go with it


def test_a_live_worker_keeps_its_claim_and_a_silent_one_loses_it(database):
    (draft_id,) = _queued(database, 1)
    with database.session() as session:
        jobs.claim(session, f"{socket.gethostname()}:{os.getpid()}")
    with database.session() as session:
        assert jobs.recover(session, socket.gethostname(), lambda pid: True) == []
        session.get(LayerDraft, draft_id).updated_at -= jobs.STALE_AFTER * 2
    with database.session() as session:
        assert jobs.recover(session, "another-host", lambda pid: True) == [draft_id]


def _settings(database_url: str, demo_files) -> JobSettings:
    return JobSettings(database_url, LayerFiles.of_demo(demo_files), 50_000, RoutingConfig())


def _wait_state(database: Database, draft_id: int, states: tuple[str, ...], seconds: float = 60) -> LayerDraft:
    deadline = time.monotonic() + seconds
    while True:
        with database.session() as session:
            row = session.get(LayerDraft, draft_id)
            if row.state in states:
                return row
        assert time.monotonic() < deadline, row.state
        time.sleep(0.1)


def test_the_hosts_slots_bound_the_work_and_a_free_slot_starts_the_next_draft(database, database_url, demo_files):
    slots = HostSlots(database_url, 1)
    held = slots.take()  # another process of this host is busy with a draft
    assert held is not None and slots.take() is None
    (draft_id,) = _queued(database, 1, b"{not json")
    runner = JobRunner(database, _settings(database_url, demo_files), 1)
    try:
        runner.wake()
        time.sleep(1)
        with database.session() as session:
            assert session.get(LayerDraft, draft_id).state == "queued"  # no slot free on this host
        held.close()
        runner.wake()
        row = _wait_state(database, draft_id, ("refused",))
        assert row.problems[0]["params"]["name"] == "zones.geojson", row.problems  # read in the worker process, refused with its reason
    finally:
        runner.close()


def test_a_worker_process_that_dies_refuses_its_draft(database, database_url, demo_files, monkeypatch):
    (draft_id,) = _queued(database, 1)
    monkeypatch.setattr("api.layers.job_runner.run_child", os.abort)  # the child fails at once (abort takes no arguments)
    runner = JobRunner(database, _settings(database_url, demo_files), 1)
    try:
        runner.wake()
        row = _wait_state(database, draft_id, ("refused",))
        assert row.problems[0]["code"] == "processing_failed" and "ended with" in row.problems[0]["params"]["detail"], row.problems
    finally:
        runner.close()
