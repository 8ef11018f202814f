"""Reading and writing layer files: GeoJSON, GeoPackage, Shapefile, CSV and XLSX.

Readers return the raw table as found (no CRS conversion, no validation) together with what
was learnt about the file: the CRS it declares and the text encoding used. Any failure to read
is a `LayerReadError` naming the file and the reason.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from geodata.spreadsheet import as_text_cells
from zones.errors import LayerReadError

VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp"}
#: Decimals of a GeoJSON coordinate (RFC 7946 §11.2: 1e-6° is about 0.1 m); a GeoPackage keeps full precision.
GEOJSON_DECIMALS = 6
PARQUET_SUFFIXES = {".parquet"}
TABLE_SUFFIXES = {".csv", ".txt", ".xlsx", ".xlsm"}
LON_NAMES = ("lon", "lng", "longitude", "long", "x", "经度")
LAT_NAMES = ("lat", "latitude", "y", "纬度")
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom", "shape")
# Tried in this order when a file declares nothing: UTF-8, then the Chinese GB family.
FALLBACK_ENCODINGS = ("utf-8", "gb18030")


@dataclass
class RawLayer:
    """A table as read from a file, before any CRS conversion or validation.

    Attributes
    ----------
    frame
        The rows; geometry in the file's own coordinates (``None`` where a row had none).
    declared_crs
        The CRS the file declares (``None`` for CSV/XLSX and files without one).
    encoding
        The text encoding used to decode attributes, where the format has a choice.
    bad_coordinates
        Row positions (0-based) whose lon/lat cells were not numbers, with the raw values.
    """

    frame: gpd.GeoDataFrame
    declared_crs: CRS | None
    encoding: str | None = None
    bad_coordinates: dict[int, str] | None = None


def list_layers(path: Path) -> list[str]:
    """Names of the layers in a multi-layer file such as a GeoPackage."""
    try:
        return [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception as err:
        raise LayerReadError.of("cannot_read", name=path.name, detail=str(err).replace(str(path), path.name)) from err


def _dbf_encoding(path: Path) -> str | None:
    """Guess a Shapefile's attribute encoding when it has no .cpg sidecar.

    The DBF language-driver byte is trusted when set (GDAL reads it itself); otherwise the
    record bytes are decoded as UTF-8 and, failing that, as GB18030 (a superset of GBK).
    """
    dbf = path.with_suffix(".dbf")
    if not dbf.exists():
        dbf = path.with_suffix(".DBF")
    if not dbf.exists() or any(path.with_suffix(s).exists() for s in (".cpg", ".CPG")):
        return None
    data = dbf.read_bytes()
    if len(data) < 32:
        return None
    if data[29] != 0:
        return None
    header_len = int.from_bytes(data[8:10], "little")
    records = data[header_len:]
    for encoding in FALLBACK_ENCODINGS:
        try:
            records.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding.upper()
    raise LayerReadError.of("dbf_encoding", name=dbf.name)


def _read_vector(path: Path, layer: str | None, encoding: str | None) -> RawLayer:
    suffix = path.suffix.lower()
    if suffix == ".gpkg" and layer is None:
        names = list_layers(path)
        if len(names) != 1:
            raise LayerReadError.of("several_layers", name=path.name, n=len(names), names=", ".join(names))
    if suffix == ".shp" and encoding is None:
        encoding = _dbf_encoding(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            frame = pyogrio.read_dataframe(path, layer=layer, encoding=encoding)
    except UnicodeDecodeError as err:
        raise LayerReadError.of("attribute_encoding", name=path.name, encoding=encoding or "its declared encoding", detail=err) from err
    except Exception as err:
        raise LayerReadError.of("cannot_read", name=path.name, detail=str(err).replace(str(path), path.name)) from err
    if not isinstance(frame, gpd.GeoDataFrame):
        raise LayerReadError.of("no_geometry_column", name=path.name)
    declared = frame.crs
    return RawLayer(frame.reset_index(drop=True), declared, encoding)


def _read_parquet(path: Path) -> RawLayer:
    """A GeoParquet file (its geometry column and CRS as written)."""
    try:
        frame = gpd.read_parquet(path)
    except Exception as err:
        raise LayerReadError.of("cannot_read_parquet", name=path.name, detail=err) from err
    return RawLayer(frame.reset_index(drop=True), frame.crs)


TEXT_ENCODINGS = ("utf-8-sig", "gb18030")  # what a CSV is read as when no encoding is given


def decode_text(data: bytes, name: str) -> str:
    """The text of a CSV's bytes in UTF-8 (with or without a BOM) or GBK/GB18030; a
    `LayerReadError` names the file and the first undecodable byte."""
    first: UnicodeDecodeError | None = None
    for candidate in TEXT_ENCODINGS:
        try:
            return data.decode(candidate)
        except UnicodeDecodeError as err:
            first = first or err
    assert first is not None
    line = data[: first.start].count(b"\n") + 1
    raise LayerReadError.of("text_encoding", name=name, byte=first.start + 1, line=line)


def _read_text_table(path: Path, encoding: str | None) -> tuple[pd.DataFrame, str]:
    candidates = (encoding,) if encoding else TEXT_ENCODINGS
    last: Exception | None = None
    for candidate in candidates:
        try:
            frame = pd.read_csv(path, encoding=candidate, dtype=str, keep_default_na=False, na_values=[""])
        except UnicodeDecodeError as err:
            last = err
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError, OSError) as err:
            raise LayerReadError.of("cannot_read_csv", name=path.name, detail=err) from err
        return frame, candidate.replace("-sig", "")
    raise LayerReadError.of("cannot_decode", name=path.name, encodings=" or ".join(candidates), detail=last)


def _read_xlsx(path: Path, sheet: str | None) -> pd.DataFrame:
    try:
        return pd.read_excel(path, sheet_name=sheet or 0, dtype=object, engine="openpyxl")
    except Exception as err:
        raise LayerReadError.of("cannot_read_excel", name=path.name, detail=err) from err


def read_table(path: str | Path, *, encoding: str | None = None, sheet: str | None = None) -> pd.DataFrame:
    """Read a plain table (CSV with its encoding detected, or an XLSX sheet) without geometry."""
    path = Path(path)
    if not path.exists():
        raise LayerReadError.of("file_not_found", name=path)
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        return _read_xlsx(path, sheet)
    return _read_text_table(path, encoding)[0]


def _find_column(columns: list[str], names: tuple[str, ...], given: str | None) -> str | None:
    if given is not None:
        if given not in columns:
            raise LayerReadError.of("column_not_found", column=repr(given), columns=", ".join(columns))
        return given
    lowered = {str(c).strip().lower(): c for c in columns}
    return next((lowered[n] for n in names if n in lowered), None)


def table_to_frame(
    table: pd.DataFrame, *, source: str, lon: str | None = None, lat: str | None = None, wkt: str | None = None
) -> RawLayer:
    """Build point (lon/lat columns) or any geometry (a WKT column) from a plain table.

    Cells that are not numbers (or not WKT) leave the geometry empty and are listed in
    ``bad_coordinates`` so the validator can name the row.
    """
    columns = [str(c) for c in table.columns]
    table = table.copy()
    table.columns = columns
    lon_col = _find_column(columns, LON_NAMES, lon) if wkt is None else None
    lat_col = _find_column(columns, LAT_NAMES, lat) if wkt is None else None
    bad: dict[int, str] = {}
    if lon_col is not None and lat_col is not None:
        xs = pd.to_numeric(table[lon_col], errors="coerce").to_numpy(dtype=np.float64)
        ys = pd.to_numeric(table[lat_col], errors="coerce").to_numpy(dtype=np.float64)
        not_numeric = np.isnan(xs) | np.isnan(ys)
        for pos in np.flatnonzero(not_numeric):
            bad[int(pos)] = f"{lon_col}={table[lon_col].iloc[pos]!r}, {lat_col}={table[lat_col].iloc[pos]!r}"
        geoms = shapely.points(xs, ys)
        geoms[not_numeric] = None
        frame = gpd.GeoDataFrame(table.drop(columns=[lon_col, lat_col]), geometry=geoms, crs=None)
        return RawLayer(frame, None, bad_coordinates=bad)
    wkt_col = _find_column(columns, WKT_NAMES, wkt)
    if wkt_col is None:
        raise LayerReadError.of("no_coordinates", name=source, lon_names=", ".join(LON_NAMES), lat_names=", ".join(LAT_NAMES),
                                wkt_names=", ".join(WKT_NAMES), columns=", ".join(columns))
    texts = table[wkt_col].tolist()
    geoms = np.empty(len(texts), dtype=object)
    for pos, text in enumerate(texts):
        if text is None or (isinstance(text, float) and np.isnan(text)):
            geoms[pos] = None
            continue
        try:
            geoms[pos] = shapely.from_wkt(str(text))
        except shapely.errors.GEOSException:
            geoms[pos] = None
            bad[pos] = f"{wkt_col}={str(text)[:60]!r} is not WKT"
    frame = gpd.GeoDataFrame(table.drop(columns=[wkt_col]), geometry=geoms, crs=None)
    return RawLayer(frame, None, bad_coordinates=bad)


def read_raw(
    path: str | Path,
    *,
    layer: str | None = None,
    encoding: str | None = None,
    lon: str | None = None,
    lat: str | None = None,
    wkt: str | None = None,
) -> RawLayer:
    """Read any supported layer file as it is.

    Parameters
    ----------
    path
        A .geojson/.json, .gpkg, .shp, .parquet (GeoParquet), .csv or .xlsx file.
    layer
        The layer of a GeoPackage, or the sheet of a workbook.
    encoding
        Attribute encoding (Shapefile, CSV); detected when not given.
    lon, lat, wkt
        Coordinate columns of a CSV/XLSX table; detected by common names when not given.

    Raises
    ------
    LayerReadError
        If the file is missing, of an unknown format, undecodable or corrupt.
    """
    path = Path(path)
    if not path.exists():
        raise LayerReadError.of("file_not_found", name=path)
    suffix = path.suffix.lower()
    if suffix in VECTOR_SUFFIXES:
        return _read_vector(path, layer, encoding)
    if suffix in PARQUET_SUFFIXES:
        return _read_parquet(path)
    if suffix in {".csv", ".txt"}:
        table, used = _read_text_table(path, encoding)
        raw = table_to_frame(table, source=path.name, lon=lon, lat=lat, wkt=wkt)
        raw.encoding = used
        return raw
    if suffix in {".xlsx", ".xlsm"}:
        return table_to_frame(_read_xlsx(path, layer), source=path.name, lon=lon, lat=lat, wkt=wkt)
    known = ", ".join(sorted(VECTOR_SUFFIXES | PARQUET_SUFFIXES | TABLE_SUFFIXES))
    raise LayerReadError.of("unknown_file_type", suffix=repr(suffix), name=path.name, known=known)


def rounded(geoms: np.ndarray) -> np.ndarray:
    """``geoms`` with every coordinate rounded to `GEOJSON_DECIMALS` decimals (each the double nearest
    to its decimal, so it is written as one) and exterior rings counter-clockwise."""
    snapped = shapely.transform(geoms, lambda xy: np.round(xy, GEOJSON_DECIMALS))
    return shapely.orient_polygons(snapped, exterior_cw=False)


def write_layer(gdf: gpd.GeoDataFrame, path: str | Path, *, layer: str | None = None, encoding: str | None = None) -> None:
    """Write ``gdf`` to GeoJSON, GeoPackage (named layer), Shapefile or CSV (WKT geometry)."""
    path = Path(path)
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        table = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
        table["wkt"] = shapely.to_wkt(gdf.geometry.to_numpy(), rounding_precision=7)
        as_text_cells(table).to_csv(path, index=False, encoding=encoding or "utf-8")  # a name like =HYPERLINK(...) stays text
        return
    if suffix not in VECTOR_SUFFIXES:
        msg = f"cannot write {suffix!r}; expected .geojson, .gpkg, .shp or .csv"
        raise LayerReadError(msg)
    kwargs: dict[str, Any] = {"layer": layer} if layer else {}
    if encoding:
        kwargs["encoding"] = encoding
    if suffix in (".geojson", ".json"):  # as RFC 7946 asks: counter-clockwise exterior rings, 6 decimals without float noise
        gdf = gdf.copy()
        gdf[gdf.geometry.name] = gpd.GeoSeries(rounded(gdf.geometry.to_numpy()), index=gdf.index, crs=gdf.crs)
        kwargs["layer_options"] = {"COORDINATE_PRECISION": GEOJSON_DECIMALS}
    pyogrio.write_dataframe(gdf, path, **kwargs)
