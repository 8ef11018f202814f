"""Rate limits on public submissions, per client address, counted in shared storage.

``RATE_LIMIT_STORAGE`` names the store (``memory://`` for one process, ``redis://...`` so that
every worker counts against the same limit); ``PUBLIC_SUBMIT_LIMIT`` is a `limits` string such as
``20 per minute``. Staff tokens are not limited. If the store is unreachable the request goes
through and the failure is logged: a citizen's report matters more than the limit.
"""

from __future__ import annotations

import math
import time

from flask import Flask, current_app, request
from limits import parse, storage, strategies

from api.auth import Caller, Role
from api.errors import ApiError


def init_app(app: Flask) -> None:
    """Connect the configured store and parse the limit (a bad limit string stops the start)."""
    store = storage.storage_from_string(app.config["RATE_LIMIT_STORAGE"], key_prefix=app.config.get("RATE_LIMIT_PREFIX", "zonemap"))
    parse(app.config["PUBLIC_SUBMIT_LIMIT"])
    app.extensions["zonemap.ratelimit"] = strategies.MovingWindowRateLimiter(store)


def check_submission(caller: Caller) -> None:
    """Count one submission by a public caller; 429 with ``Retry-After`` when over the limit."""
    if caller.role != Role.PUBLIC:
        return
    limiter = current_app.extensions["zonemap.ratelimit"]
    limit = parse(current_app.config["PUBLIC_SUBMIT_LIMIT"])
    key = request.remote_addr or "unknown"
    try:
        if limiter.hit(limit, "submit", key):
            return
        reset = limiter.get_window_stats(limit, "submit", key).reset_time
    except Exception:  # noqa: BLE001  (any storage failure: connection refused, timeout, ...)
        current_app.logger.exception("rate-limit store %s unavailable; request allowed", current_app.config["RATE_LIMIT_STORAGE"])
        return
    wait = max(1, math.ceil(reset - time.time()))
    raise ApiError(429, f"too many reports from this address: at most {limit}; try again in {wait} s", headers={"Retry-After": str(wait)})
