"""Coverage analysis: where nobody is responsible (gaps, 死角), where owners overlap (交叉),
which test points nobody adopted or no zone covers, and what each unit holds.

Areas and lengths are measured in the layer's metric CRS (square metres, metres).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from zones.enums import ZoneKind
from zones.layer import ZoneLayer

#: Zones closer than this (m) to a gap count as its neighbours.
NEIGHBOUR_M = 0.5
#: Segments per piece when gap boundaries are cut for the neighbour query.
BOUNDARY_PIECE = 64
#: Units whose zones lie within this distance (m) of an unadopted test point could adopt it.
ADOPT_RADIUS_M = 500.0
#: How many of them are named, nearest first.
ADOPT_CANDIDATES = 3
#: Zones that are a unit's own premises or its street front (门前三包): such a unit is suggested
#: only a gap no larger than its zones beside it, never the block behind them.
PREMISES_KINDS = frozenset({ZoneKind.FRONTAGE.value, ZoneKind.MARKET.value, ZoneKind.CAMPUS.value})
#: Side (m) of the cells that order zones into spatially compact chunks for the parallel union,
#: and how many chunks: fixed, so that the result (down to its slivers) is the same on any machine.
CHUNK_CELL_M = 2000.0
UNION_CHUNKS = 4


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


def _valid(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The frame with valid polygons: reprojection can fold a thin piece onto itself, and a
    suggestion must pass the validation a planner's upload gets (its polygonal part is kept)."""
    geoms = frame.geometry.to_numpy()
    broken = ~shapely.is_valid(geoms)
    if not broken.any():
        return frame
    fixed = geoms.copy()
    fixed[broken] = [shapely.union_all([p for p in shapely.get_parts(shapely.make_valid(g)) if shapely.get_type_id(p) in (3, 6)]) for g in geoms[broken]]
    return frame.set_geometry(fixed)


def analyse(layer: ZoneLayer, *, min_gap_m2: float = 1.0, within: shapely.Geometry | None = None) -> Coverage:
    """Gaps, overlaps, uncovered and unadopted test points, per-unit and per-area figures.

    Parameters
    ----------
    layer
        The zone layer.
    min_gap_m2
        Gap pieces smaller than this are slivers: dropped from the gap layer, and counted.
    within
        The region to analyse (WGS84); default the layer's scope (where zones are required, e.g.
        the built-up area) within the district, else the district (areas of level ``district``,
        else the union of all areas). Outside it the sub-districts hold the land: no gap.
    """
    zones = layer.zone_metric
    district_wgs = _district(layer)
    region_wgs = within if within is not None else district_wgs
    if within is None and layer.scope is not None:
        region_wgs = shapely.intersection(shapely.union_all(shapely.make_valid(layer.scope.geometry.to_numpy())), district_wgs)
    region, district = _metric(np.array([region_wgs, district_wgs], dtype=object), layer)
    covered = shapely.intersection(_union(zones), region)
    pieces = shapely.get_parts(shapely.difference(region, covered))
    pieces = pieces[np.isin(shapely.get_type_id(pieces), [3, 6])]
    areas = shapely.area(pieces)
    slivers = areas < min_gap_m2
    gaps = pieces[~slivers]
    gap_frame = _gap_frame(layer, gaps)
    overlaps = _overlaps(layer)
    points = _test_points(layer)
    units = _units(layer)
    per_area = _per_area(layer, region, covered)
    summary = {
        "scope": "scope" if within is None and layer.scope is not None else ("given" if within is not None else "district"),
        "district_area_m2": round(float(district.area), 1),
        "scope_area_m2": round(float(region.area), 1),
        "covered_area_m2": round(float(covered.area), 1),
        "gap_area_m2": round(float(areas[~slivers].sum()), 1),
        "gap_count": len(gaps),
        "slivers_dropped": int(slivers.sum()),
        "sliver_area_m2": round(float(areas[slivers].sum()), 1),
        "overlap_area_m2": round(_union_area(overlaps.geometry.to_numpy()), 1),
        "overlap_count": len(overlaps),
        "test_points_unadopted": int((~points["adopted"]).sum()),
        "test_points_uncovered": int((~points["covered"]).sum()),
        "zone_version": layer.version,
        "areas": per_area.to_dict("records"),
    }
    suggestions = gap_frame[["gap_id", "suggested_unit_id", "area_m2", "geometry"]].rename(columns={"suggested_unit_id": "unit_id"})
    return Coverage(summary, _valid(_to_wgs84(gap_frame, layer)), _valid(_to_wgs84(overlaps, layer)), points, units, per_area,
                    _valid(_to_wgs84(_as_zones(suggestions), layer)))


