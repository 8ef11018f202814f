"""Use-cases combining the domain with storage: submit, transition, list, figures. No Flask."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from api.auth.roles import Caller, Role
from api.persistence import after_commit, insert_or_skip
from api.persistence.clock import now
from api.persistence.models import OutboxMessage, Photo, PublicPhoto, Report, Support, Transition, decision_values
from api.reports import notifications
from api.reports.citizens import new_public_ref
from api.reports.open_reports import OpenReports
from api.reports.photos import CleanPhoto
from api.routing.location import Location
from geodata.crs import points_to_wgs84
from zones import workflow
from zones.config import RoutingConfig
from zones.decision import Decision
from zones.enums import Status
from zones.errors import ConflictError, InvalidInputError, NotAllowedError, ZonemapError
from zones.figures import FACT_COLUMNS, CaseFacts
from zones.intake import refusals_of_one
from zones.layer import ZoneLayer
from zones.router import route_one
from zones.workflow import Action, State
from zones.worktime import WorkCalendar

ROUTER_ACTOR = "router"
#: Who the history names for a reporter's own step (reopening a published report).
REPORTER_ACTOR = "public@web"


@dataclass(frozen=True)
class WorkerState:
    """What a serving process keeps beside the database for the use-cases: the working calendar
    deadlines and working hours are counted on, and its index of open reports, in which a new
    report's possible duplicate is found (none: nothing is flagged), and what reporters' messages
    need (none: reporters are not told)."""

    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    open_reports: OpenReports | None = None
    news: notifications.ReporterNews | None = None


#: The state of a call that names none (the CLI, a script): Monday to Friday at the default hours, no index.
OFFLINE = WorkerState()
NEEDS_NOTE = (Action.DISPUTE, Action.REJECT, Action.MARK_DUPLICATE, Action.REWORK, Action.REQUEST_EXTENSION, Action.REFUSE_EXTENSION,
              Action.HOLD, Action.OVERRULE)  # a reason is required
#: The date an action must name, by the field that holds it: the deadline an extension asks for, a hold's review.
NEEDS_DATE = {Action.REQUEST_EXTENSION: "deadline_at", Action.HOLD: "review_at"}
ASSIGNED = {Status.ROUTED.value, Status.AMBIGUOUS.value, Status.NEAREST.value, Status.FALLBACK.value, Status.DEPARTMENT.value}


@dataclass(frozen=True)
class Submission:
    """A validated report as the client sent it."""

    location: Location
    category: str
    description: str
    photos: list[str]
    source: str
    reporter_contact: str | None
    client_ref: str | None
    test_point_id: str | None = None  # the test point a failed inspection item was found at (else the router's)
    round_id: int | None = None  # the inspection round it comes from

    def digest(self, actor: str) -> str:
        """Fingerprint of the body and its sender, to tell a retry from a different report (or
        another caller's) under the same key."""
        body = {
            "actor": actor,
            "lon": self.location.lon, "lat": self.location.lat, "crs": self.location.crs, "accuracy_m": self.location.accuracy_m,
            "category": self.category, "description": self.description, "photos": self.photos, "source": self.source,
            "reporter_contact": self.reporter_contact, "client_ref": self.client_ref,
            **({"test_point_id": self.test_point_id, "round_id": self.round_id} if self.round_id is not None else {}),
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass(frozen=True)
class Routed:
    """A point routed: where it is in WGS84, and the decision."""

    lon: float
    lat: float
    decision: Decision

    def as_json(self) -> dict[str, Any]:
        """The decision with the point, as ``GET /api/v1/route`` answers it."""
        return {**self.decision.as_json(), "lon": self.lon, "lat": self.lat}


def decide(layer: ZoneLayer, config: RoutingConfig, location: Location, category: str) -> Routed:
    """Convert the location to WGS84 and route it; unknown categories, and places that leave
    China in the conversion (the edge of a shifted system), are refused."""
    layer.category(category)  # UnknownCategoryError names the known ones
    lon, lat = points_to_wgs84([location.lon], [location.lat], location.crs)
    moved = (float(lon[0]), float(lat[0])) != (location.lon, location.lat)  # else the place was checked as it was given
    for refusal in refusals_of_one(float(lon[0]), float(lat[0]), location.accuracy_m) if moved else ():
        raise InvalidInputError(f"{refusal.field}: in WGS84, {refusal.message}", field=refusal.field, problems=[f"in WGS84, {refusal.message}"])
    return Routed(float(lon[0]), float(lat[0]), route_one(float(lon[0]), float(lat[0]), category, layer, config, accuracy_m=location.accuracy_m))


def _existing(session: Session, key: str | None, client_ref: str | None) -> Report | None:
    """The report stored under this idempotency key, else under this client reference."""
    table = Report.__table__
    connection = session.connection()
    for column, value in ((table.c.idempotency_key, key), (table.c.client_ref, client_ref)):
        if value:
            found = connection.execute(select(table.c.id).where(column == value)).scalar()
            if found is not None:
                return session.get(Report, found)
    return None


def _insert_new(connection: Connection, row: dict[str, Any]) -> int | None:
    """Insert a report unless its idempotency key or client_ref is taken; its id, or None."""
    table = Report.__table__
    return connection.execute(insert_or_skip(connection, table, returning=table.c.id), row).scalar()


def _replay(found: Report, digest: str) -> Report:
    """The stored report for a retry; a key reused with another body, or by another caller, is
    refused without showing what is stored under it."""
    if found.request_hash != digest:
        raise ConflictError("this idempotency key or client_ref was already used for a different report or by another client",
                            field="Idempotency-Key", problem="reused with a different body or by another client")
    return found


#: A report's history rows and outbox messages as `submit` writes them (immutable: built once).
_INSERT_STEPS, _INSERT_MESSAGES = insert(Transition.__table__), insert(OutboxMessage.__table__)

PHOTO_PATH = "/api/v1/photos/"


def check_photos(session: Session, refs: list[str], caller: Caller, field: str) -> None:
    """A report or its evidence may name this service's photos only as their uploader did (a
    dispatcher any): quoting another's photo id must not open it to the quoting unit."""
    ours = {ref.removeprefix(PHOTO_PATH) for ref in refs if ref.startswith(PHOTO_PATH)}
    if not ours or caller.role == Role.DISPATCHER:
        return
    found = {photo_id: uploader for photo_id, uploader in session.execute(select(Photo.id, Photo.created_by).where(Photo.id.in_(ours)))}
    foreign = sorted(p for p in ours if found.get(p) != caller.actor)
    if foreign:
        raise InvalidInputError(f"{field}: {PHOTO_PATH}{foreign[0]} is not a photo this caller uploaded", field=field,
                                problems=[f"{PHOTO_PATH}{p} was not uploaded by this caller" for p in foreign])


def store_photo(session: Session, photo: CleanPhoto, actor: str) -> str:
    """Store a cleaned photo for ``actor``; its id, one per uploader (the id names who may quote
    it). The same photo sent twice at once by one caller is one row: the second insert does nothing."""
    photo_id = hashlib.sha256(f"{actor}\n{photo.id}".encode()).hexdigest()
    connection = session.connection()
    connection.execute(insert_or_skip(connection, Photo.__table__), {
        "id": photo_id, "content_type": photo.content_type, "data": photo.data, "width": photo.width, "height": photo.height,
        "thumb": photo.thumb, "created_at": now(), "created_by": actor})
    return photo_id


def submit(session: Session, layer: ZoneLayer, config: RoutingConfig, item: Submission, *, idempotency_key: str | None, caller: Caller,
           worker: WorkerState = OFFLINE) -> tuple[Report, bool]:
    """Store, route and (when an owner was found) dispatch a report in one transaction, its
    deadline counted on the worker's calendar in the category's unit; an open report of its campaign
    group close by in the worker's index makes it a possible duplicate of that one (never merged by itself).

    Returns the report and whether it was created now (False: an idempotent retry). The report
    is written once, in its final state, with its history (submit, and dispatch when routed) and
    its outbox message: one INSERT per table.
    """
    digest = item.digest(caller.actor)
    calendar, open_reports = worker.calendar, worker.open_reports
    check_photos(session, item.photos, caller, "photos")
    try:
        routed = decide(layer, config, item.location, item.category)
    except ZonemapError:  # perhaps a retry of a report stored before its category left the layer
        found = _existing(session, idempotency_key, item.client_ref)
        if found is None:
            raise
        return _replay(found, digest), False
    stamp = now()
    decision = routed.decision
    row: dict[str, Any] = {
        "client_ref": item.client_ref, "idempotency_key": idempotency_key, "request_hash": digest,
        "lon": routed.lon, "lat": routed.lat, "input_crs": item.location.crs, "input_lon": item.location.lon, "input_lat": item.location.lat,
        "accuracy_m": item.location.accuracy_m, "category": item.category, "description": item.description, "photos": item.photos,
        "source": item.source, "reporter_contact": item.reporter_contact, "created_at": stamp, "updated_at": stamp, "state": State.SUBMITTED.value,
        "unit_id": None, "deadline_at": None, **decision_values(decision), "row_version": 1, "public_ref": new_public_ref(),
        "possible_duplicate_of": None, "round_id": item.round_id, **CaseFacts().as_row(),
    }
    if item.test_point_id is not None:
        row["test_point_id"] = item.test_point_id
    steps = [{"action": "submit", "from_state": None, "to_state": State.SUBMITTED.value, "unit_id": None, "actor": caller.actor, "note": "",
              "evidence": [], "due_at": None, "at": stamp}]
    dispatched = decision.status in ASSIGNED and decision.unit_id
    if dispatched:
        row["state"] = workflow.apply(State.SUBMITTED.value, Action.DISPATCH).value
        row["unit_id"] = decision.unit_id
        limit = layer.category_table.get(item.category)
        if limit is not None:
            row["deadline_at"] = calendar.due(stamp, limit.deadline, limit.deadline_unit)
        row.update(CaseFacts().after(Action.DISPATCH.value, stamp, unit_id=decision.unit_id, deadline=row["deadline_at"], calendar=calendar).as_row())
        steps.append({"action": Action.DISPATCH.value, "from_state": State.SUBMITTED.value, "to_state": row["state"], "unit_id": row["unit_id"],
                      "actor": ROUTER_ACTOR, "note": decision.reason or "", "evidence": [], "due_at": row["deadline_at"], "at": stamp})
    if open_reports is not None:  # the index reads other workers' changes at most once a second (`OpenReports.refresh`)
        open_reports.refresh(session, stamp)
        row["possible_duplicate_of"] = open_reports.original_near(routed.lon, routed.lat, layer.same_group(item.category))
    # The report is this transaction's first statement, so a retry costs no extra round trip: a
    # key or client_ref already stored (or being stored by a concurrent retry, which PostgreSQL
    # waits for) inserts nothing, and the stored report is answered instead.
    connection = session.connection()
    report_id = _insert_new(connection, row)
    if report_id is None:
        found = _existing(session, idempotency_key, item.client_ref)
        if found is None:  # a conflict names a stored row; this cannot happen
            msg = "a report conflicted on its key but cannot be found"
            raise RuntimeError(msg)
        return _replay(found, digest), False
    connection.execute(_INSERT_STEPS, [{"report_id": report_id, **step} for step in steps])
    report = Report(id=report_id, **row)  # not added to the session: it is already stored
    if dispatched:
        connection.execute(_INSERT_MESSAGES, notifications.rows(session, report, Action.DISPATCH, stamp, news=worker.news, new=True))
    if open_reports is not None:
        after_commit(session, open_reports.after(report))
    return report, True


def _move(session: Session, report: Report, action: Action, actor: str, *, note: str = "", evidence: list[str] | None = None,
          unit_id: str | None = None, due: Callable[[datetime], datetime] | None = None, until: datetime | None = None,
          at: datetime | None = None, calendar: WorkCalendar = OFFLINE.calendar, news: notifications.ReporterNews | None = None) -> None:
    """Apply ``action`` to the report, record the step, keep the report's facts for the figures
    and write its notifications (its reporters' with ``news``); ``due`` counts a new deadline from
    the step's moment, ``until`` is the date an extension asks for or a hold is reviewed on; time to
    rectify is counted on ``calendar``."""
    stamp = at or now()
    target = workflow.apply(report.state, action, extension_requested=report.extension_until is not None)
    step_due = None
    if action in (Action.DISPATCH, Action.REASSIGN) and unit_id:
        report.unit_id = unit_id
    if action in workflow.SETS_DEADLINE and due is not None and (unit_id or action not in (Action.DISPATCH, Action.REASSIGN)):
        report.deadline_at = step_due = due(stamp)
    elif action == Action.APPROVE_EXTENSION:
        report.deadline_at = step_due = report.extension_until
    if action not in workflow.KEEPS_REQUEST:
        report.extension_until = None
    if action == Action.REQUEST_EXTENSION:
        report.extension_until = step_due = until
    if action == Action.HOLD:
        report.review_at = step_due = until
    elif report.state == State.HELD.value:
        report.review_at = None
    session.add(Transition(report_id=report.id, action=action.value, from_state=report.state, to_state=target.value,
                           unit_id=report.unit_id, actor=actor, note=note, evidence=evidence or [], due_at=step_due, at=stamp))
    facts = CaseFacts(**{name: getattr(report, name) for name in FACT_COLUMNS})
    for name, value in facts.after(action.value, stamp, unit_id=report.unit_id, deadline=report.deadline_at, calendar=calendar).as_row().items():
        setattr(report, name, value)
    report.state = target.value
    report.updated_at = stamp
    notifications.enqueue(session, report, action, stamp, note=note, news=news)


def _dated(report: Report, action: Action, dates: dict[str, datetime | None], at: datetime) -> datetime | None:
    """The date ``action`` names (`NEEDS_DATE`): an extension asks for a deadline later than the
    present one and than now, a hold names a review date still to come; no other action takes one."""
    needed = NEEDS_DATE.get(action)
    for name, value in dates.items():
        if value is not None and name != needed:
            raise InvalidInputError(f"{name}: only {' or '.join(a.value for a, f in NEEDS_DATE.items() if f == name)} takes it", field=name,
                                    problems=["not with this action"])
    if needed is None:
        return None
    value = dates.get(needed)
    if value is None:
        raise InvalidInputError(f"{needed}: {action.value} names a date", field=needed, problems=["is required"])
    floor = max(at, report.deadline_at) if action == Action.REQUEST_EXTENSION and report.deadline_at else at
    if value <= floor:
        raise InvalidInputError(f"{needed}: {value.isoformat()} is not after {floor.isoformat()}", field=needed,
                                problems=[f"must be after {floor.isoformat()}"])
    return value


def transition(session: Session, layer: ZoneLayer, report: Report, caller: Caller, action: str, *, note: str, evidence: list[str], unit_id: str | None,
               public_photos: list[str] | None = None, duplicate_of: Report | None = None, deadline_at: datetime | None = None,
               review_at: datetime | None = None, worker: WorkerState = OFFLINE) -> Report:
    """Apply ``action`` for ``caller``: units only rectify, dispute or ask for more time on their
    own reports.

    A new deadline (dispatch, reassignment, release, overruled dispute) is counted on the worker's
    calendar; an extension request names the ``deadline_at`` it asks for, a hold its ``review_at``.

    Publishing shows ``public_photos`` on the public board: any of the report's own photos and
    of its rectification evidence (default: the evidence of the rectification that was verified
    alone, since the reporter's photos may show people and need a dispatcher's choice, and a
    rectification sent back did not fix it). Marking a duplicate of
    ``duplicate_of`` merges the report into it: its reporter and its +1s count there.
    """
    act = Action(action)
    if act in workflow.REPORTER_ACTIONS:
        raise NotAllowedError(f"{act.value} is a reporter's, from the report's public page")
    if caller.role == Role.UNIT:
        if act not in workflow.UNIT_ACTIONS:
            raise NotAllowedError(f"a unit may only {', '.join(sorted(a.value for a in workflow.UNIT_ACTIONS))}")
    elif caller.role != Role.DISPATCHER:
        raise NotAllowedError(f"a {caller.role.value} token may not change reports")
    if act in NEEDS_NOTE and not note:
        raise InvalidInputError(f"note: {act.value} needs a reason", field="note", problems=["is required"])
    if act == Action.REASSIGN and not unit_id:
        raise InvalidInputError("unit_id: reassign names the new unit", field="unit_id", problems=["is required"])
    if act in (Action.DISPATCH, Action.REASSIGN) and unit_id and not layer.knows_unit(unit_id):
        raise InvalidInputError(f"unit_id: no unit {unit_id!r} in the current layer or its units table", field="unit_id",
                                problems=["is not a unit of the current layer"])
    if public_photos is not None and act != Action.PUBLISH:
        raise InvalidInputError("public_photos: only a publish action publishes photos", field="public_photos", problems=["only with publish"])
    if duplicate_of is not None and (act != Action.MARK_DUPLICATE or duplicate_of.id == report.id or duplicate_of.state == State.DUPLICATE.value):
        raise InvalidInputError("duplicate_of: names another report, not itself nor a duplicate, and only with mark_duplicate", field="duplicate_of",
                                problems=["another report that is no duplicate itself, with mark_duplicate"])
    until = _dated(report, act, {"deadline_at": deadline_at, "review_at": review_at}, now())
    check_photos(session, evidence, caller, "evidence")
    limit = layer.category_table.get(report.category) if act in workflow.SETS_DEADLINE else None
    due = None if limit is None else functools.partial(worker.calendar.due, amount=limit.deadline, unit=limit.deadline_unit)
    _move(session, report, act, caller.actor, note=note, evidence=evidence, unit_id=unit_id, due=due, until=until, calendar=worker.calendar,
          news=worker.news)
    if act == Action.PUBLISH:
        _publish_photos(session, report, public_photos)
    if duplicate_of is not None:
        _merge(session, report, duplicate_of)
    if worker.open_reports is not None:
        after_commit(session, worker.open_reports.after(report))
    return report


def reopenable(report: Report, days: float, at: datetime) -> bool:
    """Whether a reporter may still say the published fix did not hold: published, and not more than ``days`` ago."""
    published = [t.at for t in report.transitions if t.action == Action.PUBLISH.value]
    return report.state == State.PUBLISHED.value and bool(published) and at - published[-1] <= timedelta(days=days)


#: The steps an inspection round takes on the cases it opened (`by_inspection`).
INSPECTION_ACTIONS = (Action.REASSIGN, Action.RECTIFY, Action.VERIFY)


def by_inspection(session: Session, layer: ZoneLayer, report: Report, action: Action, actor: str, *, note: str, evidence: list[str] | None = None,
                  unit_id: str | None = None, worker: WorkerState = OFFLINE) -> None:
    """A step an inspection takes on a case it opened: hand it to the test point's adopting unit
    (reassign, with a new deadline), or close it (rectify, then verify) when a re-inspection finds
    the item fixed. A step the report's state does not allow raises `IllegalTransitionError`."""
    if action not in INSPECTION_ACTIONS:
        raise NotAllowedError(f"an inspection may only {', '.join(a.value for a in INSPECTION_ACTIONS)}")
    limit = layer.category_table.get(report.category) if action in workflow.SETS_DEADLINE else None
    due = None if limit is None else functools.partial(worker.calendar.due, amount=limit.deadline, unit=limit.deadline_unit)
    _move(session, report, action, actor, note=note, evidence=evidence, unit_id=unit_id, due=due, calendar=worker.calendar, news=worker.news)


def reopen(session: Session, report: Report, reason: str, photos: list[str], *, days: float, worker: WorkerState = OFFLINE) -> Report:
    """整改不满意: a reporter (anyone holding the reference) says the published fix did not hold,
    within ``days`` of its publication; the report goes back to the dispatchers with the reason and
    photos, and its fix no longer counts as done."""
    if not reopenable(report, days, now()):
        raise ConflictError(f"report {report.public_ref} can be reopened only within {days:g} days of its publication", field="state",
                            problem="not published lately")
    if not reason.strip():
        raise InvalidInputError("reason: say what is still wrong", field="reason", problems=["is required"])
    _move(session, report, Action.REOPEN, REPORTER_ACTOR, note=reason.strip(), evidence=photos, calendar=worker.calendar)
    if worker.open_reports is not None:
        after_commit(session, worker.open_reports.after(report))
    return report


def merge(session: Session, layer: ZoneLayer, original: Report, duplicates: list[Report], caller: Caller, worker: WorkerState = OFFLINE) -> int:
    """Mark each of ``duplicates`` a duplicate of ``original`` (their reporters and +1s count
    there); how many. A report that is not open, or is the original, is refused by name."""
    for duplicate in duplicates:
        if duplicate.id == original.id:
            raise InvalidInputError(f"report_ids: {original.id} is the report merged into", field="report_ids", problems=["the original itself"])
        transition(session, layer, duplicate, caller, Action.MARK_DUPLICATE.value, note=f"合并到 #{original.id}", evidence=[], unit_id=None,
                   duplicate_of=original, worker=worker)
    return len(duplicates)


def _merge(session: Session, duplicate: Report, original: Report) -> None:
    """Count the duplicate's reporter and its +1s on the original (DESIGN: merging keeps every
    reporter's +1)."""
    session.execute(update(Support).where(Support.report_id == duplicate.id).values(report_id=original.id).execution_options(synchronize_session=False))
    session.add(Support(report_id=original.id, created_at=duplicate.created_at, reporter_contact=duplicate.reporter_contact, source=duplicate.source))


def verified_evidence(report: Report) -> list[str]:
    """The photos of the rectification a dispatcher verified (the last one): those sent back are not the fix."""
    fixes = [t for t in report.transitions if t.action == Action.RECTIFY.value]
    return list(fixes[-1].evidence) if fixes else []


def _publish_photos(session: Session, report: Report, chosen: list[str] | None) -> None:
    """Record which of the report's photos (before) and rectification evidence (after) the
    public board shows; a reference that is neither is refused (422)."""
    before = list(report.photos)
    after = [ref for t in report.transitions if t.action == Action.RECTIFY.value for ref in t.evidence]
    chosen = verified_evidence(report) if chosen is None else chosen
    unknown = [ref for ref in chosen if ref not in before and ref not in after]
    if unknown:
        raise InvalidInputError(f"public_photos: {unknown[0]} is neither a photo of this report nor of its rectification", field="public_photos",
                                problems=[f"{ref} is not a photo of this report" for ref in unknown])
    rows = {ref.removeprefix(PHOTO_PATH): "before" if ref in before else "after" for ref in chosen if ref.startswith(PHOTO_PATH)}
    session.execute(delete(PublicPhoto).where(PublicPhoto.report_id == report.id))  # published again after a reopening: the new choice
    session.add_all(PublicPhoto(report_id=report.id, photo_id=photo_id, kind=kind) for photo_id, kind in rows.items())


def actions_of(report: Report) -> list[str]:
    """The actions the report's state allows now (an extension request waiting or not)."""
    return workflow.allowed_actions(report.state, extension_requested=report.extension_until is not None)


def is_overdue(report: Report, at: datetime) -> bool:
    """Open, and past its deadline."""
    deadline = report.deadline_at
    if deadline is None or report.state not in {s.value for s in workflow.OPEN_STATES}:
        return False
    return deadline < at


def escalate_overdue(session: Session, at: datetime | None = None) -> int:
    """Escalate every dispatched or reworked report past its deadline; returns how many."""
    at = at or now()
    count = 0
    for report in session.scalars(select(Report).where(Report.state.in_([State.DISPATCHED.value, State.REWORK.value]))):
        if is_overdue(report, at):
            _move(session, report, Action.ESCALATE, "escalator", note="整改时限已过，自动督办", at=at)
            count += 1
    return count


def erase_contacts(session: Session, older_than_days: float, at: datetime | None = None) -> tuple[int, int]:
    """Remove the reporter's contact from every report, every +1 and every message to a reporter
    made more than ``older_than_days`` ago; how many reports and +1s."""
    if older_than_days < 0:
        msg = f"the retention age must not be negative, got {older_than_days:g} days"
        raise ValueError(msg)
    cutoff = (at or now()) - timedelta(days=older_than_days)
    erased = []
    for table in (Report, Support):
        result = session.execute(update(table).where(table.created_at < cutoff, table.reporter_contact.is_not(None)).values(reporter_contact=None)
                                 .execution_options(synchronize_session=False))
        erased.append(int(result.rowcount or 0))
    notifications.erase_phones(session, cutoff)
    return erased[0], erased[1]
