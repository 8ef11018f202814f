"""Web assets the pages and maps load, all served by the app under ``/assets/`` (no CDN: district
intranets are offline): the maps' from their Python packages (`maps.offline.ASSET_DIRS`), the
pages' htmx, the outline editor (Leaflet-Geoman), the charts (Apache ECharts) and the inspectors' offline
page (idb, Workbox) from npm, installed
with ``npm ci --prefix api/web`` from the committed lockfile;
scripts and styles are sent compressed."""

from __future__ import annotations

import gzip
from pathlib import Path

from flask import Flask, Response, request

from maps.offline import ASSET_DIRS

WEB = Path(__file__).parent
#: URL folder → directory on disk, for everything under ``/assets/``.
PAGE_ASSET_DIRS = {**ASSET_DIRS, "htmx": WEB / "node_modules" / "htmx.org" / "dist",
                   "geoman": WEB / "node_modules" / "@geoman-io" / "leaflet-geoman-free" / "dist",
                   "echarts": WEB / "node_modules" / "echarts" / "dist", "idb": WEB / "node_modules" / "idb" / "build",
                   **{name: WEB / "node_modules" / name / "build" for name in ("workbox-core", "workbox-routing", "workbox-strategies")}}
HTMX = "htmx/htmx.min.js"
GEOMAN = ("geoman/leaflet-geoman.min.js", "geoman/leaflet-geoman.css")
ECHARTS = "echarts/echarts.simple.min.js"  # bars, lines and pies: what the figures' charts draw
IDB = "idb/umd.js"  # IndexedDB with promises: the inspectors' queue on the phone
WORKBOX = tuple(f"workbox-{name}/workbox-{name}.prod.js" for name in ("core", "routing", "strategies"))  # the inspectors' service worker


def check_installed() -> None:
    """Refuse to start without the pages' scripts, saying how to install them."""
    for name in (HTMX, *GEOMAN, ECHARTS, IDB, *WORKBOX):
        folder, _, file = name.partition("/")
        if not (PAGE_ASSET_DIRS[folder] / file).is_file():
            msg = f"the pages' scripts are not installed (no {WEB.name}/node_modules/.../{file}): run `npm ci --prefix api/web` (see README)"
            raise RuntimeError(msg)


#: Text assets worth compressing (Leaflet's script is 147 kB, 42 kB gzipped: a phone on a slow link feels it).
COMPRESSIBLE = {"text/javascript", "application/javascript", "text/css"}
MAX_KEPT = 200  # compressed copies kept per worker
_compressed: dict[tuple[str, str], bytes] = {}


def init_app(app: Flask) -> None:
    """Send the assets' scripts and styles gzipped to clients that accept it (compressed once per
    file version and kept)."""

    @app.after_request
    def _gzip(response: Response) -> Response:
        if (not request.path.startswith(("/assets/", "/static/")) or response.status_code != 200 or response.mimetype not in COMPRESSIBLE
                or "gzip" not in request.accept_encodings or "Content-Encoding" in response.headers):
            return response
        key = (request.path, response.headers.get("ETag", ""))
        body = _compressed.get(key)
        if body is None:
            response.direct_passthrough = False
            body = gzip.compress(response.get_data(), mtime=0)
            if len(_compressed) < MAX_KEPT:
                _compressed[key] = body
        response.close()  # the file behind it, when it was not read
        response.set_data(body)
        response.headers["Content-Encoding"] = "gzip"
        response.vary.add("Accept-Encoding")
        return response
