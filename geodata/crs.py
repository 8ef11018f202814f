"""Coordinate systems: the fixed vocabulary, input parsing, and the GCJ-02 / BD-09 datums.

Everything is stored in WGS84 (``STORAGE_CRS``); areas and distances are computed in a metric
CRS (``METRIC_CRS``, UTM 51N, which covers Qingdao). GCJ-02 (Amap, Tencent) and BD-09 (Baidu)
are not EPSG systems: they are deliberate, non-linear offsets of WGS84 (300–600 m around
Qingdao), converted here with vectorised functions. Their inverses are iterated until the
forward transform of the result reproduces the input to better than 1e-9 degrees (~0.1 mm).

Notes
-----
CGCS2000 (EPSG:4490) differs from WGS84 by well under a metre for this purpose and is treated
as WGS84 when points are converted.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from numpy.typing import ArrayLike, NDArray

from zones.config import METRIC_CRS, STORAGE_CRS
from zones.enums import StrEnumChecked
from zones.errors import CRSError

CGCS2000_CRS = "EPSG:4490"

# Krasovsky 1940 ellipsoid, as the GCJ-02 algorithm uses it.
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323
# Baidu's fixed offsets.
_BD_DLON = 0.0065
_BD_DLAT = 0.0060
# The bounding box inside which Chinese map providers apply the GCJ-02 offset.
_CHINA_LON = (72.004, 137.8347)
_CHINA_LAT = (0.8293, 55.8271)
_INVERSE_TOLERANCE_DEG = 1e-9
_INVERSE_MAX_ITERATIONS = 30

Array = NDArray[np.float64]


class InputCRS(StrEnumChecked):
    """Named coordinate systems a report or a layer may arrive in."""

    WGS84 = "wgs84"
    CGCS2000 = "cgcs2000"
    GCJ02 = "gcj02"
    BD09 = "bd09"


@dataclass(frozen=True)
class CRSSpec:
    """A parsed input CRS: either a shifted Chinese datum or a pyproj CRS.

    Attributes
    ----------
    label
        What the user gave, normalised (``"gcj02"``, ``"EPSG:4490"``, ...).
    datum
        ``"gcj02"`` or ``"bd09"`` for the shifted datums, else ``None``.
    crs
        The pyproj CRS the coordinates are in (EPSG:4326 for the shifted datums, which are
        offsets of WGS84 lon/lat).
    """

    label: str
    datum: str | None
    crs: pyproj.CRS


def parse_input_crs(value: str | int | pyproj.CRS | None) -> CRSSpec:
    """Parse ``wgs84``, ``cgcs2000``, ``gcj02``, ``bd09`` or any EPSG code into a `CRSSpec`.

    Raises
    ------
    CRSError
        If the value is none of those; the message lists the accepted forms.
    """
    if value is None:
        return _parse_text(InputCRS.WGS84.value)
    if isinstance(value, pyproj.CRS):
        return CRSSpec(value.to_string(), None, value)
    return _parse_text(str(value))


@functools.lru_cache(maxsize=64)  # parsed once per process: building a pyproj CRS costs ~50 µs
def _parse_text(value: str) -> CRSSpec:
    text = value.strip()
    key = text.lower().replace("-", "").replace("_", "")
    named = {
        "wgs84": (InputCRS.WGS84.value, None, STORAGE_CRS),
        "cgcs2000": (InputCRS.CGCS2000.value, None, CGCS2000_CRS),
        "gcj02": (InputCRS.GCJ02.value, "gcj02", STORAGE_CRS),
        "bd09": (InputCRS.BD09.value, "bd09", STORAGE_CRS),
    }
    if key in named:
        label, datum, code = named[key]
        return CRSSpec(label, datum, pyproj.CRS.from_user_input(code))
    if text.isdigit():
        text = f"EPSG:{text}"
    if text.upper().startswith("EPSG:"):
        try:
            crs = pyproj.CRS.from_user_input(text.upper())
        except pyproj.exceptions.CRSError as err:
            msg = f"unknown EPSG code {text!r}"
            raise CRSError(msg) from err
        return CRSSpec(text.upper(), None, crs)
    valid = ", ".join(InputCRS.values())
    msg = f"unknown coordinate system {value!r}; expected one of {valid}, or an EPSG code such as EPSG:4490"
    raise CRSError(msg)


def _in_china(lon: Array, lat: Array) -> NDArray[np.bool_]:
    return (
        (lon >= _CHINA_LON[0]) & (lon <= _CHINA_LON[1]) & (lat >= _CHINA_LAT[0]) & (lat <= _CHINA_LAT[1])
    )


def _gcj_offset(lon: Array, lat: Array) -> tuple[Array, Array]:
    """The GCJ-02 offset in degrees at WGS84 ``lon, lat`` (zero outside China)."""
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    d_lat_m = (
        -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x
        + (
            2.0 * np.sin(x * 6.0 * np.pi) + 2.0 * np.sin(x * 2.0 * np.pi)
            + 2.0 * np.sin(y * np.pi) + 4.0 * np.sin(y / 3.0 * np.pi)
            + 16.0 * np.sin(y / 12.0 * np.pi) + 32.0 * np.sin(y / 30.0 * np.pi)
        ) * 20.0 / 3.0
    )
    d_lon_m = (
        300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x
        + (
            2.0 * np.sin(x * 6.0 * np.pi) + 2.0 * np.sin(x * 2.0 * np.pi)
            + 2.0 * np.sin(x * np.pi) + 4.0 * np.sin(x / 3.0 * np.pi)
            + 15.0 * np.sin(x / 12.0 * np.pi) + 30.0 * np.sin(x / 30.0 * np.pi)
        ) * 20.0 / 3.0
    )
    rad_lat = np.radians(lat)
    magic = 1.0 - _GCJ_EE * np.sin(rad_lat) ** 2
    lat_deg_arclen = np.radians(_GCJ_A * (1.0 - _GCJ_EE) / magic**1.5)
    lon_deg_arclen = np.radians(_GCJ_A * np.cos(rad_lat) / np.sqrt(magic))
    inside = _in_china(lon, lat)
    return np.where(inside, d_lon_m / lon_deg_arclen, 0.0), np.where(inside, d_lat_m / lat_deg_arclen, 0.0)


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Shift WGS84 lon/lat (degrees) to GCJ-02. Points outside China are returned unchanged."""
    lon, lat = _as_arrays(lon, lat)
    d_lon, d_lat = _gcj_offset(lon, lat)
    return lon + d_lon, lat + d_lat


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Shift GCJ-02 lon/lat to BD-09 (Baidu)."""
    x, y = _as_arrays(lon, lat)
    r = np.hypot(x, y) + 0.00002 * np.sin(np.radians(y) * 3000.0)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(np.radians(x) * 3000.0)
    return r * np.cos(theta) + _BD_DLON, r * np.sin(theta) + _BD_DLAT


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Shift WGS84 lon/lat to BD-09 (through GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


Forward = Callable[[Array, Array], tuple[Array, Array]]


def _invert(forward: Forward, lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Invert a near-identity ``forward`` transform by fixed-point iteration, vectorised."""
    target_lon, target_lat = _as_arrays(lon, lat)
    out_lon, out_lat = target_lon.copy(), target_lat.copy()
    for _ in range(_INVERSE_MAX_ITERATIONS):
        f_lon, f_lat = forward(out_lon, out_lat)
        err_lon, err_lat = f_lon - target_lon, f_lat - target_lat
        out_lon -= err_lon
        out_lat -= err_lat
        worst = np.nanmax(np.abs(np.concatenate([err_lon.ravel(), err_lat.ravel()])), initial=0.0)
        if worst < _INVERSE_TOLERANCE_DEG:
            break
    return out_lon, out_lat


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Exact (iterated) inverse of `wgs84_to_gcj02`, to better than 1 mm."""
    return _invert(wgs84_to_gcj02, lon, lat)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Exact (iterated) inverse of `gcj02_to_bd09`."""
    return _invert(gcj02_to_bd09, lon, lat)


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Exact (iterated) inverse of `wgs84_to_bd09`."""
    return _invert(wgs84_to_bd09, lon, lat)


_TO_WGS84: dict[str, Forward] = {"gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}
_FROM_WGS84: dict[str, Forward] = {"gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}


def points_to_wgs84(lon: ArrayLike, lat: ArrayLike, crs: CRSSpec | str | None) -> tuple[Array, Array]:
    """Convert lon/lat (or x/y) arrays given in ``crs`` to WGS84 lon/lat."""
    spec = crs if isinstance(crs, CRSSpec) else parse_input_crs(crs)
    x, y = _as_arrays(lon, lat)
    if spec.datum is not None:
        return _TO_WGS84[spec.datum](x, y)
    if spec.label in (InputCRS.WGS84.value, InputCRS.CGCS2000.value) or _same_as_storage(spec.crs):
        return x, y
    transformer = pyproj.Transformer.from_crs(spec.crs, STORAGE_CRS, always_xy=True)
    out_x, out_y = transformer.transform(x, y)
    return np.asarray(out_x, dtype=np.float64), np.asarray(out_y, dtype=np.float64)


@functools.lru_cache(maxsize=64)
def _same_as_storage(crs: pyproj.CRS) -> bool:
    """Whether coordinates in ``crs`` are already WGS84 lon/lat (CGCS2000 is taken as equal: < 1 m apart)."""
    return (crs.is_geographic and crs.equals(pyproj.CRS.from_user_input(STORAGE_CRS), ignore_axis_order=True)) or crs.equals(
        pyproj.CRS.from_user_input(CGCS2000_CRS), ignore_axis_order=True)


def _shift_geometries(geoms: ArrayLike, func: Forward) -> NDArray[np.object_]:
    def shift(coords: Array) -> Array:
        lon, lat = func(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(np.asarray(geoms, dtype=object), shift)


def to_storage(gdf: gpd.GeoDataFrame, crs: CRSSpec | str | None) -> gpd.GeoDataFrame:
    """Return ``gdf`` converted from ``crs`` to WGS84 (EPSG:4326), leaving the input untouched.

    ``crs=None`` keeps the frame's own CRS (WGS84 when it has none).
    """
    if crs is None and gdf.crs is not None:
        spec = CRSSpec(gdf.crs.to_string(), None, gdf.crs)
    else:
        spec = crs if isinstance(crs, CRSSpec) else parse_input_crs(crs)
    out = gdf.copy()
    if spec.datum is not None:
        out = out.set_geometry(_shift_geometries(out.geometry.values, _TO_WGS84[spec.datum]), crs=STORAGE_CRS)
        return out
    if spec.crs.equals(pyproj.CRS.from_user_input(CGCS2000_CRS), ignore_axis_order=True):
        return out.set_crs(STORAGE_CRS, allow_override=True)
    out = out.set_crs(spec.crs, allow_override=True)
    return out.to_crs(STORAGE_CRS)


def to_display(gdf: gpd.GeoDataFrame, datum: str | None) -> gpd.GeoDataFrame:
    """Shift a WGS84 frame to a basemap's datum (``"gcj02"``, ``"bd09"`` or ``None`` for WGS84)."""
    check_crs(gdf, STORAGE_CRS, what="display input")
    if datum is None or datum == InputCRS.WGS84.value:
        return gdf
    func = _FROM_WGS84[InputCRS(datum).value]
    return gdf.set_geometry(_shift_geometries(gdf.geometry.values, func), crs=STORAGE_CRS)


def check_crs(gdf: gpd.GeoDataFrame, expected: str | pyproj.CRS, *, what: str = "layer") -> None:
    """Raise `CRSError`, naming both systems, unless ``gdf`` is in ``expected``."""
    want = pyproj.CRS.from_user_input(expected)
    if gdf.crs is None or not pyproj.CRS.from_user_input(gdf.crs).equals(want, ignore_axis_order=True):
        msg = f"{what} is in {gdf.crs}, expected {want.to_string()}"
        raise CRSError(msg)


def to_metric(gdf: gpd.GeoDataFrame | gpd.GeoSeries, metric_crs: str = METRIC_CRS) -> gpd.GeoDataFrame | gpd.GeoSeries:
    """Project a WGS84 frame or series to the metric CRS for areas and distances."""
    crs = pyproj.CRS.from_user_input(metric_crs)
    if crs.is_geographic:
        msg = f"{metric_crs} is geographic; areas and distances need a projected CRS in metres"
        raise CRSError(msg)
    if gdf.crs is None:
        msg = "cannot project a layer without a CRS to metres"
        raise CRSError(msg)
    return gdf.to_crs(crs)
