"""Open311 GeoReport v2 (JSON), so existing Open311 apps can submit and follow reports.

Field names, ``open``/``closed`` statuses and the error format (a list of ``{code,
description}``) follow the GeoReport v2.1 contract. Reading is public, so responses carry what
the public board shows: no reporter contact, no free-text description or photo (either may hold
personal data), times rounded down to the hour, positions to 4 decimals (~10 m).
"""

from __future__ import annotations

import json
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
from api.web import contract, parsing, ratelimit
from api.web.errors import ApiError, status_of
from zones import workflow
from zones.config import CHINA_LAT, CHINA_LON
from zones.errors import ZonemapError

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
JURISDICTIONS = ["370214", "chengyang", "城阳区"]
REQUEST_IDS = r"\d{1,9}(,\d{1,9})*"
STATUS_FILTERS = ["open", "closed", "open,closed", "closed,open"]
CONTACT_PART = (CONTACT_LENGTH - 3) // 4  # first name, last name, email, phone: with their separators, the characters kept
JURISDICTION = contract.query("jurisdiction_id", enum=JURISDICTIONS)
#: The form of a new request, as the document declares it.
NEW_REQUEST = {"type": "object", "properties": {
    "jurisdiction_id": {"type": "string", "enum": JURISDICTIONS}, "api_key": {"type": "string"}, "service_code": {"type": "string", **contract.CATEGORIES},
    "lat": {"type": "number", "minimum": CHINA_LAT[0], "maximum": CHINA_LAT[1]}, "long": {"type": "number", "minimum": CHINA_LON[0], "maximum": CHINA_LON[1]},
    "description": {"type": "string", "maxLength": parsing.MAX_TEXT, "pattern": contract.NO_NUL},
    "media_url": {"type": "string", "maxLength": parsing.MAX_REF, "pattern": contract.NO_NUL},
    **{name: {"type": "string", "maxLength": CONTACT_PART, "pattern": contract.NO_NUL} for name in ("first_name", "last_name", "email", "phone")},
}, "required": ["service_code", "lat", "long"]}


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")


def _error(status: int, description: str) -> Response:
    return _json([{"code": status, "description": description}], status)


@bp.errorhandler(ApiError)
def _api_error(err: ApiError) -> Response:
    return _error(400 if err.status == 422 else err.status, err.user_msg)  # the contract's code for invalid input is 400


@bp.errorhandler(ZonemapError)
def _domain_error(err: ZonemapError) -> Response:
    status = status_of(err)
    return _error(400 if status == 422 else status, err.user_msg)


@bp.before_request
def _jurisdiction() -> Response | None:
    given = request.values.get("jurisdiction_id")
    if given is not None and given not in JURISDICTIONS:
        return _error(404, f"jurisdiction_id {given!r} not found; this server serves 370214 (城阳区)")
    return None


