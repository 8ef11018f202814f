"""Coverage analysis: where nobody is responsible (gaps, 死角), where owners overlap (交叉),
which test points nobody adopted or no zone covers, and what each unit holds.

Areas and lengths are measured in the layer's metric CRS (square metres, metres).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from zones.layer import ZoneLayer

#: Zones closer than this (m) to a gap count as its neighbours.
NEIGHBOUR_M = 0.5


@dataclass
class Coverage:
    """The result of `analyse`; frames are in WGS84, areas in m²."""

    summary: dict[str, Any]
    gaps: gpd.GeoDataFrame
    overlaps: gpd.GeoDataFrame
    test_points: gpd.GeoDataFrame
    units: pd.DataFrame
    areas: pd.DataFrame
    suggestions: gpd.GeoDataFrame = field(repr=False)


def _metric(geoms: np.ndarray, layer: ZoneLayer) -> np.ndarray:
    return gpd.GeoSeries(geoms, crs=layer.zones.crs).to_crs(layer.metric_crs).to_numpy()


def _to_wgs84(frame: gpd.GeoDataFrame, layer: ZoneLayer) -> gpd.GeoDataFrame:
    return frame.set_crs(layer.metric_crs, allow_override=True).to_crs(layer.zones.crs)


def analyse(layer: ZoneLayer, *, min_gap_m2: float = 1.0, within: shapely.Geometry | None = None) -> Coverage:
    """Gaps, overlaps, uncovered and unadopted test points, per-unit and per-area figures.

    Parameters
    ----------
    layer
        The zone layer.
    min_gap_m2
        Gap pieces smaller than this are slivers: dropped from the gap layer, and counted.
    within
        The region to analyse (WGS84), e.g. the built-up area; default the district (areas of
        level ``district``, else the union of all areas).
    """
    zones = layer.zone_metric
    owner_ids, owner = layer.units
    district = layer.areas[layer.areas["level"] == "district"]
    region_wgs = within if within is not None else shapely.union_all((district if len(district) else layer.areas).geometry.to_numpy())
    region = _metric(np.array([region_wgs], dtype=object), layer)[0]
    covered = shapely.intersection(shapely.union_all(zones), region)
    pieces = shapely.get_parts(shapely.difference(region, covered))
    pieces = pieces[np.isin(shapely.get_type_id(pieces), [3, 6])]
    areas = shapely.area(pieces)
    slivers = areas < min_gap_m2
    gaps = pieces[~slivers]
    gap_frame = _gap_frame(layer, gaps)
    overlaps = _overlaps(layer)
    points = _test_points(layer)
    units = _units(layer)
    per_area = _per_area(layer, covered)
    summary = {
        "district_area_m2": round(float(region.area), 1),
        "covered_area_m2": round(float(covered.area), 1),
        "gap_area_m2": round(float(areas[~slivers].sum()), 1),
        "gap_count": int(len(gaps)),
        "slivers_dropped": int(slivers.sum()),
        "sliver_area_m2": round(float(areas[slivers].sum()), 1),
        "overlap_area_m2": round(float(shapely.union_all(overlaps.geometry.to_numpy()).area) if len(overlaps) else 0.0, 1),
        "overlap_count": int(len(overlaps)),
        "test_points_unadopted": int((~points["adopted"]).sum()),
        "test_points_uncovered": int((~points["covered"]).sum()),
        "zone_version": layer.version,
        "areas": per_area.to_dict("records"),
    }
    suggestions = gap_frame[["gap_id", "suggested_unit_id", "area_m2", "geometry"]].rename(columns={"suggested_unit_id": "unit_id"})
    return Coverage(summary, _to_wgs84(gap_frame, layer), _to_wgs84(overlaps, layer), points, units, per_area, _to_wgs84(_as_zones(suggestions), layer))


def _gap_frame(layer: ZoneLayer, gaps: np.ndarray) -> gpd.GeoDataFrame:
    owner_ids, owner = layer.units
    area_geoms = _metric(layer.areas.geometry.to_numpy(), layer)
    sub = layer.areas["level"].to_numpy() == "subdistrict"
    tree = shapely.STRtree(layer.zone_metric)
    gap_idx, zone_idx = tree.query(gaps, predicate="dwithin", distance=NEIGHBOUR_M)
    border = shapely.length(shapely.intersection(shapely.boundary(gaps[gap_idx]), shapely.buffer(layer.zone_metric[zone_idx], NEIGHBOUR_M)))
    shared = pd.DataFrame({"gap": gap_idx, "unit": owner_ids[owner[zone_idx]], "border": border}).groupby(["gap", "unit"], sort=True)["border"].sum().reset_index()
    neighbours = shared.groupby("gap")["unit"].apply(lambda u: ";".join(sorted(u))).to_dict()
    best = shared.sort_values(["gap", "border", "unit"], ascending=[True, False, True]).drop_duplicates("gap").set_index("gap")
    where = shapely.STRtree(area_geoms[sub]).query(shapely.point_on_surface(gaps), predicate="intersects")
    area_of = dict(zip(where[0], np.flatnonzero(sub)[where[1]], strict=True))
    rows = []
    for k in range(len(gaps)):
        area = area_of.get(k)
        default = layer.areas["default_unit_id"].iloc[area] if area is not None else layer.areas["default_unit_id"].iloc[0]
        by_border = k in best.index and best["border"].get(k, 0) > 0
        suggested = best["unit"].get(k) if by_border else default
        rows.append({
            "gap_id": f"G{k + 1:05d}",
            "area_m2": round(float(gaps[k].area), 1),
            "area_id": layer.areas["area_id"].iloc[area] if area is not None else None,
            "neighbour_unit_ids": neighbours.get(k, ""),
            "suggested_unit_id": suggested,
            "suggestion_rule": "longest_border" if by_border else "subdistrict_default",
        })
    return gpd.GeoDataFrame(rows, geometry=list(gaps), crs=layer.metric_crs) if rows else gpd.GeoDataFrame(
        {"gap_id": [], "area_m2": [], "area_id": [], "neighbour_unit_ids": [], "suggested_unit_id": [], "suggestion_rule": []}, geometry=[], crs=layer.metric_crs)


def _as_zones(suggestions: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Gap-fill suggestions as a candidate zone layer a planner can review and upload."""
    out = suggestions.rename(columns={"gap_id": "zone_id"}).copy()
    out["zone_id"] = "GAP-" + out["zone_id"].astype(str)
    out["name"] = "责任空白补位（待审核）"
    out["duties"] = "sanitation,order,greening,facilities"
    out["kind"] = "other"
    out["priority"] = 0
    return out[["zone_id", "name", "unit_id", "duties", "kind", "priority", "area_m2", "geometry"]]


