"""The OpenAPI 3 document of the service, and an offline page that renders it."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify
from flask.typing import ResponseReturnValue

PROBLEM = {"$ref": "#/components/responses/Problem"}


def _op(summary: str, *, params: list[dict[str, Any]] | None = None, body: str | None = None, ok: str = "200",
        schema: str | None = None, secured: bool = True, errors: tuple[str, ...] = ("400", "401", "403", "404", "422")) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {ok: {"description": "OK"}}}
    if schema:
        op["responses"][ok]["content"] = {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}
    for code in errors:
        op["responses"][code] = PROBLEM
    if params:
        op["parameters"] = params
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}}}
    if not secured:
        op["security"] = []
    return op


def _q(name: str, kind: str = "string", required: bool = False, **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": {"type": kind, **extra}}


def _path(name: str, kind: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": kind}}


def document() -> dict[str, Any]:
    """The OpenAPI 3.0 document."""
    location = [_q("lon", "number", True), _q("lat", "number", True), _q("crs", enum=["wgs84", "cgcs2000", "gcj02", "bd09"]), _q("accuracy_m", "number", minimum=0)]
    page = [_q("limit", "integer", minimum=1, maximum=500), _q("offset", "integer", minimum=0)]
    fmt_ok = ("400", "401", "404")
    return {
        "openapi": "3.0.3",
        "info": {"title": "zonemap", "version": "1.0", "description": "三定三包责任区、测评点位与随手拍问题派单 Responsibility zones, test points and citizen reports"},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {"Problem": {"description": "RFC 9457 problem details naming the field", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}},
            "schemas": {
                "Problem": {"type": "object", "properties": {"type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"}, "detail": {"type": "string"},
                            "errors": {"type": "array", "items": {"type": "object", "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}}}},
                "NewReport": {"type": "object", "required": ["lon", "lat", "category"], "properties": {
                    "lon": {"type": "number"}, "lat": {"type": "number"}, "crs": {"type": "string", "enum": ["wgs84", "cgcs2000", "gcj02", "bd09"]},
                    "accuracy_m": {"type": "number", "minimum": 0}, "category": {"type": "string"}, "description": {"type": "string"},
                    "photos": {"type": "array", "items": {"type": "string"}}, "source": {"type": "string", "enum": ["citizen", "leader", "inspection", "self_check", "spot_check"]},
                    "reporter_contact": {"type": "string"}, "client_ref": {"type": "string"}}},
                "Transition": {"type": "object", "required": ["action"], "properties": {
                    "action": {"type": "string", "enum": ["dispatch", "rectify", "verify", "rework", "publish", "dispute", "reassign", "escalate", "reject", "mark_duplicate"]},
                    "note": {"type": "string"}, "evidence": {"type": "array", "items": {"type": "string"}}, "unit_id": {"type": "string"}}},
                "Decision": {"type": "object", "properties": {k: {"type": "string", "nullable": True} for k in (
                    "status", "unit_id", "zone_id", "rule", "test_point_id", "zone_version", "reason", "area_id")}},
                "Report": {"type": "object", "properties": {"id": {"type": "integer"}, "state": {"type": "string"}, "unit_id": {"type": "string", "nullable": True},
                           "deadline_at": {"type": "string", "nullable": True}, "overdue": {"type": "boolean"}, "decision": {"$ref": "#/components/schemas/Decision"}}},
            },
        },
        "security": [{"bearer": []}],
        "paths": {
            "/healthz": {"get": _op("Liveness and the zone-layer version", secured=False, errors=())},
            "/openapi.json": {"get": _op("This document", secured=False, errors=())},
            "/docs": {"get": _op("A page rendering this document", secured=False, errors=())},
            "/api/v1/reports": {
                "post": _op("Submit a report: validated, routed, stored, dispatched", body="NewReport", ok="201", schema="Report",
                            params=[{"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string"}}], errors=("400", "401", "403", "409", "413", "422")),
                "get": _op("List reports", params=[_q("status"), _q("decision"), _q("unit"), _q("category"), _q("area"), _q("bbox"), _q("since"), _q("until"), _q("overdue", enum=["true", "false"]), *page]),
            },
            "/api/v1/reports/{report_id}": {"get": _op("One report with its history", params=[_path("report_id", "integer")], schema="Report")},
            "/api/v1/reports/{report_id}/transitions": {"post": _op("Move a report through the workflow", params=[_path("report_id", "integer")], body="Transition", schema="Report",
                                                                     errors=("400", "401", "403", "404", "409", "422"))},
            "/api/v1/route": {"get": _op("The routing decision for a point, stored nowhere", params=[*location, _q("category", required=True)], schema="Decision")},
            "/api/v1/units": {"get": _op("Units ranked by on-time rate")},
            "/api/v1/units/{unit_id}": {"get": _op("A unit's zones, test points, reports and figures", params=[_path("unit_id")])},
            "/api/v1/zones": {"get": _op("Zones as GeoJSON", params=[_q("bbox")])},
            "/api/v1/zones/{zone_id}": {"get": _op("One zone as GeoJSON", params=[_path("zone_id")])},
            "/api/v1/test-points": {"get": _op("Test points as GeoJSON")},
            "/api/v1/layers": {
                "get": _op("Published zone-layer versions"),
                "post": {**_op("Publish a zone layer (GeoPackage with zones, test_points, areas; optional categories and units CSVs)", ok="201",
                               errors=("400", "401", "403", "413", "422")),
                         "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {"type": "object", "required": ["layer"], "properties": {
                             "layer": {"type": "string", "format": "binary"}, "categories": {"type": "string", "format": "binary"}, "units": {"type": "string", "format": "binary"}}}}}}},
            },
            "/api/v1/public/reports": {"get": _op("The public board of published results", params=page, secured=False, errors=("422",))},
            "/open311/v2/services.json": {"get": _op("Open311 services (the categories)", secured=False, params=[_q("jurisdiction_id")], errors=fmt_ok)},
            "/open311/v2/services/{service_code}.json": {"get": _op("Open311 service definition", secured=False, params=[_path("service_code"), _q("jurisdiction_id")], errors=fmt_ok)},
            "/open311/v2/requests.json": {
                "get": _op("Open311 requests", secured=False, params=[_q("jurisdiction_id"), _q("service_request_id"), _q("service_code"), _q("start_date"), _q("end_date"), _q("status")], errors=fmt_ok),
                "post": _op("Open311 create request", secured=False, params=[_q("jurisdiction_id"), _q("api_key", required=True), _q("service_code", required=True),
                                                                               _q("lat", "number"), _q("long", "number"), _q("description"), _q("media_url")], errors=fmt_ok),
            },
            "/open311/v2/requests/{request_id}.json": {"get": _op("Open311 request", secured=False, params=[_path("request_id", "integer"), _q("jurisdiction_id")], errors=fmt_ok)},
            "/open311/v2/request/{request_id}.json": {"get": _op("Open311 request (singular path of the contract)", secured=False, params=[_path("request_id", "integer"), _q("jurisdiction_id")], errors=fmt_ok)},
            "/open311/v2/tokens/{token_id}.json": {"get": _op("Open311 token lookup", secured=False, params=[_path("token_id"), _q("jurisdiction_id")], errors=fmt_ok)},
            "/ogc": {"get": _op("OGC API – Features landing page", secured=False, errors=())},
            "/maps/coverage": {"get": _op("The coverage map (HTML, offline assets)", secured=False, params=[_q("basemap", enum=["osm", "amap", "tianditu"])], errors=("422",))},
            "/maps/coverage/suggestions.geojson": {"get": _op("Gap-fill suggestions as a candidate zone layer (GeoJSON)", secured=False, errors=())},
            "/coverage": {"get": _op("The planners' coverage page (HTML; ?lang=en for English)", secured=False, params=[_q("lang", enum=["zh", "en"])], errors=())},
            "/maps/reports": {"get": _op("All reports: heat map and clusters by state (HTML)", errors=("401", "403"))},
            "/maps/units/{unit_id}": {"get": _op("A unit's zones, test points and open reports (HTML)", params=[_path("unit_id")], errors=("401", "403", "404"))},
            "/maps/public": {"get": _op("The public board map: published results only (HTML)", secured=False, errors=())},
            "/dispatch": {"get": _op("The dispatchers' queue page (HTML; ambiguous, fallback, disputed and overdue reports with reassign)", secured=False, params=[_q("lang", enum=["zh", "en"])], errors=())},
            "/units/{unit_id}": {"get": _op("A unit's page (HTML): zones, test points, reports with deadlines, the map", secured=False, params=[_path("unit_id"), _q("lang", enum=["zh", "en"])], errors=())},
            "/assets/{path}": {"get": _op("Vendored web assets of the maps", secured=False, params=[_path("path")], errors=("404",))},
            "/ogc/conformance": {"get": _op("Conformance classes", secured=False, errors=())},
            "/ogc/collections": {"get": _op("Collections", secured=False, errors=())},
            "/ogc/collections/{collection}": {"get": _op("One collection", secured=False, params=[_path("collection")], errors=("404",))},
            "/ogc/collections/{collection}/items": {"get": _op("Features (GeoJSON)", secured=False, params=[_path("collection"), _q("bbox"), _q("limit", "integer", minimum=1, maximum=10000), _q("offset", "integer", minimum=0)], errors=("404", "422"))},
            "/ogc/collections/{collection}/items/{feature_id}": {"get": _op("One feature", secured=False, params=[_path("collection"), _path("feature_id")], errors=("404",))},
        },
    }


DOCS_PAGE = """<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>zonemap API</title>
<style>body{font-family:sans-serif;margin:2em}code{background:#eee;padding:0 .3em}td,th{padding:.2em .8em;text-align:left;vertical-align:top}</style></head>
<body><h1>zonemap API</h1><p>OpenAPI 3 document: <a href="/openapi.json">/openapi.json</a></p><table id="ops"><tr><th>method</th><th>path</th><th>summary</th></tr></table>
<script>
fetch('/openapi.json').then(r => r.json()).then(doc => {
  const table = document.getElementById('ops');
  for (const [path, ops] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(ops)) {
    const row = table.insertRow();
    row.insertCell().textContent = method.toUpperCase();
    row.insertCell().innerHTML = '<code></code>'; row.cells[1].firstChild.textContent = path;
    row.insertCell().textContent = op.summary;
  }
});
</script></body></html>"""


def init_app(app: Flask) -> None:
    """Serve the document and the docs page (no external assets)."""

    @app.get("/openapi.json", endpoint="openapi")
    def openapi() -> ResponseReturnValue:
        return jsonify(document())

    @app.get("/docs")
    def docs() -> ResponseReturnValue:
        return Response(DOCS_PAGE, mimetype="text/html")
