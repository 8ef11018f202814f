"""The web service: Flask app, persistence, auth, and the command line.

`create_app` builds an app from configuration: nothing is read or opened at import time.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, Response, g, jsonify
from flask.typing import ResponseReturnValue


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: configuration, database (migrated), the zone layer, auth, blueprints."""
    from api import auth, errors, openapi, ratelimit, state
    from api.blueprints import layers, maps, ogc, open311, pages, photos, reports
    from api.config import configure
    from api.persistence import Database, migrate

    app = Flask(__name__, static_folder=None)  # assets are served by the maps blueprint
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Chinese as UTF-8, not \u escapes
    configure(app, test_config)
    errors.init_app(app)
    ratelimit.init_app(app)
    auth.init_app(app)
    database = Database(app.config["DATABASE_URL"])
    migrate(database.engine)
    app.extensions["zonemap.db"] = database
    with database.session() as session:
        state.init_app(app, session)

    @app.before_request
    def _open() -> None:
        g.db = database.sessions()
        g.caller = None
        g.caller = auth.authenticate(g.db)

    @app.after_request
    def _finish(response: Response) -> Response:
        session = g.pop("db", None)
        if session is not None:
            try:
                if response.status_code < 400:
                    session.commit()
                else:
                    session.rollback()
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
    def healthz() -> ResponseReturnValue:
        layer = state.current_layer()
        return jsonify({"status": "ok", "zone_version": layer.version, "zones": len(layer.zones), "worker": os.getpid()})

    openapi.init_app(app)
    for blueprint in (reports.bp, photos.bp, layers.bp, open311.bp, ogc.bp, maps.bp, pages.bp):
        app.register_blueprint(blueprint)
    return app
