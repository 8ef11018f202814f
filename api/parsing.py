"""Pure parsers of request values: each raises `ApiError` (422) naming the field."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from api.errors import ApiError
from geodata.crs import InputCRS
from zones.enums import ReportSource


def _bad(field: str, message: str) -> ApiError:
    return ApiError(422, f"{field}: {message}", errors=[{"field": field, "message": message}])


def number(value: Any, field: str, *, low: float | None = None, high: float | None = None, required: bool = True) -> float | None:
    """A finite number within [low, high]."""
    if value is None or value == "":
        if required:
            raise _bad(field, "is required")
        return None
    if isinstance(value, bool):
        raise _bad(field, f"{value!r} is not a number")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise _bad(field, f"{value!r} is not a number") from None
    if not math.isfinite(out):
        raise _bad(field, f"{value!r} is not a finite number")
    if (low is not None and out < low) or (high is not None and out > high):
        raise _bad(field, f"{out:g} is outside [{low:g}, {high:g}]")
    return out


def text(value: Any, field: str, *, required: bool = True, max_length: int = 2000) -> str | None:
    """A string of bounded length."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _bad(field, "is required")
        return None
    if not isinstance(value, str):
        raise _bad(field, f"must be a string, got {type(value).__name__}")
    if len(value) > max_length:
        raise _bad(field, f"is longer than {max_length} characters")
    return value.strip()


def choice(value: Any, field: str, allowed: list[str], default: str | None = None) -> str:
    """One of ``allowed``."""
    if value is None or value == "":
        if default is None:
            raise _bad(field, "is required")
        return default
    if value not in allowed:
        raise _bad(field, f"{value!r} is not one of {', '.join(allowed)}")
    return str(value)


@dataclass(frozen=True)
class Location:
    """A reported position as given: lon/lat in the named system, and the GPS accuracy."""

    lon: float
    lat: float
    crs: str
    accuracy_m: float | None


def location(data: dict[str, Any]) -> Location:
    """``lon``, ``lat``, ``crs`` and ``accuracy_m`` of a request, with swapped pairs named."""
    lon = number(data.get("lon"), "lon")
    lat = number(data.get("lat"), "lat")
    assert lon is not None and lat is not None
    if (3 <= lon <= 54 and 73 <= lat <= 136) or (abs(lon) <= 90 < abs(lat) <= 180):
        raise _bad("lon", f"lon={lon:g}, lat={lat:g} look swapped: lon is the longitude (73–136 in China)")
    number(lon, "lon", low=-180, high=180)
    number(lat, "lat", low=-90, high=90)
    crs = choice(data.get("crs"), "crs", InputCRS.values(), default=InputCRS.WGS84.value)
    accuracy = number(data.get("accuracy_m"), "accuracy_m", low=0, high=100_000, required=False)
    return Location(lon, lat, crs, accuracy)


def source(value: Any) -> str:
    """The "4+1" supervision channel (default ``citizen``)."""
    return choice(value, "source", ReportSource.values(), default=ReportSource.CITIZEN.value)


def photos(value: Any) -> list[str]:
    """A list of photo references (strings)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(p, str) and len(p) <= 500 for p in value) or len(value) > 20:
        raise _bad("photos", "must be a list of at most 20 photo references (strings)")
    return value


def bbox(value: str | None) -> tuple[float, float, float, float] | None:
    """``minlon,minlat,maxlon,maxlat``."""
    if not value:
        return None
    parts = value.split(",")
    if len(parts) != 4:
        raise _bad("bbox", "must be minlon,minlat,maxlon,maxlat")
    nums = [number(p, "bbox") for p in parts]
    minx, miny, maxx, maxy = (float(n) for n in nums if n is not None)
    if minx > maxx or miny > maxy:
        raise _bad("bbox", "min must not exceed max")
    return minx, miny, maxx, maxy


def timestamp(value: str | None, field: str) -> datetime | None:
    """An ISO 8601 timestamp with a time zone."""
    if not value:
        return None
    try:
        out = datetime.fromisoformat(value)
    except ValueError:
        raise _bad(field, f"{value!r} is not an ISO 8601 timestamp") from None
    if out.tzinfo is None:
        raise _bad(field, "needs a time zone, e.g. 2026-11-28T08:00:00+08:00")
    return out


def paging(args: dict[str, Any]) -> tuple[int, int]:
    """``limit`` (1–500, default 50) and ``offset``."""
    limit = number(args.get("limit"), "limit", low=1, high=500, required=False)
    offset = number(args.get("offset"), "offset", low=0, high=1e12, required=False)
    return int(limit or 50), int(offset or 0)
