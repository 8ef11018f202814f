"""The zone layer: GeoJSON of zones (bbox filter) and test points, units seeing only their own;
planners publishing new versions."""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
import shapely
from flask import Blueprint, Response, g, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from api.auth.callers import require
from api.auth.roles import Role
from api.layers import drafts, live, schemas, upload_reader
from api.layers.coverage_tables import MIMETYPES
from api.layers.drafts import DraftState
from api.layers.live import current_layer
from api.persistence.models import MAX_ID, LayerDraft, LayerPublication, LayerVersion
from api.web import contract, parsing
from api.web.errors import ApiError
from api.web.geojson import PRIVATE, features_json
from api.web.schemas import Feature, FeatureCollection

bp = Blueprint("layers", __name__, url_prefix="/api/v1")


def _collection(frame: gpd.GeoDataFrame, key: str) -> Response:
    body: dict[str, Any] = {"type": "FeatureCollection", "features": features_json(frame, key)}
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/geo+json")


def _zones_for(role: Role, unit_id: str | None) -> gpd.GeoDataFrame:
    zones = current_layer().zones
    if role == Role.UNIT:
        return zones[zones["unit_id"] == unit_id]
    if role not in (Role.DISPATCHER, Role.PLANNER):
        return zones.drop(columns=[c for c in PRIVATE if c in zones.columns])
    return zones


@bp.get("/zones")
@contract.operation("Zones as GeoJSON", answer=FeatureCollection, content=contract.GEOJSON, params=[contract.query("bbox", pattern=f"^{parsing.BBOX}$")],
                    errors=("401", "403", "422"))
def zones() -> ResponseReturnValue:
    """Zones as GeoJSON, optionally within ``bbox``."""
    caller = require(Role.DISPATCHER, Role.PLANNER, Role.UNIT)
    frame = _zones_for(caller.role, caller.unit_id)
    box = parsing.bbox(request.args.get("bbox"))
    if box is not None:
        frame = frame[shapely.intersects(frame.geometry.to_numpy(), shapely.box(*box))]
    return _collection(frame, "zone_id")


@bp.get("/zones/<zone_id>")
@contract.operation("One zone as GeoJSON", answer=Feature, content=contract.GEOJSON, errors=("401", "403", "404"))
def zone(zone_id: str) -> ResponseReturnValue:
    """One zone as a GeoJSON feature."""
    caller = require(Role.DISPATCHER, Role.PLANNER, Role.UNIT)
    frame = _zones_for(caller.role, caller.unit_id)
    match = frame[frame["zone_id"] == zone_id]
    if not len(match):
        raise ApiError(404, f"no zone {zone_id}")
    return Response(json.dumps(features_json(match, "zone_id")[0], ensure_ascii=False), mimetype="application/geo+json")


@bp.get("/test-points")
@contract.operation("Test points as GeoJSON", answer=FeatureCollection, content=contract.GEOJSON, errors=("401", "403"))
def test_points() -> ResponseReturnValue:
    """Test points as GeoJSON; a unit sees the ones it adopted."""
    caller = require(Role.DISPATCHER, Role.PLANNER, Role.UNIT)
    points = current_layer().test_points
    if caller.role == Role.UNIT:
        points = points[points["unit_id"] == caller.unit_id]
    return _collection(points, "point_id")


def _note() -> str:
    data = request.get_json(silent=True) if request.is_json else request.form
    return parsing.text((data or {}).get("note", ""), "note", required=False) or ""


@bp.post("/layers")
@contract.operation("Publish a zone layer once it is read (GeoPackage with zones, test_points, areas; optional categories, units and calendar tables): "
                    "the answer is the draft it makes, queued; GET it until its state is published, or refused with every error",
                    status="202", answer=schemas.Draft,
                    body={"type": "object", "required": ["layer"], "properties": {
                        **{name: {"type": "string", "format": "binary"} for name in ("layer", "categories", "units", "calendar")}, "note": {"type": "string"}}},
                    body_type="multipart/form-data", errors=("400", "401", "403", "413", "422"))