def _chunks(n: int) -> list[slice]:
    """Slices of ``range(n)`` for the pool: several per core, so that a few costly geometries
    (one huge gap, say) do not leave the other cores idle."""
    bounds = np.linspace(0, n, 8 * (os.cpu_count() or 1) + 1).astype(int)
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]


def _threaded(func: Any, *arrays: np.ndarray) -> np.ndarray:
    """``func(*arrays)`` for a vectorised shapely function, on chunks spread over all cores.

    The same geometry may be used by several threads at once, so none may be prepared: GEOS
    builds a prepared geometry's indexes lazily and not thread-safely (libgeos/geos#825).
    """
    workers = os.cpu_count() or 1
    if workers == 1 or len(arrays[0]) < 1000:
        return func(*arrays)
    with ThreadPoolExecutor(workers) as pool:
        parts = list(pool.map(lambda part: func(*(a[part] for a in arrays)), _chunks(len(arrays[0]))))
    return np.concatenate(parts)


def _query(tree: shapely.STRtree, geoms: np.ndarray, predicate: str, distance: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``tree.query(geoms, predicate)`` on chunks of ``geoms`` spread over all cores."""
    workers = os.cpu_count() or 1
    if workers == 1 or len(geoms) < 1000:
        found = tree.query(geoms, predicate=predicate, distance=distance)
        return found[0], found[1]
    with ThreadPoolExecutor(workers) as pool:
        parts = list(pool.map(lambda part: tree.query(geoms[part], predicate=predicate, distance=distance) + np.array([[part.start], [0]]),
                              _chunks(len(geoms))))
    found = np.concatenate(parts, axis=1)
    return found[0], found[1]


def _union(geoms: np.ndarray) -> shapely.Geometry:
    """The union of ``geoms``: unions of a few spatially compact shares on all cores (GEOS
    releases the GIL), then the union of those."""
    if len(geoms) < 5000:
        return shapely.union_all(geoms)
    centre = shapely.centroid(geoms)
    order = np.lexsort((np.floor(shapely.get_x(centre) / CHUNK_CELL_M), np.floor(shapely.get_y(centre) / CHUNK_CELL_M)))
    with ThreadPoolExecutor(min(os.cpu_count() or 1, UNION_CHUNKS)) as pool:
        parts = list(pool.map(lambda idx: shapely.union_all(geoms[idx]), np.array_split(order, UNION_CHUNKS)))
    return shapely.union_all(np.array(parts, dtype=object))


def _pairs_sharing_area(geoms: np.ndarray, owners: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``left < right`` of ``geoms`` that intersect other than by touching (with different
    ``owners``, when given); touching pairs are dropped before any costly intersection."""
    left, right = _query(shapely.STRtree(geoms), geoms, "intersects")
    keep = left < right
    if owners is not None:
        keep &= owners[left] != owners[right]
    left, right = left[keep], right[keep]
    inner = ~_threaded(shapely.touches, geoms[left], geoms[right])
    return left[inner], right[inner]


def _union_area(geoms: np.ndarray) -> float:
    """Area of the union of ``geoms``: only pieces that share area with another are unioned,
    the others (nearly all overlap pieces, which are pairwise) add their own area."""
    if not len(geoms):
        return 0.0
    left, right = _pairs_sharing_area(geoms)
    clustered = np.zeros(len(geoms), dtype=bool)
    clustered[left] = clustered[right] = True
    alone = float(shapely.area(geoms[~clustered]).sum())
    return alone + (float(_union(geoms[clustered]).area) if clustered.any() else 0.0)


def _near_boundaries(gaps: np.ndarray, zones: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Gap boundaries cut into pieces, and the (piece, zone) pairs closer than `NEIGHBOUR_M`.

    No zone lies inside a gap, so a zone near a gap is near its boundary. Short pieces keep the
    work even over the cores: one huge gap (a coast, say) would otherwise be tested against
    nearly every zone of the district, with all of its vertices, on one core. Returns the
    pieces, the gap of each piece, and the pairs as (piece, zone) index arrays.
    """
    lines, line_gap = shapely.get_parts(shapely.boundary(gaps), return_index=True)
    coords, line = shapely.get_coordinates(lines, return_index=True)
    first = np.r_[0, np.flatnonzero(np.diff(line)) + 1]
    pos = np.arange(len(coords)) - np.repeat(first, np.diff(np.r_[first, len(coords)]))
    piece = (line << 32) | (pos // BOUNDARY_PIECE)  # vertex k * BOUNDARY_PIECE also ends the piece before
    ends = np.flatnonzero((pos > 0) & (pos % BOUNDARY_PIECE == 0))
    vertex = np.r_[np.arange(len(coords)), ends]
    piece = np.r_[piece, piece[ends] - 1]
    order = np.lexsort((vertex, piece))
    vertex, piece = vertex[order], piece[order]
    codes, inverse, counts = np.unique(piece, return_inverse=True, return_counts=True)
    whole = counts[inverse] >= 2  # a piece of one vertex: that vertex ends the piece before
    codes, inverse = np.unique(piece[whole], return_inverse=True)
    pieces = shapely.linestrings(coords[vertex[whole]], indices=inverse)
    piece_idx, zone_idx = _query(shapely.STRtree(zones), pieces, "dwithin", NEIGHBOUR_M)
    return pieces, line_gap[codes >> 32], (piece_idx, zone_idx)


def _gap_frame(layer: ZoneLayer, gaps: np.ndarray) -> gpd.GeoDataFrame:
    owner_ids, owner = layer.units
    area_geoms, sub = _metric(layer.areas.geometry.to_numpy(), layer), _subdistricts(layer)
    pieces, piece_gap, (piece_idx, zone_idx) = _near_boundaries(gaps, layer.zone_metric)
    gap_idx = piece_gap[piece_idx]
    near, which = np.unique(zone_idx, return_inverse=True)
    halo = _threaded(lambda z: shapely.buffer(z, NEIGHBOUR_M), layer.zone_metric[near])[which]  # each zone buffered once
    # The border a zone shares with a gap: the gap's boundary within the zone's halo, piece by piece.
    border = _threaded(lambda g, h: shapely.length(shapely.intersection(g, h)), pieces[piece_idx], halo)
    near_zones = pd.DataFrame({"gap": gap_idx, "unit": owner_ids[owner[zone_idx]], "border": border, "zone": zone_idx})
    shared = near_zones.groupby(["gap", "unit"], sort=True)["border"].sum().reset_index()
    neighbours = shared.groupby("gap")["unit"].agg(";".join)  # sorted by the groupby above
    shared = shared.merge(_premises(layer, near_zones), on=["gap", "unit"])
    gap_area = shapely.area(gaps)
    shared["fits"] = ~shared["premises_only"] | (gap_area[shared["gap"].to_numpy()] <= shared["own_area"].to_numpy())
    touching = shared[shared["border"] > 0].sort_values(["gap", "border", "unit"], ascending=[True, False, True])
    longest = touching.drop_duplicates("gap").set_index("gap")["unit"].reindex(range(len(gaps)))
    best = touching[touching["fits"]].drop_duplicates("gap").set_index("gap")["unit"].reindex(range(len(gaps)))
    known, position = _subdistrict_of(area_geoms, sub, shapely.point_on_surface(gaps))
    defaults = np.where(known, layer.areas["default_unit_id"].to_numpy()[position], layer.areas["default_unit_id"].iloc[0])
    by_border = best.notna().to_numpy()
    rule = np.where(by_border, np.where(best.to_numpy(dtype=object) == longest.to_numpy(dtype=object), "longest_border", "longest_border_area_unit"),
                    np.where(longest.notna().to_numpy(), "premises_too_small", "subdistrict_default"))
    frame = pd.DataFrame({
        "gap_id": [f"G{k + 1:05d}" for k in range(len(gaps))],
        "area_m2": np.round(shapely.area(gaps), 1),
        "area_id": np.where(known, layer.areas["area_id"].to_numpy()[position], None),
        "neighbour_unit_ids": neighbours.reindex(range(len(gaps))).fillna("").to_numpy(),
        "suggested_unit_id": np.where(by_border, best.to_numpy(dtype=object), defaults),
        "suggestion_rule": rule,
    })
    return gpd.GeoDataFrame(frame, geometry=list(gaps), crs=layer.metric_crs)


def _premises(layer: ZoneLayer, near_zones: pd.DataFrame) -> pd.DataFrame:
    """Per (gap, unit): whether all the unit's zones beside the gap are its own premises or frontage
    (`PREMISES_KINDS`), and their area (m²): such a unit is suggested only a gap as small as them."""
    zones = near_zones.drop_duplicates(["gap", "zone"])
    kinds = layer.zones["kind"].astype(str).to_numpy()[zones["zone"].to_numpy()] if "kind" in layer.zones.columns else np.full(len(zones), "")
    zones = zones.assign(premises=np.isin(kinds, list(PREMISES_KINDS)), own_area=shapely.area(layer.zone_metric[zones["zone"].to_numpy()]))
    return zones.groupby(["gap", "unit"], sort=False).agg(premises_only=("premises", "all"), own_area=("own_area", "sum")).reset_index()


def _subdistricts(layer: ZoneLayer) -> np.ndarray:
    """Which areas are sub-districts (all of them when the layer names no levels)."""
    level = layer.areas["level"].to_numpy()
    return level == "subdistrict" if (level == "subdistrict").any() else np.ones(len(level), dtype=bool)


def _subdistrict_of(area_geoms: np.ndarray, sub: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each point, whether a sub-district holds it and that area's row (0 where none)."""
    where = shapely.STRtree(area_geoms[sub]).query(points, predicate="intersects")
    area_of = pd.Series(np.flatnonzero(sub)[where[1]], index=where[0])
    area_of = area_of[~area_of.index.duplicated()].reindex(range(len(points)))
    return area_of.notna().to_numpy(), area_of.fillna(0).astype(int).to_numpy()


def _area_ids(layer: ZoneLayer, points: np.ndarray) -> np.ndarray:
    """The sub-district id of each point (metric CRS), None outside every one."""
    known, position = _subdistrict_of(_metric(layer.areas.geometry.to_numpy(), layer), _subdistricts(layer), points)
    return np.where(known, layer.areas["area_id"].to_numpy()[position], np.array(None, dtype=object))


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
    left, right = _pairs_sharing_area(zones, owner)
    shared = _threaded(shapely.intersection, zones[left], zones[right])
    area = shapely.area(shared)
    real = area > 0.01
    left, right, shared, area = left[real], right[real], shared[real], area[real]
    rank = layer.zone_rank
    first = np.where(rank[left] < rank[right], left, right)
    return gpd.GeoDataFrame({
        "zone_a": layer.zone_ids[left], "unit_a": owner_ids[owner[left]],
        "zone_b": layer.zone_ids[right], "unit_b": owner_ids[owner[right]],
        "area_m2": np.round(area, 2), "accountable_unit_id": owner_ids[owner[first]], "accountable_zone_id": layer.zone_ids[first],
        "area_id": _area_ids(layer, shapely.point_on_surface(shared)) if len(shared) else np.array([], dtype=object),
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
    at = _metric(points.geometry.to_numpy(), layer)
    out["area_id"] = _area_ids(layer, at) if len(points) else np.array([], dtype=object)
    out["candidate_unit_ids"], out["candidate_distances_m"] = _adopters(layer, at, ~adopted | ~covered)  # who could adopt it, or take its spot
    return out


def _adopters(layer: ZoneLayer, points: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each wanted point, the units whose zones lie within `ADOPT_RADIUS_M`, nearest first
    (at most `ADOPT_CANDIDATES`, ``;``-separated), and their distances in metres."""
    units_out = np.full(len(points), "", dtype=object)
    dists_out = np.full(len(points), "", dtype=object)
    index = np.flatnonzero(wanted)
    if not len(index) or not len(layer.zones):
        return units_out, dists_out
    owner_ids, owner = layer.units
    hit, zone = shapely.STRtree(layer.zone_metric).query(points[index], predicate="dwithin", distance=ADOPT_RADIUS_M)
    near = pd.DataFrame({"point": hit, "unit": owner_ids[owner[zone]], "m": shapely.distance(points[index][hit], layer.zone_metric[zone])})
    near = near.groupby(["point", "unit"], sort=False)["m"].min().reset_index().sort_values(["point", "m", "unit"])
    near = near.groupby("point").head(ADOPT_CANDIDATES)
    for point, rows in near.groupby("point"):
        units_out[index[point]] = ";".join(rows["unit"])
        dists_out[index[point]] = ";".join(f"{m:.0f}" for m in rows["m"])
    return units_out, dists_out


def _units(layer: ZoneLayer) -> pd.DataFrame:
    owner_ids, owner = layer.units
    zones = layer.zone_metric
    kind = layer.zones["kind"].to_numpy()
    frontage = kind == "frontage"
    length = np.zeros(len(zones))
    if frontage.any():  # the street side of a strip: the long side of its minimum rotated rectangle
        rect = shapely.oriented_envelope(zones[frontage])
        sides = np.zeros(len(rect))
        box = shapely.get_num_coordinates(rect) == 5  # a rectangle; degenerate strips are lines or points
        corners = shapely.get_coordinates(rect[box]).reshape(-1, 5, 2)
        sides[box] = np.maximum(np.hypot(*(corners[:, 1] - corners[:, 0]).T), np.hypot(*(corners[:, 2] - corners[:, 1]).T))
        sides[~box] = shapely.length(rect[~box])
        length[frontage] = sides
    frame = pd.DataFrame({"unit_id": owner_ids[owner], "area_m2": layer.zone_area_m2, "frontage_m": length})
    table = frame.groupby("unit_id").agg(zones=("area_m2", "size"), area_m2=("area_m2", "sum"), frontage_m=("frontage_m", "sum")).reset_index()
    adopted = layer.test_points["unit_id"].value_counts()
    table["test_points"] = table["unit_id"].map(adopted).fillna(0).astype(int)
    table["unit_name"] = [layer.unit_names.get(u, "") for u in table["unit_id"]]
    return table.round({"area_m2": 1, "frontage_m": 1})


def _district(layer: ZoneLayer) -> shapely.Geometry:
    """The district's outline (WGS84): its ``district`` area, else all areas together."""
    district = layer.areas[layer.areas["level"] == "district"]
    return shapely.union_all((district if len(district) else layer.areas).geometry.to_numpy())


def _per_area(layer: ZoneLayer, region: shapely.Geometry, covered: shapely.Geometry) -> pd.DataFrame:
    """Each area's whole size, the part of it in the analysed region (``scope_area_m2``), what
    zones cover there, the gap and the coverage ratio of that part."""
    geoms = _metric(layer.areas.geometry.to_numpy(), layer)
    whole = shapely.area(geoms)
    area = shapely.area(shapely.intersection(geoms, region))
    inside = shapely.area(shapely.intersection(geoms, covered))
    return pd.DataFrame({
        "area_id": layer.areas["area_id"].to_numpy(), "name": layer.areas["name"].to_numpy(), "level": layer.areas["level"].to_numpy(),
        "total_area_m2": np.round(whole, 1), "area_m2": np.round(area, 1), "covered_area_m2": np.round(inside, 1), "gap_area_m2": np.round(area - inside, 1),
        "coverage_ratio": np.round(np.divide(inside, area, out=np.zeros_like(area), where=area > 0), 4),
    })
