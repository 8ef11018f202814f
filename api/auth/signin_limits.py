"""Sign-in limits that protect the real user (OWASP's device cookies).

A browser that has signed in to an account keeps a device cookie for it (signed, HttpOnly, for a
year): its attempts count against its own allowance (``LOGIN_DEVICE_LIMIT``), so failures from
anywhere else cannot lock the account for it. Attempts from unknown browsers count against the
account and against the address (``LOGIN_LIMIT``, windows that grow: ``10 per 15 minutes; 30 per
day``). Every attempt is counted before the password is checked, by one atomic hit in the shared
store, so parallel tries cannot slip past the limit. `unlock` clears an account's counts.
"""

from __future__ import annotations

import secrets

from flask import Response, current_app, request
from itsdangerous import BadSignature, URLSafeSerializer
from limits import parse_many
from limits.strategies import RateLimiter

from api.web import ratelimit

DEVICE_COOKIE = "zonemap_device"
DEVICE_SECONDS = 365 * 24 * 3600
MAX_DEVICE_ACCOUNTS = 5  # accounts one browser keeps an allowance for (a shared office computer)
ACCOUNT_SCOPE, ADDRESS_SCOPE, DEVICE_SCOPE = "login-user", "login-address", "login-device"


def _devices() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="sign-in device")


def _known(cookie: str | None) -> dict[str, str]:
    """The accounts this browser has signed in to, each with its device key."""
    if not cookie:
        return {}
    try:
        pairs = _devices().loads(cookie)
    except BadSignature:
        return {}
    return {str(name): str(key) for name, key in pairs} if isinstance(pairs, list) else {}


def _name(username: str) -> str:
    return username.strip().lower()


def attempt(username: str) -> None:
    """Count one sign-in attempt (before the password is checked); 429 with ``Retry-After`` when
    this browser's allowance for the account, or else the account's or the address's, is used up."""
    device = _known(request.cookies.get(DEVICE_COOKIE)).get(_name(username))
    if device is not None:
        counted = [(current_app.config["LOGIN_DEVICE_LIMIT"], DEVICE_SCOPE, device)]
    else:
        counted = [(current_app.config["LOGIN_LIMIT"], ACCOUNT_SCOPE, _name(username)),
                   (current_app.config["LOGIN_LIMIT"], ADDRESS_SCOPE, request.remote_addr or "unknown")]
    for setting, scope, key in counted:
        ratelimit.hit(setting, scope, key, "sign-in attempts")


def trust_device(response: Response, username: str) -> None:
    """After a sign-in, let this browser keep its own allowance for the account."""
    known = _known(request.cookies.get(DEVICE_COOKIE))
    known.setdefault(_name(username), secrets.token_urlsafe(16))
    kept = list(known.items())[-MAX_DEVICE_ACCOUNTS:]
    response.set_cookie(DEVICE_COOKIE, _devices().dumps(kept), max_age=DEVICE_SECONDS, httponly=True, samesite="Lax",
                        secure=current_app.config.get("SESSION_COOKIE_SECURE", False))


def unlock(limiter: RateLimiter, setting: str, username: str) -> None:
    """Clear the counts of attempts from unknown browsers on ``username`` (`LOGIN_LIMIT`)."""
    for limit in parse_many(setting):
        limiter.clear(limit, ACCOUNT_SCOPE, _name(username))
