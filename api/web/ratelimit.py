"""Rate limits, counted in shared storage: public submissions per client address, photo uploads
per token, sign-in attempts (`api.auth.signin_limits`).

``RATE_LIMIT_STORAGE`` names the store (``memory://`` for one process, ``redis://...`` so that
every worker counts against the same limit); ``PUBLIC_SUBMIT_LIMIT`` is a `limits` string such as
``20 per minute``. Staff tokens are not limited. If the store is unreachable the request goes
through and the failure is logged: a citizen's report matters more than the limit.
"""

from __future__ import annotations

import math
import time

from flask import Flask, current_app, request
from limits import parse, parse_many, storage, strategies

from api.auth.roles import Caller, Role
from api.web.errors import ApiError


def init_app(app: Flask) -> None:
    """Connect the configured store and parse the limit (a bad limit string stops the start)."""
    store = storage.storage_from_string(app.config["RATE_LIMIT_STORAGE"], key_prefix=app.config.get("RATE_LIMIT_PREFIX", "zonemap"))
    parse(app.config["PUBLIC_SUBMIT_LIMIT"])
    parse(app.config["PHOTO_UPLOAD_LIMIT"])
    parse_many(app.config["LOGIN_LIMIT"])
    parse_many(app.config["LOGIN_DEVICE_LIMIT"])
    app.extensions["zonemap.ratelimit"] = strategies.MovingWindowRateLimiter(store)


def check_submission(caller: Caller | None) -> None:
    """Count one submission by a public caller (with a public token, or none: the citizens'
    page); 429 with ``Retry-After`` when over the limit."""
    if caller is not None and caller.role != Role.PUBLIC:
        return
    hit(current_app.config["PUBLIC_SUBMIT_LIMIT"], "submit", request.remote_addr or "unknown", "reports from this address")


def check_photo_upload(caller: Caller) -> None:
    """Count one photo upload by any token (decoding photos costs memory: staff tokens too)."""
    hit(current_app.config["PHOTO_UPLOAD_LIMIT"], "photo", str(caller.token_id) if caller.username is None else caller.actor, "photo uploads with this token")


def hit(setting: str, scope: str, key: str, what: str) -> None:
    """Count one request of ``key`` against every window of ``setting`` (``10 per 15 minutes; 30
    per day``), atomically in the shared store; 429 with ``Retry-After`` once one is used up."""
    limiter = current_app.extensions["zonemap.ratelimit"]
    for limit in parse_many(setting):
        try:
            if limiter.hit(limit, scope, key):
                continue
            reset = limiter.get_window_stats(limit, scope, key).reset_time
        except Exception:
            current_app.logger.exception("rate-limit store %s unavailable; request allowed", current_app.config["RATE_LIMIT_STORAGE"])
            return
        wait = max(1, math.ceil(reset - time.time()))
        raise ApiError(429, f"too many {what}: at most {limit}; try again in {wait} s", headers={"Retry-After": str(wait)})
