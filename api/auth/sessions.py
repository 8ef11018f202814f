"""Staff sessions for the pages: Flask-Login over the ``users`` table, CSRF tokens on every form
(Flask-WTF), the signing key shared by every worker, and the decorator guarding staff pages.

API clients keep their bearer tokens: the JSON API, Open311 and OGC endpoints are exempt from
CSRF checks because they never act on a session for anything but reading (see `caller`).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import Flask, abort, g, redirect, request, url_for
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth.roles import Caller, Role
from api.persistence import Database, insert_or_skip
from api.persistence.models import Setting, User
from api.web.errors import is_page_request

F = TypeVar("F", bound=Callable[..., Any])
SIGNING_KEY = "session_signing_key"
csrf = CSRFProtect()


@dataclass
class SessionUser(UserMixin):
    """The signed-in account, as the session knows it."""

    id: int
    username: str
    role: str
    unit_id: str | None
    password_hash: str

    def get_id(self) -> str:
        """The session's key: the account and a digest of its password hash, so that a new
        password ends every session signed in with the old one."""
        return f"{self.id}:{hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]}"


def _load(session_id: str) -> SessionUser | None:
    account, _, _fingerprint = session_id.partition(":")
    if not account.isdigit():
        return None
    user = cast(Session, g.db).get(User, int(account))
    if user is None or not user.active:
        return None
    loaded = SessionUser(user.id, user.username, user.role, user.unit_id, user.password_hash)
    return loaded if loaded.get_id() == session_id else None  # a new password changes the key: old sessions end


def signing_key(database: Database) -> str:
    """The key signing sessions and form tokens: made once, kept in the database (every worker,
    on every machine sharing it, signs alike), unless ``SECRET_KEY`` is configured."""
    with database.session() as session:
        connection = session.connection()
        connection.execute(insert_or_skip(connection, Setting.__table__), {"name": SIGNING_KEY, "value": secrets.token_urlsafe(48)})
        return str(session.scalar(select(Setting.value).where(Setting.name == SIGNING_KEY)))


def init_app(app: Flask, database: Database) -> None:
    """Sessions, sign-in and CSRF protection for the app."""
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = signing_key(database)
    manager = LoginManager()
    manager.user_loader(_load)
    manager.login_view = "accounts.login"
    manager.session_protection = "basic"
    manager.init_app(app)
    csrf.init_app(app)


def caller() -> Caller | None:
    """The signed-in staff member as a caller, or None. The JSON API's writes never act on a
    session (a page cannot be made to post to them from another site): they need a token."""
    if not is_page_request() and request.method not in ("GET", "HEAD", "OPTIONS"):
        return None
    user = current_user
    if not user or not user.is_authenticated:
        return None
    return Caller(Role(user.role), user.unit_id, None, user.username)


def local_path(target: str | None) -> str | None:
    """``target`` if it is a path on this site (never another host: an open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def staff_only(*roles: Role) -> Callable[[F], F]:
    """Guard a page: anyone not signed in goes to the sign-in form (and comes back after it), a
    signed-in member of another role gets the 403 page."""

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            who: Caller | None = g.caller
            if who is None or who.role == Role.PUBLIC:
                return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
            if who.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return cast(F, guarded)

    return decorate
