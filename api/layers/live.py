"""The zone layer every worker holds in memory, and its versions.

A publication (`api.layers.drafts`) makes a version current in one transaction; every worker compares its
layer's version with the database's current one (at most every ``LAYER_CHECK_SECONDS``) and
swaps in the new layer without a restart. Reports keep the version they were routed with.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, current_app, g
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.layers.analysis import Analyses
from api.layers.store import files_layer, stored_layer
from api.layers.work import LayerWork
from api.persistence.models import LayerVersion
from api.routing.batch import LayerFiles
from api.web.memory import release_free_memory
from geodata.demo import DemoFiles, ensure_demo
from zones.coverage import Coverage
from zones.layer import ZoneLayer
from zones.router import warm

_SWAP = threading.Lock()


def layer_files(app: Flask) -> LayerFiles:
    """The configured layer set: ``LAYER_DIR`` (a demo-style folder) or the bundled demo."""
    root = app.config["LAYER_DIR"]
    files = DemoFiles(Path(root)) if root else ensure_demo(Path(app.config["DATA_DIR"]) / "demo")
    return LayerFiles.of_demo(files)


def init_app(app: Flask, session: Session) -> None:
    """Give the worker its analysis thread and load the current layer now (the uploaded one, else
    the configured files), so a broken layer stops the start rather than the first request."""
    app.extensions["zonemap.analyses"] = Analyses()
    row = session.scalars(select(LayerVersion).where(LayerVersion.is_current)).first()
    limit = int(app.config["MAX_VERTICES"])
    install(app, stored_layer(row, limit) if row else files_layer(layer_files(app), limit))
    app.extensions["zonemap.layer_checked"] = time.monotonic()


def install(app: Flask, layer: ZoneLayer) -> None:
    """Make ``layer`` the one this worker routes with, its indexes built beforehand, and hand
    the memory the build used for scratch back to the system."""
    warm(layer, app.config["ROUTING"])
    app.extensions["zonemap.layer"] = layer
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
                     wait_s=float(app.config["COVERAGE_WAIT_SECONDS"]), kept_drafts=app.extensions.setdefault("zonemap.draft_layers", {}),
                     kept_comparisons=app.extensions.setdefault("zonemap.draft_comparisons", {}), install=partial(install, app))


def coverage(layer: ZoneLayer) -> Coverage:
    """The coverage analysis of ``layer``, computed off the request path (a `BusyError` while it runs too long)."""
    return work().coverage(layer)


def rendered(layer: ZoneLayer, what: Any, make: Callable[[Coverage], T]) -> T:
    """``make(coverage)`` for ``layer`` (a map's HTML, say), computed once off the request path."""
    settings = work()
    return settings.analyses.rendered(layer, what, make, settings.wait_s)
