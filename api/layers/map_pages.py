"""Maps served by the app, with their web assets (no CDN): ``/assets/...`` and ``/maps/...``
(coverage, reports, a unit's own, the public board)."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pandas as pd
from flask import Blueprint, Response, abort, current_app, g, request, send_file
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from api.auth.callers import require
from api.auth.roles import Role
from api.layers import live
from api.layers.live import current_layer
from api.persistence.models import Report
from api.web import contract, parsing
from api.web.assets import PAGE_ASSET_DIRS
from api.web.geojson import features_json
from api.web.schemas import FeatureCollection
from api.web.security import html_with_inline_scripts, html_with_policy, page_policy
from maps.coverage import coverage_map
from maps.offline import asset_file
from maps.orientation import orientation_geojson
from maps.reports import public_map, reports_map, unit_map
from maps.style import BASEMAPS
from zones import workflow
from zones.coverage import Coverage

bp = Blueprint("maps", __name__)


@bp.get("/assets/<path:path>")
@contract.operation("Vendored web assets of the maps", content="*/*", secured=False, errors=("404",))
def asset(path: str) -> ResponseReturnValue:
    """A vendored JS/CSS/image file; paths outside the asset folders are 404."""
    found = asset_file(path, PAGE_ASSET_DIRS)
    if found is None:
        abort(404)
    return send_file(found, max_age=86400)


@bp.get("/maps/coverage")
@contract.page("The coverage map (offline assets)", ("200", "422", "503"), params=[contract.query("basemap", **contract.BASEMAPS)])
def coverage() -> ResponseReturnValue:
    """The coverage map; ``?basemap=osm|amap|tianditu|local`` adds tiles (off by default:
    offline); ``local`` is the tile server configured as ``TILE_URL``."""
    basemap = request.args.get("basemap")
    if basemap == "local" and current_app.config.get("TILE_URL"):
        basemap = current_app.config["TILE_URL"]
    elif basemap is not None and basemap not in BASEMAPS:
        abort(422, f"basemap must be one of {', '.join([*BASEMAPS, 'local'])} (local needs ZONEMAP_TILE_URL)")
    layer = current_layer()
    private = g.caller is not None and g.caller.role in (Role.DISPATCHER, Role.PLANNER)
    tiles = BASEMAPS[basemap][0] if basemap in BASEMAPS else basemap
    attribution = live.map_attribution(current_app)

    def render(result: Coverage) -> tuple[str, str]:  # the page and its policy, both computed once
        html = coverage_map(layer, result, asset_prefix="/assets/", basemap=basemap, private=private, attribution=attribution).get_root().render()
        return html, page_policy(html, tile_url=tiles)

    html, csp = live.rendered(layer, ("coverage map", basemap, private), render)
    return html_with_policy(html, csp)


@bp.get("/maps/orientation.geojson")
@contract.operation("Streets and place names of the current layer, for maps without tiles (GeoJSON)", answer=FeatureCollection,
                    content=contract.GEOJSON, secured=False, errors=())
def orientation() -> ResponseReturnValue:
    """The current layer's streets and place names (GeoJSON, WGS84) for the pages' maps."""
    layer = current_layer()
    cached = current_app.extensions.get("zonemap.orientation")
    if cached is None or cached[0] != layer.version:
        body = json.dumps(orientation_geojson(layer), ensure_ascii=False, separators=(",", ":")).encode()
        cached = (layer.version, body, gzip.compress(body, mtime=0))  # a phone fetches a fifth of it
        current_app.extensions["zonemap.orientation"] = cached
    headers = {"Cache-Control": "public, max-age=300", "Vary": "Accept-Encoding"}
    if "gzip" in request.accept_encodings:
        return Response(cached[2], mimetype="application/geo+json", headers={**headers, "Content-Encoding": "gzip"})
    return Response(cached[1], mimetype="application/geo+json", headers=headers)


@bp.get("/maps/coverage/suggestions.geojson")
@contract.operation("Gap-fill suggestions as a candidate zone layer (GeoJSON)", answer=FeatureCollection, content=contract.GEOJSON, secured=False, errors=())
def suggestions() -> ResponseReturnValue:
    """The gap-fill suggestions as a candidate zone layer (GeoJSON) a planner can review and upload."""
    result = live.coverage(current_layer())
    body = {"type": "FeatureCollection", "features": features_json(result.suggestions, "zone_id")}
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/geo+json",
                    headers={"Content-Disposition": "attachment; filename=gap_suggestions.geojson"})


def _report_frame(rows: list[Report]) -> pd.DataFrame:
    layer = current_layer()
    names = {code: c.name_zh for code, c in layer.category_table.items()}
    return pd.DataFrame({
        "lon": [r.lon for r in rows], "lat": [r.lat for r in rows], "state": [r.state for r in rows],
        "category_name": [names.get(r.category, r.category) for r in rows], "unit_id": [r.unit_id for r in rows],
        "unit_name": [layer.unit_names.get(r.unit_id or "", "") for r in rows],
        "deadline_at": [r.deadline_at.isoformat() if r.deadline_at else "" for r in rows],
    })


def _html(m: Any) -> Response:
    return html_with_inline_scripts(m.get_root().render())


@bp.get("/maps/reports")
@contract.page("All reports: heat map and clusters by state (a session or a dispatcher's or planner's token)", ("200", "302", "401", "403"))
def reports_page() -> ResponseReturnValue:
    """All reports: heat map and clusters by state (dispatchers and planners)."""
    require(Role.DISPATCHER, Role.PLANNER)
    rows = g.db.scalars(select(Report).order_by(Report.id.desc()).limit(50_000)).all()
    return _html(reports_map(current_layer(), _report_frame(rows), asset_prefix="/assets/", attribution=live.map_attribution(current_app)))


@bp.get("/maps/units/<unit_id>")
@contract.page("A unit's zones, test points and open reports (a session or a token)", ("200", "302", "401", "403", "404"))
def unit_page(unit_id: str) -> ResponseReturnValue:
    """A unit's zones, test points and open reports; a unit token sees only its own."""
    caller = require(Role.DISPATCHER, Role.PLANNER, Role.UNIT)
    parsing.key(unit_id, "unit_id")
    if caller.role == Role.UNIT and caller.unit_id != unit_id:
        abort(404)
    open_states = [s.value for s in workflow.OPEN_STATES]
    rows = g.db.scalars(select(Report).where(Report.unit_id == unit_id, Report.state.in_(open_states))).all()
    return _html(unit_map(current_layer(), unit_id, _report_frame(rows), asset_prefix="/assets/", attribution=live.map_attribution(current_app)))


@bp.get("/maps/public")
@contract.operation("The public board map: published results only (HTML)", content="text/html", secured=False, errors=())
def public_page() -> ResponseReturnValue:
    """The public board map: published results only."""
    rows = g.db.scalars(select(Report).where(Report.state == workflow.State.PUBLISHED.value).order_by(Report.id.desc()).limit(5000)).all()
    return _html(public_map(current_layer(), _report_frame(rows), asset_prefix="/assets/", attribution=live.map_attribution(current_app)))
