"""The OpenAPI 3 document of the service, built from the contracts its views declare
(`api.web.contract`), and an offline page that renders it."""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template
from flask.typing import ResponseReturnValue

from api.layers.live import current_layer
from api.web import contract
from api.web.schemas import ERROR_RESPONSES
from maps.style import BASEMAPS

OPENAPI_JSON = "application/vnd.oai.openapi+json;version=3.0"  # the media type OGC API and OpenAPI name for this document
INFO = {"title": "zonemap", "version": "1.0", "description": "三定三包责任区、测评点位与随手拍问题派单 Responsibility zones, test points and citizen reports"}


def init_app(app: Flask) -> None:
    """Serve the document and the docs page (no external assets); declare Flask's static files."""

    @app.get("/openapi.json", endpoint="openapi")
    @contract.operation("This document", answer={}, content=OPENAPI_JSON, secured=False, errors=())
    def openapi() -> ResponseReturnValue:
        enums = {"categories": sorted(current_layer().category_table), "basemaps": [*BASEMAPS, *(["local"] if current_app.config.get("TILE_URL") else [])]}
        response = jsonify(contract.document(current_app, info=INFO, responses=ERROR_RESPONSES, enums=enums))
        response.content_type = OPENAPI_JSON
        return response

    @app.get("/docs")
    @contract.operation("A page rendering this document", content="text/html", secured=False, errors=())
    def docs() -> ResponseReturnValue:
        return render_template("docs.html", lang="en", other_lang=None, t={"title": "zonemap API"})

    contract.declare(app, "static", contract.operation("Scripts and styles of the pages", content="*/*", secured=False, errors=("404",)))