def _hour(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.replace(minute=0, second=0, microsecond=0).isoformat()


def _request_json(report: Report) -> dict[str, Any]:
    layer = current_layer()
    closed = report.state in {s.value for s in workflow.CLOSED_STATES}
    fields = {
        "service_request_id": str(report.id),
        "status": "closed" if closed else "open",
        "status_notes": report.state,
        "service_name": layer.category(report.category).name_zh,
        "service_code": report.category,
        "agency_responsible": layer.unit_names.get(report.unit_id or "", report.unit_id or ""),
        "service_notice": report.reason,
        "requested_datetime": _hour(report.created_at),
        "updated_datetime": _hour(report.updated_at),
        "expected_datetime": _hour(report.deadline_at),
        "address": report.area_id or "",
        "lat": round(report.lat, 4),
        "long": round(report.lon, 4),
    }
    return {k: v for k, v in fields.items() if v is not None}  # the contract has no nulls: an unknown field is left out


@bp.get("/services.json")
@contract.operation("Open311 services (the categories)", answer={}, params=[JURISDICTION], errors=("404",), secured=False, error="Open311Errors")
def services_list() -> ResponseReturnValue:
    """The report categories as Open311 services."""
    layer = current_layer()
    return _json([
        {"service_code": c.code, "service_name": c.name_zh, "description": str(row.get("name_en", "")), "metadata": False,
         "type": "realtime", "keywords": str(row.get("name_en", "")), "group": str(row.get("group", "") or "")}
        for c, row in zip(layer.category_table.values(), layer.categories.to_dict("records"), strict=True)
    ])


@bp.get("/services/<service_code>.json")
@contract.operation("Open311 service definition", answer={}, params=[JURISDICTION], errors=("404",), secured=False, error="Open311Errors")
def service_definition(service_code: str) -> ResponseReturnValue:
    """No extra attributes: every category needs only a location and a description."""
    if service_code not in current_layer().category_table:
        return _error(404, f"service_code {service_code!r} not found")
    return _json({"service_code": service_code, "attributes": []})


@bp.post("/requests.json")
@contract.operation("Open311 create request (api_key in the form, or an Authorization: Bearer header: a zonemap token)", answer={},
                    body=NEW_REQUEST, body_type="application/x-www-form-urlencoded", errors=("400", "401", "404", "413", "429"), secured=False,
                    error="Open311Errors")
def create_request() -> ResponseReturnValue:
    """Submit a report (``api_key`` = a zonemap token)."""
    caller = g.caller
    if caller is None:
        return _error(401, "api_key is required")
    ratelimit.check_submission(caller)
    values = request.values
    parts = [parsing.text(values.get(name), name, required=False, max_length=CONTACT_PART) for name in ("first_name", "last_name", "email", "phone")]
    contact = " ".join(p for p in parts if p) or None
    item = services.Submission(
        location=parsing.location({"lon": values.get("long"), "lat": values.get("lat"), "crs": "wgs84"}),
        category=parsing.text(values.get("service_code"), "service_code", max_length=CODE_LENGTH) or "",
        description=parsing.text(values.get("description"), "description", required=False) or "",
        photos=parsing.photos([values["media_url"]] if values.get("media_url") else None),
        source="citizen",
        reporter_contact=contact,
        client_ref=None,
    )
    key = parsing.idempotency_key(request.headers.get("Idempotency-Key"))
    report, _ = services.submit(g.db, current_layer(), current_app.config["ROUTING"], item, idempotency_key=key, caller=caller, worker=live.worker())
    g.db.flush()
    return _json([{"service_request_id": str(report.id), "service_notice": report.reason, "account_id": ""}])


@bp.get("/requests.json")
@contract.operation("Open311 requests", answer={}, errors=("400", "404"), secured=False, error="Open311Errors", params=[
    JURISDICTION, contract.query("service_request_id", pattern=f"^{REQUEST_IDS}$"), contract.query("service_code", pattern=contract.NO_NUL),
    contract.query("start_date", format="date-time"), contract.query("end_date", format="date-time"), contract.query("status", enum=STATUS_FILTERS)])
def list_requests() -> ResponseReturnValue:
    """Requests by id (comma list), service code, time range and status; 1000 at most."""
    args = request.args
    start, end = parsing.timestamp(args.get("start_date"), "start_date"), parsing.timestamp(args.get("end_date"), "end_date")
    if "status" in args and args["status"] not in STATUS_FILTERS:
        return _error(400, f"status must be one of {', '.join(STATUS_FILTERS)}")
    if "service_request_id" in args and not re.fullmatch(REQUEST_IDS, args["service_request_id"]):
        return _error(400, "service_request_id must be request ids separated by commas, e.g. 12,13")
    query = select(Report)
    if "service_request_id" in args:  # overrides every other filter
        query = query.where(Report.id.in_([int(x) for x in args["service_request_id"].split(",")]))
    else:
        if args.get("service_code"):
            query = query.where(Report.category == parsing.key(args["service_code"], "service_code"))
        if start:
            query = query.where(Report.created_at >= start)
        if end:
            query = query.where(Report.created_at <= end)
        closed = [s.value for s in workflow.CLOSED_STATES]
        if args.get("status") == "open":
            query = query.where(Report.state.not_in(closed))
        elif args.get("status") == "closed":
            query = query.where(Report.state.in_(closed))
    rows = g.db.scalars(query.order_by(Report.id.desc()).limit(1000)).all()
    return _json([_request_json(r) for r in rows])


@bp.get(f"/requests/<int(max={MAX_ID}):request_id>.json")
@contract.operation("Open311 request, as a one-element list", answer={}, params=[JURISDICTION], errors=("404",), secured=False, error="Open311Errors")
def get_request_list(request_id: int) -> ResponseReturnValue:
    """One request as a one-element list (the GeoReport v2 wiki's form)."""
    report = g.db.get(Report, request_id)
    if report is None:
        return _error(404, f"service_request_id {request_id} not found")
    return _json([_request_json(report)])


@bp.get(f"/request/<int(max={MAX_ID}):request_id>.json")
@contract.operation("Open311 request (singular path of the contract)", answer={}, params=[JURISDICTION], errors=("404",), secured=False, error="Open311Errors")
def get_request(request_id: int) -> ResponseReturnValue:
    """One request as an object (the v2.1 contract's form)."""
    report = g.db.get(Report, request_id)
    if report is None:
        return _error(404, f"service_request_id {request_id} not found")
    return _json(_request_json(report))


@bp.get("/tokens/<token_id>.json")
@contract.operation("Open311 token lookup", answer={}, params=[JURISDICTION], errors=("404",), secured=False, error="Open311Errors")
def token(token_id: str) -> ResponseReturnValue:
    """Requests get their id at once, so a token is the id itself."""
    if not re.fullmatch(r"\d{1,9}", token_id) or g.db.get(Report, int(token_id)) is None:
        return _error(404, f"token {token_id!r} not found")
    return _json({"service_request_id": token_id, "token": token_id})