def _overlaps(layer: ZoneLayer) -> gpd.GeoDataFrame:
    owner_ids, owner = layer.units
    zones = layer.zone_metric
    left, right = shapely.STRtree(zones).query(zones, predicate="intersects")
    keep = (left < right) & (owner[left] != owner[right])
    left, right = left[keep], right[keep]
    shared = shapely.intersection(zones[left], zones[right])
    area = shapely.area(shared)
    real = area > 0.01
    left, right, shared, area = left[real], right[real], shared[real], area[real]
    rank = layer.zone_rank
    first = np.where(rank[left] < rank[right], left, right)
    return gpd.GeoDataFrame({
        "zone_a": layer.zone_ids[left], "unit_a": owner_ids[owner[left]],
        "zone_b": layer.zone_ids[right], "unit_b": owner_ids[owner[right]],
        "area_m2": np.round(area, 2), "accountable_unit_id": owner_ids[owner[first]], "accountable_zone_id": layer.zone_ids[first],
    }, geometry=list(shared), crs=layer.metric_crs)


def _test_points(layer: ZoneLayer) -> gpd.GeoDataFrame:
    points = layer.test_points
    adopted = points["unit_id"].notna().to_numpy() & (points["unit_id"].astype(str).str.len() > 0).to_numpy()
    hit, _ = shapely.STRtree(layer.zone_geoms).query(points.geometry.to_numpy(), predicate="intersects")
    covered = np.zeros(len(points), dtype=bool)
    covered[hit] = True
    out = points[["point_id", "name", "type", "unit_id", "geometry"]].copy()
    out["adopted"] = adopted
    out["covered"] = covered
    return out


def _units(layer: ZoneLayer) -> pd.DataFrame:
    owner_ids, owner = layer.units
    zones = layer.zone_metric
    kind = layer.zones["kind"].to_numpy()
    frontage = kind == "frontage"
    length = np.zeros(len(zones))
    if frontage.any():  # the street side of a strip: the long side of its minimum rotated rectangle
        rect = shapely.oriented_envelope(zones[frontage])
        coords = [shapely.get_coordinates(r)[:3] for r in rect]
        length[frontage] = [max(np.hypot(*(c[1] - c[0])), np.hypot(*(c[2] - c[1]))) for c in coords]
    frame = pd.DataFrame({"unit_id": owner_ids[owner], "area_m2": layer.zone_area_m2, "frontage_m": length})
    table = frame.groupby("unit_id").agg(zones=("area_m2", "size"), area_m2=("area_m2", "sum"), frontage_m=("frontage_m", "sum")).reset_index()
    adopted = layer.test_points["unit_id"].value_counts()
    table["test_points"] = table["unit_id"].map(adopted).fillna(0).astype(int)
    table["unit_name"] = [layer.unit_names.get(u, "") for u in table["unit_id"]]
    return table.round({"area_m2": 1, "frontage_m": 1})


def _per_area(layer: ZoneLayer, covered: shapely.Geometry) -> pd.DataFrame:
    geoms = _metric(layer.areas.geometry.to_numpy(), layer)
    area = shapely.area(geoms)
    inside = shapely.area(shapely.intersection(geoms, covered))
    return pd.DataFrame({
        "area_id": layer.areas["area_id"].to_numpy(), "name": layer.areas["name"].to_numpy(), "level": layer.areas["level"].to_numpy(),
        "area_m2": np.round(area, 1), "covered_area_m2": np.round(inside, 1), "gap_area_m2": np.round(area - inside, 1),
        "coverage_ratio": np.round(np.divide(inside, area, out=np.zeros_like(area), where=area > 0), 4),
    })