def upload_layer() -> ResponseReturnValue:
    """Publish a new zone layer without a review: a GeoPackage (``layer``: zones, test_points, areas
    and optionally scope; a layer it leaves out is kept) and optionally ``categories`` and ``units``
    tables (CSV or Excel; default: the current ones), a ``calendar`` (CSV: date, workday, name) and a ``note``. Like a draft, it is read by a
    worker process; it is published as soon as it is valid (every worker switches when it next
    checks), or refused with every problem by layer, row and field. (A draft, `/layers/drafts`, is
    compared before it is published.)"""
    caller = require(Role.PLANNER, Role.DISPATCHER)
    upload = request.files.get("layer")
    if upload is None:
        raise ApiError(422, "layer: attach the GeoPackage as the form field 'layer'", errors=[{"field": "layer", "message": "is required"}])
    if not upload.stream.read(16).startswith(b"SQLite format 3\x00"):  # the client's file name is never used as a path
        raise ApiError(422, "layer: not a GeoPackage", errors=[{"field": "layer", "message": "not a GeoPackage (SQLite) file"}])
    upload.stream.seek(0)
    upload.filename = "layer.gpkg"  # a GeoPackage whatever the client named it
    draft = live.queue_upload(request.files, caller.actor, publish_note=_note())
    assert draft is not None
    g.db.flush()
    return jsonify(_draft_json(draft)), 202, {"Location": url_for(".get_draft", draft_id=draft.id)}


def _publication_json(row: LayerPublication) -> dict[str, Any]:
    return {"id": row.id, "version": row.version, "previous_version": row.previous_version, "kind": row.kind, "note": row.note,
            "published_by": row.published_by, "published_at": row.published_at.isoformat(), "summary": row.summary,
            "affected": row.affected, "reassigned": row.reassigned or []}


@bp.get("/layers")
@contract.operation("Published zone-layer versions", answer=schemas.Layers, errors=("401", "403"))
def list_layers() -> ResponseReturnValue:
    """Stored layer versions and the publications that made them current, newest first."""
    require(Role.PLANNER, Role.DISPATCHER)
    rows = g.db.scalars(select(LayerVersion).order_by(LayerVersion.id.desc())).all()
    publications = g.db.scalars(select(LayerPublication).order_by(LayerPublication.id.desc())).all()
    return jsonify({"current": current_layer().version, "items": [
        {"version": r.version, "created_at": r.created_at.isoformat(), "created_by": r.created_by, "is_current": r.is_current, "summary": r.summary}
        for r in rows
    ], "publications": [_publication_json(p) for p in publications]})


def _draft_json(draft: LayerDraft) -> dict[str, Any]:
    body = {"id": draft.id, "version": draft.version or None, "based_on": draft.based_on, "state": draft.state, "step": draft.step,
            "sources": draft.sources, "warnings": draft.warnings, "accepted_gaps": draft.accepted_gaps, "created_by": draft.created_by,
            "created_at": draft.created_at.isoformat(), "updated_at": draft.updated_at.isoformat(),
            **{name: moment.isoformat() if moment else None for name, moment in (("started_at", draft.started_at), ("finished_at", draft.finished_at))}}
    if draft.state == DraftState.REFUSED:
        body["errors"] = [{"field": p["field"] or p["layer"], "message": p["message"], "code": p["code"], "params": p["params"], "layer": p["layer"],
                           "row": p["row"], "feature_id": p["feature_id"]} for p in draft.problems or [] if p["severity"] == "error"]
        body["warnings"] = [p for p in draft.problems or [] if p["severity"] == "warning"]
    return body


def _open_draft(draft_id: int) -> LayerDraft:
    draft = g.db.get(LayerDraft, draft_id)
    if draft is None:
        raise ApiError(404, f"no draft {draft_id}")
    if draft.state != "open":
        raise ApiError(409, f"draft {draft_id} is {draft.state}")
    return draft


