"""What the staff consoles show: the dispatchers' queues (each report in exactly one, by a stated
precedence), the list of reports with its filters, a report's surroundings (zones, test point,
reports nearby), the units a report may go to, and a unit's work beside the district's. No Flask.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import geopandas as gpd
import shapely
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from api.persistence.models import Report, Transition
from api.reports import citizens
from api.reports.services import ROUTER_ACTOR
from geodata.io import GEOJSON_DECIMALS, rounded
from zones.config import METRIC_CRS
from zones.enums import Status
from zones.layer import ZoneLayer
from zones.workflow import OPEN_STATES, Action, State

#: The dispatchers' queues, in order of precedence: a report is in the first whose condition it meets.
QUEUES = ("submitted", "reopened", "disputed", "extension", "overdue", "rectified", "verified", "held", "ambiguous", "fallback")
#: Actions by which a dispatcher settles what the router decided alone.
SETTLING = (Action.REASSIGN.value, Action.CONFIRM.value, Action.DISPATCH.value)
SORTS = {"newest": (Report.id.desc(),), "oldest": (Report.id.asc(),), "deadline": (Report.deadline_at.is_(None), Report.deadline_at.asc(), Report.id.asc())}


def queue_conditions(at: datetime) -> dict[str, ColumnElement[bool]]:
    """Each queue's condition, exclusive of the queues before it.

    ``submitted``: routed to nobody (outside the district). ``reopened``: a reporter says the
    published fix did not hold. ``disputed``: a unit says it is not
    theirs. ``extension``: a unit asks for more time. ``overdue``: open past its deadline.
    ``rectified``: waiting for verification. ``verified``: waiting for publication. ``held``: on
    hold (挂账) till its review. ``ambiguous`` and ``fallback``: dispatched by the router
    on an uncertain location or to a sub-district for want of a zone, and not yet settled by a
    dispatcher (reassigned, confirmed or dispatched).
    """
    settled = exists(select(Transition.id).where(Transition.report_id == Report.id, Transition.action.in_(SETTLING), Transition.actor != ROUTER_ACTOR))
    late = and_(Report.state.in_([s.value for s in OPEN_STATES]), Report.deadline_at < at)
    in_time = or_(Report.deadline_at.is_(None), Report.deadline_at >= at)
    unsettled = and_(Report.state == State.DISPATCHED.value, ~settled, in_time)
    return {
        "submitted": Report.state == State.SUBMITTED.value,
        "reopened": Report.state == State.REOPENED.value,
        "disputed": Report.state == State.DISPUTED.value,
        "extension": Report.extension_until.is_not(None),
        "overdue": late,
        "rectified": Report.state == State.RECTIFIED.value,
        "verified": Report.state == State.VERIFIED.value,
        "held": Report.state == State.HELD.value,
        "ambiguous": and_(unsettled, Report.route_status == Status.AMBIGUOUS.value),
        "fallback": and_(unsettled, Report.route_status == Status.FALLBACK.value),
    }


def queue_counts(session: Session, at: datetime) -> dict[str, int]:
    """How many reports each queue holds now."""
    return {name: int(session.scalar(select(func.count()).select_from(Report).where(condition)) or 0)
            for name, condition in queue_conditions(at).items()}


@dataclass(frozen=True)
class ReportFilter:
    """What the dispatchers' list shows: a queue, or any of state, unit, campaign, sub-district,
    source, period, overdue; or the one report an id or a reference names."""

    queue: str | None = None
    state: str | None = None
    unit_id: str | None = None
    categories: tuple[str, ...] | None = None
    area_id: str | None = None
    source: str | None = None
    since: datetime | None = None
    overdue: bool = False
    search: str | None = None

    def conditions(self, at: datetime) -> list[ColumnElement[bool]]:
        """The SQL conditions of this filter."""
        out: list[ColumnElement[bool]] = []
        if self.search:
            text = self.search.strip()
            ref = citizens.normalise_ref(text)
            return [Report.id == int(text)] if text.isdigit() and len(text) < 10 else [Report.public_ref == (ref or text)]
        if self.queue:
            out.append(queue_conditions(at)[self.queue])
        for column, value in ((Report.state, self.state), (Report.unit_id, self.unit_id), (Report.area_id, self.area_id), (Report.source, self.source)):
            if value:
                out.append(column == value)
        if self.categories is not None:
            out.append(Report.category.in_(self.categories))
        if self.since is not None:
            out.append(Report.created_at >= self.since)
        if self.overdue:
            out.append(queue_conditions(at)["overdue"])
        return out


def list_reports(session: Session, report_filter: ReportFilter, at: datetime, *, sort: str, limit: int, offset: int) -> tuple[list[Report], int]:
    """One page of the reports the filter shows, sorted, and how many there are in all."""
    conditions = report_filter.conditions(at)
    total = int(session.scalar(select(func.count()).select_from(Report).where(*conditions)) or 0)
    rows = session.scalars(select(Report).where(*conditions).order_by(*SORTS[sort]).offset(offset).limit(limit)).all()
    return list(rows), total


def unit_choices(layer: ZoneLayer, report: Report) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The units a report may go to, as (code, name): first the router's candidates and the
    zone's co-owners, then every other unit of the layer by name."""
    first = list(dict.fromkeys(u for u in [*report.decision.candidate_unit_ids, *report.decision.co_owner_unit_ids] if u and layer.knows_unit(u)))
    names = layer.unit_names
    rest = sorted((u for u in names if u not in first), key=lambda u: (names[u], u))
    return [(u, names.get(u, u)) for u in first], [(u, names[u]) for u in rest]


