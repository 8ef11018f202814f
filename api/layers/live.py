"""The zone layer every worker holds in memory, and its versions.

A publication (`api.layers.drafts`) makes a version current in one transaction; every worker compares its
layer's version with the database's current one (at most every ``LAYER_CHECK_SECONDS``) and
swaps in the new layer without a restart. Reports keep the version they were routed with.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, current_app, g
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage, MultiDict

from api.layers import jobs
from api.layers.analysis import Analyses, wait
from api.layers.job_runner import Comparisons, JobRunner, JobSettings
from api.layers.store import current_stored, stored_gpkg, stored_layer
from api.layers.upload_reader import UPLOAD_FIELDS
from api.layers.work import LayerWork
from api.persistence import Database, after_commit
from api.persistence.models import LayerDraft, LayerVersion
from api.reports import open_reports
from api.reports.notifications import ReporterNews
from api.reports.open_reports import OpenReports
from api.reports.services import WorkerState
from api.routing.batch import LayerFiles
from api.web.memory import freeze_long_lived, freezes_long_lived, release_free_memory
from geodata.demo import DemoFiles, ensure_demo
from zones.coverage import Coverage
from zones.layer import ZoneLayer
from zones.places import Gazetteer, gazetteer
from zones.router import warm
from zones.worktime import WorkCalendar, parse_hours

_SWAP = threading.Lock()


def layer_folder(app: Flask) -> DemoFiles:
    """The layer folder: ``LAYER_DIR``, or the bundled demo (generated once, then found at once)."""
    if "zonemap.layer_folder" not in app.extensions:
        root = app.config["LAYER_DIR"]
        app.extensions["zonemap.layer_folder"] = DemoFiles(Path(root)) if root else ensure_demo(Path(app.config["DATA_DIR"]) / "demo")
    return app.extensions["zonemap.layer_folder"]


def layer_files(app: Flask) -> LayerFiles:
    """The configured layer set: ``LAYER_DIR`` (a demo-style folder) or the bundled demo."""
    return LayerFiles.of_demo(layer_folder(app))


def map_attribution(app: Flask) -> str:
    """Who made the data the maps draw: ``MAP_ATTRIBUTION``, else the layer folder's attribution.txt (the demo's names its sources)."""
    if app.config["MAP_ATTRIBUTION"] is None:
        path = layer_folder(app).attribution
        app.config["MAP_ATTRIBUTION"] = " ".join(path.read_text(encoding="utf-8").split()) if path.is_file() else ""
    return str(app.config["MAP_ATTRIBUTION"])


#: A calendar that ends sooner than this from today is said in the log at start.
CALENDAR_AHEAD = timedelta(days=60)


def calendar_of(app: Flask, layer: ZoneLayer) -> WorkCalendar:
    """The working calendar deadlines count on: the layer's holidays and make-up working days (none:
    Monday to Friday) with ``WORKING_HOURS``; a calendar that ends within `CALENDAR_AHEAD` is said in the log."""
    calendar = WorkCalendar(layer.calendar_days, parse_hours(app.config["WORKING_HOURS"]))
    known = calendar.known
    if known is None or known[1] < date.today() + CALENDAR_AHEAD:
        app.logger.warning("the working calendar of layer %s ends %s: deadlines after it count Monday to Friday without holidays; "
                           "upload the next year's days with the layer (calendar.csv)", layer.version, known[1] if known else "before it starts")
    return calendar


def places() -> Gazetteer:
    """The current layer's places by name (sub-districts, streets, named places)."""
    current_layer()
    return current_app.extensions["zonemap.places"]


def open_index() -> OpenReports:
    """The serving process's index of open reports."""
    return current_app.extensions[open_reports.EXTENSION]


def worker() -> WorkerState:
    """The serving process's calendar and index of open reports, as the use-cases take them."""
    config = current_app.config
    return WorkerState(current_app.extensions["zonemap.calendar"], open_index(), ReporterNews(config["BASE_URL"], float(config["REOPEN_DAYS"])))


def init_app(app: Flask, session: Session) -> None:
    """Give the worker its analysis thread and load the current layer now (the uploaded one, else
    the configured files), so a broken layer stops the start rather than the first request."""
    app.extensions["zonemap.analyses"] = Analyses()
    app.extensions[open_reports.EXTENSION] = OpenReports(days=float(app.config["DUPLICATE_DAYS"]), radius_m=float(app.config["DUPLICATE_RADIUS_M"]))
    install(app, current_stored(session, layer_files(app), int(app.config["MAX_VERTICES"])))
    app.extensions["zonemap.layer_checked"] = time.monotonic()


def start_jobs(app: Flask, database: Database) -> None:
    """Start this worker's thread that hands queued uploads to child processes (``LAYER_JOBS`` at
    once per host; none with 0, when another service processes them), and its comparisons of
    drafts (in child processes too, within the same slots)."""
    slots = int(app.config["LAYER_JOBS"])
    settings = JobSettings(app.config["DATABASE_URL"], layer_files(app), int(app.config["MAX_VERTICES"]), app.config["ROUTING"])
    app.extensions["zonemap.comparisons"] = Comparisons(settings, slots)
    if slots > 0:
        app.extensions["zonemap.jobs"] = JobRunner(database, settings, slots)


