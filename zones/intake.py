"""What a reported row must hold to be routed: the one check the request parsers, the report
loader and the router share.

A row is refused, with every reason found, when its coordinates are not finite numbers, look
swapped (the latitude given as the longitude), or lie outside China; when its accuracy, if given,
is not a number of metres from 0 to `MAX_ACCURACY_M`; or when its category is empty or not one of
the layer's. A refusal carries a finding code (`zones.findings`) and its values: a request
answers it in the caller's language, the router keeps it as the decision's reason.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from zones.config import CHINA_LAT, CHINA_LON
from zones.findings import finding_message

MAX_ACCURACY_M = 100_000  # the largest GPS accuracy accepted, in metres

#: Code → the decision's reason (the router's reasons are the district's language).
REASONS = {
    "point_not_finite": "坐标不是有效数字（lon={lon}, lat={lat}）",
    "point_swapped": "经纬度疑似颠倒（lon={lon}, lat={lat}），lon 应为经度（中国境内 {lon_range}）",
    "point_outside_china": "坐标超出范围（lon={lon}, lat={lat}），不在中国境内（经度 {lon_range}，纬度 {lat_range}）",
    "bad_accuracy": "定位精度 accuracy_m={value} 不是 0 到 {most} 米之间的数",
    "empty_value": "类别为空",
    "unknown_category": "未知类别 {value}",
}


@dataclass(frozen=True)
class Refusal:
    """One reason a row cannot be routed: the field it concerns, a finding code, its values."""

    field: str
    code: str
    params: dict[str, str]

    @property
    def message(self) -> str:
        """The English text (an API's error)."""
        return finding_message(self.code, self.params)

    @property
    def reason(self) -> str:
        """The Chinese text (a decision's reason)."""
        return REASONS[self.code].format(**self.params)


def _range(bounds: tuple[float, float]) -> str:
    return f"{bounds[0]:g}–{bounds[1]:g}"


def place_refusals(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> dict[int, Refusal]:
    """Rows whose place cannot be routed: not finite, swapped, or outside China."""
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(lon) & np.isfinite(lat)
        in_china = finite & (lon >= CHINA_LON[0]) & (lon <= CHINA_LON[1]) & (lat >= CHINA_LAT[0]) & (lat <= CHINA_LAT[1])
    if in_china.all():  # the common case, one report or a clean batch, costs a few comparisons
        return {}
    with np.errstate(invalid="ignore"):
        swapped = finite & (lat >= CHINA_LON[0]) & (lat <= CHINA_LON[1]) & (lon >= CHINA_LAT[0]) & (lon <= CHINA_LAT[1])
    out = {}
    for pos in np.flatnonzero(~in_china).tolist():
        where = {"lon": repr(float(lon[pos])), "lat": repr(float(lat[pos]))}  # as written
        if not finite[pos]:
            out[pos] = Refusal("lon", "point_not_finite", where)
        elif swapped[pos]:
            out[pos] = Refusal("lon", "point_swapped", {**where, "lon_range": _range(CHINA_LON)})
        else:
            field = "lon" if not CHINA_LON[0] <= lon[pos] <= CHINA_LON[1] else "lat"
            out[pos] = Refusal(field, "point_outside_china", {**where, "lon_range": _range(CHINA_LON), "lat_range": _range(CHINA_LAT)})
    return out


def accuracy_refusals(accuracy: NDArray[np.float64]) -> dict[int, Refusal]:
    """Rows whose accuracy (NaN: not given) is not a number of metres from 0 to `MAX_ACCURACY_M`."""
    with np.errstate(invalid="ignore"):
        bad = ~np.isnan(accuracy) & ~((accuracy >= 0) & (accuracy <= MAX_ACCURACY_M))
    most = f"{MAX_ACCURACY_M:g}"
    return {pos: Refusal("accuracy_m", "bad_accuracy", {"value": repr(float(accuracy[pos])), "most": most}) for pos in np.flatnonzero(bad).tolist()}


def category_refusals(category: Sequence[Any] | NDArray[Any], known: NDArray[np.bool_]) -> dict[int, Refusal]:
    """Rows whose category is empty or not one of the layer's (``known``: whether it is)."""
    out = {}
    for pos in np.flatnonzero(~known).tolist():
        value = category[pos]
        blank = value is None or (isinstance(value, float) and np.isnan(value)) or not str(value).strip()
        out[pos] = Refusal("category", "empty_value", {"column": "category"}) if blank else Refusal("category", "unknown_category", {"value": repr(value)})
    return out


def refusals(
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    accuracy: NDArray[np.float64],
    category: Sequence[Any] | NDArray[Any] | None = None,
    known: NDArray[np.bool_] | None = None,
) -> dict[int, list[Refusal]]:
    """Every refused row (by position) with its reasons in field order (place, accuracy,
    category); the category is checked when ``category`` and ``known`` are given."""
    out: dict[int, list[Refusal]] = {}
    found = [place_refusals(lon, lat), accuracy_refusals(accuracy)]
    if category is not None and known is not None:
        found.append(category_refusals(category, known))
    for part in found:
        for pos, refusal in part.items():
            out.setdefault(pos, []).append(refusal)
    return dict(sorted(out.items()))


def routable(lon: float, lat: float, accuracy_m: float) -> bool:
    """Whether `refusals` finds nothing wrong with one report's place and accuracy (NaN: not
    given), by the same comparisons on plain floats: a single report's quick check."""
    return (CHINA_LON[0] <= lon <= CHINA_LON[1] and CHINA_LAT[0] <= lat <= CHINA_LAT[1]
            and (math.isnan(accuracy_m) or 0 <= accuracy_m <= MAX_ACCURACY_M))


def refusals_of_one(lon: float, lat: float, accuracy_m: float | None) -> list[Refusal]:
    """The reasons one reported place cannot be routed (none: it can)."""
    if routable(lon, lat, math.nan if accuracy_m is None else accuracy_m):
        return []
    found = refusals(np.array([lon], dtype=np.float64), np.array([lat], dtype=np.float64),
                     np.array([np.nan if accuracy_m is None else accuracy_m], dtype=np.float64))
    return found.get(0, [])
