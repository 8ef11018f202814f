"""The OpenAPI 3 document of the service, and an offline page that renders it."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from flask import Flask, current_app, jsonify, render_template
from flask.typing import ResponseReturnValue

from api.layers.coverage_tables import DOWNLOADS
from api.layers.live import current_layer
from api.layers.upload_reader import UPLOAD_FIELDS
from api.persistence.models import CODE_LENGTH, CONTACT_LENGTH, KEY_LENGTH, MAX_ID
from api.reports.open311 import CONTACT_PART, JURISDICTIONS, REQUEST_IDS, STATUS_FILTERS
from api.reports.services import NEEDS_NOTE
from api.web import parsing
from geodata.crs import InputCRS
from maps.style import BASEMAPS
from zones.config import CHINA_LAT, CHINA_LON
from zones.decision import Decision
from zones.enums import ReportSource, Status
from zones.intake import MAX_ACCURACY_M
from zones.workflow import Action, State

PROBLEM = {"$ref": "#/components/responses/Problem"}
OPEN311_ERROR = {"$ref": "#/components/responses/Open311Errors"}
STATES, DECISIONS = State.values(), Status.values()
ACTIONS_WITH_NOTE = [a.value for a in NEEDS_NOTE]
ACTIONS_PLAIN = [a for a in Action.values() if a not in ACTIONS_WITH_NOTE and a not in (Action.REASSIGN.value, Action.PUBLISH.value)]
CRS = InputCRS.values()
BBOX = f"^{parsing.BBOX}$"
LON, LAT = CHINA_LON, CHINA_LAT
NO_NUL = "^[^\u0000]*$"  # no text column stores a NUL character
TEXT = {"type": "string", "maxLength": parsing.MAX_TEXT, "nullable": True, "pattern": NO_NUL}


def _op(summary: str, *, params: list[dict[str, Any]] | None = None, body: str | None = None, ok: str = "200", schema: str | None = None,
        content: str = "application/json", secured: bool = True, errors: tuple[str, ...] = ("401", "403", "404", "422"), error: dict[str, Any] = PROBLEM) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {ok: {"description": "OK"}}}
    op["responses"][ok]["content"] = {content: {"schema": {"$ref": f"#/components/schemas/{schema}"}} if schema else {}}
    for code in (*errors, "400" if error is OPEN311_ERROR else "422"):  # any parameter holding a NUL character is refused
        op["responses"][code] = error
    if params:
        op["parameters"] = params
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}}}
    if not secured:
        op["security"] = []
    return op


PAGE_STATUSES = {
    "200": "The page", "301": "Moved: to the page that replaced it", "302": "Not signed in: to the sign-in form", "303": "Done: to the next page", "400": "A page saying what was wrong "
    "(a form without its CSRF token, say)", "401": "A page asking to sign in", "403": "A page saying this role may not", "404": "A page saying there is no such thing", "405": "A page saying the page cannot be used that way",
    "413": "A page saying the upload is too large", "422": "The form again, saying what to correct", "429": "A page saying to wait (Retry-After)",
    "503": "A page saying to try again shortly (Retry-After)",
}


def _page(summary: str, codes: tuple[str, ...] = ("200",), *, params: list[dict[str, Any]] | None = None, form: dict[str, Any] | None = None,
          multipart: bool = False) -> dict[str, Any]:
    """A page for people (HTML): every answer, errors included, is a page in the reader's language."""
    op: dict[str, Any] = {"summary": summary, "security": [], "responses": {code: {"description": PAGE_STATUSES[code], "content": {"text/html": {}}} for code in codes}}
    op["parameters"] = [{**_q("lang"), "description": "the page's language: zh or en (anything else: the language cookie, else Chinese)"}, *(params or [])]
    if form is not None:
        op["requestBody"] = {"required": True, "content": {"multipart/form-data" if multipart else "application/x-www-form-urlencoded": {"schema": form}}}
    return op


