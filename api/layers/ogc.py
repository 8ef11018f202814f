"""OGC API – Features (Part 1: Core, read-only, GeoJSON) over the live layers, so planners open
them in QGIS or GDAL (``OAPIF:http://host/ogc``). GeoJSON follows RFC 7946: lon/lat, outer
rings counter-clockwise. Private fields (person, phone) only for dispatcher and planner tokens.
"""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from flask import Blueprint, Response, current_app, g, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from api.auth.roles import Role
from api.inspections import scores
from api.layers import live
from api.layers.live import current_layer
from api.persistence.models import Report
from api.web import contract, parsing
from api.web.errors import ApiError
from api.web.geojson import PRIVATE, features_json
from api.web.schemas import Feature, FeatureCollection
from zones.config import STORAGE_CRS
from zones.workflow import State


def _link(endpoint: str, **values: Any) -> str:
    """An absolute link under the configured ``BASE_URL``: never the request's Host header,
    which any client can set."""
    return current_app.config["BASE_URL"].rstrip("/") + url_for(endpoint, **values)


bp = Blueprint("ogc", __name__, url_prefix="/ogc")
GEOJSON = "application/geo+json"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
COLLECTIONS = {
    "zones": "责任区 Responsibility zones",
    "test_points": "测评点位 Test points",
    "areas": "辖区与街道 District and sub-districts",
    "scope": "应覆盖范围 Coverage scope (where zones are required)",
    "coverage_gaps": "责任空白 Coverage gaps",
    "reports_public": "已公开的整改结果 Published results",
}


def _json(body: Any, mimetype: str = "application/json", status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False, allow_nan=False), status=status, mimetype=mimetype)


def _frame(collection: str) -> tuple[gpd.GeoDataFrame, str]:
    layer = current_layer()
    if collection == "zones":
        frame, key = layer.zones, "zone_id"
        if g.caller is None or g.caller.role not in (Role.DISPATCHER, Role.PLANNER):
            frame = frame.drop(columns=[c for c in PRIVATE if c in frame.columns])
        return frame, key
    if collection == "test_points":  # with each point's latest inspection score (得分率), its day and round
        latest = scores.latest_by_point(g.db)
        found = [latest.get(str(p), (None, None, None)) for p in layer.test_points["point_id"]]
        columns = {name: pd.Series([f[n] for f in found], index=layer.test_points.index, dtype=object)
                   for n, name in enumerate(("latest_rate", "inspected_on", "round_id"))}
        return layer.test_points.assign(**columns), "point_id"
    if collection == "areas":
        return layer.areas, "area_id"
    if collection == "scope":
        return (layer.scope if layer.scope is not None else gpd.GeoDataFrame({"scope_id": []}, geometry=[], crs=STORAGE_CRS)), "scope_id"
    if collection == "coverage_gaps":  # the coverage analysis's own gaps: the same ids and areas as the page, the map and the CLI
        return live.coverage(layer).gaps, "gap_id"
    if collection == "reports_public":
        rows = g.db.scalars(select(Report).where(Report.state == State.PUBLISHED.value).order_by(Report.id)).all()
        frame = gpd.GeoDataFrame(
            {"report_id": [r.id for r in rows], "category": [r.category for r in rows], "unit_id": [r.unit_id for r in rows],
             "area_id": [r.area_id for r in rows], "reported_on": [r.created_at.date().isoformat() for r in rows]},
            geometry=shapely.points([round(r.lon, 4) for r in rows], [round(r.lat, 4) for r in rows]) if rows else [],
            crs=STORAGE_CRS,
        )
        return frame, "report_id"
    raise ApiError(404, f"no collection {collection!r}; collections: {', '.join(COLLECTIONS)}")


