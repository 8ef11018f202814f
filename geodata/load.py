"""Load a layer file into a validated WGS84 GeoDataFrame: read → map columns → check
coordinates → convert to WGS84 → validate against the column contract.

This is the one place where ``geodata`` uses ``zones`` (its column contracts and reports).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.crs import STORAGE_CRS, CRSSpec, InputCRS, parse_input_crs, points_to_wgs84, to_storage
from geodata.io import RawLayer, list_layers, read_raw, read_table
from zones.config import CHINA_LAT, CHINA_LON
from zones.enums import LayerKind
from zones.errors import CRSError
from zones.schema import CONTRACTS, MAX_VERTICES, ValidationReport, validate_categories, validate_layer

# Where China lies, to recognise latitude/longitude given in the wrong order.
# Coordinates this large cannot be degrees: the layer is projected (metres).
_NO_PROJECTION_REACHES = 1e8  # metres (100,000 km): larger values are garbage, not projected data
_PROJECTED_MAGNITUDE = 1000.0


@dataclass
class LoadedLayer:
    """A validated layer in WGS84, with the report of everything found on the way."""

    frame: gpd.GeoDataFrame
    report: ValidationReport
    input_crs: str
    encoding: str | None


def parse_column_mapping(items: list[str] | tuple[str, ...] | Mapping[str, str] | None) -> dict[str, str]:
    """Turn ``["责任单位=unit_name", ...]`` (or a mapping) into ``{source header: contract column}``."""
    if items is None:
        return {}
    if isinstance(items, Mapping):
        return {str(k): str(v) for k, v in items.items()}
    mapping: dict[str, str] = {}
    for item in items:
        source, sep, target = item.partition("=")
        if not sep or not source.strip() or not target.strip():
            msg = f"column mapping {item!r} is not of the form 'your header=contract column'"
            raise ValueError(msg)
        mapping[source.strip()] = target.strip()
    return mapping


def _apply_mapping(frame: gpd.GeoDataFrame, mapping: dict[str, str], report: ValidationReport) -> gpd.GeoDataFrame:
    absent = [s for s in mapping if s not in frame.columns]
    for source in absent:
        report.error("mapping_unknown_column", source=repr(source), columns=", ".join(map(str, frame.columns)), field=source)
    return frame.rename(columns={s: t for s, t in mapping.items() if s not in absent})


def _feature_ids(frame: gpd.GeoDataFrame, id_column: str) -> list[str | None]:
    if id_column not in frame.columns:
        return [None] * len(frame)
    return [None if pd.isna(v) else str(v) for v in frame[id_column].tolist()]


def check_coordinates(raw: RawLayer, spec: CRSSpec, ids: list[str | None], report: ValidationReport) -> None:
    """Name every row whose coordinates are unusable.

    Checks: cells that are not numbers; and for geographic input, coordinates out of range,
    latitude and longitude swapped, and metre-sized values (projected data whose CRS was not
    given, which would otherwise land far from where it belongs).
    """
    frame = raw.frame
    for pos, text in (raw.bad_coordinates or {}).items():
        report.error("coordinates_not_numbers", text=text, row=pos + 1, feature_id=ids[pos], field="geometry")
    if not spec.crs.is_geographic:
        return
    geoms = frame.geometry.to_numpy()
    present = ~(pd.isna(geoms) | shapely.is_empty(geoms))
    bounds = np.full((len(frame), 4), np.nan)
    if present.any():
        bounds[present] = shapely.bounds(geoms[present])
    minx, miny, maxx, maxy = bounds.T
    with np.errstate(invalid="ignore"):
        out_of_range = present & ((np.abs(minx) > 180) | (np.abs(maxx) > 180) | (np.abs(miny) > 90) | (np.abs(maxy) > 90))
        non_finite = present & ~np.isfinite(bounds).all(axis=1)
        largest = np.nanmax(np.abs(bounds), axis=1, initial=0.0)
        looks_projected = out_of_range & (np.maximum(np.abs(minx), np.abs(miny)) > _PROJECTED_MAGNITUDE) & (largest < _NO_PROJECTION_REACHES)
    if looks_projected.any() and looks_projected.sum() >= max(1, out_of_range.sum() // 2):
        rows = np.flatnonzero(looks_projected)
        first = int(rows[0])
        report.error(
            "projected_coordinates", n=len(rows), rows=", ".join(str(r + 1) for r in rows[:10]) + ("..." if len(rows) > 10 else ""),
            x=f"{minx[first]:.1f}", y=f"{miny[first]:.1f}", crs=spec.label,
            field="geometry",
        )
        return
    with np.errstate(invalid="ignore"):
        swapped_world = out_of_range & (np.abs(maxx) <= 90) & (np.abs(miny) > 90) & (np.abs(maxy) <= 180)
        swapped_china = (
            present & ~out_of_range
            & (minx >= CHINA_LAT[0]) & (maxx <= CHINA_LAT[1]) & (miny >= CHINA_LON[0]) & (maxy <= CHINA_LON[1])
        )
    for pos in np.flatnonzero(swapped_world | swapped_china):
        report.error(
            "swapped_coordinates", x=f"{minx[pos]:.6f}", y=f"{miny[pos]:.6f}",
            row=pos + 1, feature_id=ids[pos], field="geometry",
        )
    for pos in np.flatnonzero(out_of_range & ~swapped_world):
        report.error(
            "coordinates_out_of_range", x=f"{minx[pos]:.6f}..{maxx[pos]:.6f}", y=f"{miny[pos]:.6f}..{maxy[pos]:.6f}",
            row=pos + 1, feature_id=ids[pos], field="geometry",
        )
    for pos in np.flatnonzero(non_finite & ~out_of_range):
        report.error("coordinates_not_finite", row=pos + 1, feature_id=ids[pos], field="geometry")


def _rows_to_storage(frame: gpd.GeoDataFrame, ids: list[str | None], report: ValidationReport) -> gpd.GeoDataFrame:
    """Convert point rows that each name their own ``crs`` (a report batch from several apps)."""
    geoms = frame.geometry.to_numpy().copy()
    labels = [None if pd.isna(v) or not str(v).strip() else str(v).strip() for v in frame["crs"].tolist()]
    for label in dict.fromkeys(labels):
        rows = np.array([lab == label for lab in labels])
        try:
            spec = parse_input_crs(label)
        except CRSError as err:
            for pos in np.flatnonzero(rows):
                report.error_of(err, row=pos + 1, feature_id=ids[pos], field="crs")
            geoms[rows] = None
            continue
        present = rows & (shapely.get_type_id(geoms) == 0) & ~shapely.is_empty(geoms)
        if present.any():
            lon, lat = points_to_wgs84(shapely.get_x(geoms[present]), shapely.get_y(geoms[present]), spec)
            geoms[present] = shapely.points(lon, lat)
    out = frame.set_geometry(geoms, crs=STORAGE_CRS)
    out["crs"] = [lab or InputCRS.WGS84.value for lab in labels]
    return out


def _warn_outside_china(frame: gpd.GeoDataFrame, report: ValidationReport) -> None:
    geoms = frame.geometry.to_numpy()
    present = ~(pd.isna(geoms) | shapely.is_empty(geoms))
    if not present.any():
        return
    minx, miny, maxx, maxy = shapely.total_bounds(geoms[present])
    if maxx < CHINA_LON[0] or minx > CHINA_LON[1] or maxy < CHINA_LAT[0] or miny > CHINA_LAT[1]:
        report.warning("outside_china", bbox=f"{minx:.4f},{miny:.4f},{maxx:.4f},{maxy:.4f}")


def load_layer(
    path: str | Path,
    kind: LayerKind | str,
    *,
    crs: str | None = None,
    columns: Mapping[str, str] | list[str] | None = None,
    layer: str | None = None,
    encoding: str | None = None,
    lon: str | None = None,
    lat: str | None = None,
    wkt: str | None = None,
    strict: bool = True,
    max_vertices: int = MAX_VERTICES,
) -> LoadedLayer:
    """Read, check, convert to WGS84 and validate one layer file.

    Parameters
    ----------
    path
        GeoJSON, GeoPackage, Shapefile, CSV or XLSX.
    kind
        ``zones``, ``test-points``, ``areas`` or ``reports``.
    crs
        The coordinates' system when the file does not say, or says wrongly (GeoJSON from Amap
        claims WGS84 but is GCJ-02): ``wgs84``, ``cgcs2000``, ``gcj02``, ``bd09`` or an EPSG code.
    columns
        Mapping from the file's headers to the contract's columns (``{"责任单位": "unit_name"}``
        or ``["责任单位=unit_name"]``).
    layer
        GeoPackage layer or workbook sheet; for a GeoPackage it defaults to the layer named
        after ``kind`` when there is one.
    encoding, lon, lat, wkt
        See `geodata.io.read_raw`.
    strict
        Raise `SchemaError` with the full report when it holds an error. With ``strict=False``
        the report is returned and rows with errors stay in the frame for the caller to flag.
    max_vertices
        A geometry with more vertices is an error naming its row and the limit.

    Raises
    ------
    LayerReadError
        The file cannot be read at all.
    SchemaError
        With ``strict``, any error; its ``report`` lists every problem by row and field.
    """
    kind = LayerKind(kind)
    path = Path(path)
    if layer is None and path.suffix.lower() == ".gpkg":
        names = list_layers(path)
        candidates = {kind.value, kind.value.replace("-", "_")}
        layer = next((n for n in names if n in candidates), None)
    raw = read_raw(path, layer=layer, encoding=encoding, lon=lon, lat=lat, wkt=wkt)
    return load_raw(raw, kind, source=path.name, crs=crs, columns=columns, strict=strict, max_vertices=max_vertices)


def load_raw(
    raw: RawLayer,
    kind: LayerKind | str,
    *,
    source: str,
    crs: str | None = None,
    columns: Mapping[str, str] | list[str] | None = None,
    strict: bool = True,
    max_vertices: int = MAX_VERTICES,
) -> LoadedLayer:
    """Check, convert to WGS84 and validate a table already read (a file, or one partition of a
    larger input); the arguments are those of `load_layer`, ``source`` names it in the report."""
    kind = LayerKind(kind)
    report = ValidationReport(kind.value, source)
    raw.frame = _apply_mapping(raw.frame, parse_column_mapping(columns), report)
    if crs is not None:
        spec = parse_input_crs(crs)
    elif raw.declared_crs is not None:
        spec = CRSSpec(raw.declared_crs.to_string(), None, raw.declared_crs)
    else:
        spec = parse_input_crs(None)
    ids = _feature_ids(raw.frame, CONTRACTS[kind].id_column)
    check_coordinates(raw, spec, ids, report)
    if kind == LayerKind.REPORTS and crs is None and "crs" in raw.frame.columns:
        frame = _rows_to_storage(raw.frame, ids, report)
    else:
        frame = to_storage(raw.frame, spec)
    _warn_outside_china(frame, report)
    frame, report = validate_layer(frame, kind, source=source, report=report, max_vertices=max_vertices)
    if strict:
        report.raise_if_errors()
    return LoadedLayer(frame, report, spec.label, raw.encoding)


def load_categories(path: str | Path, *, strict: bool = True) -> tuple[pd.DataFrame, ValidationReport]:
    """Read and validate the categories table (CSV or XLSX)."""
    path = Path(path)
    table = read_table(path)
    frame, report = validate_categories(table, source=path.name)
    if strict:
        report.raise_if_errors()
    return frame, report


STREETS_LAYER = "streets"


def load_streets(path: str | Path) -> gpd.GeoDataFrame | None:
    """The named street lines of a GeoPackage's ``streets`` layer in WGS84 (``name`` and the
    geometry), drawn on maps for orientation; None when the file has no such layer. Rows
    without a line are left out: they would draw nothing."""
    path = Path(path)
    if path.suffix.lower() != ".gpkg" or STREETS_LAYER not in list_layers(path):
        return None
    frame = to_storage(read_raw(path, layer=STREETS_LAYER).frame, None)
    lines = frame.geometry.notna() & ~frame.geometry.is_empty & frame.geometry.geom_type.isin(["LineString", "MultiLineString"])
    names = frame["name"].astype(str) if "name" in frame.columns else pd.Series("", index=frame.index)
    return gpd.GeoDataFrame({"name": names[lines].to_numpy()}, geometry=frame.geometry[lines].to_numpy(), crs=STORAGE_CRS)


def load_scope(path: str | Path, *, max_vertices: int = MAX_VERTICES) -> gpd.GeoDataFrame | None:
    """The coverage scope (where zones are required) from a layer file, or from a GeoPackage's
    ``scope`` layer; None for a GeoPackage without one. Validated like any layer (`SchemaError`)."""
    path = Path(path)
    if path.suffix.lower() == ".gpkg" and LayerKind.SCOPE.value not in list_layers(path):
        return None
    return load_layer(path, LayerKind.SCOPE, max_vertices=max_vertices).frame
