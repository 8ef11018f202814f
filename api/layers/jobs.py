"""A planner's upload processed off the request threads: the request stores the files in chunks
and creates the draft at once, queued (处理中); a worker process claims it, reads and validates
the files and stores the draft's layer, or refuses the upload with every finding. The queue is
the drafts table itself, shared by every worker and host through the database. No Flask."""

from __future__ import annotations

import itertools
import socket
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from api.layers.drafts import DraftState, publish
from api.layers.store import stored_gpkg, stored_layer
from api.layers.upload_reader import UPLOAD_FIELDS, problems, read_upload
from api.persistence.clock import now
from api.persistence.models import LayerDraft, LayerUploadChunk
from zones.config import RoutingConfig
from zones.layer import ZoneLayer
from zones.schema import ValidationReport

#: Bytes of an uploaded file stored per row: a request never holds a whole upload in memory.
CHUNK_BYTES = 4 << 20
#: Claims of one draft before it is refused: a worker that died while processing it is retried.
MAX_ATTEMPTS = 3
#: A draft processing for this long without a sign of life from its worker is claimed again.
STALE_AFTER = timedelta(minutes=30)


class DraftStep(StrEnum):
    """Where a draft's processing is, shown while it is 处理中."""

    QUEUED = "queued"  # waiting for a free worker process
    READING = "reading"  # unpacking, reading and validating the files
    STORING = "storing"  # writing the layer as it is stored
    CHECKING = "checking"  # reading it back as every worker will, which gives its version


def worker_name(pid: int) -> str:
    """The name a process claims drafts under: its host and process id."""
    return f"{socket.gethostname()}:{pid}"


def enqueue(session: Session, files: Mapping[str, tuple[str, BinaryIO]], based_on: str, actor: str, *, publish_note: str | None = None) -> LayerDraft:
    """A new draft of the current version ``based_on``, queued, holding the uploaded files (by field
    of `UPLOAD_FIELDS`: the client's file name and a stream), stored a chunk at a time; with a
    ``publish_note``, it is published as soon as it is processed."""
    stamp, sources = now(), ", ".join(f"{field}: {name}" for field, (name, _) in files.items())
    draft = LayerDraft(version="", based_on=based_on, gpkg=b"", categories_csv="", units_csv=None, sources=sources,
                       warnings=[], accepted_gaps=[], state=DraftState.QUEUED, step=DraftStep.QUEUED, attempts=0, created_by=actor,
                       created_at=stamp, updated_at=stamp, publish_note=publish_note)
    session.add(draft)
    session.flush()
    for field, (name, stream) in files.items():
        for part in itertools.count():
            data = stream.read(CHUNK_BYTES)
            if part and not data:
                break
            chunk = LayerUploadChunk(draft_id=draft.id, field=field, name=name[:255], part=part, data=data)  # an empty file: one empty chunk
            session.add(chunk)
            session.flush()
            session.expunge(chunk)  # the chunk leaves memory before the next is read
    return draft


def claim(session: Session, worker: str) -> int | None:
    """Take the oldest queued draft for ``worker``: one atomic update, so that of every process
    asking at once exactly one gets it. Its id, or None when none is queued."""
    for draft_id in session.scalars(select(LayerDraft.id).where(LayerDraft.state == DraftState.QUEUED).order_by(LayerDraft.id).limit(5)):
        taken = session.execute(update(LayerDraft).where(LayerDraft.id == draft_id, LayerDraft.state == DraftState.QUEUED)
                                .values(state=DraftState.PROCESSING, worker=worker, attempts=LayerDraft.attempts + 1, started_at=now(),
                                        updated_at=now()))
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            return draft_id
    return None


def is_queued(session: Session) -> bool:
    """True when a draft waits for a worker process."""
    return session.scalar(select(LayerDraft.id).where(LayerDraft.state == DraftState.QUEUED).limit(1)) is not None


def recover(session: Session, host: str, alive: Callable[[int], bool]) -> list[int]:
    """Drafts whose worker died while processing them (a process of ``host`` that is gone, or any
    worker silent for `STALE_AFTER`): queued again, or refused after `MAX_ATTEMPTS` claims."""
    found = []
    rows = session.scalars(select(LayerDraft).where(LayerDraft.state == DraftState.PROCESSING)).all()
    for row in rows:
        claimant_host, _, pid = (row.worker or "").rpartition(":")
        dead = claimant_host == host and pid.isdigit() and not alive(int(pid))
        if dead or row.updated_at < now() - STALE_AFTER:
            found.append(row.id)
            if row.attempts >= MAX_ATTEMPTS:
                refuse(session, row.id, _failure(f"its worker process stopped, {row.attempts} times"))
            else:
                row.state, row.step, row.worker, row.updated_at = DraftState.QUEUED, DraftStep.QUEUED, None, now()
    return found