def _collection_json(collection: str) -> dict[str, Any]:
    frame, _ = _frame(collection)
    bounds = [float(v) for v in frame.total_bounds] if len(frame) else [-180.0, -90.0, 180.0, 90.0]
    return {
        "id": collection, "title": COLLECTIONS[collection], "itemType": "feature", "crs": [CRS84],
        "extent": {"spatial": {"bbox": [bounds], "crs": CRS84}},
        "links": [
            {"rel": "self", "type": "application/json", "href": _link("ogc.collection", collection=collection)},
            {"rel": "items", "type": GEOJSON, "href": _link("ogc.items", collection=collection)},
        ],
    }


@bp.get("")
@contract.operation("OGC API – Features landing page", answer={}, secured=False, errors=())
def landing() -> ResponseReturnValue:
    """The landing page."""
    return _json({
        "title": "zonemap OGC API – Features",
        "description": "三定三包责任区、测评点位、辖区、责任空白与已公开结果",
        "links": [
            {"rel": "self", "type": "application/json", "href": _link("ogc.landing")},
            {"rel": "conformance", "type": "application/json", "href": _link("ogc.conformance")},
            {"rel": "data", "type": "application/json", "href": _link("ogc.collections")},
            {"rel": "service-desc", "type": "application/vnd.oai.openapi+json;version=3.0", "href": _link("openapi")},
        ],
    })


@bp.get("/conformance")
@contract.operation("Conformance classes", answer={}, secured=False, errors=())
def conformance() -> ResponseReturnValue:
    """The conformance classes implemented."""
    return _json({"conformsTo": CONFORMANCE})


@bp.get("/collections")
@contract.operation("Collections", answer={}, secured=False, errors=())
def collections() -> ResponseReturnValue:
    """Every collection."""
    return _json({"collections": [_collection_json(c) for c in COLLECTIONS],
                  "links": [{"rel": "self", "type": "application/json", "href": _link("ogc.collections")}]})


@bp.get("/collections/<collection>")
@contract.operation("One collection", answer={}, secured=False, errors=("404",))
def collection(collection: str) -> ResponseReturnValue:
    """One collection."""
    if collection not in COLLECTIONS:
        raise ApiError(404, f"no collection {collection!r}; collections: {', '.join(COLLECTIONS)}")
    return _json(_collection_json(collection))


@bp.get("/collections/<collection>/items")
@contract.operation("Features (GeoJSON)", answer=FeatureCollection, content=GEOJSON, secured=False, errors=("404", "422"), params=[
    contract.query("bbox", pattern=f"^{parsing.BBOX}$"), contract.query("limit", "integer", minimum=1, maximum=10_000),
    contract.query("offset", "integer", minimum=0, maximum=parsing.MAX_OFFSET)])
def items(collection: str) -> ResponseReturnValue:
    """Features, filtered by ``bbox`` and paged by ``limit`` (≤ 10,000) and ``offset``."""
    frame, key = _frame(collection)
    box = parsing.bbox(request.args.get("bbox"))
    if box is not None and len(frame):
        frame = frame[shapely.intersects(frame.geometry.to_numpy(), shapely.box(*box))]
    limit, offset = parsing.paging(request.args, most=10_000, default=1000)
    page = frame.iloc[offset:offset + limit]
    links = [{"rel": "self", "type": GEOJSON, "href": _link("ogc.items", collection=collection, **request.args.to_dict())}]
    if offset + limit < len(frame):
        args = {**request.args.to_dict(), "offset": offset + limit, "limit": limit}
        links.append({"rel": "next", "type": GEOJSON, "href": _link("ogc.items", collection=collection, **args)})
    return _json({"type": "FeatureCollection", "numberMatched": len(frame), "numberReturned": len(page),
                  "features": features_json(page, key), "links": links}, GEOJSON)


@bp.get("/collections/<collection>/items/<feature_id>")
@contract.operation("One feature", answer=Feature, content=GEOJSON, secured=False, errors=("404",))
def item(collection: str, feature_id: str) -> ResponseReturnValue:
    """One feature."""
    frame, key = _frame(collection)
    match = frame[frame[key].astype(str) == feature_id]
    if not len(match):
        raise ApiError(404, f"no feature {feature_id!r} in {collection}")
    return _json(features_json(match, key)[0], GEOJSON)
