"""Errors: for the API as RFC 9457 problem details (``application/problem+json``) naming the
field; for pages as a page in the reader's language (a page needing a sign-in sends the reader to
the sign-in form instead)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, json, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from api.web import open311_wire
from api.web.security import is_local_path
from zones.errors import (
    BusyError,
    ConflictError,
    CRSError,
    IllegalTransitionError,
    InvalidInputError,
    LayerReadError,
    NotAllowedError,
    SchemaError,
    UnknownCategoryError,
    ZonemapError,
)

PROBLEM = "application/problem+json"
OPEN311_PREFIX = "/open311/"
#: Paths of machine interfaces (bearer tokens, JSON errors); every other path is a page a person opens.
MACHINE_PREFIXES = ("/api/", OPEN311_PREFIX, "/ogc", "/openapi.json", "/healthz", "/assets/", "/static/")


def is_page_request() -> bool:
    """Whether this request is for a page a person opens (as opposed to the API)."""
    return not request.path.startswith(MACHINE_PREFIXES)


#: What an error page says, by status; its title is the status's own phrase, translated.
PAGE_MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Go back and try again.")),
    401: (_l("Please sign in"), _l("This page is for staff. Sign in first.")),
    403: (_l("Not allowed"), _l("Your account may not open this page. Use the console your role leads to.")),
    404: (_l("Not found"), _l("There is no such page or record. Check the link.")),
    405: (_l("Not allowed"), _l("This page cannot be used that way.")),
    409: (_l("Changed meanwhile"), _l("Someone else changed this record at the same time. Open it again and retry.")),
    413: (_l("Too large"), _l("What you sent is too large. Photos may be at most {mb} MB each.")),
    422: (_l("Cannot accept this"), _l("Some of what you entered cannot be accepted. Go back and check it.")),
    429: (_l("Too many attempts"), _l("Too many attempts from here. Try again in {seconds} seconds.")),
    500: (_l("Something went wrong"), _l("The service failed to answer. Try again in a moment; if it keeps failing, tell the command centre.")),
    503: (_l("Busy"), _l("This page is still being prepared. Try again in {seconds} seconds.")),
}
CSRF_MESSAGE = (_l("The form has expired"), _l("The form's security token was missing or expired, so nothing was saved. "
                                               "Open the page again and resubmit."))


def error_page(status: int, *, headers: dict[str, str] | None = None, title: Any = None, message: Any = None) -> Response:
    """An error page in the reader's language; ``title`` and ``message`` replace the status's own."""
    default_title, default_message = PAGE_MESSAGES.get(status, PAGE_MESSAGES[500] if status >= 500 else PAGE_MESSAGES[400])
    retry = (headers or {}).get("Retry-After", "")
    mb = current_app.config["MAX_PHOTO_BYTES"] // (1024 * 1024)
    text = str(message or default_message).replace("{seconds}", retry or "30").replace("{mb}", str(mb))
    referrer = urlsplit(request.referrer or "")
    back = referrer.path if referrer.netloc == request.host and is_local_path(referrer.path) else None  # where the reader came from, on this site
    body = render_template("error.html", status=status, title=str(title or default_title), message=text, back=back)
    response = Response(body, status=status, mimetype="text/html")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _page_or_login(status: int, headers: dict[str, str] | None = None) -> Response:
    """401 on a page without a token: the sign-in form, coming back here afterwards."""
    if status == 401 and "Authorization" not in request.headers:
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))  # type: ignore[return-value]
    return error_page(status, headers=headers)


class ApiError(ZonemapError):
    """An error raised by a view, with its HTTP status and the offending fields."""

    def __init__(self, status: int, msg: str, *, errors: list[dict[str, str]] | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(msg)
        self.status = status
        self.errors = errors or []
        self.headers = headers or {}


STATUS: dict[type[ZonemapError], HTTPStatus] = {
    SchemaError: HTTPStatus.UNPROCESSABLE_ENTITY,
    CRSError: HTTPStatus.UNPROCESSABLE_ENTITY,
    UnknownCategoryError: HTTPStatus.UNPROCESSABLE_ENTITY,
    IllegalTransitionError: HTTPStatus.CONFLICT,
    LayerReadError: HTTPStatus.UNPROCESSABLE_ENTITY,
    InvalidInputError: HTTPStatus.UNPROCESSABLE_ENTITY,
    NotAllowedError: HTTPStatus.FORBIDDEN,
    ConflictError: HTTPStatus.CONFLICT,
    BusyError: HTTPStatus.SERVICE_UNAVAILABLE,
}


def error_list(err: ZonemapError) -> list[dict[str, Any]] | None:
    """The fields a domain error names, as a problem's ``errors``."""
    if isinstance(err, SchemaError) and err.report:
        return [{"field": p.field or "", "message": str(p), "code": p.code, "params": dict(p.params), "row": p.row, "feature_id": p.feature_id}
                for p in err.report.errors]
    if isinstance(err, InvalidInputError):
        return [{"field": err.field, "message": problem} for problem in err.problems]
    if isinstance(err, ConflictError):
        return [{"field": err.field, "message": err.problem}]
    return None


def status_of(err: ZonemapError) -> int:
    """The HTTP status of a domain error."""
    return int(next((s for cls, s in STATUS.items() if isinstance(err, cls)), HTTPStatus.BAD_REQUEST))


def problem(status: int, detail: str, *, errors: list[dict[str, str]] | None = None, headers: dict[str, str] | None = None, **extra: Any) -> Response:
    """A problem+json response."""
    body: dict[str, Any] = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def init_app(app: Flask) -> None:
    """Register the handlers: domain errors, API errors, and every HTTP error as problem+json."""

    @app.errorhandler(ApiError)
    def _api(err: ApiError) -> Response:
        if is_page_request():
            return _page_or_login(err.status, err.headers)
        return problem(err.status, err.user_msg, errors=err.errors, headers=err.headers)

    @app.errorhandler(ZonemapError)
    def _domain(err: ZonemapError) -> Response:
        headers = {"Retry-After": str(err.retry_after_s)} if isinstance(err, BusyError) else None
        if is_page_request():
            return error_page(status_of(err), headers=headers)
        return problem(status_of(err), err.user_msg, errors=error_list(err), headers=headers)

    @app.errorhandler(StaleDataError)
    def _stale(_err: StaleDataError) -> Response:  # another request moved the report first
        if is_page_request():
            return error_page(409)
        return problem(409, "the report was changed by another request at the same time; read it again and retry")

    @app.errorhandler(CSRFError)
    def _csrf(_err: CSRFError) -> Response:
        return error_page(400, title=CSRF_MESSAGE[0], message=CSRF_MESSAGE[1])

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException) -> Response:
        if is_page_request() and err.code:
            return _page_or_login(err.code, {k: v for k, v in err.get_headers() if k in ("Allow", "Retry-After")})
        if request.path.startswith(OPEN311_PREFIX):  # Open311 clients expect its error list, even for unknown paths, in the format asked for
            response = open311_wire.errors(err.code or 500, err.description or err.name, open311_wire.format_of(request.path))
        else:
            response = problem(err.code or 500, err.description or err.name)
        if err.code == 405 and err.response is None:
            for key, value in err.get_headers():
                if key.lower() == "allow":
                    response.headers["Allow"] = value
        return response
