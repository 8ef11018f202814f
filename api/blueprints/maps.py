"""Maps served by the app, with their web assets (no CDN): ``/assets/...`` and ``/maps/...``."""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, g, request, send_file
from flask.typing import ResponseReturnValue

from api.auth import Role
from api.geojson import features_json
from api.state import current_layer
from maps.coverage import coverage_map
from maps.offline import asset_file
from maps.style import BASEMAPS
from zones.coverage import Coverage, analyse
from zones.layer import ZoneLayer

bp = Blueprint("maps", __name__)


def layer_coverage(layer: ZoneLayer) -> Coverage:
    """The coverage analysis of a layer, computed once per layer version."""
    return layer._cached(("coverage", 1.0), lambda: analyse(layer))


@bp.get("/assets/<path:path>")
def asset(path: str) -> ResponseReturnValue:
    """A vendored JS/CSS/image file; paths outside the asset folders are 404."""
    found = asset_file(path)
    if found is None:
        abort(404)
    return send_file(found, max_age=86400)


@bp.get("/maps/coverage")
def coverage() -> ResponseReturnValue:
    """The coverage map; ``?basemap=osm|amap|tianditu`` adds tiles (off by default: offline)."""
    basemap = request.args.get("basemap")
    if basemap is not None and basemap not in BASEMAPS:
        abort(422, f"basemap must be one of {', '.join(BASEMAPS)}")
    layer = current_layer()
    private = g.caller is not None and g.caller.role in (Role.DISPATCHER, Role.PLANNER)
    html = coverage_map(layer, layer_coverage(layer), asset_prefix="/assets/", basemap=basemap, private=private).get_root().render()
    return Response(html, mimetype="text/html")


@bp.get("/maps/coverage/suggestions.geojson")
def suggestions() -> ResponseReturnValue:
    """The gap-fill suggestions as a candidate zone layer (GeoJSON) a planner can review and upload."""
    result = layer_coverage(current_layer())
    body = {"type": "FeatureCollection", "features": features_json(result.suggestions, "zone_id")}
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/geo+json",
                    headers={"Content-Disposition": "attachment; filename=gap_suggestions.geojson"})
