"""Batch routing of report files: load, route, flag what could not be read, write."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geodata.calendar import load_calendar
from geodata.demo import DemoFiles
from geodata.io import write_layer
from geodata.load import LoadedLayer, load_categories, load_layer, load_scope, load_streets
from geodata.spreadsheet import write_csv
from zones.config import STORAGE_CRS, RoutingConfig
from zones.enums import LayerKind
from zones.layer import ZoneLayer
from zones.router import DECISION_COLUMNS, EXTRA_COLUMNS, route
from zones.schema import MAX_VERTICES

OUTPUT_SUFFIXES = (".csv", ".geojson", ".gpkg")
#: The categories of a layer loaded for coverage alone.
NO_CATEGORIES = pd.DataFrame(columns=["code", "name_zh", "name_en", "group", "duty", "department_unit_id", "deadline", "deadline_unit"])


@dataclass(frozen=True)
class LayerFiles:
    """Where the layers of a district come from."""

    zones: Path
    areas: Path
    test_points: Path
    categories: Path | None  # none: coverage only (nothing routes without categories)
    units: Path | None = None
    streets: Path | None = None  # a GeoPackage whose ``streets`` layer, if any, is drawn on maps
    scope: Path | None = None  # where zones are required: a layer file, or a GeoPackage with a ``scope`` layer
    calendar: Path | None = None  # holidays and make-up working days: a CSV, or a GeoPackage with a ``calendar`` table

    @classmethod
    def of_demo(cls, files: DemoFiles) -> LayerFiles:
        """The layers of a demo-style folder: one GeoPackage, categories and units tables, the calendar."""
        return cls(files.gpkg, files.gpkg, files.gpkg, files.categories, files.units if files.units.exists() else None, files.gpkg, files.gpkg,
                   files.calendar if files.calendar.exists() else None)


def load_zone_layer(files: LayerFiles, *, max_vertices: int = MAX_VERTICES) -> ZoneLayer:
    """Load and validate every layer (raising `SchemaError` on errors, a geometry of more than
    ``max_vertices`` vertices among them) and build the layer."""
    zones = load_layer(files.zones, LayerKind.ZONES, max_vertices=max_vertices).frame
    areas = load_layer(files.areas, LayerKind.AREAS, max_vertices=max_vertices).frame
    test_points = load_layer(files.test_points, LayerKind.TEST_POINTS, max_vertices=max_vertices).frame
    categories = load_categories(files.categories)[0] if files.categories else NO_CATEGORIES
    units = pd.read_csv(files.units, dtype=str, keep_default_na=False) if files.units else None
    streets = load_streets(files.streets) if files.streets else None
    scope = load_scope(files.scope, max_vertices=max_vertices) if files.scope else None
    calendar = load_calendar(files.calendar)[0] if files.calendar else None
    return ZoneLayer.build(zones, test_points, areas, categories, units=units, streets=streets, scope=scope, calendar=calendar)


def route_file(
    reports_path: Path,
    layer: ZoneLayer,
    config: RoutingConfig,
    *,
    crs: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> gpd.GeoDataFrame:
    """Route every row of a report file; rows the loader rejects become ``error`` decisions
    naming the problem, so no row is dropped."""
    return route_loaded(load_layer(reports_path, LayerKind.REPORTS, crs=crs, strict=False), layer, config, progress=progress)


def route_loaded(loaded: LoadedLayer, layer: ZoneLayer, config: RoutingConfig, *, progress: Callable[[int], None] | None = None) -> gpd.GeoDataFrame:
    """Route loaded reports (with their validation report, not strict): `route_file` for a
    table already read, e.g. one partition of a larger input."""
    frame = loaded.frame
    geoms = frame.geometry
    is_point = geoms.notna() & ~geoms.is_empty & (geoms.geom_type == "Point")
    reports = pd.DataFrame({
        "id": frame["id"],
        "lon": geoms.x.where(is_point),
        "lat": geoms.y.where(is_point),
        "category": frame["category"],
        "accuracy_m": frame["accuracy_m"],
    })
    problems: dict[int, list[str]] = {}
    for problem in loaded.report.errors:
        if problem.row is not None:
            problems.setdefault(problem.row - 1, []).append(f"{problem.field}: {problem.message}" if problem.field else problem.message)
    refused = {row: "无法派单：" + "；".join(found) for row, found in problems.items()}
    decisions = route(reports, layer, config, progress=progress, refused=refused)
    return gpd.GeoDataFrame(decisions, geometry=frame.geometry.where(is_point, None).to_numpy(), crs=STORAGE_CRS)


def decision_table(decisions: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The output columns of decisions, text as plain objects, at the reported points."""
    columns = DECISION_COLUMNS + EXTRA_COLUMNS
    table = pd.DataFrame({c: decisions[c].astype(object) if isinstance(decisions[c].dtype, pd.CategoricalDtype) else decisions[c] for c in columns})
    return gpd.GeoDataFrame(table, geometry=decisions.geometry.to_numpy(), crs=STORAGE_CRS)


def write_decisions(decisions: gpd.GeoDataFrame, out: Path) -> None:
    """Write decisions as CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese
    correctly; lists ``;``-separated), GeoJSON or GeoPackage (points at the reported place)."""
    suffix = out.suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        msg = f"cannot write {out.name}: expected one of {', '.join(OUTPUT_SUFFIXES)}"
        raise ValueError(msg)
    columns = DECISION_COLUMNS + EXTRA_COLUMNS
    table = pd.DataFrame(decision_table(decisions)[columns])
    for column in columns:
        if table[column].dtype == object:
            table[column] = table[column].where(table[column].notna(), "")
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        write_csv(table, out)
        return
    geo = gpd.GeoDataFrame(table, geometry=decisions.geometry.to_numpy(), crs=STORAGE_CRS)
    out.unlink(missing_ok=True)
    write_layer(geo, out, layer="decisions" if suffix == ".gpkg" else None)
