"""Roles, callers and API tokens. Tokens are random, shown once, and stored as SHA-256 digests.

A request's caller comes from its ``Authorization: Bearer`` token, else from a staff member's
signed-in session (`api.auth.sessions`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import UTC, datetime

from flask import Flask, current_app, g, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth.roles import Caller, Role
from api.persistence.models import Token
from api.web.errors import OPEN311_PREFIX, ApiError


def digest(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, role: str, unit_id: str | None = None, label: str = "") -> str:
    """Create a token for ``role`` (a unit token names its unit) and return it; only its digest is kept."""
    role = Role(role)
    if role == Role.UNIT and not unit_id:
        msg = "a unit token needs --unit"
        raise ValueError(msg)
    token = "zm_" + secrets.token_urlsafe(32)
    session.add(Token(digest=digest(token), role=role.value, unit_id=unit_id if role == Role.UNIT else None, label=label, created_at=datetime.now(UTC)))
    return token


def _open311_key() -> str | None:
    """An Open311 write's ``api_key``: in its form, its JSON object or its query string."""
    body = request.get_json(silent=True) if request.is_json else None
    key = body["api_key"] if isinstance(body, dict) and "api_key" in body else request.values.get("api_key")
    return key if isinstance(key, str) and key else None


def authenticate() -> Caller | None:
    """The caller named by the ``Authorization: Bearer`` header (or, on Open311 writes only, the
    ``api_key`` argument its contract defines, in the form, a JSON body or the query string), or
    None when there is none.

    Anywhere else a token is never taken from a URL or form, where access logs, proxies and
    browser histories keep it: ``api_key`` there is a 400 (and the access log redacts it). A
    malformed or unknown token is a 401, never an anonymous call.
    """
    if request.routing_exception is not None:  # no such path or method: answered by routing alone
        return None
    environ = request.environ
    post = request.method == "POST"
    open311_write = post and request.path.startswith(OPEN311_PREFIX)
    if environ.get("QUERY_STRING") and "api_key" in request.args and not open311_write:  # the Open311 contract names it as an argument of a write
        raise ApiError(400, "api_key: send the token in the 'Authorization: Bearer <token>' header, never in the URL",
                       errors=[{"field": "api_key", "message": "not accepted in the query string"}])
    header = environ.get("HTTP_AUTHORIZATION", "")  # what ``request.headers["Authorization"]`` reads, without its lookups
    if open311_write and not header and (key := _open311_key()):
        header = "Bearer " + key
    elif post and request.mimetype == "application/x-www-form-urlencoded" and "api_key" in request.form and not open311_write:
        raise ApiError(400, "api_key: only Open311 writes take the token as a parameter; send 'Authorization: Bearer <token>'",
                       errors=[{"field": "api_key", "message": "only on Open311 writes"}])
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "use 'Authorization: Bearer <token>'", headers={"WWW-Authenticate": "Bearer"})
    wanted = digest(token.strip())
    known: TokenCache = current_app.extensions["zonemap.tokens"]
    caller = known.get(wanted)
    if caller is None:
        row = g.db.execute(select(Token.digest, Token.role, Token.unit_id, Token.id).where(Token.digest == wanted)).first()
        if row is None or not hmac.compare_digest(row.digest, wanted):
            raise ApiError(401, "unknown token", headers={"WWW-Authenticate": "Bearer"})
        caller = Caller(Role(row.role), row.unit_id, row.id)
        known.put(wanted, caller)
    return caller


class TokenCache:
    """Callers of recently seen tokens, per process, so that a request need not look its token up.

    Tokens never change once created; an entry lives ``seconds`` so that a token row deleted from
    the database stops working within that time. Unknown tokens are never cached.
    """

    def __init__(self, seconds: float = 60.0, size: int = 10_000) -> None:
        self.seconds, self.size = seconds, size
        self._entries: dict[str, tuple[Caller, float]] = {}

    def get(self, key: str) -> Caller | None:
        """The cached caller for a token digest, or None when unknown or expired."""
        entry = self._entries.get(key)
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

    def put(self, key: str, caller: Caller) -> None:
        """Remember ``caller`` for ``key``; a full cache starts over."""
        if len(self._entries) >= self.size:
            self._entries.clear()
        self._entries[key] = (caller, time.monotonic() + self.seconds)


def init_app(app: Flask) -> None:
    """Give the app its token cache."""
    app.extensions["zonemap.tokens"] = TokenCache(float(app.config["TOKEN_CACHE_SECONDS"]))


def require(*roles: Role) -> Caller:
    """The current caller if it holds one of ``roles``; else 401 (no token) or 403."""
    caller: Caller | None = g.caller
    if caller is None:
        raise ApiError(401, "this needs a token", headers={"WWW-Authenticate": "Bearer"})
    if caller.role not in roles:
        raise ApiError(403, f"a {caller.role.value} token may not do this")
    return caller
