"""Staff sessions for the pages: Flask-Login over the ``users`` table, CSRF tokens on every form
(Flask-WTF), the signing key shared by every worker, and the decorator guarding staff pages.

API clients keep their bearer tokens: the JSON API, Open311 and OGC endpoints are exempt from
CSRF checks because they never act on a session for anything but reading (see `caller`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, Request, Response, abort, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import accounts
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
    key: str  # the session's key (`accounts.open_session`)

    def get_id(self) -> str:
        """What the cookie holds: the account and the session's key."""
        return f"{self.id}:{self.key}"


def _load(session_id: str) -> SessionUser | None:
    account, _, key = session_id.partition(":")
    if not account.isdigit() or not key:
        return None
    user = accounts.session_account(cast(Session, g.db), int(account), key)  # ended (signed out, disabled, new password): None
    return SessionUser(user.id, user.username, user.role, user.unit_id, key) if user is not None else None


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with no signer built for a request without a session
    cookie (an API call with a token): it starts an empty session, as Flask's would."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """The request's session: empty without a cookie, else Flask's reading of it."""
        if "HTTP_COOKIE" not in request.environ or not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Flask's saving, without reading the cookie's settings for a session that stays empty
        and unchanged (no cookie to set or delete; ``Vary: Cookie`` still when it was read)."""
        if not session and not session.modified:
            if session.accessed:
                if "Vary" in response.headers:
                    response.vary.add("Cookie")
                else:  # the common case, without parsing and rewriting a header
                    response.headers.add("Vary", "Cookie")
            return
        super().save_session(app, session, response)


def sign_in(user: User) -> None:
    """Start a server-side session of ``user`` in a fresh cookie (a new form token with it)."""
    key = accounts.open_session(cast(Session, g.db), user)
    session.clear()  # nothing of the signed-out session carries over, its form token included
    login_user(SessionUser(user.id, user.username, user.role, user.unit_id, key))


def sign_out() -> None:
    """End the session on the server too: a copy of its cookie opens nothing afterwards."""
    if current_user.is_authenticated:
        accounts.end_session(cast(Session, g.db), current_user.key)
    logout_user()


def signing_key(database: Database) -> str:
    """The key signing sessions and form tokens: made once, kept in the database (every worker,
    on every machine sharing it, signs alike), unless ``SECRET_KEY`` is configured."""
    with database.session() as db:
        connection = db.connection()
        connection.execute(insert_or_skip(connection, Setting.__table__), {"name": SIGNING_KEY, "value": secrets.token_urlsafe(48)})
        return str(db.scalar(select(Setting.value).where(Setting.name == SIGNING_KEY)))


def init_app(app: Flask, database: Database) -> None:
    """Sessions, sign-in and CSRF protection for the app."""
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = signing_key(database)
    app.session_interface = CookieSessions()
    manager = LoginManager()
    manager.user_loader(_load)
    manager.login_view = "accounts.login"
    manager.session_protection = "basic"
    manager.init_app(app)
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # checked by `_check_form_token`: the method first, then the exemptions
    csrf.init_app(app)

    @app.before_request
    def _check_form_token() -> None:
        if request.method in app.config["WTF_CSRF_METHODS"] and app.config["WTF_CSRF_ENABLED"]:
            csrf.protect(apply_exemptions=True)


def caller() -> Caller | None:
    """The signed-in staff member as a caller, or None. The JSON API's writes never act on a
    session (a page cannot be made to post to them from another site): they need a token."""
    if not session or (not is_page_request() and request.method not in ("GET", "HEAD", "OPTIONS")):
        return None  # no session (an API call with a token, a citizen): Flask-Login is not asked, which costs a fifth of a small request
    user = current_user
    if not user or not user.is_authenticated:
        return None
    return Caller(Role(user.role), user.unit_id, None, user.username)


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
