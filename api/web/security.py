"""Security headers on every response, and the Content-Security-Policy of pages and maps.

Pages load scripts from the app only (``script-src 'self'``: no inline script runs). Maps are
Folium pages with inline scripts: their policy names each script by its SHA-256 hash, so only
the scripts the server rendered run, and a script injected through data never does. Styles may
be inline (Leaflet positions everything by style attributes); images come from the app, data
URLs and the chosen basemap's tile server.
"""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

from flask import Flask, Response
from werkzeug.exceptions import BadRequest

INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
#: Headers every response carries, set nowhere else.
FIXED_HEADERS = (("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "SAMEORIGIN"), ("Referrer-Policy", "same-origin"))


def policy(*, scripts: list[str] | None = None, tile_url: str | None = None) -> str:
    """The Content-Security-Policy: inline ``scripts`` allowed by hash, tiles from ``tile_url``'s
    origin."""
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in scripts or [])
    tiles = ""
    if tile_url and "//" in tile_url:
        parts = urlsplit(tile_url.replace("{s}", "*"))
        tiles = f" {parts.scheme}://{parts.netloc}"
    return "; ".join([
        "default-src 'self'", f"script-src 'self'{' ' + hashes if hashes else ''}", "style-src 'self' 'unsafe-inline'",
        f"img-src 'self' data: blob:{tiles}", "connect-src 'self'", "font-src 'self' data:", "object-src 'none'",
        "base-uri 'none'", "form-action 'self'", "frame-ancestors 'self'",
    ])


def page_policy(html: str, *, tile_url: str | None = None) -> str:
    """The policy allowing the inline scripts of ``html`` (the ones rendered here) by hash."""
    return policy(scripts=INLINE_SCRIPT.findall(html), tile_url=tile_url)


def html_with_policy(html: str, csp: str) -> Response:
    """An HTML response with its own Content-Security-Policy."""
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = csp
    return response


def html_with_inline_scripts(html: str, *, tile_url: str | None = None) -> Response:
    """An HTML response whose inline scripts (the ones rendered here) are allowed by hash."""
    return html_with_policy(html, page_policy(html, tile_url=tile_url))


def init_app(app: Flask) -> None:
    """Add the headers to every response (a response that set its own policy keeps it)."""
    default = policy(tile_url=app.config.get("PAGE_TILES"))

    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        if "Content-Security-Policy" not in headers:
            headers.add("Content-Security-Policy", default)
        headers.extend(FIXED_HEADERS)
        return response


def is_local_path(target: str) -> bool:
    """Whether ``target`` is a path on this site: not another host (``//evil.example``, a scheme,
    a backslash), no control characters."""
    parts = urlsplit(target)
    return (target.startswith("/") and not target.startswith("//") and not parts.scheme and not parts.netloc and "\\" not in target
            and not any(ord(c) < 32 or ord(c) == 127 for c in target))


def local_path(target: str | None) -> str | None:
    """``target`` if it is a path on this site (never another host: an open redirect), else None;
    a target holding a control character (a CR LF to split the answer's headers) is a bad request."""
    if not target:
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in target):
        raise BadRequest("next: a page's path holds no control characters")
    return target if is_local_path(target) else None