def stop_jobs(app: Flask) -> None:
    """Stop looking for queued uploads (a test's app, say, before its database goes)."""
    runner: JobRunner | None = app.extensions.pop("zonemap.jobs", None)
    if runner is not None:
        runner.close()


def queue_upload(files: MultiDict[str, FileStorage], actor: str, *, publish_note: str | None = None) -> LayerDraft | None:
    """The request's upload (`UPLOAD_FIELDS`; empty file inputs left out) stored as a queued
    draft, to be processed once the request's transaction commits (and published, with a
    ``publish_note``); None when it holds no file."""
    streams = {}
    for field in UPLOAD_FIELDS:
        upload = files.get(field)
        if upload is not None and (upload.filename or upload.stream.read(1)):
            upload.stream.seek(0)
            streams[field] = (upload.filename or "", upload.stream)
    if not streams:
        return None
    session: Session = g.db
    draft = jobs.enqueue(session, streams, current_layer().version, actor, publish_note=publish_note)
    release_free_memory()  # the chunks' buffers, kept by this thread's arena otherwise
    runner: JobRunner | None = current_app.extensions.get("zonemap.jobs")
    if runner is not None:
        after_commit(session, runner.wake)
    return draft


def install(app: Flask, layer: ZoneLayer) -> None:
    """Make ``layer`` the one this worker routes with, its indexes built beforehand, and hand
    the memory the build used for scratch back to the system (in a serving process, the new
    layer is kept out of the cycle collector's passes as the first one was: `freeze_long_lived`)."""
    warm(layer, app.config["ROUTING"])
    app.extensions["zonemap.calendar"] = calendar_of(app, layer)
    app.extensions["zonemap.places"] = gazetteer(layer)
    app.extensions["zonemap.layer"] = layer
    if freezes_long_lived():
        freeze_long_lived()
    release_free_memory()


def current_layer() -> ZoneLayer:
    """The current layer, reloaded when another worker (or this one) published a new version."""
    app = current_app
    layer: ZoneLayer = app.extensions["zonemap.layer"]
    if time.monotonic() - app.extensions["zonemap.layer_checked"] < app.config["LAYER_CHECK_SECONDS"]:
        return layer
    session: Session = g.db
    current = session.scalar(select(LayerVersion.version).where(LayerVersion.is_current))
    app.extensions["zonemap.layer_checked"] = time.monotonic()
    if current is None or current == layer.version:
        return layer
    with _SWAP:
        layer = app.extensions["zonemap.layer"]
        if layer.version != current:
            row = session.scalars(select(LayerVersion).where(LayerVersion.version == current)).one()
            layer = stored_layer(row, int(app.config["MAX_VERTICES"]))
            install(app, layer)
    return layer


def district_name(layer: ZoneLayer) -> str:
    """The district's name (its ``level`` district area), e.g. 城阳区; empty when the layer has none."""
    areas = layer.areas
    if "level" not in areas.columns:
        return ""
    district = areas[areas["level"] == "district"]
    return str(district["name"].iloc[0]) if len(district) else ""


T = TypeVar("T")


def work() -> LayerWork:
    """The settings and services of the worker serving this request, for the layer's use-cases."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return LayerWork(max_vertices=int(app.config["MAX_VERTICES"]), routing=app.config["ROUTING"], analyses=app.extensions["zonemap.analyses"],
                     wait_s=float(app.config["COVERAGE_WAIT_SECONDS"]), compare_wait_s=float(app.config["COMPARISON_WAIT_SECONDS"]),
                     kept_drafts=app.extensions.setdefault("zonemap.draft_layers", {}),
                     comparisons=app.extensions["zonemap.comparisons"], install=partial(install, app))


def coverage(layer: ZoneLayer) -> Coverage:
    """The coverage analysis of ``layer``, computed off the request path (a `BusyError` while it runs too long)."""
    return work().coverage(layer)


def version_gpkg(session: Session, version: str) -> bytes:
    """Layer ``version`` as one GeoPackage (zones, test points, areas, scope, streets, its calendar)
    for a planner to edit and upload back: a stored version's as stored, the current one's written
    once, off the request path; `LookupError` for a version neither stored nor current."""
    stored = session.scalars(select(LayerVersion.gpkg).where(LayerVersion.version == version)).first()
    if stored is not None:
        return stored
    layer = current_layer()
    if layer.version != version:
        msg = f"no stored layer version {version}"
        raise LookupError(msg)
    settings = work()
    return wait(settings.analyses.submit(layer, "layer.gpkg", partial(stored_gpkg, layer)), settings.wait_s)


def rendered(layer: ZoneLayer, what: Any, make: Callable[[Coverage], T]) -> T:
    """``make(coverage)`` for ``layer`` (a map's HTML, say), computed once off the request path."""
    settings = work()
    return settings.analyses.rendered(layer, what, make, settings.wait_s)
