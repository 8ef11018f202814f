"""Column contracts of the layers and validators that collect every problem.

A validator never drops a row silently: each problem names the row (1-based, in file order),
the feature id where there is one, and the field. Errors stop a load; warnings (a repaired
polygon, a defaulted column) do not. Validators return a normalised copy of the frame:
identifiers as strings, ``duties`` as a canonical comma-separated string, ``priority`` as an
integer, invalid polygons repaired.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from zones.config import METRIC_CRS
from zones.enums import Duty, LayerKind, TestPointType, ZoneKind
from zones.errors import SchemaError, ZonemapError
from zones.findings import finding_message, shown
from zones.intake import accuracy_refusals
from zones.worktime import DeadlineUnit

Severity = Literal["error", "warning"]

#: Chinese names of the duties, accepted in planners' files.
DUTY_ALIASES = {"卫生": "sanitation", "环境卫生": "sanitation", "秩序": "order", "绿化": "greening", "设施": "facilities"}
_DUTY_SPLIT = re.compile(r"[,，、;；|/\s]+")


@dataclass(frozen=True)
class Problem:
    """One finding of a validator, naming where it is: its code (`zones.findings`) and the values
    found, as shown."""

    severity: Severity
    code: str
    params: Mapping[str, str] = field(default_factory=dict)
    row: int | None = None
    feature_id: str | None = None
    field: str | None = None

    @property
    def message(self) -> str:
        """The finding in English."""
        return finding_message(self.code, self.params)

    def __post_init__(self) -> None:
        # Rows and ids often come from numpy (positions, column values): a finding holds plain
        # Python values, so that it reaches JSON, a page and a database column as it is.
        if self.row is not None:
            object.__setattr__(self, "row", int(self.row))
        if self.feature_id is not None:
            object.__setattr__(self, "feature_id", str(self.feature_id))

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.feature_id is not None:
            where.append(f"({self.feature_id})")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        prefix = " ".join(where)
        return f"{self.severity}: {prefix + ': ' if prefix else ''}{self.message}"


@dataclass
class ValidationReport:
    """Every problem found in one layer, in the order found."""

    layer: str
    source: str = ""
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        """Problems that stop the load."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """Problems that were repaired or defaulted; the load goes on."""
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when there is no error."""
        return not self.errors

    def error(self, code: str, *, row: Any = None, feature_id: Any = None, field: str | None = None, **params: Any) -> None:
        """Record an error: its code, where it is, and the values found (shown as text)."""
        self.problems.append(Problem("error", code, shown(params), row, feature_id, field))

    def warning(self, code: str, *, row: Any = None, feature_id: Any = None, field: str | None = None, **params: Any) -> None:
        """Record a warning: its code, where it is, and the values found (shown as text)."""
        self.problems.append(Problem("warning", code, shown(params), row, feature_id, field))

    def error_of(self, err: ZonemapError, *, row: Any = None, feature_id: Any = None, field: str | None = None) -> None:
        """Record a reader's error (its code and values) as an error of this layer."""
        self.problems.append(Problem("error", err.code, err.params, row, feature_id, field))

    def summary(self) -> str:
        """One line: the layer, its source, rows, error and warning counts."""
        src = f" from {self.source}" if self.source else ""
        return f"{self.layer}{src}: {self.rows} rows, {len(self.errors)} errors, {len(self.warnings)} warnings"

    def format(self, limit: int | None = None) -> str:
        """The summary line followed by each problem (the first ``limit`` of them)."""
        shown = self.problems if limit is None else self.problems[:limit]
        lines = [self.summary(), *(f"  {p}" for p in shown)]
        if len(shown) < len(self.problems):
            lines.append(f"  ... and {len(self.problems) - len(shown)} more")
        return "\n".join(lines)

    def raise_if_errors(self) -> None:
        """Raise `SchemaError` carrying this report if it holds any error."""
        if self.errors:
            first = "; ".join(str(p) for p in self.errors[:3])
            more = f" (and {len(self.errors) - 3} more)" if len(self.errors) > 3 else ""
            msg = f"{self.layer}{' from ' + self.source if self.source else ''} is invalid: {first}{more}"
            raise SchemaError(msg, self)


