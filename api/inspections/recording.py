"""Recording one point's inspection: every item's result checked against the round's checklist,
where the inspector stood compared with the point, each failure not fixed on the spot opened as a
case (routed like any report, or handed to the point's adopting unit), a re-inspection closing the
cases it finds fixed (消号), and the point's score. Sent twice (a phone back online), it is stored
once. No Flask."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth.roles import Caller
from api.inspections import rounds
from api.persistence.clock import now
from api.persistence.models import Inspection, Report, Round, RoundPoint
from api.reports import services
from api.reports.services import Submission, WorkerState
from api.routing.location import Location
from zones.checklists import REPEAT_FACTOR, Checklists, Item, Owner, Result, score
from zones.config import RoutingConfig
from zones.errors import ConflictError, IllegalTransitionError, InvalidInputError, NotAllowedError
from zones.layer import ZoneLayer
from zones.workflow import OPEN_STATES, Action, State

#: The states in which a case is closed by a re-inspection that finds it fixed: rectified (verify), or still with the unit (rectify, verify).
_WITH_UNIT = {State.DISPATCHED.value, State.REWORK.value, State.ESCALATED.value}


@dataclass(frozen=True)
class ItemEntry:
    """One item as the inspector answered it."""

    code: str
    result: str | None = None  # pass, fail, fixed (立行立改) or na; a count or ratio may give only its value
    value: float | None = None
    note: str = ""
    photos: list[str] = field(default_factory=list)  # of the problem
    after_photos: list[str] = field(default_factory=list)  # of the fix made on the spot


@dataclass(frozen=True)
class Entry:
    """One point's inspection as the phone (or an inspection app) sends it."""

    point_id: str
    at: datetime | None  # when recorded on the phone (None: when received)
    lon: float | None
    lat: float | None
    accuracy_m: float | None
    items: list[ItemEntry]

    def digest(self, actor: str) -> str:
        """Fingerprint of the entry and its sender: a retry is the same, another entry under the same key is not."""
        body = {"actor": actor, **asdict(self), "at": self.at.isoformat() if self.at else None}
        return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Setting:
    """What recording needs from the service: routing, the distance beyond which a position is
    far from its point, the worker's calendar and index, what a failure found again costs."""

    config: RoutingConfig
    far_m: float
    worker: WorkerState
    repeat_factor: float = REPEAT_FACTOR


def record(session: Session, layer: ZoneLayer, checklists: Checklists, round_: Round, entry: Entry, caller: Caller, idempotency_key: str,
           setting: Setting) -> tuple[Inspection, bool]:
    """Store ``entry`` for ``caller`` in ``round_`` and act on it; returns the inspection and whether
    it is new (False: the same entry sent again under its key)."""
    digest = entry.digest(caller.actor)
    stored = session.scalar(select(Inspection).where(Inspection.idempotency_key == idempotency_key))
    if stored is not None:
        if stored.request_hash != digest:
            raise ConflictError("Idempotency-Key: reused with another inspection", field="Idempotency-Key", problem="reused with another body")
        return stored, False
    point = next((p for p in round_.points if p.point_id == entry.point_id), None)
    if point is None:
        raise InvalidInputError(f"point_id: {entry.point_id!r} is not a point of round {round_.id}", field="point_id", problems=["not in the round"])
    if not rounds.may_inspect(caller, round_, point):
        raise NotAllowedError(f"point {point.point_id} of round {round_.id} is another inspector's")
    items = _checked(checklists, point, entry, caller, session)
    distance = _distance(layer, point.point_id, entry)
    far = distance is not None and distance > setting.far_m
    repeated = set(_parent_failures(session, round_, point.point_id)) if round_.kind == rounds.RECHECK else set()
    results = {code: result for code, (_item, result, _entry) in items.items()}
    points = score([i for i, _r, _e in items.values()], results, repeated, setting.repeat_factor)
    lost = {d.code: d.points for d in points.deductions}
    cases = _act(session, layer, round_, point, entry, caller, items, repeated, far, setting)
    received = now()
    inspection = Inspection(  # a phone's clock running ahead does not date it in the future
        round_id=round_.id, point_id=point.point_id, inspector=caller.actor, at=min(entry.at or received, received), received_at=received,
        lon=entry.lon, lat=entry.lat, accuracy_m=entry.accuracy_m, distance_m=None if distance is None else round(distance, 1), far=far,
        idempotency_key=idempotency_key, request_hash=digest, possible=points.possible, score=points.score,
        items=[{"code": code, "result": result.value, "value": e.value, "note": e.note, "photos": e.photos, "after_photos": e.after_photos,
                "report_id": cases.get(code), "repeated": code in repeated and result in (Result.FAIL, Result.FIXED), "points": lost.get(code, 0.0)}
               for code, (_item, result, e) in items.items()],
    )
    session.add(inspection)
    session.flush()
    return inspection, True


