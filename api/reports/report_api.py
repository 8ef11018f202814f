"""Reports: submit, read, list, move through the workflow; the route-a-point endpoint; units
with their figures; and the public board."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth.callers import require
from api.auth.roles import Caller, Role
from api.figures import figures_api, queries
from api.layers import live
from api.layers.live import current_layer
from api.persistence.clock import iso, now
from api.persistence.models import CODE_LENGTH, KEY_LENGTH, MAX_ID, Report
from api.reports import citizens, console, open_reports, schemas, services
from api.web import contract, parsing, ratelimit
from api.web.errors import ApiError
from zones import workflow
from zones.decision import Decision
from zones.enums import ReportSource, Status
from zones.workflow import State
from zones.worktime import TIMEZONE

bp = Blueprint("reports", __name__, url_prefix="/api/v1")
ANY = (Role.DISPATCHER, Role.PLANNER, Role.UNIT, Role.LEADER, Role.INSPECTOR, Role.PUBLIC)
STAFF = (Role.DISPATCHER, Role.PLANNER, Role.UNIT)


def report_json(report: Report, caller: Caller, *, history: bool = False) -> dict[str, Any]:
    """A report as its readers see it: the reporter's contact only for dispatchers."""
    at = now()
    out: dict[str, Any] = {
        "id": report.id,
        "public_ref": report.public_ref,
        "client_ref": report.client_ref,
        "category": report.category,
        "description": report.description,
        "photos": report.photos,
        "source": report.source,
        "lon": report.lon,
        "lat": report.lat,
        "input": {"lon": report.input_lon, "lat": report.input_lat, "crs": report.input_crs},
        "accuracy_m": report.accuracy_m,
        "created_at": iso(report.created_at),
        "updated_at": iso(report.updated_at),
        "state": report.state,
        "allowed_actions": services.actions_of(report),
        "unit_id": report.unit_id,
        "deadline_at": iso(report.deadline_at),
        "extension_until": iso(report.extension_until),
        "possible_duplicate_of": report.possible_duplicate_of,
        "review_at": iso(report.review_at),
        "overdue": services.is_overdue(report, at),
        "decision": report.decision.as_json(),
    }
    if caller.role == Role.DISPATCHER:
        out["reporter_contact"] = report.reporter_contact
    if history:
        out["supporters"] = citizens.supporters(g.db, [report.id]).get(report.id, 0)
        out["history"] = [
            {"action": t.action, "from_state": t.from_state, "to_state": t.to_state, "unit_id": t.unit_id,
             "actor": t.actor, "note": t.note, "evidence": t.evidence, "due_at": iso(t.due_at), "at": iso(t.at)}
            for t in report.transitions
        ]
    return out


def _visible(session: Session, report_id: int, caller: Caller) -> Report:
    report = session.get(Report, report_id)
    if report is None or (caller.role == Role.UNIT and report.unit_id != caller.unit_id) or caller.role == Role.PUBLIC:
        raise ApiError(404, f"no report {report_id}")
    return report


@bp.post("/reports")
@contract.operation("Submit a report: validated, routed, stored, dispatched", body=schemas.NewReport, status="201", answer=schemas.Report,
                    also={"200": "The report stored by an earlier request with the same Idempotency-Key or client_ref"},
                    params=[contract.Param("Idempotency-Key", {"type": "string", "maxLength": KEY_LENGTH}, "header")],
                    errors=("400", "401", "403", "409", "413", "422", "429"))
def submit() -> ResponseReturnValue:
    """Validate, route, store and dispatch a report; a retry with the same key returns it again."""
    caller = require(*ANY)
    ratelimit.check_submission(caller)
    data = parsing.body(request.get_json(silent=True), schemas.NewReport)
    item = services.Submission(
        location=parsing.location(data.location_fields()),
        category=data.category,
        description=data.description or "",
        photos=data.photos or [],
        source=data.source or ReportSource.CITIZEN.value,
        reporter_contact=data.reporter_contact,
        client_ref=data.client_ref,
    )
    key = parsing.idempotency_key(request.headers.get("Idempotency-Key"))
    session: Session = g.db
    report, created = services.submit(session, current_layer(), current_app.config["ROUTING"], item, idempotency_key=key, caller=caller,
                                       worker=live.worker())
    session.flush()
    response = jsonify(report_json(report, caller))
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"/api/v1/reports/{report.id}"
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.get(f"/reports/<int(max={MAX_ID}):report_id>")
@contract.operation("One report with its history", answer=schemas.Report, errors=("401", "403", "404"))
def get_report(report_id: int) -> ResponseReturnValue:
    """One report with its history."""
    caller = require(*STAFF)
    return jsonify(report_json(_visible(g.db, report_id, caller), caller, history=True))