@dataclass(frozen=True)
class Contract:
    """The columns and geometry types of one layer.

    ``defaults`` are optional columns with the value used when the column is missing.
    """

    kind: LayerKind
    id_column: str
    required: tuple[str, ...]
    defaults: dict[str, Any]
    geometry_types: frozenset[str]


ZONES = Contract(
    LayerKind.ZONES,
    "zone_id",
    ("zone_id", "unit_id", "duties"),
    {
        "name": "",
        "unit_name": "",
        "kind": ZoneKind.OTHER.value,
        "priority": 0,
        "person": "",
        "post": "",
        "phone": "",
        "valid_from": None,
        "valid_to": None,
    },
    frozenset({"Polygon", "MultiPolygon"}),
)
TEST_POINTS = Contract(
    LayerKind.TEST_POINTS,
    "point_id",
    ("point_id", "name", "type"),
    {"unit_id": None},
    frozenset({"Point", "Polygon", "MultiPolygon"}),
)
AREAS = Contract(
    LayerKind.AREAS,
    "area_id",
    ("area_id", "name", "default_unit_id"),
    {"level": "subdistrict", "default_unit_name": ""},
    frozenset({"Polygon", "MultiPolygon"}),
)
REPORTS = Contract(
    LayerKind.REPORTS,
    "id",
    ("id", "category"),
    {"accuracy_m": np.nan, "description": "", "source": "citizen"},
    frozenset({"Point"}),
)
SCOPE = Contract(
    LayerKind.SCOPE,
    "scope_id",
    ("scope_id",),
    {"name": "", "area_id": ""},
    frozenset({"Polygon", "MultiPolygon"}),
)
CONTRACTS = {c.kind: c for c in (ZONES, TEST_POINTS, AREAS, REPORTS, SCOPE)}
AREA_LEVELS = ("district", "subdistrict")
MAX_PRIORITY = 1_000_000


def _is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _as_text(value: Any) -> str | None:
    """A cell as a clean string; integral floats (``12.0`` from a spreadsheet) lose the ``.0``."""
    if _is_blank(value) or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_duties(value: Any) -> tuple[list[str], list[str]]:
    """Split a duties cell (list, or a string separated by , 、 ; | or spaces).

    Returns the canonical duties (declaration order, no repeats) and the unknown tokens.
    """
    if _is_blank(value):
        return [], []
    tokens = tuple(str(t) for t in value) if isinstance(value, (list, tuple, set, np.ndarray)) else tuple(_DUTY_SPLIT.split(str(value).strip()))
    duties, unknown = _parse_tokens(tokens)
    return list(duties), list(unknown)


_DUTIES = tuple(Duty.values())


