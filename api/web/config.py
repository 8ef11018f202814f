"""Configuration: defaults, then ``ZONEMAP_*`` environment variables, then an optional file
(``ZONEMAP_CONFIG``), then the test configuration; validated when the app starts."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from maps.style import BASEMAPS
from zones.checklists import REPEAT_FACTOR
from zones.config import NEARBY_REPORT_RADIUS_M, RoutingConfig
from zones.figures import DEFAULT_WEIGHTS, Ranking, parse_weights
from zones.schema import MAX_VERTICES
from zones.worktime import WORKING_HOURS

#: Photos a citizen attaches to one report on the page.
MAX_PHOTOS = 3
#: Photos one point's inspection may carry (of its problems and of the fixes made on the spot).
INSPECTION_PHOTOS = 12
#: A form's own fields, beside the files it uploads (bytes).
FORM_BYTES = 64 * 1024

DEFAULTS: dict[str, Any] = {
    "DATA_DIR": "zonemap-data",
    "DATABASE_URL": None,  # default: SQLite file in DATA_DIR
    "LAYER_DIR": None,  # default: the bundled Chengyang demo, generated into DATA_DIR/demo
    "MAX_CONTENT_LENGTH": 1 * 1024 * 1024,  # bytes; Flask's default is unlimited
    "MAX_LAYER_UPLOAD": 200 * 1024 * 1024,  # bytes, for zone-layer uploads only
    "LAYER_CHECK_SECONDS": 2.0,  # how often a worker asks whether a new layer was published
    "BASE_URL": "http://127.0.0.1:8000",  # absolute links (OGC API) start with this, never with the request's Host header
    "TILE_URL": None,  # a local tile server for the maps, e.g. /tiles/{z}/{x}/{y}.png
    "MAP_ATTRIBUTION": None,  # who made the layer's data the maps draw (text); default: attribution.txt of the layer folder, if any
    "MAX_VERTICES": MAX_VERTICES,  # vertices one geometry of a layer may have; more is a validation error naming the row
    "WORKING_HOURS": WORKING_HOURS,  # the working hours of a working day (Asia/Shanghai) that work_hours and work_days deadlines count
    "LAYER_JOBS": 2,  # layer uploads read and validated at once per host, each in a process of its own; the rest wait in the queue
    "COVERAGE_WAIT_SECONDS": 30.0,  # a coverage page or map waits this long for the analysis, then answers 503 (the work goes on)
    "COMPARISON_WAIT_SECONDS": 1.0,  # a draft's page or GET waits this long for its comparison, then says it is being compared (503 in the API)
    "NEAREST_TOLERANCE_M": 30.0,
    "TEST_POINT_RADIUS_M": 50.0,
    "JSON_SORT_KEYS": False,
    "CONTACT_RETENTION_DAYS": 180,  # `zonemap retention` erases reporters' contacts older than this
    "MAX_PHOTO_BYTES": 10 * 1024 * 1024,  # one uploaded photo
    "PUBLIC_SUBMIT_LIMIT": "20 per minute",  # per client address, for public tokens; a limits string
    "PHOTO_UPLOAD_LIMIT": "30 per minute",  # per token, every role; a limits string
    "LOGIN_LIMIT": "10 per 15 minutes; 30 per day",  # sign-in attempts from unknown browsers per account and per address (windows that grow)
    "LOGIN_DEVICE_LIMIT": "10 per 15 minutes",  # sign-in attempts from a browser that has signed in to the account before
    "SECRET_KEY": None,  # signs sessions and form tokens; default: made once and kept in the database, shared by every worker
    "SESSION_COOKIE_NAME": "zonemap_session",
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SECURE": False,  # set ZONEMAP_SESSION_COOKIE_SECURE=true behind HTTPS
    "PERMANENT_SESSION_LIFETIME": 12 * 3600,  # seconds a staff member stays signed in (a working day)
    "WTF_CSRF_TIME_LIMIT": None,  # a form's token lasts as long as its session (a citizen may take a while)
    "BASEMAP": None,  # tiles under the pages' maps: osm, tianditu or local (TILE_URL); default: TILE_URL if set, else none (the streets layer)
    "PHOTO_DECODES": 2,  # photos a worker decodes at once (a 24 MP photo takes ~100-150 MB while decoded); more uploads wait (then 503)
    "RATE_LIMIT_STORAGE": "memory://",  # redis://127.0.0.1:6379/0 shares the counts across workers
    "RATE_LIMIT_PREFIX": "zonemap",  # keys in that store; one prefix per deployment
    "TOKEN_CACHE_SECONDS": 5,  # a worker remembers a token this long; a deleted token row stops working within it
    "DUPLICATE_RADIUS_M": NEARBY_REPORT_RADIUS_M,  # a new report this close to an open one of its campaign group is flagged as its possible duplicate
    "DUPLICATE_DAYS": 7,  # ... when that one came in within this many days
    "INSPECTION_DISTANCE_M": 100.0,  # an inspection recorded farther than this from its test point is marked far (a warning, kept)
    "INSPECTION_REPEAT_FACTOR": REPEAT_FACTOR,  # a failure found again at its point on a re-inspection (回头看) costs this many times its weight
    "REOPEN_DAYS": 7,  # a reporter may say a published fix did not hold (整改不满意) this many days after its publication
    "RANKING_WEIGHTS": DEFAULT_WEIGHTS,  # the units' score (0-100): weighted on_time_rate, closure_rate, and 1 - rework_rate / extension_rate
    "RANKING_MINIMUM": 5,  # due reports (应结案) a unit needs in the period before it is ranked
    "RANKING_BOARD": 3,  # units on the red list (红榜) and on the black list (黑榜) each
}


def configure(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Fill ``app.config`` and build the routing configuration; raise on invalid values."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env(prefix="ZONEMAP")
    if os.environ.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = os.environ["DATABASE_URL"]
    if os.environ.get("ZONEMAP_CONFIG"):
        app.config.from_file(os.environ["ZONEMAP_CONFIG"], load=__import__("json").load)
    if test_config:
        app.config.from_mapping(test_config)
    data_dir = Path(app.config["DATA_DIR"])
    data_dir.mkdir(parents=True, exist_ok=True)
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = f"sqlite:///{(data_dir / 'zonemap.sqlite').resolve()}"
    if not isinstance(app.config["MAX_CONTENT_LENGTH"], int) or app.config["MAX_CONTENT_LENGTH"] <= 0:
        msg = f"MAX_CONTENT_LENGTH must be a positive number of bytes, got {app.config['MAX_CONTENT_LENGTH']!r}"
        raise ValueError(msg)
    app.config["PAGE_TILES"] = page_tiles(app.config["BASEMAP"], app.config["TILE_URL"])
    tiles_by = BASEMAPS[app.config["BASEMAP"]][1] if app.config["BASEMAP"] in BASEMAPS else ("本地瓦片 local tiles" if app.config["PAGE_TILES"] else "")
    app.config["PAGE_TILES_ATTRIBUTION"] = tiles_by
    weights = app.config["RANKING_WEIGHTS"]
    app.config["RANKING"] = Ranking(parse_weights(weights) if isinstance(weights, str) else dict(weights), minimum_due=int(app.config["RANKING_MINIMUM"]),
                                    board=int(app.config["RANKING_BOARD"]))
    app.config["ROUTING"] = RoutingConfig(
        nearest_tolerance_m=float(app.config["NEAREST_TOLERANCE_M"]),
        test_point_radius_m=float(app.config["TEST_POINT_RADIUS_M"]),
    )


def page_tiles(basemap: str | None, tile_url: str | None) -> str | None:
    """The tile URL template under the pages' maps, or None (the offline streets layer alone).

    The pages draw in WGS84, so only WGS84 tiles are offered there: ``osm``, ``tianditu`` or
    ``local`` (``TILE_URL``, also taken when no basemap is named). Amap's GCJ-02 tiles are for the
    Folium maps (``?basemap=amap``).
    """
    if not basemap:
        return tile_url
    if basemap == "local":
        if not tile_url:
            msg = "BASEMAP=local needs TILE_URL, the local tile server's URL template"
            raise ValueError(msg)
        return tile_url
    wgs84 = [name for name, (_url, _attribution, datum) in BASEMAPS.items() if datum == "wgs84"]
    if basemap not in wgs84:
        msg = f"BASEMAP must be one of {', '.join([*wgs84, 'local'])} (the pages draw in WGS84), got {basemap!r}"
        raise ValueError(msg)
    return BASEMAPS[basemap][0]


def body_limits(config: Any) -> dict[str, int]:
    """Uploads larger than ``MAX_CONTENT_LENGTH``, by endpoint (bytes). Set before anything reads
    the body: the form-token check reads a page's form before its view runs."""
    photo = int(config["MAX_PHOTO_BYTES"]) + FORM_BYTES
    layer = int(config["MAX_LAYER_UPLOAD"])
    return {"layers.upload_layer": layer, "layers.create_draft": layer, "plan.upload_draft": layer, "photos.upload": photo,
            "citizens.submit": MAX_PHOTOS * photo,
            "console.act": MAX_PHOTOS * photo, "inspect.submit": INSPECTION_PHOTOS * photo}