def _checked(checklists: Checklists, point: RoundPoint, entry: Entry, caller: Caller, session: Session) -> dict[str, tuple[Item, Result, ItemEntry]]:
    """Each answered item with its result; anything that does not fit the checklist is refused by its field."""
    out: dict[str, tuple[Item, Result, ItemEntry]] = {}
    for pos, answer in enumerate(entry.items):
        where = f"items[{pos}]"
        item = checklists.item(point.point_type, answer.code)
        if item is None or (point.codes is not None and answer.code not in point.codes):
            raise InvalidInputError(f"{where}.code: {answer.code!r} is not an item this point is inspected against", field=f"{where}.code",
                                    problems=["not an item of the point's checklist"])
        if answer.code in out:
            raise InvalidInputError(f"{where}.code: {answer.code} is answered twice", field=f"{where}.code", problems=["answered twice"])
        if answer.result is not None and answer.result not in Result.values():
            raise InvalidInputError(f"{where}.result: one of {', '.join(Result.values())}", field=f"{where}.result",
                                    problems=[f"one of {', '.join(Result.values())}"])
        if answer.value is not None and not (math.isfinite(answer.value) and answer.value >= 0):
            raise InvalidInputError(f"{where}.value: a count or share, 0 or more", field=f"{where}.value", problems=["0 or more"])
        result = item.result_of(answer.result, answer.value)
        if result in (Result.FAIL, Result.FIXED) and not answer.photos:
            raise InvalidInputError(f"{where}.photos: a problem found needs a photo of it", field=f"{where}.photos", problems=["a photo is required"])
        if result is Result.FIXED and not answer.after_photos:
            raise InvalidInputError(f"{where}.after_photos: a fix on the spot needs a photo of it", field=f"{where}.after_photos",
                                    problems=["a photo is required"])
        services.check_photos(session, [*answer.photos, *answer.after_photos], caller, f"{where}.photos")
        out[answer.code] = (item, result, answer)
    return out


def _point_geometry(layer: ZoneLayer, point_id: str) -> shapely.Geometry | None:
    rows = layer.test_points[layer.test_points["point_id"].astype(str) == point_id]
    return None if rows.empty else rows.geometry.iloc[0]


def _distance(layer: ZoneLayer, point_id: str, entry: Entry) -> float | None:
    """Metres from where the inspector stood to the point (0 inside an area point); None without a position."""
    geometry = _point_geometry(layer, point_id)
    if entry.lon is None or entry.lat is None or geometry is None:
        return None
    x, y = layer.to_metric.transform(entry.lon, entry.lat)
    return float(shapely.distance(shapely.transform(geometry, lambda c: _metric(layer, c)), shapely.Point(x, y)))


def _metric(layer: ZoneLayer, coords: Any) -> Any:
    xs, ys = layer.to_metric.transform(coords[:, 0], coords[:, 1])
    return np.column_stack([xs, ys])


