"""OGC API – Features over the live layers (Part 1: Core, GeoJSON, OpenAPI 3.0; Part 3:
queryables as query parameters), so planners open them in QGIS or GDAL (``OAPIF:http://host/ogc``).
GeoJSON follows RFC 7946 (`api.web.geojson`). Private fields (person, phone) only for dispatcher
and planner tokens. Every resource answers 400 with a problem for a parameter it does not take
or a value it cannot read.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from flask import Blueprint, Response, current_app, g, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from api.auth.roles import Role
from api.inspections import scores
from api.layers import live, ogc_params, ogc_schema, ogc_time
from api.layers.live import current_layer
from api.persistence.models import Report
from api.web import contract
from api.web.errors import ApiError
from api.web.geojson import PRIVATE, features_json
from api.web.openapi import OPENAPI_JSON
from api.web.schemas import Feature, FeatureCollection
from geodata.io import GEOJSON_DECIMALS
from zones.config import STORAGE_CRS
from zones.workflow import State
from zones.worktime import TIMEZONE

bp = Blueprint("ogc", __name__, url_prefix="/ogc")
JSON = "application/json"
GEOJSON = "application/geo+json"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
]
COLLECTIONS = {
    "zones": "责任区 Responsibility zones",
    "test_points": "测评点位 Test points",
    "areas": "辖区与街道 District and sub-districts",
    "scope": "应覆盖范围 Coverage scope (where zones are required)",
    "coverage_gaps": "责任空白 Coverage gaps",
    "reports_public": "已公开的整改结果 Published results",
}
#: The parameters the items take besides each collection's queryables.
ITEM_PARAMS = (ogc_params.FORMAT, ogc_params.BBOX, ogc_params.LIMIT, ogc_params.OFFSET, ogc_params.DATETIME_PARAM)
ERRORS = ("400", "404", "503")  # 503: the coverage gaps are still being computed


def _link(endpoint: str, **values: Any) -> str:
    """An absolute link under the configured ``BASE_URL``: never the request's Host header,
    which any client can set."""
    return current_app.config["BASE_URL"].rstrip("/") + url_for(endpoint, **values)


def _json(body: Any, mimetype: str = JSON) -> Response:
    return Response(json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")), mimetype=mimetype)


def _only(*names: str) -> None:
    """Refuse any parameter but ``f`` and ``names``, and any format but JSON."""
    ogc_params.check_names(request.args, ("f", *names))
    ogc_params.check_format(request.args)


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
    if collection == "reports_public":  # the day in Asia/Shanghai and the place to about 10 m: no more than the public board shows
        rows = g.db.scalars(select(Report).where(Report.state == State.PUBLISHED.value).order_by(Report.id)).all()
        frame = gpd.GeoDataFrame(
            {"report_id": [r.id for r in rows], "category": [r.category for r in rows], "unit_id": [r.unit_id for r in rows],
             "area_id": [r.area_id for r in rows], "reported_on": [r.created_at.astimezone(TIMEZONE).date().isoformat() for r in rows]},
            geometry=shapely.points([round(r.lon, 4) for r in rows], [round(r.lat, 4) for r in rows]) if rows else [],
            crs=STORAGE_CRS,
        )
        return frame, "report_id"
    raise ApiError(404, f"no collection {collection!r}; collections: {', '.join(COLLECTIONS)}")


def _outward(value: float, up: bool) -> float:
    """``value`` rounded away from the data to the features' precision, so the extent holds every rounded coordinate."""
    scaled = value * 10**GEOJSON_DECIMALS
    return round((math.ceil(scaled) if up else math.floor(scaled)) / 10**GEOJSON_DECIMALS, GEOJSON_DECIMALS)


def _extent(frame: gpd.GeoDataFrame, collection: str) -> dict[str, Any] | None:
    """The spatial extent of the features and their temporal extent where they have a time;
    None for an empty collection (it has none)."""
    geoms = frame.geometry.to_numpy()
    present = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if not len(present):
        return None
    west, south, east, north = shapely.total_bounds(present)
    out: dict[str, Any] = {"spatial": {"bbox": [[_outward(west, False), _outward(south, False), _outward(east, True), _outward(north, True)]],
                                       "crs": CRS84}}
    interval = ogc_time.extent(ogc_time.feature_times(frame, collection))
    if interval is not None:
        out["temporal"] = {"interval": [interval], "trs": ogc_time.GREGORIAN}
    return out


