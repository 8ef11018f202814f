"""Layers as the service stores them: a version or a draft as one GeoPackage with its tables (the
calendar as one of its tables), read back (and validated again) as every worker reads it. No Flask."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pyogrio
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.persistence.models import LayerDraft, LayerVersion
from api.routing.batch import LayerFiles, load_zone_layer
from geodata import calendar
from geodata.io import write_layer
from zones.layer import ZoneLayer


def stored_gpkg(layer: ZoneLayer) -> bytes:
    """The layer's zones, test points, areas, scope and streets as one GeoPackage, as stored."""
    with tempfile.TemporaryDirectory(prefix="zonemap-layer-") as tmp:
        path = Path(tmp) / "layer.gpkg"
        for name in ("zones", "test_points", "areas", "scope", "streets"):
            frame = getattr(layer, name)
            if frame is not None:
                write_layer(frame, path, layer=name)
        if layer.calendar is not None:  # an attribute table beside the layers
            pyogrio.write_dataframe(layer.calendar, path, layer=calendar.LAYER)
        return path.read_bytes()


def stored_layer(row: LayerVersion | LayerDraft, max_vertices: int) -> ZoneLayer:
    """The layer a stored version or draft holds (validated again, as on any load)."""
    with tempfile.TemporaryDirectory(prefix="zonemap-layer-") as tmp:
        folder = Path(tmp)
        (folder / "layer.gpkg").write_bytes(row.gpkg)
        (folder / "categories.csv").write_text(row.categories_csv, encoding="utf-8")
        units = None
        if row.units_csv:
            units = folder / "units.csv"
            units.write_text(row.units_csv, encoding="utf-8")
        gpkg = folder / "layer.gpkg"
        days = gpkg if calendar.has_calendar(gpkg) else None
        return load_zone_layer(LayerFiles(gpkg, gpkg, gpkg, folder / "categories.csv", units, gpkg, gpkg, days), max_vertices=max_vertices)


def layer_of_version(session: Session, version: str, files: LayerFiles, max_vertices: int) -> ZoneLayer:
    """The stored ``version``, else the configured ``files`` (the version a service starts on before
    any publication); `LookupError` when neither is that version."""
    row = session.scalars(select(LayerVersion).where(LayerVersion.version == version)).first()
    layer = stored_layer(row, max_vertices) if row else load_zone_layer(files, max_vertices=max_vertices)
    if layer.version != version:
        msg = f"no stored layer version {version}"
        raise LookupError(msg)
    return layer


def current_stored(session: Session, files: LayerFiles, max_vertices: int) -> ZoneLayer:
    """The current layer: the version published last, else the configured ``files`` (the layer a
    service starts on before any publication)."""
    row = session.scalars(select(LayerVersion).where(LayerVersion.is_current)).first()
    return stored_layer(row, max_vertices) if row else load_zone_layer(files, max_vertices=max_vertices)
