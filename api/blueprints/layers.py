"""The zone layer as GeoJSON: zones (bbox filter) and test points; units see only their own."""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
import shapely
from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue

from api import parsing
from api.auth import Role, require
from api.geojson import PRIVATE, features_json
from api.errors import ApiError
from api.state import current_layer

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