def _collection_json(collection: str) -> dict[str, Any]:
    frame, _ = _frame(collection)
    extent = _extent(frame, collection)
    return {
        "id": collection, "title": COLLECTIONS[collection], "itemType": "feature", "crs": [CRS84],
        **({"extent": extent} if extent else {}),
        "links": [
            {"rel": "self", "type": JSON, "title": "this collection", "href": _link("ogc.collection", collection=collection)},
            {"rel": "items", "type": GEOJSON, "title": "its features", "href": _link("ogc.items", collection=collection)},
            {"rel": "describedby", "type": ogc_schema.SCHEMA_JSON, "title": "the schema of its features",
             "href": _link("ogc.schema", collection=collection)},
            {"rel": ogc_schema.QUERYABLES_REL, "type": ogc_schema.SCHEMA_JSON, "title": "what its features can be filtered by",
             "href": _link("ogc.queryables", collection=collection)},
        ],
    }


def _known(collection: str) -> None:
    if collection not in COLLECTIONS:
        raise ApiError(404, f"no collection {collection!r}; collections: {', '.join(COLLECTIONS)}")


@bp.get("/")
@bp.get("")
@contract.operation("OGC API – Features landing page", answer={}, secured=False, errors=("400",), params=[ogc_params.FORMAT])
def landing() -> ResponseReturnValue:
    """The landing page (with or without the trailing slash)."""
    _only()
    return _json({
        "title": "zonemap OGC API – Features",
        "description": "三定三包责任区、测评点位、辖区、责任空白与已公开结果",
        "links": [
            {"rel": "self", "type": JSON, "title": "this document", "href": _link("ogc.landing")},
            {"rel": "service-desc", "type": OPENAPI_JSON, "title": "the API definition (OpenAPI 3.0)", "href": _link("openapi")},
            {"rel": "service-doc", "type": "text/html", "title": "the API documentation", "href": _link("docs")},
            {"rel": "conformance", "type": JSON, "title": "the conformance classes implemented", "href": _link("ogc.conformance")},
            {"rel": "data", "type": JSON, "title": "the collections", "href": _link("ogc.collections")},
        ],
    })


@bp.get("/conformance")
@contract.operation("Conformance classes", answer={}, secured=False, errors=("400",), params=[ogc_params.FORMAT])
def conformance() -> ResponseReturnValue:
    """The conformance classes implemented."""
    _only()
    return _json({"conformsTo": CONFORMANCE})


@bp.get("/collections")
@contract.operation("Collections", answer={}, secured=False, errors=("400", "503"), params=[ogc_params.FORMAT])
def collections() -> ResponseReturnValue:
    """Every collection."""
    _only()
    return _json({"collections": [_collection_json(c) for c in COLLECTIONS],
                  "links": [{"rel": "self", "type": JSON, "title": "this document", "href": _link("ogc.collections")}]})


@bp.get("/collections/<collection>")
@contract.operation("One collection", answer={}, secured=False, errors=ERRORS, params=[ogc_params.FORMAT])
def collection(collection: str) -> ResponseReturnValue:
    """One collection."""
    _known(collection)
    _only()
    return _json(_collection_json(collection))


@bp.get("/collections/<collection>/schema")
@contract.operation("The JSON Schema of a collection's features", answer={}, content=ogc_schema.SCHEMA_JSON, secured=False, errors=ERRORS,
                    params=[ogc_params.FORMAT])
def schema(collection: str) -> ResponseReturnValue:
    """The JSON Schema of the collection's features (its ``describedby`` link)."""
    _known(collection)
    _only()
    frame, key = _frame(collection)
    href = _link("ogc.schema", collection=collection)
    return _json(ogc_schema.feature_schema(frame, collection, key, COLLECTIONS[collection], href), ogc_schema.SCHEMA_JSON)


