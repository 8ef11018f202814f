"""Open311 GeoReport v2, so existing Open311 apps can submit and follow reports.

Every endpoint answers ``.json`` or ``.xml`` (`api.web.open311_wire`); the discovery document
lists the v2 endpoint. Field names, ``open``/``closed`` statuses and the error list (``{code,
description}``, naming the spec's parameters: ``lat``, ``long``, ``service_code``,
``attribute[...]``, ``api_key``) follow the GeoReport v2.1 contract. One jurisdiction is served:
``jurisdiction_id`` may be left out or empty. Reading is public, so responses carry what the
public board shows: no reporter contact, no free-text description or photo (either may hold
personal data), times rounded down to the hour, positions to 4 decimals (~10 m), and an address
naming the sub-district and a zone or street (`api.reports.open311_address`).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from api.layers import live
from api.layers.live import current_layer
from api.persistence.models import CODE_LENGTH, CONTACT_LENGTH, MAX_ID, Report
from api.reports import services
from api.reports.open311_address import addresses
from api.routing.location import Location
from api.web import contract, open311_wire, parsing, ratelimit
from api.web.errors import ApiError, error_list, status_of
from geodata.crs import InputCRS
from zones import workflow
from zones.config import CHINA_LAT, CHINA_LON
from zones.errors import ZonemapError
from zones.intake import MAX_ACCURACY_M, refusals_of_one
from zones.layer import Category, ZoneLayer

bp = Blueprint("open311", __name__, url_prefix="/open311")
V2 = "/v2"
FORMAT = "<any(json, xml):response_format>"
CONTENT = tuple(open311_wire.MEDIA.values())
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-07T00:00:00Z"  # when this interface last changed: move it with every change a client could notice
KEY_SERVICE = "api_key: a zonemap token of the public role, issued by the district's administrator (zonemap token create --role public)"
JURISDICTIONS = ["370214", "chengyang", "城阳区"]
REQUEST_IDS = r"\d{1,9}(,\d{1,9})*"
STATUS_FILTERS = ["open", "closed", "open,closed", "closed,open"]
CONTACT_PART = (CONTACT_LENGTH - 3) // 4  # first name, last name, email, phone: with their separators, the characters kept
JURISDICTION = contract.query("jurisdiction_id", enum=["", *JURISDICTIONS], description="optional: this server serves one jurisdiction")
ACCURACY = "accuracy_m"
ATTRIBUTE = re.compile(r"attribute\[(.*)\]")
#: The answer a service may ask for beyond its place: how far off the phone's position may be.
ACCURACY_ATTRIBUTE = {
    "variable": True, "code": ACCURACY, "datatype": "number", "required": False, "datatype_description": f"metres, 0 to {MAX_ACCURACY_M}",
    "order": 1, "description": "定位精度（米）：定位误差圈触及其他单位的责任区时，由指挥中心确定责任单位。"
                               "Position accuracy in metres: where it reaches another unit's zone, the command centre decides who owns the spot.",
}
#: The server's own field names as the spec names them.
SPEC_NAMES = {"lon": "long", ACCURACY: f"attribute[{ACCURACY}]", "photos": "media_url", "category": "service_code"}
#: `zones.intake`'s refusals of a place, worded with the spec's parameter names.
REFUSALS = {
    "point_swapped": "lat={lat}, long={lon} look swapped: long is the longitude ({lon_range} in China)",
    "point_outside_china": "lat={lat}, long={lon} lies outside China (long {lon_range}, lat {lat_range})",
    "bad_accuracy": "{value} is not a number of metres from 0 to {most}",
}
#: The form of a new request, as the document declares it.
NEW_REQUEST = {"type": "object", "properties": {
    "jurisdiction_id": {"type": "string", "enum": ["", *JURISDICTIONS]}, "api_key": {"type": "string"},
    "service_code": {"type": "string", **contract.CATEGORIES},
    "lat": {"type": "number", "minimum": CHINA_LAT[0], "maximum": CHINA_LAT[1]}, "long": {"type": "number", "minimum": CHINA_LON[0], "maximum": CHINA_LON[1]},
    f"attribute[{ACCURACY}]": {"type": "number", "minimum": 0, "maximum": MAX_ACCURACY_M},
    "description": {"type": "string", "maxLength": parsing.MAX_TEXT, "pattern": contract.NO_NUL},
    "media_url": {"type": "string", "maxLength": parsing.MAX_REF, "pattern": contract.NO_NUL},
    **{name: {"type": "string", "maxLength": CONTACT_PART, "pattern": contract.NO_NUL} for name in ("first_name", "last_name", "email", "phone")},
}, "required": ["service_code", "lat", "long"]}


def _errors(status: int, description: str, headers: dict[str, str] | None = None) -> Response:
    status = 400 if status == 422 else status  # the contract's code for invalid input is 400
    response = open311_wire.errors(status, description, open311_wire.format_of(request.path))
    response.headers.update(headers or {})
    return response


def _spec_worded(message: str, field: str | None) -> str:
    """``message`` naming ``field`` by the spec's name (``lon: ...`` → ``long: ...``)."""
    spec = SPEC_NAMES.get(field) if field else None
    if spec is None or not message.startswith(f"{field}:"):
        return message
    return spec + message.removeprefix(field or "")