@bp.post("/layers/drafts")
@contract.operation("Upload a draft layer (a GeoPackage as layer, and/or zones, test_points, areas, scope files; categories and units tables; "
                    "the working calendar; "
                    "a layer left out is kept from the current version). The draft is created at once, queued; GET it until its state is "
                    "open (with warnings) or refused (with every problem by layer, row, feature and field)", status="202", answer=schemas.Draft,
                    body={"type": "object", "properties": {name: {"type": "string", "format": "binary"} for name in upload_reader.UPLOAD_FIELDS}},
                    body_type="multipart/form-data", errors=("400", "401", "403", "413", "422"))
def create_draft() -> ResponseReturnValue:
    """Upload a draft layer (multipart: ``layer``, a GeoPackage, and/or ``zones``, ``test_points``,
    ``areas``, ``scope`` files, ``categories``, ``units``, ``calendar``; a layer left out is kept from the current
    version). The answer (202) is the draft, queued; a worker process reads and validates it, and
    ``GET`` of its ``Location`` shows its step, then the draft (open) or every problem (refused)."""
    caller = require(Role.PLANNER)
    draft = live.queue_upload(request.files, caller.actor)
    if draft is None:
        raise ApiError(422, "attach a GeoPackage as 'layer' or layer files as 'zones', 'test_points', 'areas', 'scope'",
                       errors=[{"field": "layer", "message": "is required"}])
    g.db.flush()
    return jsonify(_draft_json(draft)), 202, {"Location": url_for(".get_draft", draft_id=draft.id)}


def comparison_json(comparison: drafts.Comparison) -> dict[str, Any]:
    """A draft's comparison with the current version as plain data: changes (every one counted, the first
    `drafts.LISTED` listed), coverage, the working calendar, affected reports, the draft's largest gaps."""
    return {
        "changes": comparison.counts,
        "listed_at_most": drafts.LISTED,
        "zones": comparison.zones.astype(object).where(comparison.zones.notna(), None).to_dict("records"),
        "test_points": comparison.test_points.astype(object).where(comparison.test_points.notna(), None).to_dict("records"),
        "coverage": comparison.areas,
        "calendar": comparison.calendar,
        "affected_reports": comparison.affected.astype(object).where(comparison.affected.notna(), None).to_dict("records"),
        "gaps": {"type": "FeatureCollection", "features": features_json(comparison.gaps, "gap_id")},  # the draft's, whose suggestions it can take
    }


@bp.get(f"/layers/drafts/<int(max={MAX_ID}):draft_id>")
@contract.operation("A draft: while queued or processing, its step; refused, every error; open, its comparison with the current version "
                    "(changes, coverage per sub-district before and after, open reports that would go to another owner); "
                    "comparison=false leaves it out (a client waiting for the draft)", answer=schemas.Draft,
                    params=[contract.query("comparison", "boolean", description="include the comparison of an open draft (default true)")],
                    errors=("401", "403", "404", "422", "503"))
def get_draft(draft_id: int) -> ResponseReturnValue:
    """A draft and, when it is open, its comparison with the current version (unless ``comparison=false``)."""
    require(Role.PLANNER, Role.DISPATCHER)
    wanted = request.args.get("comparison", "true")
    if wanted not in ("true", "false"):
        raise ApiError(422, "comparison: true or false", errors=[{"field": "comparison", "message": "true or false"}])
    draft = g.db.get(LayerDraft, draft_id)
    if draft is None:
        raise ApiError(404, f"no draft {draft_id}")
    body = _draft_json(draft)
    if draft.state == DraftState.OPEN and wanted == "true":
        body["comparison"] = comparison_json(drafts.compare(g.db, current_layer(), draft, live.work()))
    return jsonify(body)


@bp.post(f"/layers/drafts/<int(max={MAX_ID}):draft_id>/suggestions")
@contract.operation("Add the draft's gap-fill suggestions for gap_ids to it as zones (one gap: with an outline and owner of the planner's)", answer={},
                    body=schemas.GapIds, errors=("401", "403", "404", "409", "422"))
