"""Pure parsers of request values: each raises `ApiError` (422) naming the field. JSON bodies
are parsed by their models (`body`), built from the value types below, which the OpenAPI
document reads as well."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, GetJsonSchemaHandler, StringConstraints, TypeAdapter, ValidationError
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from api.persistence.models import KEY_LENGTH
from api.routing.location import Location
from api.web.contract import NO_NUL, query
from api.web.errors import ApiError
from geodata.crs import InputCRS
from zones.config import CHINA_LAT, CHINA_LON
from zones.intake import MAX_ACCURACY_M, refusals_of_one

MAX_TEXT = 2000  # characters of a description or a note
MAX_REF = 500  # characters of a photo reference
MAX_REFS = 20  # photo references in one list
MAX_PAGE = 500  # items in one page of a list
MAX_OFFSET = 10**12
NOT_BLANK = r"^[^\u0000]*\S[^\u0000]*$"


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
    except OverflowError:  # an integer of hundreds of digits
        raise _bad(field, f"a number of {len(str(value))} digits is out of range") from None
    if not math.isfinite(out):
        raise _bad(field, f"{value!r} is not a finite number")
    if (low is not None and out < low) or (high is not None and out > high):
        raise _bad(field, f"{out:g} is outside [{low:g}, {high:g}]")
    return out


def text(value: Any, field: str, *, required: bool = True, max_length: int = MAX_TEXT) -> str | None:
    """A string of bounded length."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _bad(field, "is required")
        return None
    if not isinstance(value, str):
        raise _bad(field, f"must be a string, got {type(value).__name__}")
    _storable(value, field)
    if len(value) > max_length:
        raise _bad(field, f"is longer than {max_length} characters")
    return value.strip()


def _storable(value: str, field: str) -> None:
    """Refuse text no database column can hold (`_storable_text`), naming the field."""
    try:
        _storable_text(value)
    except ValueError as err:
        raise _bad(field, str(err)) from None


def idempotency_key(value: str | None) -> str | None:
    """The ``Idempotency-Key`` header: at most as long as the column that stores it."""
    return text(value, "Idempotency-Key", required=False, max_length=KEY_LENGTH)


def choice(value: Any, field: str, allowed: list[str], default: str | None = None) -> str:
    """One of ``allowed``; absent (None) is ``default``, an empty string is not a choice."""
    if value is None:
        if default is None:
            raise _bad(field, "is required")
        return default
    if value not in allowed:
        raise _bad(field, f"{value!r} is not one of {', '.join(allowed)}")
    return str(value)


#: The query parameters `location` reads, as the document declares them.
LOCATION = (
    query("lon", "number", required=True, minimum=CHINA_LON[0], maximum=CHINA_LON[1]),
    query("lat", "number", required=True, minimum=CHINA_LAT[0], maximum=CHINA_LAT[1]),
    query("crs", enum=InputCRS.values()), query("accuracy_m", "number", minimum=0, maximum=MAX_ACCURACY_M),
)


def location(data: dict[str, Any]) -> Location:
    """``lon``, ``lat``, ``crs`` and ``accuracy_m`` of a request, refused as `zones.intake` refuses
    a row (outside China, swapped, an accuracy beyond its range)."""
    lon = number(data.get("lon"), "lon")
    lat = number(data.get("lat"), "lat")
    assert lon is not None and lat is not None
    crs = choice(data.get("crs"), "crs", InputCRS.values(), default=InputCRS.WGS84.value)
    accuracy = number(data.get("accuracy_m"), "accuracy_m", required=False)
    for refusal in refusals_of_one(lon, lat, accuracy):
        raise _bad(refusal.field, refusal.message)
    return Location(lon, lat, crs, accuracy)


def key(value: str | None, field: str) -> str | None:
    """A value compared with a text column: no NUL character (PostgreSQL cannot hold one)."""
    if value is not None:
        _storable(value, field)
    return value


def photos(value: Any, field: str = "photos") -> list[str]:
    """A list of photo references (strings)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(p, str) and len(p) <= MAX_REF for p in value) or len(value) > MAX_REFS:
        raise _bad(field, f"must be a list of at most {MAX_REFS} photo references (strings)")
    for ref in value:
        _storable(ref, field)
    return value


BBOX = r"-?\d{1,3}(\.\d+)?(,-?\d{1,3}(\.\d+)?){3}"
INTEGER = r"-?\d{1,15}"


def bbox(value: str | None) -> tuple[float, float, float, float] | None:
    """``minlon,minlat,maxlon,maxlat`` in decimal degrees (corners given the other way round are
    put in order)."""
    if value is None:
        return None
    if not re.fullmatch(BBOX, value):
        raise _bad("bbox", "must be minlon,minlat,maxlon,maxlat in decimal degrees, e.g. 120.3,36.2,120.5,36.4")
    x1, y1, x2, y2 = (float(p) for p in value.split(","))
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)


RFC3339 = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})"


def _iso_day(value: Any) -> date:
    """A day written YYYY-MM-DD; ValueError says what is wrong."""
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError as err:
            msg = f"{value!r}: {err}"
            raise ValueError(msg) from None
    msg = f"{value!r} is not a day such as 2026-12-07"
    raise ValueError(msg)


def _rfc3339(value: Any) -> datetime:
    """An RFC 3339 timestamp, e.g. 2026-11-28T08:00:00+08:00 (a leap second counts as :59), in UTC;
    ValueError says what is wrong."""
    text = value.upper() if isinstance(value, str) else ""
    if not re.fullmatch(RFC3339, text):
        msg = f"{value!r} is not an RFC 3339 timestamp such as 2026-11-28T08:00:00+08:00"
        raise ValueError(msg)
    if text[17:19] == "60":
        text = text[:17] + "59" + text[19:]
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as err:
        msg = f"{value!r}: {err}"
        raise ValueError(msg) from None
    return parsed.astimezone(UTC)  # SQLite keeps UTC without an offset: a +08:00 bound must be compared in UTC


def timestamp(value: str | None, field: str) -> datetime | None:
    """A query's RFC 3339 timestamp (`_rfc3339`), in UTC."""
    if value is None:
        return None
    try:
        return _rfc3339(value)
    except ValueError as err:
        raise _bad(field, str(err)) from None


