"""Inspections as JSON, so that an inspection app could submit: ``/api/v1/checklists``,
``/api/v1/rounds`` (and one round with its points), ``/api/v1/rounds/{id}/inspections`` (one
point's results, sent once under an Idempotency-Key), ``/api/v1/rounds/{id}/scores`` and
``/api/v1/rounds/{id}/recheck`` (回头看)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from api.auth.callers import require
from api.auth.roles import Caller, Role
from api.figures.figures_api import today
from api.inspections import checklist_store, recording, rounds, schemas, scores, trend
from api.layers import live
from api.layers.live import current_layer
from api.persistence.clock import iso
from api.persistence.models import MAX_ID, Inspection, Round
from api.web import contract, parsing
from api.web.errors import ApiError
from zones.checklists import Checklists

bp = Blueprint("rounds", __name__, url_prefix="/api/v1")
#: Who reads rounds (each sees its own: `rounds.rounds_of`).
READERS = (Role.DISPATCHER, Role.PLANNER, Role.LEADER, Role.UNIT, Role.INSPECTOR)
KEY = contract.Param("Idempotency-Key", {"type": "string", "maxLength": 200}, "header", required=True)


def current_checklists() -> Checklists:
    """The checklists new rounds use; 409 before any was published."""
    found = checklist_store.current(g.db)
    if found is None:
        raise ApiError(409, "no checklists yet: publish a checklists table first (POST /api/v1/checklists)")
    return found


def checklists_of(round_: Round) -> Checklists:
    """The checklist version a round keeps."""
    found = checklist_store.of_version(g.db, round_.checklist_version)
    if found is None:
        raise ApiError(500, f"round {round_.id} names checklist version {round_.checklist_version}, which is not stored")
    return found


def visible_round(round_id: int, caller: Caller) -> Round:
    """The round, if the caller sees it (else 404)."""
    found = rounds.visible(g.db, caller, round_id)
    if found is None:
        abort(404)
    return found


def round_json(round_: Round, points: list[scores.PointRow] | None = None) -> dict[str, Any]:
    """A round as the API answers it (with its points when given)."""
    out: dict[str, Any] = {"id": round_.id, "name": round_.name, "level": round_.level, "kind": round_.kind, "first_day": round_.first_day.isoformat(),
                           "last_day": round_.last_day.isoformat(), "scope": round_.scope, "checklist_version": round_.checklist_version,
                           "layer_version": round_.layer_version, "unit_id": round_.unit_id, "parent_id": round_.parent_id, "created_by": round_.created_by}
    if points is not None:
        codes = {p.point_id: p.codes for p in round_.points}
        out["points"] = [point_json(p, codes.get(p.point_id)) for p in points]
    return out


def point_json(row: scores.PointRow, codes: list[str] | None) -> dict[str, Any]:
    """A round's point as the API answers it."""
    return {"point_id": row.point_id, "name": row.name, "point_type": row.point_type, "unit_id": row.unit_id, "area_id": row.area_id,
            "inspector": row.inspector, "codes": codes, "inspected": row.inspected, "failed": row.failed, "rate": row.rate,
            "lon": round(row.lon, 6), "lat": round(row.lat, 6)}


def inspection_json(row: Inspection) -> dict[str, Any]:
    """An inspection as the API answers it."""
    return {"id": row.id, "round_id": row.round_id, "point_id": row.point_id, "inspector": row.inspector, "at": iso(row.at), "lon": row.lon,
            "lat": row.lat, "distance_m": row.distance_m, "far": row.far, "possible": row.possible, "score": row.score,
            "rate": row.score / row.possible if row.possible else None, "items": row.items}


def setting() -> recording.Setting:
    """What recording needs of this worker."""
    config = current_app.config
    return recording.Setting(config["ROUTING"], float(config["INSPECTION_DISTANCE_M"]), live.worker(), float(config["INSPECTION_REPEAT_FACTOR"]))


@bp.get("/checklists")
@contract.operation("The inspection checklists new rounds use, item by item", answer=schemas.Checklists, errors=("401", "403", "409"))
def get_checklists() -> ResponseReturnValue:
    """The current checklists."""
    require(*READERS)
    found = current_checklists()
    return jsonify({"version": found.version, "items": found.rows()})


@bp.post("/checklists")
@contract.operation("Publish new checklists (a CSV or Excel table: point_type, code, text, kind, minimum, weight, category, owner, clause); "
                    "a bad row is refused naming its row and field", status="201", answer=schemas.Checklists,
                    body={"type": "object", "required": ["checklists"], "properties": {"checklists": {"type": "string", "format": "binary"},
                                                                                       "note": {"type": "string"}}},
                    body_type="multipart/form-data", errors=("400", "401", "403", "413", "422"))
