"""The zone layer: zones, test points, areas and categories, immutable and versioned.

A `ZoneLayer` is built once from validated WGS84 frames and never changed; a new layer is a
new object with a new content-derived ``version``. Everything routing needs (metric
geometries, ranks, duty masks, grid indexes) is derived lazily on first use and cached, so a
worker pays for what it uses, once.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from numpy.typing import NDArray

from zones.config import METRIC_CRS, STORAGE_CRS
from zones.enums import Duty, Rule, Status
from zones.errors import CRSError, UnknownCategoryError
from zones.index import Grid, GridIndex, Segments
from zones.schema import parse_duties
from zones.worktime import DeadlineUnit

DUTY_BITS = {duty: bit for bit, duty in enumerate(Duty.values())}
NO_DUTY = -1
_AREA_CELL_M = 250.0
#: Margin (m) of the grid around the zones' extent: points this close to the outermost zone
#: still fall in a cell.
GRID_MARGIN_M = 300.0
T = TypeVar("T")


def _ranks(order: NDArray[np.int64]) -> NDArray[np.int64]:
    """The position of each item in ``order`` (the inverse permutation)."""
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank


def _prepared(geometry: gpd.GeoSeries) -> NDArray[np.object_]:
    """A copy of the geometries, prepared for repeated point tests by several threads at once.

    GEOS builds a prepared geometry's point index on its first test, not thread-safely
    (libgeos/geos#825), so each geometry is tested once here, on this thread; later point tests
    only read the index.
    """
    geoms = geometry.to_numpy().copy()
    shapely.prepare(geoms)
    if len(geoms):
        bounds = shapely.bounds(geoms)
        shapely.intersects_xy(geoms, (bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2)  # inside the envelope: the index is built
    return geoms


@dataclass(frozen=True)
class Category:
    """A report category: routed by ``duty`` to the zone owner, or to a department."""

    code: str
    name_zh: str
    name_en: str
    group: str  # the campaign (十大整治) it belongs to, e.g. 环境卫生; empty when the table gives none
    group_en: str
    duty: str | None
    department_unit_id: str | None
    deadline: float  # counted in deadline_unit
    deadline_unit: DeadlineUnit
    std_code: str = ""  # the national 城市管理事项 code (2-digit class, 3-digit subclass); empty when the table gives none

    @property
    def std_class(self) -> str:
        """The national class (大类) of its standard code; empty without one."""
        return self.std_code[:2]

    @property
    def deadline_hours(self) -> float | None:
        """The limit in calendar hours; None when it counts working time (the calendar gives the moment)."""
        return self.deadline if self.deadline_unit == DeadlineUnit.HOURS else None


def _require_wgs84(gdf: gpd.GeoDataFrame, what: str) -> None:
    if gdf.crs is None or not pyproj.CRS.from_user_input(gdf.crs).equals(pyproj.CRS.from_user_input(STORAGE_CRS), ignore_axis_order=True):
        msg = f"{what} is in {gdf.crs}, expected {STORAGE_CRS}; convert it with geodata.crs.to_storage first"
        raise CRSError(msg)


def content_version(zones: gpd.GeoDataFrame, test_points: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, categories: pd.DataFrame,
                    scope: gpd.GeoDataFrame | None = None, calendar: pd.DataFrame | None = None) -> str:
    """A 12-hex-digit digest of everything a routing decision, its deadline and the coverage analysis depend on."""
    digest = hashlib.sha256()
    for frame in (zones, test_points, areas, *([scope] if scope is not None else [])):
        digest.update(b"\x00".join(shapely.to_wkb(frame.geometry.to_numpy(), hex=False)))
        attrs = pd.DataFrame(frame.drop(columns=frame.geometry.name)).astype(str)
        digest.update(pd.util.hash_pandas_object(attrs, index=False).to_numpy().tobytes())
        digest.update("\x1f".join(map(str, attrs.columns)).encode())
    digest.update(pd.util.hash_pandas_object(categories.astype(str), index=False).to_numpy().tobytes())
    if calendar is not None and len(calendar):
        digest.update(b"calendar" + pd.util.hash_pandas_object(calendar.astype(str), index=False).to_numpy().tobytes())
    return digest.hexdigest()[:12]


@dataclass(frozen=True, eq=False)
class ZoneLayer:
    """Validated WGS84 layers plus lazily derived routing structures.

    Build with `ZoneLayer.build`; never mutate the frames afterwards.
    """

    zones: gpd.GeoDataFrame
    test_points: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    categories: pd.DataFrame
    version: str
    metric_crs: str = METRIC_CRS
    unit_table: pd.DataFrame | None = None
    streets: gpd.GeoDataFrame | None = None  # named street lines in WGS84, for finding one's way on maps; never routed on
    scope: gpd.GeoDataFrame | None = None  # where zones are required (建成区); None: the whole district
    calendar: pd.DataFrame | None = None  # holidays and make-up working days (date, workday, name); None: Monday to Friday
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _by_radius: dict[tuple[str, float], Any] = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls,
        zones: gpd.GeoDataFrame,
        test_points: gpd.GeoDataFrame,
        areas: gpd.GeoDataFrame,
        categories: pd.DataFrame,
        *,
        units: pd.DataFrame | None = None,
        streets: gpd.GeoDataFrame | None = None,
        scope: gpd.GeoDataFrame | None = None,
        calendar: pd.DataFrame | None = None,
        metric_crs: str = METRIC_CRS,
    ) -> ZoneLayer:
        """Assemble a layer from validated frames (see `zones.schema`), all in WGS84.

        ``units`` (``unit_id``, ``unit_name``) optionally names units the zones do not, such as
        departments; it only affects the wording of reasons. ``streets`` (``name``, lines) are
        drawn on maps so that people can find their way offline; they take no part in routing
        and do not change the version. ``scope`` (polygons) is where zones are required: coverage
        gaps are measured inside it (default: the whole district); it is part of the version.
        ``calendar`` (``date``, ``workday``, ``name``: the days that differ from a Monday–Friday
        week) is what deadlines in working time count on; it is part of the version too.
        """
        for frame, what in ((zones, "zones"), (test_points, "test points"), (areas, "areas"), (streets, "streets"), (scope, "scope")):
            if frame is not None:
                _require_wgs84(frame, what)
        if not pyproj.CRS.from_user_input(metric_crs).is_projected:
            msg = f"metric CRS {metric_crs} is not projected; distances need metres"
            raise CRSError(msg)
        zones, test_points, areas = (f.reset_index(drop=True) for f in (zones, test_points, areas))
        categories = categories.reset_index(drop=True)
        scope = None if scope is None or not len(scope) else scope.reset_index(drop=True)
        calendar = None if calendar is None or not len(calendar) else calendar.reset_index(drop=True)
        version = content_version(zones, test_points, areas, categories, scope, calendar)
        return cls(zones, test_points, areas, categories, version, metric_crs, units, streets, scope, calendar)

    @cached_property
    def calendar_days(self) -> dict[date, bool]:
        """The calendar's days: a holiday (False) or a make-up working day (True)."""
        if self.calendar is None:
            return {}
        return {date.fromisoformat(str(d)): bool(int(w)) for d, w in zip(self.calendar["date"], self.calendar["workday"], strict=True)}

    def _cached(self, key: tuple[str, float], make: Callable[[], T]) -> T:
        """Build once per key (thread-safe) what depends on a configured radius."""
        with self._lock:
            if key not in self._by_radius:
                self._by_radius[key] = make()
            return self._by_radius[key]

    # --- categories ----------------------------------------------------------------------

    @cached_property
    def category_table(self) -> dict[str, Category]:
        """Categories by code (the optional names falling back: English to Chinese, no campaign to empty)."""

        def text(row: dict[str, Any], column: str) -> str:
            value = row.get(column)
            return value if isinstance(value, str) else ""

        out = {}
        for row in self.categories.to_dict("records"):
            code, name_zh, group = str(row["code"]), str(row["name_zh"]), text(row, "group")
            out[code] = Category(code, name_zh, text(row, "name_en") or name_zh, group, text(row, "group_en") or group,
                                 text(row, "duty") or None, text(row, "department_unit_id") or None,
                                 float(row["deadline"] if "deadline" in row else row["deadline_hours"]),  # a table of the older form: calendar hours
                                 DeadlineUnit(text(row, "deadline_unit") or DeadlineUnit.HOURS), text(row, "std_code"))
        return out

    def category(self, code: str) -> Category:
        """The category ``code``; `UnknownCategoryError` lists the known codes."""
        try:
            return self.category_table[code]
        except KeyError as err:
            msg = f"unknown category {code!r}; known categories: {', '.join(sorted(self.category_table))}"
            raise UnknownCategoryError(msg) from err

    def same_group(self, code: str) -> frozenset[str]:
        """The categories of ``code``'s campaign group (``code`` alone when it has none, or is
        unknown): what a new report of ``code`` may duplicate."""
        return self._groups.get(code, frozenset({code}))

    @cached_property
    def _groups(self) -> dict[str, frozenset[str]]:
        members: dict[str, set[str]] = {}
        for code, category in self.category_table.items():
            members.setdefault(category.group or f"\0{code}", set()).add(code)
        return {code: frozenset(members[category.group or f"\0{code}"]) for code, category in self.category_table.items()}

    # --- zones -----------------------------------------------------------------------------

    @cached_property
    def zone_geoms(self) -> NDArray[np.object_]:
        """Zone polygons in WGS84, prepared for repeated predicates."""
        return _prepared(self.zones.geometry)

    @cached_property
    def zone_metric(self) -> NDArray[np.object_]:
        """Zone polygons in the metric CRS (not prepared: coverage analysis uses them on several
        threads at once, which prepared geometries do not allow)."""
        return self.zones.geometry.to_crs(self.metric_crs).to_numpy()

    @cached_property
    def zone_area_m2(self) -> NDArray[np.float64]:
        """Zone areas in square metres."""
        return shapely.area(self.zone_metric)

    @cached_property
    def zone_metric_bounds(self) -> NDArray[np.float64]:
        """Metric bounding boxes (minx, miny, maxx, maxy) of the zones."""
        return shapely.bounds(self.zone_metric)

    @cached_property
    def zone_segments(self) -> Segments:
        """Boundary segments of the metric zones, for numeric point distances."""
        return Segments(self.zone_metric)

    @cached_property
    def zone_names(self) -> NDArray[np.object_]:
        """Zone names ('' where none)."""
        if "name" not in self.zones.columns:
            return np.full(len(self.zones), "", dtype=object)
        return np.array([v if isinstance(v, str) else "" for v in self.zones["name"].tolist()], dtype=object)

    @cached_property
    def zone_ids(self) -> NDArray[np.object_]:
        """``zone_id`` per zone."""
        return self.zones["zone_id"].to_numpy(dtype=object)

    @cached_property
    def units(self) -> tuple[NDArray[np.object_], NDArray[np.int64]]:
        """Distinct unit ids, and each zone's owner as an index into them."""
        codes, uniques = pd.factorize(self.zones["unit_id"].to_numpy(dtype=object), sort=True)
        return np.asarray(uniques, dtype=object), codes.astype(np.int64)

    @cached_property
    def unit_names(self) -> dict[str, str]:
        """Unit names as the zones and areas give them."""
        names: dict[str, str] = {}
        if "default_unit_name" in self.areas.columns:
            names.update(zip(self.areas["default_unit_id"], self.areas["default_unit_name"], strict=True))
        if "unit_name" in self.zones.columns:  # each unit once: the last zone naming it, as a plain update would
            named = self.zones[["unit_id", "unit_name"]].drop_duplicates("unit_id", keep="last")
            names.update(zip(named["unit_id"].tolist(), named["unit_name"].tolist(), strict=True))
        if self.unit_table is not None:
            names.update(zip(self.unit_table["unit_id"], self.unit_table["unit_name"], strict=True))
        return {str(k): str(v) for k, v in names.items() if isinstance(v, str) and v}

    @cached_property
    def zone_duty_mask(self) -> NDArray[np.int64]:
        """Bit ``DUTY_BITS[d]`` is set where the zone holds duty ``d``."""
        masks = np.zeros(len(self.zones), dtype=np.int64)
        for pos, value in enumerate(self.zones["duties"].tolist()):
            duties, _ = parse_duties(value)
            for duty in duties:
                masks[pos] |= 1 << DUTY_BITS[duty]
        return masks

    @cached_property
    def zone_rank(self) -> NDArray[np.int64]:
        """Accountability order: 0 is the zone that wins an overlap (highest ``priority``, then
        smallest area to the square metre, then smallest ``zone_id``)."""
        order = np.lexsort((self.zone_ids.astype(str), np.round(self.zone_area_m2), -self.zones["priority"].to_numpy(dtype=np.int64)))
        return _ranks(order)

    @cached_property
    def zone_grid(self) -> Grid:
        """The grid the zone indexes share: cells about half the width of a zone of mean area."""
        bounds = tuple(self.zones.total_bounds) if len(self.zones) else (0.0, 0.0, 1.0, 1.0)
        typical = float(np.sqrt(np.mean(self.zone_area_m2))) if len(self.zones) else 100.0
        return Grid.covering(bounds, float(np.clip(typical / 2.0, 10.0, 200.0)), margin_m=GRID_MARGIN_M)

    @cached_property
    def cover_index(self) -> GridIndex:
        """Zones by the cells they touch, with whole-cell coverage flags."""
        return GridIndex(self.zone_geoms, self.zone_grid, classify=True)

    @cached_property
    def zone_grid_array(self) -> NDArray[np.float64]:
        """The zone grid as the kernels take it."""
        return self.zone_grid.as_array(float(np.abs(self.zones.total_bounds[[1, 3]]).max()) if len(self.zones) else 0.0)

    @cached_property
    def zone_segments_wgs84(self) -> Segments:
        """Boundary segments of the zones in lon/lat, for exact point-in-zone tests."""
        return Segments(self.zone_geoms)

    # --- test points -----------------------------------------------------------------------

    @cached_property
    def to_metric(self) -> pyproj.Transformer:
        """WGS84 lon/lat → metric x/y."""
        return pyproj.Transformer.from_crs(STORAGE_CRS, self.metric_crs, always_xy=True)

    @cached_property
    def test_point_metric(self) -> NDArray[np.object_]:
        """Test-point geometries in the metric CRS, prepared."""
        return _prepared(self.test_points.geometry.to_crs(self.metric_crs))

    @cached_property
    def test_point_xy(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Metric x/y of point test points (NaN for polygon ones)."""
        geoms = self.test_point_metric
        is_point = shapely.get_type_id(geoms) == 0
        x = np.full(len(geoms), np.nan)
        y = np.full(len(geoms), np.nan)
        x[is_point], y[is_point] = shapely.get_x(geoms[is_point]), shapely.get_y(geoms[is_point])
        return x, y

    @cached_property
    def unit_ids(self) -> NDArray[np.object_]:
        """Every unit the layer knows: zone owners (in `units` order), then the areas' default
        units, departments and test-point adopters. Decisions name units by position here."""
        adopters = [str(u) for u in self.test_points["unit_id"] if isinstance(u, str) and u] if "unit_id" in self.test_points.columns else []
        extra = [*map(str, self.areas["default_unit_id"]), *(c.department_unit_id for c in self.category_table.values() if c.department_unit_id), *adopters]
        owners = [str(u) for u in self.units[0]]
        known = set(owners)
        return np.array(owners + [u for u in dict.fromkeys(extra) if u not in known], dtype=object)

    @cached_property
    def known_units(self) -> tuple[str, ...]:
        """Every unit of the layer: `unit_ids`, then the units table's others."""
        listed = self.unit_table["unit_id"].astype(str) if self.unit_table is not None else []
        return tuple(dict.fromkeys([*map(str, self.unit_ids), *listed]))

    @cached_property
    def _known_unit_set(self) -> frozenset[str]:
        return frozenset(self.known_units)

    def knows_unit(self, unit_id: str) -> bool:
        """Whether ``unit_id`` owns a zone, holds an area, a department category or a test point,
        or is listed in the units table."""
        return unit_id in self._known_unit_set

    @cached_property
    def unit_labels(self) -> NDArray[np.object_]:
        """``名称（ID）`` of each unit in `unit_ids`, or the id where no name is known; a trailing
        "" answers index -1 (no unit)."""
        names = self.unit_names
        return np.array([f"{names[u]}（{u}）" if u in names else u for u in self.unit_ids] + [""], dtype=object)

    def unit_codes(self, ids: Any) -> NDArray[np.int64]:
        """Positions of unit ids in `unit_ids` (-1 for unknown or missing)."""
        return pd.Index(self.unit_ids).get_indexer(pd.Index(ids, dtype=object)).astype(np.int64)

    @cached_property
    def zone_labels(self) -> NDArray[np.object_]:
        """``zone_id「name」`` of each zone, for reasons; a trailing "" answers index -1."""
        return np.array([f"{z}「{n}」" if n else str(z) for z, n in zip(self.zone_ids, self.zone_names, strict=True)] + [""], dtype=object)

    @cached_property
    def area_default_unit(self) -> NDArray[np.int64]:
        """Each area's default unit, as a code into `unit_ids`."""
        return self.unit_codes(self.areas["default_unit_id"].to_numpy(dtype=object))

    @cached_property
    def area_names(self) -> NDArray[np.object_]:
        """Area names, with a trailing "" for "no area"."""
        return np.append(self.areas["name"].to_numpy(dtype=object), "").astype(object)

    @cached_property
    def category_names(self) -> NDArray[np.object_]:
        """Chinese category names, with a trailing "" for "no category"."""
        return np.append(self.categories["name_zh"].to_numpy(dtype=object), "").astype(object)

    @cached_property
    def area_ids(self) -> NDArray[np.object_]:
        """``area_id`` per area."""
        return self.areas["area_id"].to_numpy(dtype=object)

    @cached_property
    def test_point_ids(self) -> NDArray[np.object_]:
        """``point_id`` per test point."""
        return self.test_points["point_id"].to_numpy(dtype=object)

    @cached_property
    def test_point_unit_codes(self) -> NDArray[np.int64]:
        """Each test point's adopting unit as a code into `unit_ids` (-1: not adopted, or a unit
        the layer does not otherwise know)."""
        units = self.test_points["unit_id"].to_numpy(dtype=object)
        return self.unit_codes(units)

    # --- categories as arrays ---------------------------------------------------------------

    @cached_property
    def _category_position(self) -> dict[str, int]:
        return {str(code): k for k, code in enumerate(self.categories["code"])}

    def category_code(self, code: object) -> int:
        """The position of one category code in `categories` (-1 for unknown or missing)."""
        return self._category_position.get(code, -1) if isinstance(code, str) else -1

    def category_codes(self, codes: pd.Series | NDArray[np.object_]) -> NDArray[np.int64]:
        """Positions of category codes in `categories` (-1 for unknown or missing)."""
        if len(codes) <= 64:
            return np.array([self.category_code(c) for c in codes.tolist()], dtype=np.int64)
        found, uniques = pd.factorize(codes)
        table = np.array([self.category_code(c) for c in uniques.tolist()] + [-1], dtype=np.int64)
        return table[found]

    @cached_property
    def category_duty(self) -> NDArray[np.int64]:
        """Duty bit of each category, -1 for department categories."""
        return np.array([DUTY_BITS[c.duty] if c.duty else NO_DUTY for c in self.category_table.values()], dtype=np.int64)

    @cached_property
    def category_department(self) -> NDArray[np.int64]:
        """Department unit code of each category (-1 for duty categories)."""
        return np.array([self.unit_codes([c.department_unit_id])[0] if c.department_unit_id else -1 for c in self.category_table.values()], dtype=np.int64)

    @cached_property
    def category_hours(self) -> NDArray[np.float64]:
        """Deadline in calendar hours of each category (NaN where it counts working time)."""
        return np.array([np.nan if c.deadline_hours is None else c.deadline_hours for c in self.category_table.values()], dtype=np.float64)

    status_names = np.array(Status.values(), dtype=object)
    rule_names = np.array(Rule.values(), dtype=object)

    @cached_property
    def test_point_segments(self) -> Segments:
        """Boundary segments of polygon test points, metric."""
        return Segments(self.test_point_metric)

    @cached_property
    def test_point_rank(self) -> NDArray[np.int64]:
        """Tie-break order of test points: by ``point_id``."""
        order = np.argsort(self.test_points["point_id"].to_numpy(dtype=str), kind="stable")
        return _ranks(order)

    def test_point_grid_array(self, radius_m: float) -> NDArray[np.float64]:
        """The test-point grid for ``radius_m`` as the kernels take it."""
        return self.test_point_index(radius_m).grid.as_array(0.0)

    def test_point_index(self, radius_m: float) -> GridIndex:
        """Test points within ``radius_m`` of each cell."""
        def make() -> GridIndex:
            geoms = self.test_points.geometry.to_numpy()
            bounds = tuple(self.test_points.total_bounds) if len(self.test_points) else (0.0, 0.0, 1.0, 1.0)
            grid = Grid.covering(bounds, max(radius_m, 25.0), margin_m=radius_m)  # a point within radius_m of the outermost test point falls in a cell
            return GridIndex(geoms, grid, margin_m=radius_m)

        return self._cached(("test_points", float(radius_m)), make)

    # --- areas -----------------------------------------------------------------------------

    @cached_property
    def area_geoms(self) -> NDArray[np.object_]:
        """Area polygons in WGS84, prepared."""
        return _prepared(self.areas.geometry)

    @cached_property
    def area_index(self) -> GridIndex:
        """Areas by the coarse cells they touch, with whole-cell coverage flags."""
        bounds = tuple(self.areas.total_bounds) if len(self.areas) else (0.0, 0.0, 1.0, 1.0)
        return GridIndex(self.area_geoms, Grid.covering(bounds, _AREA_CELL_M), classify=True)

    @cached_property
    def area_grid_array(self) -> NDArray[np.float64]:
        """The area grid as the kernels take it."""
        return self.area_index.grid.as_array(0.0)

    @cached_property
    def area_order(self) -> NDArray[np.int64]:
        """Which area names a point's place: sub-districts before the district, then by id."""
        level = (self.areas["level"].to_numpy(dtype=object) == "district").astype(np.int64)
        order = np.lexsort((self.areas["area_id"].to_numpy(dtype=str), level))
        return _ranks(order)