def accept_suggestions(draft_id: int) -> ResponseReturnValue:
    """Add the draft's gap-fill suggestions for ``gap_ids`` (JSON list) to it as zones; for one gap,
    ``outline`` (a GeoJSON polygon) and ``unit_id`` replace the suggested outline and owner."""
    require(Role.PLANNER)
    draft = _open_draft(draft_id)
    chosen = parsing.body(request.get_json(silent=True), schemas.GapIds)
    try:
        drafts.accept_suggestions(draft, chosen.gap_ids, live.work(), outline=json.dumps(chosen.outline) if chosen.outline is not None else None,
                                  unit_id=chosen.unit_id)
    except KeyError as err:
        raise ApiError(422, f"gap_ids: the draft has no gap {err.args[0]}", errors=[{"field": "gap_ids", "message": f"unknown: {err.args[0]}"}]) from None
    except drafts.SuggestionError as err:
        raise ApiError(422, f"{err.field}: {err}", errors=[{"field": err.field, "message": str(err)}]) from None
    return jsonify(_draft_json(draft))


@bp.post(f"/layers/drafts/<int(max={MAX_ID}):draft_id>/publish")
@contract.operation("Publish the draft with a note; the answer lists the open reports it moves", status="201", answer={}, body=schemas.Note,
                    errors=("401", "403", "404", "409", "422"))
def publish_draft(draft_id: int) -> ResponseReturnValue:
    """Make the draft the current version (JSON ``note``, required); the answer lists the open
    reports it routes to another owner, for a dispatcher to reassign."""
    caller = require(Role.PLANNER)
    draft = _open_draft(draft_id)
    note = parsing.body(request.get_json(silent=True), schemas.Note).note
    publication = drafts.publish_draft(g.db, draft, current_layer(), caller.actor, note, live.work())
    g.db.flush()
    return jsonify(_publication_json(publication)), 201


@bp.get("/layers/<version>/layer.gpkg")
@contract.operation("A layer version as one GeoPackage (zones, test points, areas, scope, streets, calendar), to edit and send back as a draft",
                    content=MIMETYPES["gpkg"], answer={"type": "string", "format": "binary"}, errors=("401", "403", "404", "503"))
def version_file(version: str) -> ResponseReturnValue:
    """The version's GeoPackage: a stored version, or the current one."""
    require(Role.PLANNER, Role.DISPATCHER)
    try:
        body = live.version_gpkg(g.db, version)
    except LookupError:
        raise ApiError(404, f"no stored layer version {version}") from None
    return Response(body, mimetype=MIMETYPES["gpkg"], headers={"Content-Disposition": f"attachment; filename=zonemap-layer-{version}.gpkg"})


@bp.post("/layers/<version>/rollback")
@contract.operation("Make an earlier stored version current again, with a note (a new publication)", status="201", answer={}, body=schemas.Note,
                    errors=("401", "403", "404", "422"))
def rollback(version: str) -> ResponseReturnValue:
    """Make an earlier stored version current again (JSON ``note``, required): a new publication."""
    caller = require(Role.PLANNER)
    note = parsing.body(request.get_json(silent=True), schemas.Note).note
    try:
        publication = drafts.rollback(g.db, version, current_layer(), caller.actor, note, live.work())
    except LookupError:
        raise ApiError(404, f"no stored layer version {version}") from None
    g.db.flush()
    return jsonify(_publication_json(publication)), 201


@bp.post(f"/layers/publications/<int(max={MAX_ID}):publication_id>/reassign")
@contract.operation("Reassign chosen open reports a publication moved to their new owners (dispatchers)", answer={}, body=schemas.ReportIds,
                    errors=("401", "403", "404", "409", "422"))
def reassign(publication_id: int) -> ResponseReturnValue:
    """Reassign the chosen affected reports (JSON ``report_ids``) of a publication to their new owners."""
    caller = require(Role.DISPATCHER)
    publication = g.db.get(LayerPublication, publication_id)
    if publication is None:
        raise ApiError(404, f"no publication {publication_id}")
    if publication.version != current_layer().version:
        raise ApiError(409, f"publication {publication_id} is no longer the current version")
    ids = parsing.body(request.get_json(silent=True), schemas.ReportIds).report_ids
    done = drafts.reassign(g.db, current_layer(), publication, ids, caller, f"zone layer {publication.version} (publication {publication.id})",
                           live.worker())
    return jsonify({"moved": done.moved, "skipped": done.skipped})