def post_checklists() -> ResponseReturnValue:
    """Validate the uploaded table against the current layer and make it the current checklists."""
    caller = require(Role.DISPATCHER, Role.PLANNER)
    upload = request.files.get("checklists")
    if upload is None or not upload.filename:
        raise ApiError(400, "checklists: send the table as the multipart field checklists", errors=[{"field": "checklists", "message": "is required"}])
    found = checklist_store.publish_file(g.db, current_layer(), upload.stream, upload.filename, actor=caller.actor,
                                         note=(request.form.get("note") or "")[:2000])
    response = jsonify({"version": found.version, "items": found.rows()})
    response.status_code = 201
    return response


@bp.get("/rounds")
@contract.operation("The rounds the caller sees, newest first (a unit: its self-checks; an inspector: rounds with points for them)",
                    answer=schemas.RoundList, errors=("401", "403"))
def list_rounds() -> ResponseReturnValue:
    """The caller's rounds."""
    caller = require(*READERS)
    return jsonify({"items": [round_json(r) for r in rounds.rounds_of(g.db, caller)]})


@bp.post("/rounds")
@contract.operation("Make a round: a level of the \"4+1\", a period, a scope (point types, sub-districts, all points or a reproducible sample), "
                    "inspectors; a unit makes self-checks of its own points", body=schemas.NewRound, status="201", answer=schemas.Round,
                    errors=("400", "401", "403", "409", "422"))
def post_round() -> ResponseReturnValue:
    """Make a round from the body."""
    caller = require(Role.DISPATCHER, Role.UNIT)
    data = parsing.body(request.get_json(silent=True), schemas.NewRound)
    scope = rounds.Scope(tuple(data.scope.types), tuple(data.scope.areas), None, data.scope.sample, data.scope.seed)
    spec = rounds.RoundSpec(data.name, data.level, data.first_day, data.last_day, scope, tuple(data.inspectors))
    layer = current_layer()
    made = rounds.create(g.db, layer, current_checklists(), spec, caller)
    response = jsonify(round_json(made, scores.of_round(g.db, layer, checklists_of(made), made).points))
    response.status_code = 201
    response.headers["Location"] = f"/api/v1/rounds/{made.id}"
    return response


@bp.get(f"/rounds/<int(max={MAX_ID}):round_id>")
@contract.operation("A round with its points (where each is, who inspects it, how it scored)", answer=schemas.Round, errors=("401", "403", "404"))
def get_round(round_id: int) -> ResponseReturnValue:
    """One round and its points."""
    caller = require(*READERS)
    found = visible_round(round_id, caller)
    return jsonify(round_json(found, scores.of_round(g.db, current_layer(), checklists_of(found), found).points))


@bp.route(f"/rounds/<int(max={MAX_ID}):round_id>/inspections", methods=["GET", "POST"])
@contract.operation("A round's inspections, in the order recorded", answer=schemas.InspectionList, errors=("401", "403", "404"), method="GET")
@contract.operation("Record one point's inspection: each item's result, photos, where the inspector stood; failures open cases of the round's "
                    "level, a re-inspection closes the cases it finds fixed. Sent again under the same Idempotency-Key, it is stored once.",
                    body=schemas.NewInspection, status="201", answer=schemas.Inspection, params=[KEY],
                    also={"200": "The inspection stored by an earlier request with the same Idempotency-Key"},
                    errors=("400", "401", "403", "404", "409", "422"), method="POST")
def inspections(round_id: int) -> ResponseReturnValue:
    """GET: every inspection of the round; POST: store one point's inspection and act on it (one
    rule for both, so that a round id out of range is a 404 whatever the method)."""
    if request.method == "GET":
        caller = require(*READERS)
        found = visible_round(round_id, caller)
        rows = g.db.scalars(select(Inspection).where(Inspection.round_id == found.id).order_by(Inspection.at, Inspection.id))
        return jsonify({"items": [inspection_json(row) for row in rows]})
    caller = require(Role.INSPECTOR, Role.DISPATCHER, Role.UNIT)
    found = visible_round(round_id, caller)
    key = parsing.idempotency_key(request.headers.get("Idempotency-Key"))
    if not key:
        raise ApiError(400, "Idempotency-Key: required, so that a retry is stored once", errors=[{"field": "Idempotency-Key", "message": "is required"}])
    data = parsing.body(request.get_json(silent=True), schemas.NewInspection)
    entry = recording.Entry(data.point_id, data.at, data.lon, data.lat, data.accuracy_m,
                            [recording.ItemEntry(i.code, i.result, i.value, i.note or "", list(i.photos), list(i.after_photos)) for i in data.items])
    inspection, created = recording.record(g.db, current_layer(), checklists_of(found), found, entry, caller, key, setting())
    response = jsonify(inspection_json(inspection))
    response.status_code = 201 if created else 200
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.get(f"/rounds/<int(max={MAX_ID}):round_id>/scores")
@contract.operation("A round's scores (得分率) per point, point type, adopting unit and sub-district, and the items that cost most",
                    answer=schemas.Scores, errors=("401", "403", "404"))
