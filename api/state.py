"""The zone layer every worker holds in memory, loaded once per app."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app

from api.batch import LayerFiles, load_zone_layer
from geodata.demo import DemoFiles, ensure_demo
from zones.layer import ZoneLayer


def layer_files(app: Flask) -> LayerFiles:
    """The configured layer set: ``LAYER_DIR`` (a demo-style folder) or the bundled demo."""
    root = app.config["LAYER_DIR"]
    files = DemoFiles(Path(root)) if root else ensure_demo(Path(app.config["DATA_DIR"]) / "demo")
    return LayerFiles(files.gpkg, files.gpkg, files.gpkg, files.categories, files.units if files.units.exists() else None)


def init_app(app: Flask) -> None:
    """Load and validate the layer now, so a broken layer stops the start, not the first request."""
    app.extensions["zonemap.layer"] = load_zone_layer(layer_files(app))


def current_layer() -> ZoneLayer:
    """The layer of the running app."""
    return current_app.extensions["zonemap.layer"]
