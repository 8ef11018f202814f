"""Configuration of the domain, passed explicitly to the functions that need it."""

from __future__ import annotations

from dataclasses import dataclass

#: Every layer is stored in WGS84 lon/lat.
STORAGE_CRS = "EPSG:4326"
#: Areas and distances are computed in UTM 51N, which covers Qingdao.
METRIC_CRS = "EPSG:32651"
#: A new report this close (metres) to an open one of the same category is offered as a "+1" to it.
NEARBY_REPORT_RADIUS_M = 50.0
#: Decimal places of positions anyone may see (the public board, Open311, OGC): 4 is about 10 m.
PUBLIC_POSITION_DECIMALS = 4


@dataclass(frozen=True)
class RoutingConfig:
    """Settings of the router.

    Attributes
    ----------
    nearest_tolerance_m
        How far (metres) from an uncovered point a zone holding the category's duty may be and
        still take the report (rule ``nearest``). Default 30.
    test_point_radius_m
        How far (metres) a test point may be from a report to be attached to it. Default 50.
    """

    nearest_tolerance_m: float = 30.0
    test_point_radius_m: float = 50.0

    def __post_init__(self) -> None:
        for name in ("nearest_tolerance_m", "test_point_radius_m"):
            value = getattr(self, name)
            if not (value >= 0):
                msg = f"RoutingConfig.{name} must be a non-negative number of metres, got {value!r}"
                raise ValueError(msg)


#: The extent of China (lon, lat): a point or layer outside it is not in China; GCJ-02 and BD-09 exist only there.
CHINA_LON, CHINA_LAT = (73.0, 136.0), (3.0, 54.0)
