"""Errors as RFC 9457 problem details (``application/problem+json``), naming the field."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import Flask, Response, json, request
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from zones.errors import CRSError, IllegalTransitionError, LayerReadError, SchemaError, UnknownCategoryError, ZonemapError

PROBLEM = "application/problem+json"
OPEN311_PREFIX = "/open311/"


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
}


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
        return problem(err.status, err.user_msg, errors=err.errors, headers=err.headers)

    @app.errorhandler(ZonemapError)
    def _domain(err: ZonemapError) -> Response:
        status = next((s for cls, s in STATUS.items() if isinstance(err, cls)), HTTPStatus.BAD_REQUEST)
        errors = [{"field": p.field or "", "message": str(p)} for p in err.report.errors] if isinstance(err, SchemaError) and err.report else None
        return problem(int(status), err.user_msg, errors=errors)

    @app.errorhandler(StaleDataError)
    def _stale(_err: StaleDataError) -> Response:  # another request moved the report first
        return problem(409, "the report was changed by another request at the same time; read it again and retry")

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException) -> Response:
        if request.path.startswith(OPEN311_PREFIX):  # Open311 clients expect its error list, even for unknown paths
            response = Response(json.dumps([{"code": err.code, "description": err.description or err.name}], ensure_ascii=False),
                                status=err.code or 500, mimetype="application/json")
        else:
            response = problem(err.code or 500, err.description or err.name)
        if err.code == 405 and err.response is None:
            for key, value in err.get_headers():
                if key.lower() == "allow":
                    response.headers["Allow"] = value
        return response
