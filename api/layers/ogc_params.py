"""The query parameters of OGC API – Features, as the OpenAPI document declares them and as the
views read them: every invalid value and every parameter the document does not name is refused
with 400 (``/req/core/query-param-invalid``, ``/req/core/query-param-unknown``)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from api.layers.ogc_time import DATETIME
from api.web import contract
from api.web.errors import ApiError

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
MAX_OFFSET = 10**12
NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"


def _bad(field: str, message: str) -> ApiError:
    return ApiError(400, f"{field}: {message}", errors=[{"field": field, "message": message}])


@dataclass(frozen=True)
class FormList(contract.Param):
    """A query parameter holding a comma-separated list (OpenAPI ``style: form, explode: false``)."""

    def spec(self) -> dict[str, Any]:
        """The parameter object, with its serialisation."""
        return {**super().spec(), "style": "form", "explode": False}


#: ``f``: the one format served (JSON; GeoJSON for features).
FORMAT = contract.query("f", enum=["json"], description="the response's format: json (GeoJSON for features), the only one served")
BBOX = FormList("bbox", {"type": "array", "oneOf": [{"minItems": 4, "maxItems": 4}, {"minItems": 6, "maxItems": 6}], "items": {"type": "number"}},
                description="minlon,minlat,maxlon,maxlat (or minlon,minlat,minheight,maxlon,maxlat,maxheight) in WGS 84 (CRS84); "
                            "a west edge east of the east edge crosses the antimeridian")
LIMIT = contract.query("limit", "integer", minimum=1, maximum=MAX_LIMIT, default=DEFAULT_LIMIT,
                       description=f"features per page (default {DEFAULT_LIMIT}); a larger value than {MAX_LIMIT} is served as {MAX_LIMIT}")
OFFSET = contract.query("offset", "integer", minimum=0, maximum=MAX_OFFSET, default=0, description="features to skip (the next link carries it)")
DATETIME_PARAM = contract.query("datetime", pattern=DATETIME, description=(
    "features whose time intersects this RFC 3339 date-time, day (Asia/Shanghai) or interval (start/end, '..' or nothing for an open end); "
    "features without a time always match. Times: zones' valid_from to valid_to, published results' reported_on"))


def check_names(args: Iterable[str], known: Iterable[str]) -> None:
    """Refuse a parameter not in ``known``, naming the ones that are."""
    allowed = set(known)
    for name in args:
        if name not in allowed:
            raise _bad(name, f"unknown parameter; this resource takes {', '.join(sorted(allowed))}")


def check_format(args: Mapping[str, str]) -> None:
    """``f``: only json."""
    value = args.get("f")
    if value is not None and value != "json":
        raise _bad("f", f"{value!r} is not served; json is the only format (GeoJSON for features)")


def limit(value: str | None) -> int:
    """``limit``: a whole number from 1; above the maximum, the maximum (``/req/core/fc-limit-response-1`` C)."""
    if value is None:
        return DEFAULT_LIMIT
    if not re.fullmatch(r"[0-9]+", value):
        raise _bad("limit", f"{value!r} is not a whole number")
    digits = value.lstrip("0")
    if not digits:
        raise _bad("limit", "must be at least 1")
    return MAX_LIMIT if len(digits) > len(str(MAX_LIMIT)) else min(int(digits), MAX_LIMIT)


def offset(value: str | None) -> int:
    """``offset``: a whole number from 0 up to `MAX_OFFSET`."""
    if value is None:
        return 0
    if not re.fullmatch(r"[0-9]{1,13}", value) or int(value) > MAX_OFFSET:
        raise _bad("offset", f"{value!r} is not a whole number from 0 to {MAX_OFFSET}")
    return int(value)


def bbox(value: str | None) -> tuple[float, float, float, float] | None:
    """``bbox``: 4 numbers (or 6 with heights, which 2D data ignore) in CRS84, exponents allowed;
    ``(west, south, east, north)``, where west > east crosses the antimeridian. A south edge north
    of the north edge, a value beyond ±180°/±90° or a number that is not one is refused."""
    if value is None:
        return None
    parts = value.split(",")
    if len(parts) not in (4, 6) or not all(re.fullmatch(NUMBER, p.strip()) for p in parts):
        raise _bad("bbox", f"{value!r} is not 4 (or 6) comma-separated numbers: minlon,minlat,maxlon,maxlat, e.g. 120.3,36.2,120.5,36.4")
    numbers = [float(p) for p in parts]
    if not all(math.isfinite(n) for n in numbers):
        raise _bad("bbox", f"{value!r} holds a number out of range")
    west, south, *_, east, north = numbers if len(numbers) == 4 else [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) == 6 and numbers[2] > numbers[5]:
        raise _bad("bbox", "the minimum height is above the maximum height")
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= 90 and -90 <= north <= 90):
        raise _bad("bbox", "longitudes must be within [-180, 180] and latitudes within [-90, 90]")
    if south > north:
        raise _bad("bbox", "the south edge (minlat) is north of the north edge (maxlat)")
    return west, south, east, north


def filters(args: Mapping[str, str], names: Iterable[str]) -> dict[str, str]:
    """The values a request gives the queryables ``names``; one holding a NUL character (which
    no property holds) is refused."""
    wanted = {name: args[name] for name in names if name in args}
    for name, value in wanted.items():
        if "\x00" in value:
            raise _bad(name, "contains a NUL character")
    return wanted