@bp.errorhandler(ApiError)
def _api_error(err: ApiError) -> Response:
    if err.status == 401:  # an unknown or malformed token: the spec's credential is the api_key
        return _errors(401, f"api_key: {err.user_msg}", err.headers)
    return _errors(err.status, _spec_worded(err.user_msg, err.errors[0].get("field") if err.errors else None), err.headers)


@bp.errorhandler(ZonemapError)
def _domain_error(err: ZonemapError) -> Response:
    fields = error_list(err)
    return _errors(status_of(err), _spec_worded(err.user_msg, fields[0]["field"] if fields else None))


def _refused(field: str, message: str) -> ApiError:
    return ApiError(400, f"{field}: {message}", errors=[{"field": field, "message": message}])


def _values() -> dict[str, Any]:
    """The request's parameters: its query string with its form, or with its JSON object."""
    if not request.is_json:
        return request.values.to_dict()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise _refused("body", "must be a JSON object (or send a form)")
    return {**request.args.to_dict(), **body}


@bp.before_request
def _jurisdiction() -> Response | None:
    given = _values().get("jurisdiction_id")
    if given not in (None, "", *JURISDICTIONS):
        return _errors(404, f"jurisdiction_id {given!r} not found; this server serves 370214 (城阳区)")
    return None