def _failure(detail: str) -> list[dict[str, object]]:
    report = ValidationReport("upload", "")
    report.error("processing_failed", detail=detail)
    return problems([report])


def refuse(session: Session, draft_id: int, found: list[dict[str, object]]) -> None:
    """Mark the draft refused with its findings, and drop its uploaded files."""
    session.execute(update(LayerDraft).where(LayerDraft.id == draft_id)
                    .values(state=DraftState.REFUSED, step=None, problems=found, finished_at=now(), updated_at=now()))
    session.execute(delete(LayerUploadChunk).where(LayerUploadChunk.draft_id == draft_id))


def failed(session: Session, draft_id: int, worker: str, detail: str) -> None:
    """The worker process processing the draft ended without an answer (an error, or it was
    killed): refuse the draft, unless it was finished or claimed again meanwhile."""
    row = session.get(LayerDraft, draft_id)
    if row is not None and row.state == DraftState.PROCESSING and row.worker == worker:
        refuse(session, draft_id, _failure(detail))


def _still_mine(session: Session, draft_id: int, worker: str) -> LayerDraft | None:
    row = session.get(LayerDraft, draft_id, with_for_update=True)
    return row if row is not None and row.state == DraftState.PROCESSING and row.worker == worker else None


def _step(sessions: Callable[[], Session], draft_id: int, step: DraftStep) -> None:
    with sessions() as session, session.begin():
        session.execute(update(LayerDraft).where(LayerDraft.id == draft_id).values(step=step, updated_at=now()))


@contextmanager
def _files(session: Session, draft_id: int) -> Iterator[dict[str, tuple[str, Path]]]:
    """The draft's uploaded files, put back together on disk: by field, (client's name, path)."""
    with tempfile.TemporaryDirectory(prefix="zonemap-draft-") as tmp:
        found: dict[str, tuple[str, Path]] = {}
        query = (select(LayerUploadChunk.field, LayerUploadChunk.name, LayerUploadChunk.data).where(LayerUploadChunk.draft_id == draft_id)
                 .order_by(LayerUploadChunk.field, LayerUploadChunk.part).execution_options(yield_per=1))
        for field, name, data in session.execute(query):
            if field not in UPLOAD_FIELDS:
                continue
            path = Path(tmp) / field
            with path.open("ab") as out:
                out.write(data)
            found[field] = (name, path)
        yield {field: found[field] for field in UPLOAD_FIELDS if field in found}


def process(sessions: Callable[[], Session], draft_id: int, current: Callable[[], ZoneLayer], max_vertices: int, worker: str,
            routing: RoutingConfig) -> DraftState:
    """Read and validate a draft's upload claimed by ``worker`` and store its layer (open; published
    at once when it carries a ``publish_note``), or refuse it with every finding; progress is
    written as it goes. The state it ends in (a draft claimed again meanwhile, its worker taken for
    dead, is left to the new claim)."""
    _step(sessions, draft_id, DraftStep.READING)
    with sessions() as session, _files(session, draft_id) as files:
        upload = read_upload(files, current, max_vertices=max_vertices)
    found = problems(upload.reports)
    if upload.layer is None:
        with sessions() as session, session.begin():
            if _still_mine(session, draft_id, worker):
                refuse(session, draft_id, found)
        return DraftState.REFUSED
    _step(sessions, draft_id, DraftStep.STORING)
    gpkg = stored_gpkg(upload.layer)
    upload.layer = None  # its memory is free before the stored layer is read back
    _step(sessions, draft_id, DraftStep.CHECKING)
    with sessions() as session, session.begin():
        row = _still_mine(session, draft_id, worker)
        if row is None:
            return DraftState.PROCESSING
        row.gpkg, row.categories_csv, row.units_csv = gpkg, upload.categories_csv, upload.units_csv
        layer = stored_layer(row, max_vertices)
        row.version = layer.version  # the version every worker computes from what is stored
        row.warnings = [p for p in found if p["severity"] == "warning"]
        row.state, row.step, row.finished_at, row.updated_at = DraftState.OPEN, None, now(), now()
        session.execute(delete(LayerUploadChunk).where(LayerUploadChunk.draft_id == draft_id))
        if row.publish_note is not None:  # every worker takes it when it next checks the current version
            publish(session, current(), layer, routing, None, gpkg=gpkg, categories_csv=row.categories_csv, units_csv=row.units_csv,
                    actor=row.created_by, kind="upload", note=row.publish_note, draft=row)
        return DraftState(row.state)