def day(value: str | None, field: str) -> date | None:
    """A day written ``YYYY-MM-DD``."""
    if value is None:
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise _bad(field, f"{value!r} is not a day such as 2026-12-01") from None


def integer(value: str | None, field: str, *, low: int, high: int, default: int) -> int:
    """A whole number (written without decimals) within [low, high]."""
    if value is None:
        return default
    if not re.fullmatch(INTEGER, value):
        raise _bad(field, f"{value!r} is not a whole number")
    out = int(value)
    if not low <= out <= high:
        raise _bad(field, f"{out} is outside [{low}, {high}]")
    return out


def page_number(value: str | None) -> int:
    """A page's number from a page's query string: a whole number from 1, else the first page
    (pages are lenient with what a person typed into the address bar)."""
    return int(value) if value and value.isdigit() and 0 < int(value) < 10**6 else 1


#: The query parameters `paging` reads, as the document declares them.
PAGING = (query("limit", "integer", minimum=1, maximum=MAX_PAGE), query("offset", "integer", minimum=0, maximum=MAX_OFFSET))


def paging(args: dict[str, Any], *, most: int = MAX_PAGE, default: int = 50) -> tuple[int, int]:
    """``limit`` (1–``most``) and ``offset``."""
    return integer(args.get("limit"), "limit", low=1, high=most, default=default), integer(args.get("offset"), "offset", low=0, high=MAX_OFFSET, default=0)


@dataclass(frozen=True)
class Documented:
    """More of a value's schema in the document than the parser checks by itself (a pattern the
    value's validator enforces with a clearer message, a range `zones.intake` enforces)."""

    extra: tuple[tuple[str, Any], ...]

    def __init__(self, extra: dict[str, Any]) -> None:
        object.__setattr__(self, "extra", tuple(extra.items()))  # hashable, as type metadata must be

    def __get_pydantic_json_schema__(self, core: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {**handler(core), **dict(self.extra)}


def _storable_text(value: str) -> str:
    """Refuse text no database column can hold: NUL characters (PostgreSQL) and lone UTF-16
    surrogates (not encodable as UTF-8)."""
    if "\x00" in value:
        raise ValueError("contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("contains a lone surrogate (\\ud800–\\udfff), which is not text") from None
    return value


def _present(value: str) -> str:
    if not value.strip():
        raise ValueError("is required")
    return value.strip()


def _optional(value: str | None) -> str | None:
    return None if value is None else _storable_text(value).strip() or None


def Text(most: int = MAX_TEXT, *, required: bool = False) -> Any:
    """A string of at most ``most`` characters without NUL, stripped; ``required``: not blank
    (else blank is no value)."""
    if required:
        return Annotated[str, StringConstraints(max_length=most), AfterValidator(_storable_text), AfterValidator(_present), Documented({"pattern": NOT_BLANK})]
    return Annotated[str | None, StringConstraints(max_length=most), AfterValidator(_optional), Documented({"pattern": NO_NUL})]


Ref = Annotated[str, StringConstraints(max_length=MAX_REF), AfterValidator(_storable_text), Documented({"pattern": NO_NUL})]
Refs = Annotated[list[Ref], Field(max_length=MAX_REFS)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
#: A moment in a JSON body: an RFC 3339 timestamp with its offset, in UTC.
Timestamp = Annotated[datetime, BeforeValidator(_rfc3339)]
#: A day in a JSON body: YYYY-MM-DD.
Day = Annotated[date, BeforeValidator(_iso_day)]


@cache
def _adapter(model: Any) -> TypeAdapter[Any]:
    return TypeAdapter(model)


def body(data: Any, model: Any) -> Any:
    """``data`` (a request's JSON) as ``model`` (a pydantic model or union, strict: numbers are
    JSON numbers); every error names its field."""
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object", errors=[{"field": "body", "message": "not a JSON object"}])
    try:
        return _adapter(model).validate_python(data, strict=True)
    except ValidationError as err:
        errors = []
        for error in err.errors(include_url=False):  # a union's errors are placed under its tag (the action)
            field = next((p for p in error["loc"] if isinstance(p, str) and p != data.get("action")), "action")
            missing = error["type"] in ("missing", "union_tag_not_found")
            errors.append({"field": field, "message": "is required" if missing else error["msg"].removeprefix("Value error, ")})
        raise ApiError(422, f"{errors[0]['field']}: {errors[0]['message']}", errors=errors) from None