def _hour(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.replace(minute=0, second=0, microsecond=0).isoformat()


def _requests(reports: list[Report]) -> list[dict[str, Any]]:
    """The reports as the spec's requests, with what the public may see."""
    layer = current_layer()
    closed = {s.value for s in workflow.CLOSED_STATES}
    out = []
    for report, address in zip(reports, addresses(layer, reports), strict=True):
        fields = {
            "service_request_id": str(report.id),
            "status": "closed" if report.state in closed else "open",
            "status_notes": report.state,
            "service_name": layer.category_table[report.category].name_zh if report.category in layer.category_table else None,
            "service_code": report.category,
            "agency_responsible": layer.unit_names.get(report.unit_id or "", report.unit_id),
            "service_notice": report.reason,
            "requested_datetime": _hour(report.created_at),
            "updated_datetime": _hour(report.updated_at),
            "expected_datetime": _hour(report.deadline_at),
            "address": address,
            "lat": round(report.lat, 4),
            "long": round(report.lon, 4),
        }
        out.append({k: v for k, v in fields.items() if v is not None})  # the contract has no nulls: an unknown field is left out
    return out


def _attributes_of(category: Category) -> list[dict[str, Any]]:
    """What a service asks beyond the place and the description: the position's accuracy where the
    spot's owner is looked up (a category routed by duty); nothing where a department takes the
    report wherever it is."""
    return [] if category.department_unit_id else [ACCURACY_ATTRIBUTE]


@bp.get(f"/discovery.{FORMAT}")
@contract.operation("Open311 service discovery: the GeoReport v2 endpoint, its formats and changeset", answer={}, content=CONTENT, errors=("404",),
                    secured=False, error="Open311Errors")
def discovery(response_format: str) -> ResponseReturnValue:
    """Where the GeoReport v2 endpoint is, which formats it answers, and when it last changed."""
    endpoint = {"specification": SPECIFICATION, "url": current_app.config["BASE_URL"].rstrip("/") + bp.url_prefix + V2, "changeset": CHANGESET,
                "type": "production", "formats": list(CONTENT)}
    return open311_wire.response({"changeset": CHANGESET, "key_service": KEY_SERVICE, "endpoints": [endpoint]}, response_format, "discovery")


@bp.get(f"{V2}/services.{FORMAT}")
@contract.operation("Open311 services (the categories)", answer={}, content=CONTENT, params=[JURISDICTION], errors=("404",), secured=False,
                    error="Open311Errors")
def services_list(response_format: str) -> ResponseReturnValue:
    """The report categories as Open311 services."""
    body = [{"service_code": c.code, "service_name": c.name_zh, "description": c.name_en, "metadata": bool(_attributes_of(c)), "type": "realtime",
             "keywords": c.name_en, "group": c.group} for c in current_layer().category_table.values()]
    return open311_wire.response(body, response_format, "services")


@bp.get(f"{V2}/services/<service_code>.{FORMAT}")
@contract.operation("Open311 service definition: the attributes a service asks for", answer={}, content=CONTENT, params=[JURISDICTION],
                    errors=("404",), secured=False, error="Open311Errors")
def service_definition(service_code: str, response_format: str) -> ResponseReturnValue:
    """The attributes of a service (the GPS accuracy, where the spot's owner is looked up)."""
    category = current_layer().category_table.get(service_code)
    if category is None:
        return _errors(404, f"service_code {service_code!r} not found")
    body = {"service_code": service_code, "attributes": _attributes_of(category)}
    return open311_wire.response(body, response_format, "service_definition")


def _service_code(values: dict[str, Any], layer: ZoneLayer) -> str:
    code = parsing.text(values.get("service_code"), "service_code", max_length=CODE_LENGTH) or ""
    if code not in layer.category_table:
        raise _refused("service_code", f"{code!r} is not a service of this jurisdiction; services.json lists them")
    return code


def _answers(values: dict[str, Any]) -> dict[str, Any]:
    """The ``attribute[code]`` answers (or a JSON body's ``attribute`` object); a code no service
    defines is refused. A bare ``attribute`` list, which names no code, says nothing."""
    given = {match.group(1): value for key, value in values.items() if (match := ATTRIBUTE.fullmatch(key))}
    if isinstance(values.get("attribute"), dict):
        given |= values["attribute"]
    for code in given:
        if code != ACCURACY:
            raise _refused(f"attribute[{code}]", f"no service here defines it; the attributes are {ACCURACY}")
    return given


def _location(values: dict[str, Any]) -> Location:
    """``lat`` and ``long`` (WGS84) with ``attribute[accuracy_m]``, refused as `zones.intake` refuses a place."""
    lat = parsing.number(values.get("lat"), "lat")
    lon = parsing.number(values.get("long"), "long")
    accuracy = parsing.number(_answers(values).get(ACCURACY), f"attribute[{ACCURACY}]", required=False)
    assert lat is not None and lon is not None
    for refusal in refusals_of_one(lon, lat, accuracy):
        raise _refused(SPEC_NAMES.get(refusal.field, refusal.field), REFUSALS[refusal.code].format(**refusal.params))
    return Location(lon, lat, InputCRS.WGS84.value, accuracy)


@bp.post(f"{V2}/requests.{FORMAT}")
@contract.operation("Open311 create request (api_key in the form, the JSON body or the query string, or an Authorization: Bearer header: a zonemap token)",
                    answer={}, content=CONTENT, body=NEW_REQUEST, body_type="application/x-www-form-urlencoded", errors=("400", "401", "404", "413", "429"),
                    secured=False, error="Open311Errors")
def create_request(response_format: str) -> ResponseReturnValue:
    """Submit a report (``api_key`` = a zonemap token)."""
    caller = g.caller
    if caller is None:
        return _errors(401, "api_key is required: a zonemap token, in the form, the JSON body or the query string")
    ratelimit.check_submission(caller)
    values = _values()
    layer = current_layer()
    parts = [parsing.text(values.get(name), name, required=False, max_length=CONTACT_PART) for name in ("first_name", "last_name", "email", "phone")]
    item = services.Submission(
        location=_location(values),
        category=_service_code(values, layer),
        description=parsing.text(values.get("description"), "description", required=False) or "",
        photos=parsing.photos([values["media_url"]] if values.get("media_url") else None, "media_url"),
        source="citizen",
        reporter_contact=" ".join(p for p in parts if p) or None,
        client_ref=None,
    )
    key = parsing.idempotency_key(request.headers.get("Idempotency-Key"))
    report, _ = services.submit(g.db, layer, current_app.config["ROUTING"], item, idempotency_key=key, caller=caller, worker=live.worker())
    g.db.flush()
    body = [{"service_request_id": str(report.id), "service_notice": report.reason, "account_id": ""}]
    return open311_wire.response(body, response_format, "service_requests")


@bp.get(f"{V2}/requests.{FORMAT}")
@contract.operation("Open311 requests", answer={}, content=CONTENT, errors=("400", "404"), secured=False, error="Open311Errors", params=[
    JURISDICTION, contract.query("service_request_id", pattern=f"^{REQUEST_IDS}$"),
    contract.query("service_code", pattern=contract.NO_NUL, description="one service code or several, comma delimited"),
    contract.query("start_date", format="date-time"), contract.query("end_date", format="date-time"), contract.query("status", enum=STATUS_FILTERS)])
def list_requests(response_format: str) -> ResponseReturnValue:
    """Requests by id (comma list), service code (comma list), time range and status; 1000 at most."""
    args = request.args
    start, end = parsing.timestamp(args.get("start_date"), "start_date"), parsing.timestamp(args.get("end_date"), "end_date")
    if "status" in args and args["status"] not in STATUS_FILTERS:
        return _errors(400, f"status must be one of {', '.join(STATUS_FILTERS)}")
    if "service_request_id" in args and not re.fullmatch(REQUEST_IDS, args["service_request_id"]):
        return _errors(400, "service_request_id must be request ids separated by commas, e.g. 12,13")
    query = select(Report)
    if "service_request_id" in args:  # overrides every other filter
        query = query.where(Report.id.in_([int(x) for x in args["service_request_id"].split(",")]))
    else:
        if args.get("service_code"):
            query = query.where(Report.category.in_((parsing.key(args["service_code"], "service_code") or "").split(",")))
        if start:
            query = query.where(Report.created_at >= start)
        if end:
            query = query.where(Report.created_at <= end)
        closed = [s.value for s in workflow.CLOSED_STATES]
        if args.get("status") == "open":
            query = query.where(Report.state.not_in(closed))
        elif args.get("status") == "closed":
            query = query.where(Report.state.in_(closed))
    rows = list(g.db.scalars(query.order_by(Report.id.desc()).limit(1000)).all())
    return open311_wire.response(_requests(rows), response_format, "service_requests")


def _one(request_id: int) -> Report:
    report = g.db.get(Report, request_id)
    if report is None:
        raise ApiError(404, f"service_request_id {request_id} not found")
    return report


@bp.get(f"{V2}/requests/<int(max={MAX_ID}):request_id>.{FORMAT}")
@contract.operation("Open311 request, as a one-element list", answer={}, content=CONTENT, params=[JURISDICTION], errors=("404",), secured=False,
                    error="Open311Errors")
def get_request_list(request_id: int, response_format: str) -> ResponseReturnValue:
    """One request as a one-element list (the GeoReport v2 wiki's form)."""
    return open311_wire.response(_requests([_one(request_id)]), response_format, "service_requests")


@bp.get(f"{V2}/request/<int(max={MAX_ID}):request_id>.{FORMAT}")
@contract.operation("Open311 request (singular path of the contract)", answer={}, content=CONTENT, params=[JURISDICTION], errors=("404",),
                    secured=False, error="Open311Errors")
def get_request(request_id: int, response_format: str) -> ResponseReturnValue:
    """One request as an object (the v2.1 contract's form; in XML a ``<request>``)."""
    [one] = _requests([_one(request_id)])
    return open311_wire.response(one, response_format, "request")


@bp.get(f"{V2}/tokens/<token_id>.{FORMAT}")
@contract.operation("Open311 token lookup, as a one-element list", answer={}, content=CONTENT, params=[JURISDICTION], errors=("404",), secured=False,
                    error="Open311Errors")
def token(token_id: str, response_format: str) -> ResponseReturnValue:
    """Requests get their id at once, so a token is the id itself."""
    if not re.fullmatch(r"\d{1,9}", token_id) or g.db.get(Report, int(token_id)) is None:
        return _errors(404, f"token {token_id!r} not found")
    return open311_wire.response([{"service_request_id": token_id, "token": token_id}], response_format, "service_requests")
