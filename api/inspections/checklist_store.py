"""The versions of the inspection checklists: a new table is validated against the current
layer's categories and kept under the digest of its rows; the current version is what new rounds
use, and each round keeps its own. No Flask."""

from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path
from typing import BinaryIO

import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.persistence.clock import now
from api.persistence.models import ChecklistVersion
from geodata.io import read_table
from zones import checklists
from zones.checklists import Checklists
from zones.errors import InvalidInputError
from zones.layer import ZoneLayer

_LOCK = threading.Lock()
_KEPT: dict[str, Checklists] = {}  # version → its checklists (versions never change)


def of_version(session: Session, version: str) -> Checklists | None:
    """The checklists of a stored version (None: no such version)."""
    with _LOCK:
        if version in _KEPT:
            return _KEPT[version]
    row = session.get(ChecklistVersion, version)
    if row is None:
        return None
    found = Checklists.of(pd.DataFrame(row.rows, columns=list(checklists.COLUMNS)))
    with _LOCK:
        _KEPT[version] = found
    return found


def current(session: Session) -> Checklists | None:
    """The checklists new rounds use (None before any was published)."""
    version = session.scalar(select(ChecklistVersion.version).where(ChecklistVersion.is_current))
    return None if version is None else of_version(session, version)


def publish(session: Session, layer: ZoneLayer, table: pd.DataFrame, *, source: str, actor: str, note: str = "") -> Checklists:
    """Validate ``table`` against ``layer``'s categories and make it the current version (a table
    already stored becomes current again); `SchemaError` names every bad row and field."""
    clean, report = checklists.validate(table, categories=list(layer.category_table), source=source)
    report.raise_if_errors()
    found = Checklists.of(clean)
    session.execute(update(ChecklistVersion).where(ChecklistVersion.is_current).values(is_current=False))
    row = session.get(ChecklistVersion, found.version)
    if row is None:
        session.add(ChecklistVersion(version=found.version, rows=found.rows(), source=source[:200], note=note, is_current=True, created_by=actor,
                                     created_at=now()))
    else:
        row.is_current = True
    return found


#: The files a checklists table may come in.
SUFFIXES = (".csv", ".xlsx")


def publish_file(session: Session, layer: ZoneLayer, stream: BinaryIO, filename: str, *, actor: str, note: str = "") -> Checklists:
    """Publish an uploaded table (CSV in UTF-8 or GBK, or Excel); a file of another kind is refused by its field."""
    suffix = Path(filename).suffix.lower()
    if suffix not in SUFFIXES:
        raise InvalidInputError(f"checklists: a {' or '.join(SUFFIXES)} table, not {filename!r}", field="checklists", problems=["a .csv or .xlsx table"])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"checklists{suffix}"
        with path.open("wb") as out:
            shutil.copyfileobj(stream, out)
        return publish(session, layer, read_table(path), source=filename, actor=actor, note=note)


def load_first(session: Session, layer: ZoneLayer, path: Path) -> Checklists | None:
    """On a first start, publish the layer folder's checklists.csv (the demo's) when none is stored."""
    if current(session) is not None or not path.is_file():
        return None
    return publish(session, layer, read_table(path), source=path.name, actor="zonemap")
