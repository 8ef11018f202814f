"""The web service: Flask app, persistence, auth, and the command line.

`create_app` builds an app from configuration: nothing is read or opened at import time.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from typing import Any

import orjson
from flask import Flask, Response, current_app, g, jsonify, request
from flask.ctx import _AppCtxGlobals
from flask.json.provider import DefaultJSONProvider
from flask.typing import ResponseReturnValue


class JSONProvider(DefaultJSONProvider):
    r"""Flask's JSON, writing Chinese as UTF-8 (not ``\u`` escapes), and reading a body nested
    too deeply for the parser as invalid JSON (a 400), not as a crash.

    Answers are encoded by orjson, keys sorted and compact as Flask's, dates and dataclasses
    through Flask's ``default``. What orjson refuses (a key that is not text, an integer beyond
    64 bits, a numpy value) goes to Flask's encoder, which writes it as before or refuses it
    too. orjson writes a not-a-number as ``null`` where Flask's encoder wrote the invalid ``NaN``.
    """

    ensure_ascii = False
    _ORJSON = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS

    def response(self, *args: Any, **kwargs: Any) -> Response:
        """A JSON answer of ``args`` or ``kwargs``, as `flask.jsonify` takes them (indented in debug)."""
        obj = self._prepare_response_obj(args, kwargs)
        if self.compact is False or (self.compact is None and self._app.debug):
            return super().response(obj)
        try:
            body = orjson.dumps(obj, default=self.default, option=self._ORJSON)
        except orjson.JSONEncodeError:
            return super().response(obj)
        return self._app.response_class(body + b"\n", mimetype=self.mimetype)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse JSON; nesting beyond the interpreter's recursion limit is a `ValueError`."""
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            msg = "the JSON is nested too deeply"
            raise ValueError(msg) from None


class RequestGlobals(_AppCtxGlobals):
    """Flask's ``g``, whose ``db`` (the request's database session) opens on first use: a
    request that never reads or writes (a liveness probe, a cached token's route) opens none."""

    def __getattr__(self, name: str) -> Any:
        if name != "db":
            return super().__getattr__(name)
        self.db = current_app.extensions["zonemap.db"].sessions()
        return self.db