def _page_data(summary: str, codes: tuple[str, ...], *, params: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The data a page's script fetches (JSON, with the page's session or a token); errors are pages."""
    op = _page(summary + " (a session or a token)", codes, params=params)
    op["responses"]["200"] = {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Any"}}}}
    return op


def _replayable(op: dict[str, Any]) -> dict[str, Any]:
    """A 200 beside the 201: a retry with the same Idempotency-Key or client_ref returns the stored report."""
    op["responses"]["200"] = {**op["responses"]["201"], "description": "The report stored by an earlier request with the same key"}
    return op


def _q(name: str, kind: str = "string", required: bool = False, **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": {"type": kind, **extra}}


def _path(name: str, kind: str = "string", **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": kind, **extra}}


def _obj(required: list[str] | None = None, **properties: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    return out


#: A `Decision` field's Python type → its JSON schema.
_FIELD_SCHEMAS = {"str": {"type": "string"}, "str | None": {"type": "string", "nullable": True}, "float | None": {"type": "number", "nullable": True},
                  "tuple[str, ...]": {"type": "array", "items": {"type": "string"}}}


def _decision_schema() -> dict[str, Any]:
    """The schema of a routing decision, read off `zones.decision.Decision`."""
    properties = {f.name: _FIELD_SCHEMAS[str(f.type)] for f in fields(Decision)}
    properties["status"] = {"type": "string", "enum": DECISIONS}
    return _obj([f.name for f in fields(Decision) if "None" not in str(f.type)], **properties)


def _schemas(categories: list[str]) -> dict[str, Any]:
    nullable_string = {"type": "string", "nullable": True}
    return {
        "Problem": _obj(type={"type": "string"}, title={"type": "string"}, status={"type": "integer"}, detail={"type": "string"},
                        errors={"type": "array", "items": _obj(field={"type": "string"}, message={"type": "string"})}),
        "Open311Error": _obj(["code", "description"], code={"type": "integer"}, description={"type": "string"}),
        "NewReport": _obj(
            ["lon", "lat", "category"],
            lon={"type": "number", "minimum": LON[0], "maximum": LON[1]}, lat={"type": "number", "minimum": LAT[0], "maximum": LAT[1]},
            crs={"type": "string", "enum": [*CRS, None], "nullable": True}, accuracy_m={"type": "number", "minimum": 0, "maximum": MAX_ACCURACY_M, "nullable": True},
            category={"type": "string", "enum": categories}, description=TEXT,
            photos={"type": "array", "maxItems": parsing.MAX_REFS, "items": {"type": "string", "maxLength": parsing.MAX_REF, "pattern": NO_NUL}, "nullable": True},
            source={"type": "string", "enum": [*ReportSource.values(), None], "nullable": True},
            reporter_contact={"type": "string", "maxLength": CONTACT_LENGTH, "nullable": True, "pattern": NO_NUL},
            client_ref={"type": "string", "maxLength": KEY_LENGTH, "nullable": True, "pattern": NO_NUL},
        ),
        "Transition": {"type": "object", "required": ["action"], "properties": {
            "action": {"type": "string", "enum": [*ACTIONS_PLAIN, *ACTIONS_WITH_NOTE, "reassign", "publish"]}, "note": TEXT,
            "evidence": {"type": "array", "maxItems": parsing.MAX_REFS, "items": {"type": "string", "maxLength": parsing.MAX_REF, "pattern": NO_NUL}, "nullable": True},
            "unit_id": {"type": "string", "maxLength": CODE_LENGTH, "nullable": True, "pattern": NO_NUL},
            "public_photos": {"type": "array", "maxItems": parsing.MAX_REFS, "items": {"type": "string", "maxLength": parsing.MAX_REF, "pattern": NO_NUL},
                              "description": "publish only: which of the report's photos and rectification evidence the public board shows "
                                             "(default: the rectification evidence)"},
            "duplicate_of": {"type": "integer", "minimum": 1, "maximum": MAX_ID,
                             "description": "mark_duplicate only: the original report, which takes this one's reporter and +1s"}},
            "anyOf": [  # reasons and targets some actions need; photos are published by publish alone
                {**_obj(action={"enum": ACTIONS_PLAIN}), "not": {"anyOf": [{"required": ["public_photos"]}, {"required": ["duplicate_of"]}]}},
                {**_obj(["note"], action={"enum": [a for a in ACTIONS_WITH_NOTE if a != Action.MARK_DUPLICATE.value]}, note={"type": "string", "pattern": r"^[^\u0000]*\S[^\u0000]*$"}),
                 "not": {"anyOf": [{"required": ["public_photos"]}, {"required": ["duplicate_of"]}]}},
                {**_obj(["note"], action={"enum": [Action.MARK_DUPLICATE.value]}, note={"type": "string", "pattern": r"^[^\u0000]*\S[^\u0000]*$"}),
                 "not": {"required": ["public_photos"]}},
                {**_obj(["unit_id"], action={"enum": ["reassign"]}, unit_id={"type": "string", "pattern": r"^[^\u0000]*\S[^\u0000]*$"}),
                 "not": {"anyOf": [{"required": ["public_photos"]}, {"required": ["duplicate_of"]}]}},
                {**_obj(action={"enum": ["publish"]}), "not": {"required": ["duplicate_of"]}},
            ]},
        "Decision": _decision_schema(),
        "Report": _obj(["id", "state", "category", "decision"], id={"type": "integer"}, state={"type": "string", "enum": STATES},
                       category={"type": "string"}, description={"type": "string"}, unit_id=nullable_string, deadline_at=nullable_string,
                       created_at={"type": "string", "format": "date-time"}, overdue={"type": "boolean"},
                       allowed_actions={"type": "array", "items": {"type": "string"}}, decision={"$ref": "#/components/schemas/Decision"}),
        "ReportPage": _obj(["items", "limit", "offset"], items={"type": "array", "items": {"$ref": "#/components/schemas/Report"}},
                           limit={"type": "integer"}, offset={"type": "integer"}, next={"type": "string"}),
        "RouteDecision": {"allOf": [{"$ref": "#/components/schemas/Decision"}, _obj(["lon", "lat"], lon={"type": "number"}, lat={"type": "number"})]},
        "FeatureCollection": _obj(["type", "features"], type={"type": "string", "enum": ["FeatureCollection"]},
                                  features={"type": "array", "items": {"$ref": "#/components/schemas/Feature"}}),
        "Feature": _obj(["type", "geometry", "properties"], type={"type": "string", "enum": ["Feature"]}, id={"type": "string"},
                        geometry={"type": "object", "nullable": True}, properties={"type": "object"}),
        "Photo": _obj(["id", "url", "content_type"], id={"type": "string"}, url={"type": "string"}, content_type={"type": "string"},
                      width={"type": "integer"}, height={"type": "integer"}, bytes={"type": "integer"}),
        "Units": _obj(["items"], items={"type": "array", "items": {"type": "object"}}),
        "Unit": _obj(["unit_id", "zones", "reports", "figures"], unit_id={"type": "string"}, zones={"type": "array"}, test_points={"type": "array"},
                     reports={"type": "array", "items": {"$ref": "#/components/schemas/Report"}}, figures={"type": "object"}),
        "Layers": _obj(["current", "items"], current={"type": "string"}, items={"type": "array", "items": {"type": "object"}}),
        "Layer": _obj(["version"], version={"type": "string"}, created_at={"type": "string"}, summary={"type": "object"}),
        "Board": _obj(["items"], items={"type": "array", "items": _obj(id={"type": "integer"}, category={"type": "string"}, reported_on={"type": "string", "format": "date"})},
                      limit={"type": "integer"}, offset={"type": "integer"}),
        "Health": _obj(["status", "zone_version"], status={"type": "string"}, zone_version={"type": "string"}, zones={"type": "integer"},
                        worker={"type": "integer", "description": "process id of the worker that answered"}),
        "Any": {},
        "GapIds": _obj(["gap_ids"], gap_ids={"type": "array", "minItems": 1, "maxItems": 500, "items": {"type": "string", "maxLength": 32, "pattern": NO_NUL}},
                       outline={"type": "object", "description": "one gap only: the zone's outline as a GeoJSON polygon (WGS84) instead of the gap's"},
                       unit_id={"type": "string", "maxLength": CODE_LENGTH, "pattern": NO_NUL, "description": "one gap only: its owner instead of the suggested one"}),
        "Note": _obj(["note"], note={"type": "string", "minLength": 1, "maxLength": parsing.MAX_TEXT, "pattern": NO_NUL}),
        "ReportIds": _obj(["report_ids"], report_ids={"type": "array", "maxItems": 10000, "items": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}),
    }


def document(categories: list[str], basemaps: list[str]) -> dict[str, Any]:
    """The OpenAPI 3.0 document; ``categories`` are the report category codes of the current
    layer, ``basemaps`` the basemaps the coverage map offers."""
    location = [_q("lon", "number", True, minimum=LON[0], maximum=LON[1]), _q("lat", "number", True, minimum=LAT[0], maximum=LAT[1]), _q("crs", enum=CRS),
                _q("accuracy_m", "number", minimum=0, maximum=MAX_ACCURACY_M)]
    page = [_q("limit", "integer", minimum=1, maximum=parsing.MAX_PAGE), _q("offset", "integer", minimum=0, maximum=parsing.MAX_OFFSET)]
    jurisdiction = _q("jurisdiction_id", enum=JURISDICTIONS)
    o311 = {"secured": False, "error": OPEN311_ERROR}
    html = {"secured": False, "content": "text/html", "errors": ()}
    report_id = _path("report_id", "integer", minimum=1, maximum=MAX_ID)
    request_id = _path("request_id", "integer", minimum=1, maximum=MAX_ID)
    draft_id, publication_id = (_path(name, "integer", minimum=1, maximum=MAX_ID) for name in ("draft_id", "publication_id"))
    return {
        "openapi": "3.0.3",
        "info": {"title": "zonemap", "version": "1.0", "description": "三定三包责任区、测评点位与随手拍问题派单 Responsibility zones, test points and citizen reports"},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {
                "Problem": {"description": "RFC 9457 problem details naming the field", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}},
                "Open311Errors": {"description": "Open311 errors", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Open311Error"}}}}},
            },
            "schemas": _schemas(categories),
        },
        "security": [{"bearer": []}],
        "paths": {
            "/healthz": {"get": _op("Liveness and the zone-layer version", schema="Health", secured=False, errors=())},
            "/openapi.json": {"get": _op("This document", schema="Any", secured=False, errors=())},
            "/docs": {"get": _op("A page rendering this document", **html)},
            "/": {"get": _page("The front door: what zonemap is for the district, report a problem, the public board, staff sign-in")},
            "/language/{lang}": {"get": _page("Switch the pages' language (a cookie) and go back", ("303",), params=[
                _path("lang"), {**_q("next"), "description": "the page to go back to (a path on this site)"}])},
            "/login": {"get": _page("The staff sign-in form", params=[_q("next")]),
                       "post": _page("Sign in (a wrong name or password: the form again, saying so)", ("200", "303", "400", "422", "429"),
                                     form=_obj(["username", "password", "csrf_token"], username={"type": "string"}, password={"type": "string"},
                                               csrf_token={"type": "string"}, next={"type": "string"}))},
            "/logout": {"post": _page("Sign out", ("303", "400"), form=_obj(["csrf_token"], csrf_token={"type": "string"}))},
            "/console": {"get": _page("Each role to its console (a unit to its own page)", ("302", "303", "403"))},
            "/admin/users": {"get": _page("The administrator's list of staff accounts", ("200", "302", "403")),
                             "post": _page("Create a staff account", ("303", "302", "400", "403", "422"), form=_obj(
                                 ["username", "role", "password", "csrf_token"], username={"type": "string"}, role={"type": "string"}, unit_id={"type": "string"},
                                 password={"type": "string"}, csrf_token={"type": "string"}))},
            "/admin/users/{username}/{change}": {"post": _page("Disable or enable a staff account", ("303", "302", "400", "403", "404"), params=[
                _path("username"), _path("change", enum=["disable", "enable"])], form=_obj(["csrf_token"], csrf_token={"type": "string"}))},
            "/report": {"get": _page("The citizens' form (随手拍): where, what, one to three photos, a few words, an optional phone number"),
                        "post": _page("Send a report (or, with join, a +1 on an open report nearby); the receipt follows", ("303", "400", "404", "413", "422", "429", "503"),
                                      multipart=True, form=_obj(
                                          ["lon", "lat", "category", "photos", "csrf_token"], lon={"type": "number"}, lat={"type": "number"},
                                          accuracy_m={"type": "number"}, crs={"type": "string", "enum": CRS}, category={"type": "string"},
                                          photos={"type": "array", "maxItems": 3, "items": {"type": "string", "format": "binary"}},
                                          description={"type": "string"}, phone={"type": "string"}, client_ref={"type": "string"}, join={"type": "string"},
                                          csrf_token={"type": "string"}))},
            "/report/check": {"get": _page("A fragment of the form: the unit that takes a report at this spot, and open reports of the same problem nearby "
                                           "(a spot or category it cannot read: a hint to mark the spot or choose one)", params=[
                _q("lon"), _q("lat"), _q("crs"), _q("accuracy_m"), _q("category")])},
            "/r": {"get": _page("Follow a report by its reference, however typed", ("303", "404"), params=[_q("ref", required=True)])},
            "/r/{ref}": {"get": _page("A report's progress by its public reference, without personal data", ("200", "404"), params=[_path("ref")])},
            "/public": {"get": _page("The public board (晾晒): published cases as a list and a map; a filter it does not know (area, group, "
                                     "period all|7d|30d|365d, page) is left out", params=[_q("area"), _q("group"), _q("period"), _q("page")])},
            "/public/{ref}": {"get": _page("One published case", ("200", "404"), params=[_path("ref")])},
            "/maps/orientation.geojson": {"get": _op("Streets and place names of the current layer, for maps without tiles (GeoJSON)", schema="FeatureCollection",
                                                     content="application/geo+json", secured=False, errors=())},
            "/api/v1/reports": {
                "post": _replayable(_op("Submit a report: validated, routed, stored, dispatched", body="NewReport", ok="201", schema="Report",
                                        params=[{"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string", "maxLength": KEY_LENGTH}}],
                                        errors=("400", "401", "403", "409", "413", "422", "429"))),
                "get": _op("List reports", schema="ReportPage", errors=("401", "403", "422"), params=[
                    _q("status", enum=STATES), _q("decision", enum=DECISIONS), _q("unit", pattern=NO_NUL), _q("category", pattern=NO_NUL), _q("area", pattern=NO_NUL), _q("bbox", pattern=BBOX),
                    _q("since", format="date-time"), _q("until", format="date-time"), _q("overdue", enum=["true", "false"]), *page]),
            },
            "/api/v1/reports/{report_id}": {"get": _op("One report with its history", params=[report_id], schema="Report", errors=("401", "403", "404"))},
            "/api/v1/reports/{report_id}/transitions": {"post": _op("Move a report through the workflow", params=[report_id], body="Transition", schema="Report",
                                                                     errors=("400", "401", "403", "404", "409", "422"))},
            "/api/v1/photos": {"post": {**_op("Upload a photo (JPEG, PNG, WebP); stored without EXIF/GPS; returns its reference", ok="201", schema="Photo",
                                              errors=("400", "401", "403", "413", "422", "429")),
                                        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": _obj(["photo"], photo={"type": "string", "format": "binary"})}}}}},
            "/api/v1/photos/{photo_id}": {"get": {**_op("A stored photo (anyone, when published with a case on the public board; else dispatchers, planners, "
                                                        "and the unit of a report showing it); ?size=small: a JPEG at most 480 px a side",
                                                        params=[_path("photo_id", pattern=NO_NUL), _q("size", enum=["full", "small"])]),
                                                  "responses": {"200": {"description": "The image", "content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}},
                                                                "401": PROBLEM, "403": PROBLEM, "404": PROBLEM, "422": PROBLEM}}},
            "/api/v1/route": {"get": _op("The routing decision for a point, stored nowhere", schema="RouteDecision", errors=("401", "403", "422"),
                                         params=[*location, _q("category", required=True, enum=categories)])},
            "/api/v1/units": {"get": _op("Units ranked by on-time rate", schema="Units", errors=("401", "403"))},
            "/api/v1/units/{unit_id}": {"get": _op("A unit's zones, test points, reports and figures", schema="Unit", params=[_path("unit_id", pattern=NO_NUL)], errors=("401", "403", "404"))},
            "/api/v1/zones": {"get": _op("Zones as GeoJSON", schema="FeatureCollection", content="application/geo+json", params=[_q("bbox", pattern=BBOX)], errors=("401", "403", "422"))},
            "/api/v1/zones/{zone_id}": {"get": _op("One zone as GeoJSON", schema="Feature", content="application/geo+json", params=[_path("zone_id")], errors=("401", "403", "404"))},
            "/api/v1/test-points": {"get": _op("Test points as GeoJSON", schema="FeatureCollection", content="application/geo+json", errors=("401", "403"))},
            "/api/v1/layers": {
                "get": _op("Published zone-layer versions", schema="Layers", errors=("401", "403")),
                "post": {**_op("Publish a zone layer (GeoPackage with zones, test_points, areas; optional categories and units CSVs)", ok="201", schema="Layer",
                               errors=("400", "401", "403", "413", "422")),
                         "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": _obj(
                             ["layer"], layer={"type": "string", "format": "binary"}, categories={"type": "string", "format": "binary"}, units={"type": "string", "format": "binary"})}}}},
            },
            "/api/v1/layers/drafts": {
                "post": {**_op("Upload a draft layer (a GeoPackage as layer, and/or zones, test_points, areas, scope files; categories and units tables; "
                               "a layer left out is kept from the current version); 422 lists every problem by layer, row, feature and field", ok="201", schema="Any",
                               errors=("400", "401", "403", "413", "422")),
                         "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": _obj(**{f: {"type": "string", "format": "binary"} for f in UPLOAD_FIELDS})}}}},
            },
            "/api/v1/layers/drafts/{draft_id}": {"get": _op("A draft and its comparison with the current version: changes, coverage per sub-district before and after, "
                                                            "open reports that would go to another owner", schema="Any", params=[draft_id], errors=("401", "403", "404"))},
            "/api/v1/layers/drafts/{draft_id}/suggestions": {"post": _op("Add the draft's gap-fill suggestions for gap_ids to it as zones (one gap: with an outline and owner of the planner's)", schema="Any", params=[draft_id],
                                                                         body="GapIds", errors=("401", "403", "404", "409", "422"))},
            "/api/v1/layers/drafts/{draft_id}/publish": {"post": _op("Publish the draft with a note; the answer lists the open reports it moves", ok="201", schema="Any",
                                                                     params=[draft_id], body="Note", errors=("401", "403", "404", "409", "422"))},
            "/api/v1/layers/{version}/rollback": {"post": _op("Make an earlier stored version current again, with a note (a new publication)", ok="201", schema="Any",
                                                              params=[_path("version", pattern=NO_NUL)], body="Note", errors=("401", "403", "404", "422"))},
            "/api/v1/layers/publications/{publication_id}/reassign": {"post": _op("Reassign chosen open reports a publication moved to their new owners (dispatchers)",
                                                                                  schema="Any", params=[publication_id], body="ReportIds", errors=("401", "403", "404", "409", "422"))},
            "/api/v1/public/reports": {"get": _op("The public board of published results", schema="Board", params=page, secured=False, errors=("422",))},
            "/open311/v2/services.json": {"get": _op("Open311 services (the categories)", schema="Any", params=[jurisdiction], errors=("404",), **o311)},
            "/open311/v2/services/{service_code}.json": {"get": _op("Open311 service definition", schema="Any", params=[_path("service_code"), jurisdiction], errors=("404",), **o311)},
            "/open311/v2/requests.json": {
                "get": _op("Open311 requests", schema="Any", errors=("400", "404"), **o311, params=[
                    jurisdiction, _q("service_request_id", pattern=f"^{REQUEST_IDS}$"), _q("service_code", pattern=NO_NUL), _q("start_date", format="date-time"),
                    _q("end_date", format="date-time"), _q("status", enum=STATUS_FILTERS)]),
                "post": {**_op("Open311 create request (api_key in the form, or an Authorization: Bearer header: a zonemap token)", schema="Any", errors=("400", "401", "404", "413", "429"), **o311),
                         "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": _obj(
                             ["service_code", "lat", "long"], jurisdiction_id={"type": "string", "enum": JURISDICTIONS}, api_key={"type": "string"},
                             service_code={"type": "string", "enum": categories}, lat={"type": "number", "minimum": LAT[0], "maximum": LAT[1]},
                             long={"type": "number", "minimum": LON[0], "maximum": LON[1]}, description={"type": "string", "maxLength": parsing.MAX_TEXT, "pattern": NO_NUL},
                             media_url={"type": "string", "maxLength": parsing.MAX_REF, "pattern": NO_NUL}, **{name: {"type": "string", "maxLength": CONTACT_PART, "pattern": NO_NUL} for name in ("first_name", "last_name", "email", "phone")})}}}},
            },
            "/open311/v2/requests/{request_id}.json": {"get": _op("Open311 request, as a one-element list", schema="Any", params=[request_id, jurisdiction], errors=("404",), **o311)},
            "/open311/v2/request/{request_id}.json": {"get": _op("Open311 request (singular path of the contract)", schema="Any", params=[request_id, jurisdiction], errors=("404",), **o311)},
            "/open311/v2/tokens/{token_id}.json": {"get": _op("Open311 token lookup", schema="Any", params=[_path("token_id"), jurisdiction], errors=("404",), **o311)},
            "/ogc": {"get": _op("OGC API – Features landing page", schema="Any", secured=False, errors=())},
            "/ogc/conformance": {"get": _op("Conformance classes", schema="Any", secured=False, errors=())},
            "/ogc/collections": {"get": _op("Collections", schema="Any", secured=False, errors=())},
            "/ogc/collections/{collection}": {"get": _op("One collection", schema="Any", secured=False, params=[_path("collection")], errors=("404",))},
            "/ogc/collections/{collection}/items": {"get": _op("Features (GeoJSON)", schema="FeatureCollection", content="application/geo+json", secured=False, params=[
                _path("collection"), _q("bbox", pattern=BBOX), _q("limit", "integer", minimum=1, maximum=10000), _q("offset", "integer", minimum=0, maximum=parsing.MAX_OFFSET)],
                errors=("404", "422"))},
            "/ogc/collections/{collection}/items/{feature_id}": {"get": _op("One feature", schema="Feature", content="application/geo+json", secured=False,
                                                                              params=[_path("collection"), _path("feature_id")], errors=("404",))},
            "/maps/coverage": {"get": _page("The coverage map (offline assets)", ("200", "422", "503"), params=[_q("basemap", enum=basemaps)])},
            "/maps/coverage/suggestions.geojson": {"get": _op("Gap-fill suggestions as a candidate zone layer (GeoJSON)", schema="FeatureCollection",
                                                              content="application/geo+json", secured=False, errors=())},
            "/coverage": {"get": _page("Where coverage used to be: to the planners' console", ("301",))},
            "/console/plan": {"get": _page("The planners' console: coverage of the scope per sub-district, the map, gaps, overlaps and unadopted test points, downloads",
                                           ("200", "302", "403", "503"))},
            "/console/plan/map.json": {"get": _page_data("The planners' map: gaps, overlaps and unadopted test points", ("302", "403", "503"))},
            "/console/plan/downloads/{what}.{fmt}": {"get": _page("A list as a file (attachment): gaps, suggestions, overlaps, test_points or subdistricts as gpkg, geojson, "
                                                                  "csv or xlsx", ("200", "302", "403", "404", "503"), params=[_path("what", enum=list(DOWNLOADS)), _path("fmt")])},
            "/console/layers": {"get": _page("The zone layer's publications (rollback), open drafts and the upload form", ("200", "302", "403")),
                                "post": _page("Upload a layer as a draft (errors: the form again with the report by layer, row, feature and field)",
                                              ("303", "302", "400", "403", "413", "422"), form=_obj(["csrf_token"], csrf_token={"type": "string"},
                                                                                                   **{f: {"type": "string", "format": "binary"} for f in UPLOAD_FIELDS}), multipart=True)},
            "/console/layers/suggestions": {"post": _page("Start a draft from the current version with the ticked gaps' suggestions", ("303", "302", "400", "403"),
                                                          form=_obj(["csrf_token"], csrf_token={"type": "string"}, gap_id={"type": "string"}))},
            "/console/layers/drafts/{draft_id}": {"get": _page("A draft beside the current version, its gaps, publish and discard", ("200", "302", "403", "404"),
                                                               params=[draft_id])},
            "/console/layers/drafts/{draft_id}/map.json": {"get": _page_data("A draft's map: its changed zones, its gaps, the open reports it moves",
                                                                             ("302", "403", "404", "503"), params=[draft_id])},
            "/console/layers/drafts/{draft_id}/suggestions": {"post": _page("Add the ticked gaps' suggestions to the draft", ("303", "302", "400", "403", "404"),
                                                                            params=[draft_id], form=_obj(["csrf_token"], csrf_token={"type": "string"}, gap_id={"type": "string"}))},
            "/console/layers/drafts/{draft_id}/publish": {"post": _page("Publish the draft with a note", ("303", "302", "400", "403", "404"), params=[draft_id],
                                                                        form=_obj(["csrf_token", "note"], csrf_token={"type": "string"}, note={"type": "string"}))},
            "/console/layers/drafts/{draft_id}/discard": {"post": _page("Discard the draft", ("303", "302", "400", "403", "404"), params=[draft_id],
                                                                        form=_obj(["csrf_token"], csrf_token={"type": "string"}))},
            "/console/layers/versions/{version}/rollback": {"post": _page("Make an earlier version current again, with a note", ("303", "302", "400", "403", "404"),
                                                                          params=[_path("version")], form=_obj(["csrf_token", "note"], csrf_token={"type": "string"}, note={"type": "string"}))},
            "/console/layers/publications/{publication_id}": {"get": _page("A publication: who, when, why, and the open reports it moved", ("200", "302", "403", "404"),
                                                                           params=[publication_id])},
            "/console/layers/publications/{publication_id}/reassign": {"post": _page("Reassign the ticked reports to their new owners (dispatchers)",
                                                                                     ("303", "302", "400", "403", "404"), params=[publication_id],
                                                                                     form=_obj(["csrf_token"], csrf_token={"type": "string"}, report_id={"type": "string"}))},
            "/maps/reports": {"get": _page("All reports: heat map and clusters by state (a session or a dispatcher's or planner's token)", ("200", "302", "401", "403"))},
            "/maps/units/{unit_id}": {"get": _page("A unit's zones, test points and open reports (a session or a token)", ("200", "302", "401", "403", "404"),
                                                   params=[_path("unit_id")])},
            "/maps/public": {"get": _op("The public board map: published results only (HTML)", **html)},
            "/console/dispatch": {"get": _page("The dispatchers' console: the queues (each report in one, by precedence) with counts, the list of reports "
                                               "with filters, sorting, paging and search, and its map", ("200", "302", "403"), params=[
                _q(name) for name in ("queue", "state", "unit", "group", "area", "source", "period", "overdue", "q", "sort", "page")])},
            "/console/reports/{report_id}": {
                "get": _page("A report for staff (a unit: its own): photos, map, reason, nearby reports, history, and the caller's actions",
                             ("200", "302", "403", "404"), params=[report_id]),
                "post": _page("Take one action on the report (the form names it and the report's version; a change meanwhile is told)",
                              ("303", "302", "400", "403", "404", "405", "413", "422"), params=[report_id], multipart=True, form=_obj(
                                  ["action", "row_version", "csrf_token"], action={"type": "string", "enum": Action.values()}, row_version={"type": "string"},
                                  note={"type": "string"}, unit_id={"type": "string"}, duplicate_of={"type": "string"}, reason={"type": "string"},
                                  public_photos={"type": "array", "items": {"type": "string"}},
                                  photos={"type": "array", "maxItems": 3, "items": {"type": "string", "format": "binary"}}, csrf_token={"type": "string"}))},
            "/console/unit": {"get": _page("A unit's console: its open reports by deadline, its figures beside the district's, its map", ("200", "302", "403"))},
            "/units/{unit_id}": {"get": _page("A unit's page for dispatchers and planners: figures, reports with deadlines, its map (a unit: its own console)",
                                              ("200", "302", "303", "403", "404"), params=[_path("unit_id")])},
            "/assets/{path}": {"get": _op("Vendored web assets of the maps", secured=False, content="*/*", params=[_path("path")], errors=("404",))},
            "/static/{filename}": {"get": _op("Scripts and styles of the pages", secured=False, content="*/*", params=[_path("filename")], errors=("404",))},
        },
    }


def init_app(app: Flask) -> None:
    """Serve the document and the docs page (no external assets)."""

    @app.get("/openapi.json", endpoint="openapi")
    def openapi() -> ResponseReturnValue:
        basemaps = [*BASEMAPS, *(["local"] if current_app.config.get("TILE_URL") else [])]
        return jsonify(document(sorted(current_layer().category_table), basemaps))

    @app.get("/docs")
    def docs() -> ResponseReturnValue:
        return render_template("docs.html", lang="en", other_lang=None, t={"title": "zonemap API"})