def surroundings(layer: ZoneLayer, report: Report, *, radius_m: float = 150.0) -> dict[str, Any]:
    """The report's map as GeoJSON (WGS84): the accountable zone (``accountable``), the
    candidates' and co-owners' zones around the point (``candidate``), the attached test point
    (``test_point``) and the report itself (``report``, with its accuracy in metres)."""
    point = gpd.GeoSeries([shapely.Point(report.lon, report.lat)], crs=layer.zones.crs)
    area = point.to_crs(METRIC_CRS).buffer(radius_m).to_crs(layer.zones.crs).iloc[0]
    others = {u for u in [*report.decision.candidate_unit_ids, *report.decision.co_owner_unit_ids] if u}
    zones = layer.zones
    near = zones[zones.intersects(area) & (zones["zone_id"].eq(report.zone_id) | zones["unit_id"].isin(others))]
    kind = ["accountable" if z == report.zone_id else "candidate" for z in near["zone_id"]]
    frame = gpd.GeoDataFrame({"kind": kind, "zone_id": near["zone_id"].to_numpy(), "unit_id": near["unit_id"].to_numpy(),
                              "name": near["name"].astype(str).to_numpy() if "name" in near.columns else ""},
                             geometry=rounded(near.geometry.to_numpy()), crs=zones.crs)
    features = frame.to_geo_dict(show_bbox=False, drop_id=True)["features"]
    points = layer.test_points[layer.test_points["point_id"] == report.test_point_id]
    for name, geometry in zip(points["name"], rounded(shapely.point_on_surface(points.geometry.to_numpy())), strict=True):
        features.append({"type": "Feature", "properties": {"kind": "test_point", "name": str(name)}, "geometry": shapely.geometry.mapping(geometry)})
    features.append({"type": "Feature", "properties": {"kind": "report", "accuracy_m": report.accuracy_m},
                     "geometry": {"type": "Point", "coordinates": [round(report.lon, GEOJSON_DECIMALS), round(report.lat, GEOJSON_DECIMALS)]}})
    return {"type": "FeatureCollection", "features": features}


def open_work(session: Session, unit_id: str, at: datetime) -> list[Report]:
    """A unit's reports still to act on (dispatched, reworked, escalated), overdue first, then by
    deadline."""
    late = and_(Report.deadline_at.is_not(None), Report.deadline_at < at)
    rows = session.scalars(select(Report).where(Report.unit_id == unit_id, Report.state.in_([s.value for s in OPEN_STATES]))
                           .order_by(late.desc(), Report.deadline_at.is_(None), Report.deadline_at.asc(), Report.id.asc()))
    return list(rows)


#: A unit's reports that wait on others: its fix to be verified or published, its dispute answered, a hold released.
HANDED_OVER = (State.RECTIFIED, State.VERIFIED, State.DISPUTED, State.HELD)
#: How long a unit's published reports stay in its list of handled work.
HANDLED_DAYS = 30


def handled_work(session: Session, unit_id: str, at: datetime) -> list[Report]:
    """A unit's reports that wait on others (`HANDED_OVER`) and those published in the last
    `HANDLED_DAYS` days, the latest change first."""
    recent = and_(Report.state == State.PUBLISHED.value, Report.updated_at >= at - timedelta(days=HANDLED_DAYS))
    waiting = Report.state.in_([s.value for s in HANDED_OVER])
    return list(session.scalars(select(Report).where(Report.unit_id == unit_id, or_(waiting, recent)).order_by(Report.updated_at.desc()).limit(200)))


def flagged_duplicates(session: Session, report: Report) -> list[Report]:
    """The open reports flagged as possible duplicates of ``report`` when they came in, oldest first."""
    return list(session.scalars(select(Report).where(Report.possible_duplicate_of == report.id,
                                                     Report.state.in_([s.value for s in citizens.JOINABLE_STATES])).order_by(Report.id)))


def latest_notes(session: Session, report_ids: list[int]) -> dict[int, tuple[str, str]]:
    """The last step with a note of each report, as (action, note): a unit's dispute, a
    dispatcher's rework request, ... (the router's reason when no one wrote since)."""
    if not report_ids:
        return {}
    latest = select(Transition.report_id, func.max(Transition.id).label("id")).where(
        Transition.report_id.in_(report_ids), Transition.note != "").group_by(Transition.report_id).subquery()
    rows = session.execute(select(Transition.report_id, Transition.action, Transition.note).join(latest, Transition.id == latest.c.id))
    return {int(report_id): (action, note) for report_id, action, note in rows}