@bp.get("/collections/<collection>/queryables")
@contract.operation("What a collection's features can be filtered by (OGC API – Features Part 3)", answer={}, content=ogc_schema.SCHEMA_JSON,
                    secured=False, errors=ERRORS, params=[ogc_params.FORMAT])
def queryables(collection: str) -> ResponseReturnValue:
    """The collection's queryables: each is also a parameter of its items (``?unit_id=P06``)."""
    _known(collection)
    _only()
    frame, key = _frame(collection)
    href = _link("ogc.queryables", collection=collection)
    return _json(ogc_schema.queryables(frame, collection, key, COLLECTIONS[collection], href), ogc_schema.SCHEMA_JSON)


def _in_box(geoms: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """Which geometries intersect ``box`` (west > east: across the antimeridian); a feature
    without a geometry matches any box (``/req/core/fc-bbox-response`` C)."""
    west, south, east, north = box
    boxes = [shapely.box(west, south, east, north)] if west <= east else [shapely.box(west, south, 180, north), shapely.box(-180, south, east, north)]
    hit = shapely.is_missing(geoms)
    for part in boxes:
        hit |= shapely.intersects(geoms, part)
    return hit


def _page_link(rel: str, collection: str, title: str, **args: Any) -> dict[str, str]:
    return {"rel": rel, "type": GEOJSON, "title": title, "href": _link("ogc.items", collection=collection, **args)}


@bp.get("/collections/<collection>/items")
@contract.operation("Features (GeoJSON)", answer=FeatureCollection, content=GEOJSON, secured=False, errors=ERRORS,
                    params=[*ITEM_PARAMS, *ogc_schema.FILTERS])
def items(collection: str) -> ResponseReturnValue:
    """Features, filtered by ``bbox``, ``datetime`` and the collection's queryables, paged by
    ``limit`` (default 1,000; at most 10,000) and ``offset``."""
    _known(collection)
    frame, key = _frame(collection)
    filters = ogc_schema.filter_names(frame, collection)
    _only(*(p.name for p in ITEM_PARAMS if p.name != "f"), *filters)
    box = ogc_params.bbox(request.args.get("bbox"))
    when = ogc_time.parse(request.args.get("datetime"))
    limit, offset = ogc_params.limit(request.args.get("limit")), ogc_params.offset(request.args.get("offset"))
    keep = ogc_schema.matches(frame, ogc_params.filters(request.args, filters))
    if box is not None:
        keep &= _in_box(frame.geometry.to_numpy(), box)
    if when is not None:
        keep &= ogc_time.matches(frame, collection, when)
    frame = frame[keep]
    page = frame.iloc[offset:offset + limit]
    args = request.args.to_dict()
    links = [_page_link("self", collection, "this page", **args),
             {"rel": "collection", "type": JSON, "title": "the collection", "href": _link("ogc.collection", collection=collection)}]
    if offset + limit < len(frame):
        links.append(_page_link("next", collection, "the next page", **{**args, "offset": offset + limit, "limit": limit}))
    if offset > 0:
        links.append(_page_link("prev", collection, "the previous page", **{**args, "offset": max(offset - limit, 0), "limit": limit}))
    return _json({"type": "FeatureCollection", "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
                  "numberMatched": len(frame), "numberReturned": len(page), "features": features_json(page, key), "links": links}, GEOJSON)


@bp.get("/collections/<collection>/items/<feature_id>")
@contract.operation("One feature", answer=Feature, content=GEOJSON, secured=False, errors=ERRORS, params=[ogc_params.FORMAT])
def item(collection: str, feature_id: str) -> ResponseReturnValue:
    """One feature, with links to itself and its collection."""
    _known(collection)
    _only()
    frame, key = _frame(collection)
    match = frame[frame[key].astype(str) == feature_id]
    if not len(match):
        raise ApiError(404, f"no feature {feature_id!r} in {collection}")
    feature = features_json(match, key)[0]
    feature["links"] = [
        {"rel": "self", "type": GEOJSON, "title": "this feature", "href": _link("ogc.item", collection=collection, feature_id=feature_id)},
        {"rel": "collection", "type": JSON, "title": "its collection", "href": _link("ogc.collection", collection=collection)},
    ]
    return _json(feature, GEOJSON)