class ZonemapFlask(Flask):
    """The service's Flask: a database error is logged by its kind and primary message only,
    never with the row it concerned (PostgreSQL's DETAIL names every value of a failing row);
    the request's database session opens on first use (`RequestGlobals`)."""

    app_ctx_globals_class = RequestGlobals

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._callables: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Flask's, asked once per view or hook, not once per request (a request runs a dozen)."""
        known = self._callables.get(func)
        if known is None:
            known = self._callables[func] = super().ensure_sync(func)
        return known

    def log_exception(self, exc_info: Any) -> None:
        """Log an unhandled exception of a request."""
        from sqlalchemy.exc import DBAPIError

        error = exc_info[1]
        if not isinstance(error, DBAPIError):
            super().log_exception(exc_info)
            return
        diag = getattr(error.orig, "diag", None)
        primary = getattr(diag, "message_primary", None) or str(error.orig).splitlines()[0]
        frames = "".join(traceback.format_tb(error.__traceback__))
        self.logger.error("Database error on %s [%s]: %s %s: %s\n%s", request.path, request.method, type(error.orig).__name__,
                          getattr(error.orig, "sqlstate", "") or "", primary, frames)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: configuration, database (migrated), the zone layer, auth, blueprints."""
    from api.auth import account_pages, callers, sessions
    from api.figures import figures_api, stats_pages
    from api.inspections import inspect_pages, round_api, round_pages
    from api.layers import layer_api, live, map_pages, ogc, plan_pages
    from api.persistence import Database, migrate
    from api.reports import board_pages, citizen_pages, console_pages, open311, photo_api, photo_decoding, reply_pages, report_api, unit_pages
    from api.web import assets, contract, errors, front, i18n, openapi, ratelimit, security
    from api.web.config import body_limits, configure
    from api.web.schemas import Health

    assets.check_installed()
    app = ZonemapFlask(__name__, template_folder="web/templates", static_folder="web/static")  # each feature's templates come with its blueprint
    app.json = JSONProvider(app)
    configure(app, test_config)
    i18n.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    assets.init_app(app)
    photo_decoding.init_app(app)
    ratelimit.init_app(app)
    callers.init_app(app)
    database = Database(app.config["DATABASE_URL"])
    migrate(database.engine)
    app.extensions["zonemap.db"] = database
    with database.session() as session:
        live.init_app(app, session)
    _first_checklists(app, database)
    live.start_jobs(app, database)
    page_attribution = " · ".join(part for part in (live.map_attribution(app), app.config["PAGE_TILES_ATTRIBUTION"]) if part)
    if not app.config["LAYER_DIR"]:  # the bundled demo: people to sign in as, made by the first worker to start
        _demo_accounts(app, database)

    @app.before_request
    def _open() -> None:
        uploads = body_limits(app.config)
        if request.endpoint in uploads:
            request.max_content_length = uploads[request.endpoint]
        g.caller = None
        g.caller = callers.authenticate() or sessions.caller()

    sessions.init_app(app, database)  # its form-token check runs after _open, so that an error page has the database

    @app.context_processor
    def _names() -> dict[str, Any]:
        layer = live.current_layer()
        return {"district_name": live.district_name(layer), "district_bounds": [round(float(b), 5) for b in layer.areas.total_bounds],
                "page_tiles": app.config["PAGE_TILES"], "page_attribution": page_attribution, "assets": assets,
                **i18n.template_helpers(layer, live.worker().calendar)}

    @app.after_request
    def _finish(response: Response) -> Response:
        session = g.pop("db", None)
        if session is not None:
            try:
                if session.in_transaction():  # else nothing was read or written: nothing to end
                    (session.commit if response.status_code < 400 else session.rollback)()
            finally:
                session.close()
        return response

    @app.teardown_request
    def _close(_exc: BaseException | None) -> None:
        session = g.pop("db", None)
        if session is not None:
            session.rollback()
            session.close()

    @app.get("/healthz")
    @contract.operation("Liveness and the zone-layer version", answer=Health, secured=False, errors=())
    def healthz() -> ResponseReturnValue:
        layer = live.current_layer()
        return jsonify({"status": "ok", "zone_version": layer.version, "zones": len(layer.zones), "worker": os.getpid()})

    openapi.init_app(app)
    api = (report_api.bp, figures_api.bp, round_api.bp, photo_api.bp, layer_api.bp, open311.bp, ogc.bp, map_pages.bp)
    for blueprint in api:  # bearer tokens, no forms: no CSRF token
        sessions.csrf.exempt(blueprint)
        app.register_blueprint(blueprint)
    pages = (front.bp, account_pages.bp, citizen_pages.bp, board_pages.bp, unit_pages.bp, console_pages.bp, reply_pages.bp, plan_pages.bp, stats_pages.bp,
             inspect_pages.bp, round_pages.bp)
    for blueprint in pages:
        app.register_blueprint(blueprint)
    return app


def _first_checklists(app: Flask, database: Any) -> None:
    """On the first start, the layer folder's checklists (the demo's) become the current ones; of
    workers starting together, one stores them and the others find them stored."""
    from sqlalchemy.exc import IntegrityError

    from api.inspections import checklist_store
    from api.layers import live

    try:
        with database.session() as session:
            checklist_store.load_first(session, app.extensions["zonemap.layer"], live.layer_folder(app).checklists)
    except IntegrityError:
        pass


def _demo_accounts(app: Flask, database: Any) -> None:
    """Create the demo's staff accounts on the first start (one worker of many: under a lock) and
    show their passwords once, in the service's error output (gunicorn's error log)."""
    from sqlalchemy.orm import Session

    from api.auth.accounts import create_demo_accounts
    from api.persistence import one_at_a_time

    with one_at_a_time(database.engine, "first start") as connection, Session(bind=connection) as session:
        made = create_demo_accounts(session, app.extensions["zonemap.layer"])
    if made:
        lines = [f"  {a.username:<12} {a.password:<14} {a.role}{' ' + a.unit_id if a.unit_id else ''}" for a in made]
        app.logger.warning("Demo accounts (shown only now; sign in at /login):\n%s", "\n".join(lines))