@bp.get("/reports")
@contract.operation("List reports", answer=schemas.ReportPage, errors=("401", "403", "422"), params=[
    contract.query("status", enum=State.values()), contract.query("decision", enum=Status.values()),
    *(contract.query(name, pattern=contract.NO_NUL) for name in ("unit", "category", "area")), contract.query("bbox", pattern=f"^{parsing.BBOX}$"),
    contract.query("since", format="date-time"), contract.query("until", format="date-time"), contract.query("overdue", enum=["true", "false"]),
    *parsing.PAGING])
def list_reports() -> ResponseReturnValue:
    """Reports filtered by state, routing decision, unit, category, sub-district, bbox, time and
    overdue; paged."""
    caller = require(*STAFF)
    args = request.args
    query = select(Report)
    if "status" in args:
        query = query.where(Report.state == parsing.choice(args["status"], "status", State.values()))
    unit = caller.unit_id if caller.role == Role.UNIT else parsing.key(args.get("unit"), "unit")
    if unit:
        query = query.where(Report.unit_id == unit)
    if args.get("category"):
        query = query.where(Report.category == parsing.key(args["category"], "category"))
    if "decision" in args:
        query = query.where(Report.route_status == parsing.choice(args["decision"], "decision", Status.values()))
    if args.get("area"):
        query = query.where(Report.area_id == parsing.key(args["area"], "area"))
    box = parsing.bbox(args.get("bbox"))
    if box:
        query = query.where(Report.lon >= box[0], Report.lat >= box[1], Report.lon <= box[2], Report.lat <= box[3])
    since, until = parsing.timestamp(args.get("since"), "since"), parsing.timestamp(args.get("until"), "until")
    if since:
        query = query.where(Report.created_at >= since)
    if until:
        query = query.where(Report.created_at < until)
    if parsing.choice(args.get("overdue"), "overdue", ["true", "false"], default="false") == "true":
        query = query.where(Report.state.in_([s.value for s in workflow.OPEN_STATES]), Report.deadline_at < now())
    limit, offset = parsing.paging(args)
    rows = g.db.scalars(query.order_by(Report.id).offset(offset).limit(limit + 1)).all()
    items = [report_json(r, caller) for r in rows[:limit]]
    body: dict[str, Any] = {"items": items, "limit": limit, "offset": offset}
    if len(rows) > limit:
        body["next"] = f"{request.path}?{_with(args, offset=offset + limit)}"
    return jsonify(body)


def _with(args: Any, **changes: Any) -> str:
    """The query string ``args`` with ``changes``, encoded (a ``+08:00`` offset stays an offset)."""
    return urlencode({**args.to_dict(), **{k: str(v) for k, v in changes.items()}})


@bp.post(f"/reports/<int(max={MAX_ID}):report_id>/transitions")
@contract.operation("Move a report through the workflow", body=schemas.Transition, answer=schemas.Report, errors=("400", "401", "403", "404", "409", "422"))
def move(report_id: int) -> ResponseReturnValue:
    """Apply a workflow action; an illegal one is a 409 naming the state and the allowed actions."""
    caller = require(Role.DISPATCHER, Role.UNIT)
    step = parsing.body(request.get_json(silent=True), schemas.Transition)
    report = _visible(g.db, report_id, caller)
    duplicate_of = getattr(step, "duplicate_of", None)
    services.transition(
        g.db, current_layer(), report, caller, step.action,
        note=step.note or "",
        evidence=step.evidence or [],
        unit_id=step.unit_id,
        public_photos=getattr(step, "public_photos", None),
        duplicate_of=_visible(g.db, duplicate_of, caller) if duplicate_of is not None else None,
        deadline_at=getattr(step, "deadline_at", None),
        review_at=getattr(step, "review_at", None),
        worker=live.worker(),
    )
    g.db.flush()
    return jsonify(report_json(report, caller, history=True))


@bp.get(f"/reports/<int(max={MAX_ID}):report_id>/nearby")
@contract.operation("Open reports of the same campaign group within the duplicate radius and window, nearest first", answer=schemas.NearbyReports,
                    errors=("401", "403", "404"))
def nearby(report_id: int) -> ResponseReturnValue:
    """What this report may duplicate, or what may duplicate it: the worker's index of open reports."""
    caller = require(*STAFF)
    report = _visible(g.db, report_id, caller)
    found = open_reports.nearby(g.db, live.open_index(), report.lon, report.lat, current_layer().same_group(report.category), exclude=report.id, limit=100)
    return jsonify({"items": [{"id": n.report.id, "state": n.report.state, "category": n.report.category, "distance_m": round(n.distance_m, 1),
                               "created_at": iso(n.report.created_at), "possible_duplicate_of": n.report.possible_duplicate_of, "supporters": n.supporters}
                              for n in found if caller.role != Role.UNIT or n.report.unit_id == caller.unit_id]})


