"""What the public sees and does: public references of reports, open reports nearby to join (+1),
a report's progress without personal data, and the published cases of the public board (晾晒).
No Flask.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.persistence.clock import now
from api.persistence.models import PublicPhoto, Report, Support, Transition
from zones.config import PUBLIC_POSITION_DECIMALS
from zones.enums import ReportSource
from zones.workflow import Action, State

#: Crockford's base-32 digits: no I, L, O or U to misread when a reference is read out or typed.
REF_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REF_DIGITS = 12  # 60 bits: unguessable, and short enough to read out over the phone
#: States in which a problem is still being handled: a new report of it joins the open one.
JOINABLE_STATES = (State.SUBMITTED, State.DISPATCHED, State.REWORK, State.ESCALATED, State.DISPUTED, State.HELD, State.RECTIFIED, State.REOPENED)


def new_public_ref() -> str:
    """A fresh public reference such as ``K7QH-3MXP-9D2A``."""
    raw = "".join(secrets.choice(REF_ALPHABET) for _ in range(REF_DIGITS))
    return "-".join(raw[i:i + 4] for i in range(0, REF_DIGITS, 4))


def normalise_ref(value: str) -> str:
    """A reference as typed (lower case, without dashes, O for 0 ...) in its stored form."""
    raw = value.upper().replace("-", "").replace(" ", "").translate(str.maketrans("OIL", "011"))
    if len(raw) != REF_DIGITS or any(c not in REF_ALPHABET for c in raw):
        return ""
    return "-".join(raw[i:i + 4] for i in range(0, REF_DIGITS, 4))


def by_ref(session: Session, ref: str) -> Report | None:
    """The report with public reference ``ref`` (as typed), or None."""
    stored = normalise_ref(ref)
    return session.scalar(select(Report).where(Report.public_ref == stored)) if stored else None


@dataclass(frozen=True)
class Nearby:
    """An open report near a spot, and how far away it is."""

    report: Report
    distance_m: float
    supporters: int


def supporters(session: Session, report_ids: list[int]) -> dict[int, int]:
    """How many people joined each report (+1), by report id (reports nobody joined are absent)."""
    if not report_ids:
        return {}
    query = select(Support.report_id, func.count()).where(Support.report_id.in_(report_ids)).group_by(Support.report_id)
    return {int(report_id): int(n) for report_id, n in session.execute(query)}


def join(session: Session, report: Report, contact: str | None, source: str = ReportSource.CITIZEN.value) -> Support:
    """Record a "+1" on an open report; `ValueError` when the report is no longer open."""
    if State(report.state) not in JOINABLE_STATES:
        msg = f"report {report.public_ref} is {report.state}, no longer open"
        raise ValueError(msg)
    support = Support(report_id=report.id, created_at=now(), reporter_contact=contact, source=source)
    session.add(support)
    return support


@dataclass(frozen=True)
class Step:
    """One step of a report's progress as the public sees it: no actor, no note."""

    state: str
    at: datetime
    unit_id: str | None


def progress(report: Report) -> list[Step]:
    """The report's steps: what happened and when, and which unit it went to."""
    return [Step(t.to_state, t.at, t.unit_id if t.action in (Action.DISPATCH.value, Action.REASSIGN.value) else None) for t in report.transitions]


def rounded(value: float) -> float:
    """A coordinate as anyone may see it (about 10 m)."""
    return round(value, PUBLIC_POSITION_DECIMALS)


@dataclass
class PublicCase:
    """A published case as the public board shows it: no reporter, no exact time or position."""

    ref: str
    category: str
    area_id: str | None
    unit_id: str | None
    reported_at: datetime
    rectified_at: datetime | None
    published_at: datetime
    lon: float
    lat: float
    supporters: int
    before: list[str] = field(default_factory=list)  # photo ids a dispatcher published: the reporter's
    after: list[str] = field(default_factory=list)  # and the unit's rectification

    @property
    def time_taken(self) -> timedelta | None:
        """From the report to its rectification."""
        return None if self.rectified_at is None else self.rectified_at - self.reported_at


@dataclass(frozen=True)
class BoardFilter:
    """What the board shows: a sub-district, a campaign's categories, reports since a time."""

    area_id: str | None = None
    categories: tuple[str, ...] | None = None
    since: datetime | None = None

    def apply(self, query: Any) -> Any:
        """``query`` of published reports, narrowed to this filter."""
        query = query.where(Report.state == State.PUBLISHED.value)
        if self.area_id:
            query = query.where(Report.area_id == self.area_id)
        if self.categories is not None:
            query = query.where(Report.category.in_(self.categories))
        if self.since is not None:
            query = query.where(Report.created_at >= self.since)
        return query


def count_published(session: Session, board: BoardFilter) -> int:
    """How many published cases the filter shows."""
    return int(session.scalar(board.apply(select(func.count()).select_from(Report))) or 0)


def published_cases(session: Session, board: BoardFilter, *, limit: int, offset: int = 0) -> list[PublicCase]:
    """Published cases, the most recently published first, with their published photos."""
    rows = session.scalars(board.apply(select(Report)).order_by(Report.updated_at.desc(), Report.id.desc()).offset(offset).limit(limit)).all()
    return cases_of(session, rows)


def cases_of(session: Session, rows: Sequence[Report]) -> list[PublicCase]:
    """``rows`` (published reports) as public cases: three queries, whatever their number."""
    ids = [r.id for r in rows]
    if not ids:
        return []
    rectified: dict[int, datetime] = {}
    for report_id, at in session.execute(select(Transition.report_id, func.max(Transition.at))
                                         .where(Transition.report_id.in_(ids), Transition.action == Action.RECTIFY.value).group_by(Transition.report_id)):
        rectified[int(report_id)] = at
    photos: dict[int, dict[str, list[str]]] = defaultdict(lambda: {"before": [], "after": []})
    for report_id, photo_id, kind in session.execute(select(PublicPhoto.report_id, PublicPhoto.photo_id, PublicPhoto.kind)
                                                     .where(PublicPhoto.report_id.in_(ids)).order_by(PublicPhoto.report_id)):
        photos[int(report_id)][kind].append(photo_id)
    counts = supporters(session, ids)
    return [PublicCase(r.public_ref, r.category, r.area_id, r.unit_id, r.created_at, rectified.get(r.id), r.updated_at, rounded(r.lon), rounded(r.lat),
                       counts.get(r.id, 0), photos[r.id]["before"], photos[r.id]["after"]) for r in rows]


def is_public_photo(session: Session, photo_id: str) -> bool:
    """Whether a dispatcher published this photo with a report that is published now."""
    query = select(PublicPhoto.report_id).join(Report, Report.id == PublicPhoto.report_id).where(
        PublicPhoto.photo_id == photo_id, Report.state == State.PUBLISHED.value).limit(1)
    return session.scalar(query) is not None


def published_points(session: Session, board: BoardFilter, *, limit: int = 2000) -> list[dict[str, Any]]:
    """Where the filter's published cases are (rounded), for the board's map: reference,
    category and position only."""
    query = board.apply(select(Report.public_ref, Report.category, Report.lon, Report.lat)).order_by(Report.updated_at.desc()).limit(limit)
    return [{"ref": ref, "category": category, "lon": rounded(lon), "lat": rounded(lat)} for ref, category, lon, lat in session.execute(query)]
