"""Each worker's spatial index of the open reports of the last days (an R-tree, `rtree`): what a new
report may duplicate, what a report's page lists nearby, what a citizen may join with a "+1".

The index holds the reports still being handled (`citizens.JOINABLE_STATES`) received within
``days``. A worker adds its own reports and moves the moment they commit; other workers' changes
reach it through the database, as the layer does: before a lookup, when ``refresh_s`` has passed,
it reads the reports changed since its last read (a few seconds of overlap, so that a transaction
committing just after its stamp is not missed). Distances are in metres on the spot's tangent plane
(at 50 m, a few millimetres from the geodesic). No Flask.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from rtree import index
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.persistence.clock import now
from api.persistence.models import Report
from api.reports.citizens import JOINABLE_STATES, Nearby, supporters
from zones.config import NEARBY_REPORT_RADIUS_M

OPEN = frozenset(s.value for s in JOINABLE_STATES)
#: How far back a refresh reads beyond its last read: a transaction stamps its rows before it commits.
OVERLAP = timedelta(seconds=10)
METRES_PER_DEGREE_LAT = 111_320.0
#: What the index reads of a report (`load`'s columns), then its version.
_READ = (Report.id, Report.lon, Report.lat, Report.category, Report.created_at, Report.possible_duplicate_of, Report.state, Report.row_version)
#: Reports read whole per statement (SQLite's limit on bound values is far above).
_IDS_PER_READ = 5_000
#: Where the app keeps its index (``app.extensions``).
EXTENSION = "zonemap.open_reports"


class Entry(NamedTuple):
    """An open report as the index holds it (as a plain tuple: see `OpenReports`)."""

    report_id: int
    lon: float
    lat: float
    category: str
    created_at: datetime
    duplicate_of: int | None  # the report it was flagged as a possible duplicate of


_LON, _LAT, _CREATED = Entry._fields.index("lon"), Entry._fields.index("lat"), Entry._fields.index("created_at")


@dataclass(frozen=True)
class Near:
    """An open report near a spot, and how far it is."""

    report_id: int
    distance_m: float
    duplicate_of: int | None


def entry_of(report: Report) -> Entry:
    """The index's entry for ``report``."""
    return Entry(report.id, report.lon, report.lat, report.category, report.created_at, report.possible_duplicate_of)