def _parent_failures(session: Session, round_: Round, point_id: str) -> dict[str, int | None]:
    """The items that failed at the point in the round this one goes back to, with the case each opened."""
    parent = rounds.latest(session, round_.parent_id).get(point_id) if round_.parent_id is not None else None
    if parent is None:
        return {}
    return {i["code"]: i.get("report_id") for i in parent.items if i["result"] in (Result.FAIL.value, Result.FIXED.value)}


def _act(session: Session, layer: ZoneLayer, round_: Round, point: RoundPoint, entry: Entry, caller: Caller,
         items: dict[str, tuple[Item, Result, ItemEntry]], repeated: set[str], far: bool, setting: Setting) -> dict[str, int]:
    """Open a case for each failure not fixed on the spot (one still open from the round gone back
    to stays the case); close the cases of items a re-inspection finds fixed. The case of each item, by code."""
    earlier = _parent_failures(session, round_, point.point_id) if round_.kind == rounds.RECHECK else {}
    cases: dict[str, int] = {}
    for code, (item, result, answer) in items.items():
        before = session.get(Report, earlier[code]) if earlier.get(code) else None
        if result is Result.FAIL:
            if before is not None and before.state in {s.value for s in OPEN_STATES}:
                cases[code] = before.id
                continue
            cases[code] = _open_case(session, layer, round_, point, entry, caller, item, answer, far, setting).id
        elif result is Result.PASS and before is not None:
            _close(session, layer, before, caller, answer, setting)
            cases[code] = before.id
    return cases


def _open_case(session: Session, layer: ZoneLayer, round_: Round, point: RoundPoint, entry: Entry, caller: Caller, item: Item, answer: ItemEntry,
               far: bool, setting: Setting) -> Report:
    """The failure as a report of the round's level: at the inspector's position (the point's when far or unknown)."""
    geometry = _point_geometry(layer, point.point_id)
    names = layer.test_points.set_index(layer.test_points["point_id"].astype(str))["name"]
    if entry.lon is not None and entry.lat is not None and not far:
        location = Location(entry.lon, entry.lat, "wgs84", entry.accuracy_m)
    else:
        spot = shapely.point_on_surface(geometry)
        location = Location(float(spot.x), float(spot.y), "wgs84", None)
    description = f"{names.get(point.point_id, point.point_id)}：{item.text}（{round_.name}）{'；' + answer.note if answer.note else ''}"
    submission = Submission(location=location, category=item.category, description=description[:2000], photos=answer.photos, source=round_.level,
                            reporter_contact=None, client_ref=None, test_point_id=point.point_id, round_id=round_.id)
    report, _new = services.submit(session, layer, setting.config, submission, idempotency_key=None, caller=caller, worker=setting.worker)
    adopter = _adopter(layer, point.point_id)
    if item.owner is Owner.ADOPTER and adopter and report.unit_id != adopter and report.state == State.DISPATCHED.value:
        report = session.get(Report, report.id) or report
        services.by_inspection(session, layer, report, Action.REASSIGN, caller.actor, note=f"测评点位 {point.point_id} 的包联单位负责此项",
                               unit_id=adopter, worker=setting.worker)
    return report


def _adopter(layer: ZoneLayer, point_id: str) -> str | None:
    rows = layer.test_points[layer.test_points["point_id"].astype(str) == point_id]
    unit = None if rows.empty else rows["unit_id"].iloc[0]
    return unit if isinstance(unit, str) and unit else None


def _close(session: Session, layer: ZoneLayer, report: Report, caller: Caller, answer: ItemEntry, setting: Setting) -> None:
    """A re-inspection found the item fixed: the case is verified (rectified first if the unit had not said so)."""
    evidence = answer.after_photos or answer.photos
    try:
        if report.state in _WITH_UNIT:
            services.by_inspection(session, layer, report, Action.RECTIFY, caller.actor, note="回头看复查：已整改", evidence=evidence, worker=setting.worker)
        if report.state == State.RECTIFIED.value:
            services.by_inspection(session, layer, report, Action.VERIFY, caller.actor, note="回头看复查合格，消号", worker=setting.worker)
    except IllegalTransitionError:  # held, disputed or already closed: left to the dispatchers
        return
