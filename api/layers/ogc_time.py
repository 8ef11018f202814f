"""Time in OGC API – Features: the ``datetime`` parameter (an instant, a bounded interval, or one
open at either end with ``..`` or nothing), each collection's temporal geometry, and the filter
between them.

A feature's time is a run of whole days in Asia/Shanghai (a zone's ``valid_from`` to ``valid_to``,
a published result's ``reported_on``), so every time here is a half-open interval of
microseconds since 1970 (UTC): ``[start, end)``, ``None`` where it is open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd

from api.web.errors import ApiError
from zones.worktime import TIMEZONE

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
#: The ``trs`` of a temporal extent: the Gregorian calendar.
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
#: Each collection's temporal geometry: the columns holding its first and last day.
TIMES = {"zones": ("valid_from", "valid_to"), "reports_public": ("reported_on", "reported_on")}

_YEAR = r"(?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})"
_MONTH_DAY = r"(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))"
_LEAP_DAY = r"(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)-02-29"
_DAY = rf"(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_DAY})"
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\.[0-9]+)?(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
INSTANT = rf"{_DAY}(?:[Tt]{_TIME})?"
#: What ``datetime`` accepts: RFC 3339 date-times (or days, in Asia/Shanghai), alone or as
#: ``start/end``, with ``..`` or nothing for an open end (not both); every day is a real one.
DATETIME = rf"^(?:{INSTANT}|{INSTANT}/(?:{INSTANT}|\.\.)?|(?:\.\.)?/{INSTANT})$"


@dataclass(frozen=True)
class Interval:
    """``[start, end)`` in microseconds since 1970 (UTC); ``None``: open at that end."""

    start: int | None
    end: int | None


def _micros(moment: datetime) -> int:
    return (moment - EPOCH) // MICROSECOND


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=TIMEZONE)


def _bounds(text: str) -> Interval:
    """The interval an instant covers: a moment is one microsecond long, a day the whole day."""
    if len(text) == 10:
        day = date.fromisoformat(text)
        start = _micros(_day_start(day))
        return Interval(start, start + 86_400_000_000)  # Asia/Shanghai keeps no daylight saving time
    fixed = text.upper()
    fixed = fixed[:17] + "59" + fixed[19:] if fixed[17:19] == "60" else fixed  # a leap second counts as :59
    start = _micros(datetime.fromisoformat(fixed))
    return Interval(start, start + 1)


def parse(value: str | None) -> Interval | None:
    """The ``datetime`` parameter as an interval; None without one. An interval ending before it
    starts is refused (400)."""
    if value is None:
        return None
    if not re.fullmatch(DATETIME, value):
        msg = ("must be an RFC 3339 date-time or day, or an interval start/end of them where '..' or nothing "
               "leaves an end open, e.g. 2026-11-01T00:00:00+08:00/.. or 2026-11-01/2026-11-30")
        raise ApiError(400, f"datetime: {value!r} {msg}", errors=[{"field": "datetime", "message": msg}])
    if "/" not in value:
        return _bounds(value)
    first, _, last = value.partition("/")
    start = _bounds(first).start if first not in ("", "..") else None
    end = _bounds(last).end if last not in ("", "..") else None
    if start is not None and end is not None and end <= start:
        msg = "the interval ends before it starts"
        raise ApiError(400, f"datetime: {value!r}: {msg}", errors=[{"field": "datetime", "message": msg}])
    return Interval(start, end)


def _day_micros(values: pd.Series, *, after: bool) -> np.ndarray:
    """Each value's day (YYYY-MM-DD, or a timestamp whose date counts) as microseconds at its
    start in Asia/Shanghai, or at its end with ``after``; values without a day are NaN."""
    days = pd.to_datetime(values.astype("string").str.slice(0, 10), errors="coerce", format="%Y-%m-%d")
    local = days.dt.tz_localize(TIMEZONE) + pd.Timedelta(days=1 if after else 0)
    return ((local - pd.Timestamp(EPOCH)) / pd.Timedelta(microseconds=1)).to_numpy(dtype=float, na_value=np.nan)


def feature_times(frame: pd.DataFrame, collection: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Each feature's ``[start, end)`` (NaN where open or unknown); None for a collection without
    a time."""
    if collection not in TIMES:
        return None
    first, last = TIMES[collection]
    missing = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    return (_day_micros(frame[first] if first in frame.columns else missing, after=False),
            _day_micros(frame[last] if last in frame.columns else missing, after=True))


def matches(frame: pd.DataFrame, collection: str, wanted: Interval) -> np.ndarray:
    """Which features' times intersect ``wanted``; every feature without a time does
    (``/req/core/fc-time-response`` C)."""
    times = feature_times(frame, collection)
    if times is None:
        return np.ones(len(frame), dtype=bool)
    start, end = times
    before_end = np.isnan(start) | (start < wanted.end) if wanted.end is not None else np.ones(len(start), dtype=bool)
    after_start = np.isnan(end) | (end > wanted.start) if wanted.start is not None else np.ones(len(end), dtype=bool)
    return before_end & after_start


def _rfc3339(micros: float) -> str:
    return (EPOCH + timedelta(microseconds=int(micros))).astimezone(TIMEZONE).isoformat()


def extent(times: tuple[np.ndarray, np.ndarray] | None) -> list[str | None] | None:
    """The collection's temporal extent ``[first, last]`` (RFC 3339, ``None`` where open); None
    without a time or without features."""
    if times is None or not len(times[0]):
        return None
    start, end = times
    first = None if np.isnan(start).any() else _rfc3339(start.min())
    last = None if np.isnan(end).any() else _rfc3339(end.max() - 1)
    return [first, last]
