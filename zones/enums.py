"""Closed vocabularies of the domain, as string enums whose errors list the valid values."""

from __future__ import annotations

from enum import Enum


class StrEnumChecked(str, Enum):  # noqa: UP042 (StrEnum would change str() of members)
    """A string enum whose constructor error lists every accepted value."""

    @classmethod
    def _missing_(cls, value: object) -> None:
        valid = ", ".join(m.value for m in cls)
        msg = f"{value!r} is not a valid {cls.__name__}; expected one of: {valid}"
        raise ValueError(msg)

    @classmethod
    def values(cls) -> list[str]:
        """All accepted values, in declaration order."""
        return [m.value for m in cls]

    def __str__(self) -> str:
        return self.value


class Duty(StrEnumChecked):
    """What a responsibility zone's owner keeps: 三包 plus facilities."""

    SANITATION = "sanitation"  # 包卫生
    ORDER = "order"  # 包秩序
    GREENING = "greening"  # 包绿化
    FACILITIES = "facilities"  # 设施完好


class ZoneKind(StrEnumChecked):
    """The shape of public space a zone covers."""

    FRONTAGE = "frontage"  # 门前三包 strip along a street front
    ROAD = "road"
    BLOCK = "block"
    PLAZA = "plaza"
    PARK = "park"
    MARKET = "market"
    CAMPUS = "campus"
    RESIDENTIAL = "residential"
    GREENBELT = "greenbelt"
    OTHER = "other"


class TestPointType(StrEnumChecked):
    """Kinds of places the national evaluation inspects (测评点位)."""

    __test__ = False  # not a pytest test class

    MARKET = "market"  # 农贸市场
    SCHOOL = "school"  # 学校周边
    TOILET = "toilet"  # 公共厕所
    PLAZA = "plaza"  # 广场
    BUS_STOP = "bus_stop"  # 公交站点
    HOSPITAL = "hospital"  # 医院
    PARK = "park"  # 公园
    RESIDENTIAL = "residential"  # 老旧小区
    STATION = "station"  # 轨道交通站点
    OTHER = "other"


class LayerKind(StrEnumChecked):
    """The layers a user can load."""

    ZONES = "zones"
    TEST_POINTS = "test-points"
    AREAS = "areas"
    REPORTS = "reports"
    SCOPE = "scope"  # where zones are required (建成区); outside it the sub-district holds the land


class ReportSource(StrEnumChecked):
    """The district's "4+1" supervision channels."""

    CITIZEN = "citizen"  # 阳光拍客
    LEADER = "leader"  # 区领导带队督查
    INSPECTION = "inspection"  # 专项督查组
    SELF_CHECK = "self_check"  # 责任单位自查
    SPOT_CHECK = "spot_check"  # 督查考核中心抽查


class Status(StrEnumChecked):
    """The outcome of routing one report."""

    ROUTED = "routed"  # a zone holding the duty covers the point
    AMBIGUOUS = "ambiguous"  # GPS accuracy reaches other owners: provisional owner, dispatcher checks
    DEPARTMENT = "department"  # the category belongs to a department regardless of zone
    NEAREST = "nearest"  # no zone covers it; the nearest within the tolerance takes it
    FALLBACK = "fallback"  # a coverage gap: the sub-district's default unit takes it
    OUTSIDE = "outside"  # outside the district: kept, flagged, nobody assigned
    ERROR = "error"  # the row cannot be routed (bad coordinates, unknown category, ...)


class Rule(StrEnumChecked):
    """The routing rule that fired."""

    OUTSIDE = "outside"
    DEPARTMENT = "department"
    ZONE = "zone"  # one owner covers the point
    OVERLAP = "overlap"  # several owners cover it: the accountable one wins, the rest co-own
    AMBIGUOUS = "ambiguous"
    NEAREST = "nearest"
    FALLBACK = "fallback"
    ERROR = "error"