class OpenReports:
    """The open reports of the last ``days`` days, by place."""

    def __init__(self, days: float = 7.0, radius_m: float = NEARBY_REPORT_RADIUS_M, refresh_s: float = 1.0) -> None:
        self.window = timedelta(days=days)
        self.radius_m = radius_m
        self.refresh_s = refresh_s
        self._tree = index.Index()
        # Plain tuples of plain values, which the cycle collector stops tracking (a tuple subclass
        # it tracks for good): a busy week's index holds hundreds of thousands of reports, and
        # every full collection went through them all as objects.
        self._entries: dict[int, tuple[Any, ...]] = {}
        self._lock = threading.Lock()
        self._read_until: datetime | None = None
        self._seen: dict[int, int] = {}  # the version last read of each report stamped within the overlap
        self._checked = -math.inf

    def __len__(self) -> int:
        return len(self._entries)

    def after(self, report: Report) -> Callable[[], None]:
        """What to do once ``report``'s change commits (`api.persistence.after_commit`): hold it
        while it is open, drop it once it is not, as it is now."""
        entry, report_id = (entry_of(report) if report.state in OPEN else None), report.id

        def apply() -> None:
            with self._lock:
                self._put(entry, report_id)

        return apply

    def _put(self, entry: Entry | None, report_id: int) -> None:
        old = self._entries.pop(report_id, None)
        if old is not None:
            lon, lat = old[_LON], old[_LAT]
            self._tree.delete(report_id, (lon, lat, lon, lat))
        if entry is not None:
            self._entries[report_id] = tuple(entry)
            self._tree.insert(report_id, (entry.lon, entry.lat, entry.lon, entry.lat))

    def refresh(self, session: Session, now: datetime) -> None:
        """Read the reports changed since the last read (all of the window's, the first time), when
        ``refresh_s`` has passed; forget those received before the window.

        A read after the first asks for the id and version of each report stamped within
        `OVERLAP` of the last read, and reads whole only those it has not seen at that version (the
        last second's, and any that committed late): at hundreds of reports a second, re-reading
        the whole overlap took tens of milliseconds of a request every second.
        """
        if time.monotonic() - self._checked < self.refresh_s:
            return
        if self._read_until is None:
            rows = session.execute(select(*_READ).where(Report.updated_at >= now - self.window)).all()
            stamps: dict[int, int] = {}
        else:
            stamps = dict(session.execute(select(Report.id, Report.row_version).where(Report.updated_at >= self._read_until - OVERLAP)).all())
            changed = [report_id for report_id, version in stamps.items() if self._seen.get(report_id) != version]
            rows = [row for at in range(0, len(changed), _IDS_PER_READ)
                    for row in session.execute(select(*_READ).where(Report.id.in_(changed[at:at + _IDS_PER_READ]))).all()]
        self._seen = stamps | {row[0]: row[-1] for row in rows}  # the overlap's versions; a report read whole at the version read
        self.load([row[:-1] for row in rows], now)

    def load(self, rows: Iterable[tuple[int, float, float, str, datetime, int | None, str]], now: datetime) -> None:
        """Take reports as they are at ``now`` (id, lon, lat, category, received, possible duplicate
        of, state): hold the open ones of the window, drop the others and those the window left."""
        oldest = now - self.window
        with self._lock:
            if not self._entries:  # the first read: the tree is packed at once (bulk loading), not grown entry by entry
                kept = [Entry(i, x, y, c, at, d) for i, x, y, c, at, d, state in rows if state in OPEN and at >= oldest]
                self._entries = {e.report_id: tuple(e) for e in kept}
                self._tree = index.Index((e.report_id, (e.lon, e.lat, e.lon, e.lat), None) for e in kept) if kept else index.Index()
                rows = []
            for report_id, lon, lat, category, created_at, duplicate_of, state in rows:  # the overlap's rows again: unchanged, kept as they are
                entry = Entry(report_id, lon, lat, category, created_at, duplicate_of) if state in OPEN and created_at >= oldest else None
                if entry != self._entries.get(report_id):
                    self._put(entry, report_id)
            for stale in [report_id for report_id, e in self._entries.items() if e[_CREATED] < oldest]:
                self._put(None, stale)
            self._read_until, self._checked = now, time.monotonic()

    def near(self, lon: float, lat: float, categories: frozenset[str] | set[str], *, exclude: int | None = None,
             radius_m: float | None = None) -> list[Near]:
        """Open reports of ``categories`` within ``radius_m`` (default: the index's) of the WGS84
        point, nearest first (then oldest), without ``exclude``."""
        radius = self.radius_m if radius_m is None else radius_m
        dlat = radius / METRES_PER_DEGREE_LAT
        scale = math.cos(math.radians(lat))
        dlon = dlat / max(scale, 0.01)
        found = []
        with self._lock:
            for report_id in self._tree.intersection((lon - dlon, lat - dlat, lon + dlon, lat + dlat)):
                entry = Entry._make(self._entries[report_id])
                if report_id == exclude or entry.category not in categories:
                    continue
                distance = math.hypot((entry.lon - lon) * scale, entry.lat - lat) * METRES_PER_DEGREE_LAT
                if distance <= radius:
                    found.append(Near(report_id, distance, entry.duplicate_of))
        return sorted(found, key=lambda n: (n.distance_m, n.report_id))

    def original_near(self, lon: float, lat: float, categories: frozenset[str] | set[str]) -> int | None:
        """The open report a new one here would duplicate: the nearest that is no duplicate of an
        open report itself, else the open one the nearest was flagged as a duplicate of."""
        found = self.near(lon, lat, categories)
        originals = [n for n in found if n.duplicate_of is None or n.duplicate_of not in self._entries]
        if originals:
            return originals[0].report_id
        return found[0].duplicate_of if found else None


def nearby(session: Session, reports: OpenReports, lon: float, lat: float, categories: frozenset[str], *, exclude: int | None = None,
           limit: int = 10) -> list[Nearby]:
    """Open reports of ``categories`` near the WGS84 point, nearest first, with their +1s: what a
    citizen may join (the same category), what a dispatcher may merge (its campaign group)."""
    reports.refresh(session, now())
    found = reports.near(lon, lat, categories, exclude=exclude)[:limit]
    rows = {r.id: r for r in session.scalars(select(Report).where(Report.id.in_([n.report_id for n in found])))}
    counts = supporters(session, list(rows))
    return [Nearby(rows[n.report_id], n.distance_m, counts.get(n.report_id, 0)) for n in found if n.report_id in rows]