@lru_cache(maxsize=4096)
def _parse_tokens(tokens: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """`parse_duties` of split tokens (a layer repeats a few duty lists thousands of times)."""
    found: set[str] = set()
    unknown: list[str] = []
    for token in tokens:
        text = token.strip()
        if not text:
            continue
        name = DUTY_ALIASES.get(text, text.lower())
        if name in _DUTIES:
            found.add(name)
        else:
            unknown.append(text)
    return tuple(d for d in _DUTIES if d in found), tuple(unknown)


def _area_change_m2(before: gpd.GeoSeries, after: np.ndarray) -> np.ndarray:
    """Absolute area change of repaired polygons, in square metres where the CRS allows."""
    after_series = gpd.GeoSeries(after, index=before.index, crs=before.crs)
    if before.crs is not None and before.crs.is_geographic:
        before, after_series = before.to_crs(METRIC_CRS), after_series.to_crs(METRIC_CRS)
    return np.abs(after_series.area.to_numpy() - before.area.to_numpy())


#: The most vertices one geometry may have: every map, coverage analysis and routing index pays
#: for each of them, and a zone is a street front or a block, not a survey of every stone.
MAX_VERTICES = 50_000


def _check_geometry(gdf: gpd.GeoDataFrame, contract: Contract, ids: list[str | None], report: ValidationReport, max_vertices: int) -> gpd.GeoDataFrame:
    geoms = gdf.geometry
    missing = geoms.isna().to_numpy() | shapely.is_empty(geoms.to_numpy())
    vertices = shapely.get_num_coordinates(geoms.to_numpy())
    too_many = vertices > max_vertices  # refused before anything costly looks at them
    for pos in np.flatnonzero(too_many):
        report.error("too_many_vertices", n=f"{vertices[pos]:,}", limit=f"{max_vertices:,}", row=pos + 1, feature_id=ids[pos], field="geometry")
    missing |= too_many
    already = {p.row for p in report.errors if p.field in ("geometry", "crs")}
    for pos in np.flatnonzero(missing):
        if pos + 1 in already:  # its coordinates were reported when the file was read
            continue
        if not too_many[pos]:
            report.error("empty_geometry", row=pos + 1, feature_id=ids[pos], field="geometry")
    types = shapely.get_type_id(geoms.to_numpy())
    names = np.array(["Point", "LineString", "LinearRing", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon", "GeometryCollection"], dtype=object)
    bad_type = ~missing & ~np.isin(names[np.clip(types, 0, 7)], list(contract.geometry_types))
    expected = " or ".join(sorted(contract.geometry_types))
    for pos in np.flatnonzero(bad_type):
        report.error("wrong_geometry", found=names[types[pos]], expected=expected, row=pos + 1, feature_id=ids[pos], field="geometry")
    polygonal = ~missing & ~bad_type & np.isin(types, [3, 6])
    invalid = polygonal & ~shapely.is_valid(geoms.to_numpy())
    if not invalid.any():
        return gdf
    positions = np.flatnonzero(invalid)
    before = geoms.iloc[positions]
    reasons = shapely.is_valid_reason(before.to_numpy())
    repaired = _polygonal_part(shapely.make_valid(before.to_numpy()))
    change = _area_change_m2(before, repaired)
    unit = "m²" if gdf.crs is None or gdf.crs.is_geographic or gdf.crs.is_projected else "units²"
    out = gdf.copy()
    col = out.geometry.name
    for k, pos in enumerate(positions):
        if shapely.is_empty(repaired[k]):
            report.error("polygon_lost", reason=reasons[k], row=pos + 1, feature_id=ids[pos], field="geometry")
            continue
        report.warning(
            "polygon_repaired", reason=reasons[k], change=f"{change[k]:.1f} {unit}",
            row=pos + 1, feature_id=ids[pos], field="geometry",
        )
        out.iloc[pos, out.columns.get_loc(col)] = repaired[k]
    return out


def _polygonal_part(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygons of ``make_valid`` output (it may add lines or points)."""
    out = np.empty(len(geoms), dtype=object)
    for i, geom in enumerate(geoms):
        if geom.geom_type in ("Polygon", "MultiPolygon"):
            out[i] = geom
            continue
        parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
        out[i] = shapely.union_all(parts) if parts else shapely.Polygon()
    return out


def _text_column(gdf: gpd.GeoDataFrame, name: str) -> list[str | None]:
    return [_as_text(v) for v in gdf[name].tolist()]


def _objects(values: list[Any], index: pd.Index) -> pd.Series:
    """A column of Python objects, so that a missing value stays ``None`` (not NaN)."""
    return pd.Series(values, dtype=object, index=index)


#: What an identifier may hold (zone, test point, area, scope and unit ids, category codes):
#: letters, digits, ``_ . -`` and Chinese characters, 1 to 64 of them. No spaces, quotes or markup,
#: so an id is safe in every page, file, webhook and message that will ever carry it.
IDENTIFIER = re.compile(r"[A-Za-z0-9_.\-\u3400-\u4dbf\u4e00-\u9fff]{1,64}")
IDENTIFIER_TEXT = "letters, digits, _ . - or Chinese characters, at most 64"


def check_identifiers(values: list[str | None], column: str, ids: list[str | None] | None, report: ValidationReport) -> None:
    """An error for each value of ``column`` (None: none given) that is not an `IDENTIFIER`."""
    for pos, value in enumerate(values):
        if value is not None and not IDENTIFIER.fullmatch(value):
            report.error("bad_identifier", column=column, value=repr(value), allowed=IDENTIFIER_TEXT, row=pos + 1,
                         feature_id=ids[pos] if ids is not None else None, field=column)


def _check_ids(gdf: gpd.GeoDataFrame, contract: Contract, report: ValidationReport) -> list[str | None]:
    ids = _text_column(gdf, contract.id_column)
    seen: dict[str, int] = {}
    if contract.kind != LayerKind.REPORTS:  # a report's id is its sender's, never shown as ours
        check_identifiers(ids, contract.id_column, None, report)
    for pos, value in enumerate(ids):
        if value is None:
            report.error("empty_value", column=contract.id_column, row=pos + 1, field=contract.id_column)
        elif value in seen:
            report.error("duplicate", column=contract.id_column, value=repr(value), first=seen[value], row=pos + 1, feature_id=value, field=contract.id_column)
        else:
            seen[value] = pos + 1
    return ids


def _check_zones(gdf: gpd.GeoDataFrame, ids: list[str | None], report: ValidationReport) -> None:
    duties_out = []
    for pos, value in enumerate(gdf["duties"].tolist()):
        duties, unknown = parse_duties(value)
        if unknown:
            report.error("unknown_duties", unknown=unknown, known=", ".join(Duty.values()), row=pos + 1, feature_id=ids[pos], field="duties")
        elif not duties:
            report.warning("no_duty", row=pos + 1, feature_id=ids[pos], field="duties")
        duties_out.append(",".join(duties))
    gdf["duties"] = duties_out
    priorities = []
    for pos, value in enumerate(gdf["priority"].tolist()):
        if _is_blank(value):
            priorities.append(0)
            continue
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            number = np.nan
        if not np.isfinite(number) or not number.is_integer() or abs(number) > MAX_PRIORITY:
            report.error("bad_priority", value=repr(value), limit=f"{MAX_PRIORITY:,}", row=pos + 1, feature_id=ids[pos], field="priority")
            priorities.append(0)
        else:
            priorities.append(int(number))
    gdf["priority"] = np.asarray(priorities, dtype=np.int64)
    kinds = []
    for pos, value in enumerate(_text_column(gdf, "kind")):
        kind = (value or ZoneKind.OTHER.value).lower()
        if kind not in ZoneKind.values():
            report.warning("unknown_kind", value=repr(value), known=", ".join(ZoneKind.values()), row=pos + 1, feature_id=ids[pos], field="kind")
        kinds.append(kind)
    gdf["kind"] = kinds
    _require_text(gdf, "unit_id", ids, report, identifier=True)


def _require_text(gdf: gpd.GeoDataFrame, column: str, ids: list[str | None], report: ValidationReport, *, identifier: bool = False) -> None:
    values = _text_column(gdf, column)
    for pos, value in enumerate(values):
        if value is None:
            report.error("empty_value", column=column, row=pos + 1, feature_id=ids[pos], field=column)
    if identifier:
        check_identifiers(values, column, ids, report)
    gdf[column] = _objects(values, gdf.index)


def _check_test_points(gdf: gpd.GeoDataFrame, ids: list[str | None], report: ValidationReport) -> None:
    types = []
    for pos, value in enumerate(_text_column(gdf, "type")):
        kind = (value or "").lower()
        if not kind:
            report.error("empty_value", column="type", row=pos + 1, feature_id=ids[pos], field="type")
        elif kind not in TestPointType.values():
            report.warning("unknown_point_type", value=repr(value), known=", ".join(TestPointType.values()), row=pos + 1, feature_id=ids[pos], field="type")
        types.append(kind)
    gdf["type"] = types
    adopters = _text_column(gdf, "unit_id")
    check_identifiers(adopters, "unit_id", ids, report)
    gdf["unit_id"] = _objects(adopters, gdf.index)


def _check_areas(gdf: gpd.GeoDataFrame, ids: list[str | None], report: ValidationReport) -> None:
    _require_text(gdf, "default_unit_id", ids, report, identifier=True)
    levels = []
    for pos, value in enumerate(_text_column(gdf, "level")):
        level = (value or "subdistrict").lower()
        if level not in AREA_LEVELS:
            report.error("bad_level", value=repr(value), known=", ".join(AREA_LEVELS), row=pos + 1, feature_id=ids[pos], field="level")
        levels.append(level)
    gdf["level"] = levels


def _check_reports(gdf: gpd.GeoDataFrame, ids: list[str | None], report: ValidationReport) -> None:
    _require_text(gdf, "category", ids, report)
    accuracy = pd.to_numeric(gdf["accuracy_m"], errors="coerce").to_numpy(dtype=np.float64, copy=True)
    given = np.array([not _is_blank(v) for v in gdf["accuracy_m"].tolist()], dtype=bool)
    accuracy[given & np.isnan(accuracy)] = np.inf  # given but not a number: refused as written
    for pos, refusal in accuracy_refusals(accuracy).items():
        value = repr(gdf["accuracy_m"].iloc[pos]) if np.isinf(accuracy[pos]) else refusal.params["value"]
        report.error(refusal.code, row=pos + 1, feature_id=ids[pos], field=refusal.field, **{**refusal.params, "value": value})
    gdf["accuracy_m"] = np.where(np.isinf(accuracy), np.nan, accuracy)


_LAYER_CHECKS: dict[LayerKind, Callable[[gpd.GeoDataFrame, list[str | None], ValidationReport], None]] = {
    LayerKind.ZONES: _check_zones,
    LayerKind.TEST_POINTS: _check_test_points,
    LayerKind.AREAS: _check_areas,
    LayerKind.REPORTS: _check_reports,
    LayerKind.SCOPE: lambda _gdf, _ids, _report: None,  # polygons with an id: the geometry checks say the rest
}


def validate_layer(gdf: gpd.GeoDataFrame, kind: LayerKind | str, *, source: str = "", report: ValidationReport | None = None,
                   max_vertices: int = MAX_VERTICES) -> tuple[gpd.GeoDataFrame, ValidationReport]:
    """Check ``gdf`` against the contract of ``kind`` and return a normalised copy and the report;
    a geometry of more than ``max_vertices`` vertices is an error.

    Every problem is collected; nothing is raised here (see `ValidationReport.raise_if_errors`).
    Missing required columns stop further checks, since every row would fail them.
    """
    contract = CONTRACTS[LayerKind(kind)]
    report = report if report is not None else ValidationReport(contract.kind.value, source)
    report.rows = len(gdf)
    if contract.kind == LayerKind.SCOPE and "scope_id" not in gdf.columns:  # a scope names its pieces by area or name, else by row
        gdf = gdf.assign(scope_id=[_as_text(a) or _as_text(n) or f"S{k:03d}" for k, (a, n) in enumerate(zip(
            gdf["area_id"] if "area_id" in gdf.columns else [None] * len(gdf),
            gdf["name"] if "name" in gdf.columns else [None] * len(gdf), strict=True), start=1)])
    missing = [c for c in contract.required if c not in gdf.columns]
    if missing:
        found = ", ".join(str(c) for c in gdf.columns if c != gdf.geometry.name) or "none"
        report.error("missing_columns_mapped", missing=missing, found=found)
        return gdf, report
    out = gdf.copy()
    for column, default in contract.defaults.items():
        if column not in out.columns:
            out[column] = default
    ids = _check_ids(out, contract, report)
    out[contract.id_column] = _objects(ids, out.index)
    for column in ("name", "unit_name", "person", "post", "phone", "default_unit_name", "description"):
        if column in out.columns:
            out[column] = [v or "" for v in _text_column(out, column)]
    _LAYER_CHECKS[contract.kind](out, ids, report)
    out = _check_geometry(out, contract, ids, report, max_vertices)
    return out, report


def validate(gdf: gpd.GeoDataFrame, kind: LayerKind | str, *, source: str = "") -> gpd.GeoDataFrame:
    """Validate and normalise ``gdf``; raise `SchemaError` with the full report on any error."""
    out, report = validate_layer(gdf, kind, source=source)
    report.raise_if_errors()
    return out


CATEGORY_COLUMNS = ("code", "name_zh", "name_en", "group", "group_en", "duty", "department_unit_id", "deadline", "deadline_unit", "std_code")
#: A national 城市管理事项 code: 2 digits of the class (大类), 3 of the subclass (小类).
STD_CODE = re.compile(r"\d{5}")


def validate_categories(df: pd.DataFrame, *, source: str = "") -> tuple[pd.DataFrame, ValidationReport]:
    """Check the categories table: unique ``code``, exactly one of ``duty`` or
    ``department_unit_id`` per row, a known duty, a positive ``deadline`` counted in its
    ``deadline_unit`` (`zones.worktime.DeadlineUnit`; hours when empty), an optional ``std_code``
    (`STD_CODE`; a spreadsheet's number loses its leading zero, given back). A table of the older
    form gives ``deadline_hours`` instead: calendar hours.
    """
    report = ValidationReport("categories", source, len(df))
    limit = "deadline" if "deadline" in df.columns else "deadline_hours"
    missing = [c for c in ("code", "name_zh", limit) if c not in df.columns]
    if missing:
        report.error("missing_columns", missing=missing, found=", ".join(map(str, df.columns)))
        return df, report
    out = df.copy()
    if limit == "deadline_hours":
        out = out.rename(columns={"deadline_hours": "deadline"}).assign(deadline_unit=DeadlineUnit.HOURS.value)
    for column in CATEGORY_COLUMNS:
        if column not in out.columns:
            out[column] = None
    codes = [_as_text(v) for v in out["code"].tolist()]
    seen: dict[str, int] = {}
    for pos, code in enumerate(codes):
        if code is None:
            report.error("empty_value", column="code", row=pos + 1, field="code")
        elif code in seen:
            report.error("duplicate", column="code", value=repr(code), first=seen[code], row=pos + 1, feature_id=code, field="code")
        else:
            seen[code] = pos + 1
    duties = [_as_text(v) for v in out["duty"].tolist()]
    departments = [_as_text(v) for v in out["department_unit_id"].tolist()]
    check_identifiers(codes, "code", codes, report)
    check_identifiers(departments, "department_unit_id", codes, report)
    for pos, (duty, dept) in enumerate(zip(duties, departments, strict=True)):
        if (duty is None) == (dept is None):
            report.error("duty_or_department", row=pos + 1, feature_id=codes[pos], field="duty")
        elif duty is not None and DUTY_ALIASES.get(duty, duty.lower()) not in Duty.values():
            report.error("unknown_duty", value=repr(duty), known=", ".join(Duty.values()), row=pos + 1, feature_id=codes[pos], field="duty")
    amounts = pd.to_numeric(out["deadline"], errors="coerce").to_numpy(dtype=np.float64)
    for pos in np.flatnonzero(~(amounts > 0)).tolist():
        report.error("bad_deadline", column=limit, value=repr(out["deadline"].iloc[pos]), row=pos + 1, feature_id=codes[pos], field=limit)
    units = [_as_text(v) or DeadlineUnit.HOURS.value for v in out["deadline_unit"].tolist()]
    for pos, unit in enumerate(units):
        if unit not in DeadlineUnit.values():
            report.error("bad_deadline_unit", value=repr(unit), known=", ".join(DeadlineUnit.values()), row=pos + 1, feature_id=codes[pos],
                         field="deadline_unit")
    std_codes = [None if (c := _as_text(v)) is None else c.zfill(5) if c.isdigit() and len(c) == 4 else c for v in out["std_code"].tolist()]
    for pos, std in enumerate(std_codes):
        if std is not None and not STD_CODE.fullmatch(std):
            report.error("bad_std_code", value=repr(std), row=pos + 1, feature_id=codes[pos], field="std_code")
    out["deadline"] = amounts
    out["deadline_unit"] = units
    out["std_code"] = [s or "" for s in std_codes]
    out["code"] = codes
    out["duty"] = [None if d is None else DUTY_ALIASES.get(d, d.lower()) for d in duties]
    out["department_unit_id"] = departments
    for column in ("name_zh", "name_en", "group", "group_en"):
        out[column] = [v or "" for v in (_as_text(x) for x in out[column].tolist())]
    return out, report
