"""What the planners' console shows and sends: the coverage analysis as tables with names beside
codes (gaps largest first, overlaps, unadopted test points with the units that could adopt them,
figures per sub-district), and the same tables as GeoPackage, GeoJSON, CSV or Excel files."""

from __future__ import annotations

import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from geodata.io import write_layer
from geodata.spreadsheet import csv_bytes, xlsx_bytes
from zones.coverage import Coverage
from zones.layer import ZoneLayer

#: What can be downloaded, and in which formats (the per-sub-district figures have no geometry).
DOWNLOADS = {"gaps": ("gpkg", "geojson", "csv", "xlsx"), "suggestions": ("gpkg", "geojson"), "overlaps": ("gpkg", "geojson", "csv", "xlsx"),
             "test_points": ("gpkg", "geojson", "csv", "xlsx"), "uncovered": ("gpkg", "geojson", "csv", "xlsx"), "subdistricts": ("csv", "xlsx")}
MIMETYPES = {"gpkg": "application/geopackage+sqlite3", "geojson": "application/geo+json", "csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _names(layer: ZoneLayer, codes: pd.Series) -> list[str]:
    """``;``-separated unit codes as their names, in the same order."""
    return [";".join(layer.unit_names.get(c, c) for c in str(v).split(";") if c) if isinstance(v, str) else "" for v in codes]


def _area_names(layer: ZoneLayer, ids: pd.Series) -> pd.Series:
    return ids.map(dict(zip(layer.areas["area_id"], layer.areas["name"], strict=True))).fillna("")


def gaps(layer: ZoneLayer, result: Coverage) -> gpd.GeoDataFrame:
    """The gaps, largest first, with their sub-district's, neighbours' and suggested owner's names."""
    frame = result.gaps.sort_values(["area_m2", "gap_id"], ascending=[False, True]).copy()
    frame.insert(3, "area_name", _area_names(layer, frame["area_id"]))
    frame["neighbour_unit_names"] = _names(layer, frame["neighbour_unit_ids"])
    frame["suggested_unit_name"] = _names(layer, frame["suggested_unit_id"])
    return frame


def overlaps(layer: ZoneLayer, result: Coverage) -> gpd.GeoDataFrame:
    """The overlapping pairs of zones of different owners, largest first, with the accountable owner."""
    frame = result.overlaps.sort_values(["area_m2", "zone_a", "zone_b"], ascending=[False, True, True]).copy()
    names = dict(zip(layer.zones["zone_id"], layer.zones["name"], strict=True))
    frame["zone_a_name"] = frame["zone_a"].map(names)
    frame["zone_b_name"] = frame["zone_b"].map(names)
    for column in ("unit_a", "unit_b", "accountable_unit_id"):
        frame[column.replace("_id", "") + "_name"] = _names(layer, frame[column])
    frame["area_name"] = _area_names(layer, frame["area_id"])
    return frame


def unadopted(layer: ZoneLayer, result: Coverage) -> gpd.GeoDataFrame:
    """The test points nobody adopted, by sub-district, with the units near enough to adopt them."""
    frame = result.test_points[~result.test_points["adopted"]].drop(columns=["unit_id", "adopted"]).copy()
    frame["area_name"] = _area_names(layer, frame["area_id"])
    frame["candidate_unit_names"] = _names(layer, frame["candidate_unit_ids"])
    return frame.sort_values(["area_id", "point_id"], na_position="last")


def subdistricts(layer: ZoneLayer, result: Coverage) -> pd.DataFrame:
    """Per sub-district: scope area, covered, coverage, gaps, overlaps and unadopted test points."""
    table = result.areas[result.areas["level"] == "subdistrict"].copy() if (result.areas["level"] == "subdistrict").any() else result.areas.copy()
    counts = {
        "gap_count": result.gaps["area_id"].value_counts(),
        "overlap_count": result.overlaps["area_id"].value_counts(),
        "unadopted_test_points": result.test_points.loc[~result.test_points["adopted"], "area_id"].value_counts(),
    }
    for column, values in counts.items():
        table[column] = table["area_id"].map(values).fillna(0).astype(int)
    return table.drop(columns=["level"]).reset_index(drop=True)


def uncovered(layer: ZoneLayer, result: Coverage) -> gpd.GeoDataFrame:
    """The test points in no zone (no unit answers for the spot), by sub-district, with their
    adopting unit and the units whose zones lie nearest."""
    frame = result.test_points[~result.test_points["covered"]].drop(columns=["covered"]).copy()
    frame["area_name"] = _area_names(layer, frame["area_id"])
    frame["unit_name"] = _names(layer, frame["unit_id"])
    frame["candidate_unit_names"] = _names(layer, frame["candidate_unit_ids"])
    return frame.sort_values(["area_id", "point_id"], na_position="last")


def points_to_mind(layer: ZoneLayer, result: Coverage) -> gpd.GeoDataFrame:
    """The test points the planners' map shows: unadopted or in no zone, with their sub-district's name."""
    points = result.test_points
    frame = points[~points["adopted"] | ~points["covered"]].copy()
    frame["area_name"] = _area_names(layer, frame["area_id"])
    return frame


def table(what: str, layer: ZoneLayer, result: Coverage) -> pd.DataFrame:
    """The named download's table (`DOWNLOADS`)."""
    if what == "suggestions":
        return result.suggestions
    return {"gaps": gaps, "overlaps": overlaps, "test_points": unadopted, "uncovered": uncovered, "subdistricts": subdistricts}[what](layer, result)


def changed_zones(before: ZoneLayer, after: ZoneLayer, changes: pd.DataFrame) -> gpd.GeoDataFrame:
    """The zone changes of a draft (`zones.diff.LayerDiff.zones`) with their outlines: a removed
    zone's as it was, every other one's as the draft has it."""
    was = dict(zip(before.zones["zone_id"], before.zones.geometry.to_numpy(), strict=True))
    now = dict(zip(after.zones["zone_id"], after.zones.geometry.to_numpy(), strict=True))
    geoms = [was[z] if change == "removed" else now[z] for change, z in zip(changes["change"], changes["zone_id"], strict=True)]
    frame = changes.assign(key=changes["change"] + ":" + changes["zone_id"])
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=before.zones.crs)


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """A table for spreadsheets: the geometry as the longitude and latitude of a point on it."""
    if not isinstance(frame, gpd.GeoDataFrame):
        return frame
    at = shapely.point_on_surface(frame.geometry.to_numpy())
    plain = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    plain["lon"], plain["lat"] = shapely.get_x(at).round(6), shapely.get_y(at).round(6)
    return plain


def download(frame: pd.DataFrame, what: str, fmt: str, version: str) -> tuple[bytes, str, str]:
    """``frame`` as a file to save: its bytes, media type and name (after the layer version)."""
    name = f"{what}_{version}.{fmt}"
    if fmt == "csv":
        body = csv_bytes(_plain(frame))
    elif fmt == "xlsx":
        body = xlsx_bytes(_plain(frame), what)
    else:
        with tempfile.TemporaryDirectory(prefix="zonemap-download-") as tmp:
            path = Path(tmp) / name
            write_layer(frame, path, layer=what if fmt == "gpkg" else None)
            body = path.read_bytes()
    return body, MIMETYPES[fmt], name