@bp.post(f"/reports/<int(max={MAX_ID}):report_id>/merge")
@contract.operation("Merge reports into this one as duplicates, their reporters and +1s counted here (default: its flagged possible duplicates)",
                    body=schemas.Merge, answer=schemas.Report, errors=("400", "401", "403", "404", "409", "422"))
def merge(report_id: int) -> ResponseReturnValue:
    """Merge duplicates into the report: each is marked a duplicate of it, in one transaction."""
    caller = require(Role.DISPATCHER)
    body = parsing.body(request.get_json(silent=True), schemas.Merge)
    original = _visible(g.db, report_id, caller)
    duplicates = ([_visible(g.db, i, caller) for i in body.report_ids] if body.report_ids is not None else console.flagged_duplicates(g.db, original))
    services.merge(g.db, current_layer(), original, duplicates, caller, live.worker())
    g.db.flush()
    return jsonify(report_json(original, caller, history=True))


@bp.get("/route")
@contract.operation("The routing decision for a point, stored nowhere", answer=(Decision, schemas.RoutedPoint), errors=("401", "403", "422"),
                    params=[*parsing.LOCATION, contract.query("category", required=True, **contract.CATEGORIES)])
def route_point() -> ResponseReturnValue:
    """The routing decision for a point, without storing anything."""
    require(*ANY)
    args = request.args
    location = parsing.location(args.to_dict())
    category = parsing.text(args.get("category"), "category", max_length=CODE_LENGTH) or ""
    return jsonify(services.decide(current_layer(), current_app.config["ROUTING"], location, category).as_json())


@bp.get("/units/<unit_id>")
@contract.operation("A unit's zones, test points, reports and figures", answer=schemas.Unit, errors=("401", "403", "404"))
def unit(unit_id: str) -> ResponseReturnValue:
    """A unit's zones, test points, reports and figures; a unit token sees only its own."""
    caller = require(*STAFF, Role.LEADER)
    parsing.key(unit_id, "unit_id")
    if caller.role == Role.UNIT and caller.unit_id != unit_id:
        raise ApiError(404, f"no unit {unit_id}")
    layer = current_layer()
    zones = layer.zones[layer.zones["unit_id"] == unit_id]
    points = layer.test_points[layer.test_points["unit_id"] == unit_id]
    if not len(zones) and unit_id not in layer.unit_names:
        raise ApiError(404, f"no unit {unit_id}")
    reports = g.db.scalars(select(Report).where(Report.unit_id == unit_id).order_by(Report.id.desc()).limit(200)).all()
    figures = queries.unit_figures(g.db, layer, queries.all_time(figures_api.today()), now(), unit_id)
    return jsonify({
        "unit_id": unit_id,
        "unit_name": layer.unit_names.get(unit_id, ""),
        "zones": [{"zone_id": z, "name": n, "kind": k, "duties": d}
                  for z, n, k, d in zip(zones["zone_id"], zones["name"], zones["kind"], zones["duties"], strict=True)],
        "test_points": [{"point_id": p, "name": n, "type": t} for p, n, t in zip(points["point_id"], points["name"], points["type"], strict=True)],
        "reports": [report_json(r, caller) for r in reports],
        "figures": {**figures, "name": layer.unit_names.get(unit_id, unit_id)},
    })


@bp.get("/public/reports")
@contract.operation("The public board of published results", answer=schemas.Board, params=parsing.PAGING, secured=False, errors=("422",))
def public_board() -> ResponseReturnValue:
    """Published results (晾晒): no reporter data, the day only."""
    limit, offset = parsing.paging(request.args)
    rows = g.db.scalars(select(Report).where(Report.state == State.PUBLISHED.value).order_by(Report.id.desc()).offset(offset).limit(limit)).all()
    layer = current_layer()
    return jsonify({"items": [
        {
            "id": r.id, "category": r.category, "category_name": layer.category(r.category).name_zh,
            "area_id": r.area_id, "unit_id": r.unit_id, "unit_name": layer.unit_names.get(r.unit_id or "", ""),
            "reported_on": r.created_at.astimezone(TIMEZONE).date().isoformat(),  # the day in the district, as the OGC collection gives it
            "lon": round(r.lon, 4), "lat": round(r.lat, 4), "result": r.state,
        }
        for r in rows
    ], "limit": limit, "offset": offset})