def get_scores(round_id: int) -> ResponseReturnValue:
    """The round's scores, recomputed from its inspections."""
    caller = require(*READERS)
    found = visible_round(round_id, caller)
    result = scores.of_round(g.db, current_layer(), checklists_of(found), found)
    codes = {p.point_id: p.codes for p in found.points}
    return jsonify({"round_id": found.id, "total": {"key": "total", **result.total}, "by_type": result.groups["type"], "by_unit": result.groups["unit"],
                    "by_area": result.groups["area"], "points": [point_json(p, codes.get(p.point_id)) for p in result.points], "worst": result.worst})


@bp.post(f"/rounds/<int(max={MAX_ID}):round_id>/recheck")
@contract.operation("Make a re-inspection (回头看) of the round's failed items, point by point", body=schemas.NewRecheck, status="201",
                    answer=schemas.Round, errors=("400", "401", "403", "404", "422"))
def post_recheck(round_id: int) -> ResponseReturnValue:
    """A re-inspection round of the failures."""
    caller = require(Role.DISPATCHER, Role.UNIT)
    found = visible_round(round_id, caller)
    data = parsing.body(request.get_json(silent=True), schemas.NewRecheck)
    made = rounds.recheck(g.db, found, caller, data.first_day, data.last_day)
    response = jsonify(round_json(made, scores.of_round(g.db, current_layer(), checklists_of(made), made).points))
    response.status_code = 201
    response.headers["Location"] = f"/api/v1/rounds/{made.id}"
    return response


@bp.post(f"/rounds/<int(max={MAX_ID}):round_id>/assignments")
@contract.operation("Give points of a round to an inspector (null: anyone on the round); dispatchers, and a unit for its self-check",
                    body=schemas.NewAssignment, answer=schemas.Round, errors=("400", "401", "403", "404", "422"))
def post_assignment(round_id: int) -> ResponseReturnValue:
    """Give the points to the inspector; the round as it now stands."""
    caller = require(Role.DISPATCHER, Role.UNIT)
    found = visible_round(round_id, caller)
    data = parsing.body(request.get_json(silent=True), schemas.NewAssignment)
    rounds.assign(g.db, found, caller, data.inspector, data.point_ids)
    return jsonify(round_json(found, scores.of_round(g.db, current_layer(), checklists_of(found), found).points))


@bp.get("/rounds/trend")
@contract.operation("The weekly scoring: every round's score rate period by period (weeks from Monday or months, district time) per unit, "
                    "sub-district, point type or point, worst latest rate first, and the district's", answer=schemas.Trend, errors=("400", "401", "403"),
                    params=[contract.query("by", enum=list(trend.BY), description="default: unit"),
                            contract.query("every", enum=list(trend.EVERY), description="default: week"),
                            contract.query("count", "integer", minimum=1, maximum=trend.MOST_PERIODS, description="Periods up to this one (default 8)"),
                            contract.query("level", enum=list(rounds.LEVELS), description="Only rounds of this level (default: every level but self-checks)"),
                            contract.query("until", format="date", description="A day of the last period (default: today)")])
def get_trend() -> ResponseReturnValue:
    """The trend of the rounds' scores."""
    require(Role.DISPATCHER, Role.PLANNER, Role.LEADER)
    args = request.args
    by, every = parsing.choice(args.get("by"), "by", list(trend.BY), "unit"), parsing.choice(args.get("every"), "every", list(trend.EVERY), "week")
    level = parsing.choice(args.get("level"), "level", list(rounds.LEVELS), "") or None
    until = parsing.day(args.get("until"), "until") or today()
    count = parsing.integer(args.get("count"), "count", low=1, high=trend.MOST_PERIODS, default=8)
    layer = current_layer()
    found = trend.of(g.db, layer, by, every, count, until, (level,) if level else trend.DISTRICT_LEVELS)
    called = trend.names(layer, found.by)

    def row(r: trend.Row) -> dict[str, Any]:
        return {"key": r.key, "name": called(r.key), "latest": r.latest, "change": r.change,
                "cells": [{"inspected": c.inspected, "score": c.score, "possible": c.possible, "rate": c.rate} for c in r.cells]}

    return jsonify({"by": found.by, "every": found.every, "levels": list(found.levels), "total": row(found.total), "items": [row(r) for r in found.rows],
                    "periods": [{"first_day": p.isoformat(), "last_day": found.last_day(n).isoformat()} for n, p in enumerate(found.periods)]})
