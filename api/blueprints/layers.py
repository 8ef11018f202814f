"""The zone layer: GeoJSON of zones (bbox filter) and test points, units seeing only their own;
planners publishing new versions."""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
import shapely
from sqlalchemy import select
from flask import Blueprint, Response, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import FileStorage

from api import parsing
from api.auth import Role, require
from api.geojson import PRIVATE, features_json
from api.errors import ApiError
from api import state
from api.persistence.models import LayerVersion
from api.state import current_layer
from geodata.io import decode_text

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
def zones() -> ResponseReturnValue:
    """Zones as GeoJSON, optionally within ``bbox``."""
    caller = require(Role.DISPATCHER, Role.PLANNER, Role.UNIT)
    frame = _zones_for(caller.role, caller.unit_id)
    box = parsing.bbox(request.args.get("bbox"))
    if box is not None:
        frame = frame[shapely.intersects(frame.geometry.to_numpy(), shapely.box(*box))]
    return _collection(frame, "zone_id")


@bp.get("/zones/<zone_id>")
def zone(zone_id: str) -> ResponseReturnValue:
    """One zone as a GeoJSON feature."""
    caller = require(Role.DISPATCHER, Role.PLANNER, Role.UNIT)
    frame = _zones_for(caller.role, caller.unit_id)
    match = frame[frame["zone_id"] == zone_id]
    if not len(match):
        raise ApiError(404, f"no zone {zone_id}")
    return Response(json.dumps(features_json(match, "zone_id")[0], ensure_ascii=False), mimetype="application/geo+json")


@bp.get("/test-points")
def test_points() -> ResponseReturnValue:
    """Test points as GeoJSON; a unit sees the ones it adopted."""
    caller = require(Role.DISPATCHER, Role.PLANNER, Role.UNIT)
    points = current_layer().test_points
    if caller.role == Role.UNIT:
        points = points[points["unit_id"] == caller.unit_id]
    return _collection(points, "point_id")


def _read(upload: FileStorage) -> bytes:
    """The uploaded bytes; the spooled temporary file is closed at once."""
    with upload.stream as stream:
        return stream.read()


def _text(upload: FileStorage, field: str) -> str:
    """An uploaded CSV as text (UTF-8 or GBK, as the CLI reads them)."""
    return decode_text(_read(upload), field)


@bp.post("/layers")
def upload_layer() -> ResponseReturnValue:
    """Publish a new zone layer: a GeoPackage (``layer``: zones, test_points, areas) and
    optionally ``categories`` and ``units`` CSVs (default: the current ones). Every problem is
    named by layer, row and field; the layer becomes current for every worker at once."""
    caller = require(Role.PLANNER, Role.DISPATCHER)
    upload = request.files.get("layer")
    if upload is None:
        raise ApiError(422, "layer: attach the GeoPackage as the form field 'layer'", errors=[{"field": "layer", "message": "is required"}])
    gpkg = _read(upload)  # the client's file name is never used as a path
    if not gpkg.startswith(b"SQLite format 3\x00"):
        raise ApiError(422, "layer: not a GeoPackage", errors=[{"field": "layer", "message": "not a GeoPackage (SQLite) file"}])
    layer = current_layer()
    categories = request.files.get("categories")
    units = request.files.get("units")
    categories_csv = _text(categories, "categories") if categories else layer.categories.to_csv(index=False)
    units_csv = _text(units, "units") if units else (layer.unit_table.to_csv(index=False) if layer.unit_table is not None else None)
    row, published = state.publish(g.db, gpkg, categories_csv, units_csv, caller.actor, max_vertices=int(current_app.config["MAX_VERTICES"]))
    g.db.flush()
    state.install(current_app, published)
    return jsonify({"version": row.version, "created_at": row.created_at.isoformat(), "summary": row.summary}), 201


@bp.get("/layers")
def list_layers() -> ResponseReturnValue:
    """Published layer versions, newest first."""
    require(Role.PLANNER, Role.DISPATCHER)
    rows = g.db.scalars(select(LayerVersion).order_by(LayerVersion.id.desc())).all()
    return jsonify({"current": current_layer().version, "items": [
        {"version": r.version, "created_at": r.created_at.isoformat(), "created_by": r.created_by, "is_current": r.is_current, "summary": r.summary}
        for r in rows
    ]})
