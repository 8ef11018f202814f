"""A city-like zone layer and points on it, generated independently of the demo generator.

The layer is meant to look like a real 责任区 layer rather than the project's own synthetic grid:

- blocks: a Voronoi tessellation of the district (seeds jittered on a grid) whose shared edges
  are densified and bent by one smooth displacement field, so that neighbours share their
  densely vertexed edges (median about 56 vertices a zone);
- street strips: 21 % of the zones, 10–30 m wide, laid along block edges and overlapping the
  blocks on both sides;
- special zones: 5 % stars (5–8 points) over blocks and streets;
- 10 % of the district's area left uncovered (whole blocks dropped);
- points: ``gap_share`` of them in the dropped blocks (outside every zone once streets and
  stars are accounted for, within sampling), the rest uniform over the covered blocks.

Everything is vectorised; 100k zones take a few seconds.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.crs import METRIC_CRS, STORAGE_CRS
from zones.enums import ZoneKind

STREET_SHARE = 0.21
STAR_SHARE = 0.05
UNCOVERED_SHARE = 0.10
TARGET_VERTICES = 56
_BEND_M = 1.5  # amplitude of the displacement field bending shared edges
_BEND_WAVE_M = 60.0
_BLOCK_DUTIES = np.array(["sanitation,order,greening", "sanitation,order,facilities", "sanitation,order,greening,facilities",
                          "sanitation,greening,facilities", "order"])
_BLOCK_DUTY_WEIGHTS = np.array([0.45, 0.25, 0.2, 0.07, 0.03])
_BLOCK_KINDS = np.array([ZoneKind.BLOCK.value, ZoneKind.RESIDENTIAL.value, ZoneKind.FRONTAGE.value, ZoneKind.PARK.value])
_BLOCK_KIND_WEIGHTS = np.array([0.45, 0.3, 0.2, 0.05])


def _bend(xy: np.ndarray) -> np.ndarray:
    """Move coordinates by a smooth field: the same place moves the same way in every polygon."""
    k = 2 * math.pi / _BEND_WAVE_M
    x, y = xy[:, 0], xy[:, 1]
    dx = _BEND_M * np.sin(k * y + 1.3) * np.cos(0.7 * k * x)
    dy = _BEND_M * np.sin(k * x + 0.4) * np.cos(0.8 * k * y)
    return np.column_stack([x + dx, y + dy])


def _stars(cx: np.ndarray, cy: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Star polygons (5–8 points, 20–80 m across) centred on the given points."""
    out = np.empty(len(cx), dtype=object)
    arms = rng.integers(5, 9, len(cx))
    outer = rng.uniform(10, 40, len(cx))
    turn = rng.uniform(0, 2 * math.pi, len(cx))
    for n in np.unique(arms):
        sel = np.flatnonzero(arms == n)
        angle = turn[sel, None] + np.arange(2 * n) * math.pi / n
        radius = outer[sel, None] * np.where(np.arange(2 * n) % 2 == 0, 1.0, 0.45)
        xs = cx[sel, None] + radius * np.cos(angle)
        ys = cy[sel, None] + radius * np.sin(angle)
        rings = np.stack([xs, ys], axis=2)
        out[sel] = shapely.polygons(np.concatenate([rings, rings[:, :1]], axis=1))
    return out


def city_zones(count: int, district: shapely.Geometry, *, seed: int = 0) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """About ``count`` zones (WGS84) over ``district`` (a WGS84 polygon), and the dropped blocks
    (metric polygons, the uncovered tenth) for placing points in gaps."""
    rng = np.random.default_rng(seed)
    district_m = gpd.GeoSeries([district], crs=STORAGE_CRS).to_crs(METRIC_CRS).iloc[0]
    blocks_wanted = count * (1 - STREET_SHARE - STAR_SHARE) / (1 - UNCOVERED_SHARE)
    side = math.sqrt(district_m.area / blocks_wanted)
    minx, miny, maxx, maxy = district_m.bounds
    gx, gy = np.meshgrid(np.arange(minx, maxx, side), np.arange(miny, maxy, side))
    seeds = np.column_stack([gx.ravel(), gy.ravel()]) + rng.uniform(-0.4 * side, 0.4 * side, (gx.size, 2))
    seeds = seeds[shapely.contains_xy(district_m, seeds[:, 0], seeds[:, 1])]
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=district_m))
    # Densify before clipping, so both sides of a shared edge get the same vertices.
    step = float(np.median(shapely.length(cells))) / (TARGET_VERTICES - 1)
    cells = shapely.segmentize(cells, step)
    cells = shapely.intersection(cells, district_m)
    cells = cells[np.isin(shapely.get_type_id(cells), [3, 6]) & (shapely.area(cells) > 1.0)]
    cells = shapely.transform(cells, _bend)
    cells = shapely.make_valid(cells)
    cells = cells[np.isin(shapely.get_type_id(cells), [3, 6])]
    dropped = rng.random(len(cells)) < UNCOVERED_SHARE
    blocks, gaps = cells[~dropped], cells[dropped]
    # Streets: block edges (between two kept blocks or along a gap) buffered 5–15 m each side.
    n_streets = round(count * STREET_SHARE)
    edges = shapely.get_parts(shapely.boundary(blocks))
    coords, which = shapely.get_coordinates(edges, return_index=True)
    starts = np.flatnonzero(np.r_[True, which[1:] != which[:-1]])
    pick = rng.integers(len(starts), size=n_streets)
    ring_len = np.diff(np.r_[starts, len(which)])[pick]
    first = starts[pick] + (rng.random(n_streets) * np.maximum(ring_len - 12, 1)).astype(np.int64)
    span = np.minimum(rng.integers(6, 12, n_streets), ring_len - 1)
    offset = np.arange(12)
    take = np.minimum(first[:, None] + np.minimum(offset[None, :], span[:, None]), starts[pick, None] + ring_len[:, None] - 1)
    lines = shapely.linestrings(coords[take])
    streets = shapely.buffer(lines, rng.uniform(5, 15, n_streets), cap_style="flat", quad_segs=2)
    # Stars over covered ground.
    n_stars = round(count * STAR_SHARE)
    centres = shapely.point_on_surface(blocks[rng.integers(len(blocks), size=n_stars)])
    stars = _stars(shapely.get_x(centres), shapely.get_y(centres), rng)
    geoms = np.concatenate([blocks, streets, stars])
    n_blocks, n = len(blocks), len(geoms)
    kind = np.concatenate([rng.choice(_BLOCK_KINDS, n_blocks, p=_BLOCK_KIND_WEIGHTS), np.full(n_streets, ZoneKind.ROAD.value),
                           np.full(n_stars, ZoneKind.PLAZA.value)])
    duties = np.concatenate([rng.choice(_BLOCK_DUTIES, n_blocks, p=_BLOCK_DUTY_WEIGHTS), np.full(n_streets, "sanitation,order,facilities"),
                             np.full(n_stars, "sanitation,order,greening,facilities")])
    priority = np.concatenate([rng.integers(0, 3, n_blocks), np.full(n_streets, 3), np.full(n_stars, 4)])
    units = rng.integers(1, max(10, count // 30) + 1, n)
    frame = gpd.GeoDataFrame(
        {
            "zone_id": pd.Series(np.arange(1, n + 1)).map("C{:07d}".format).to_numpy(dtype=object),
            "name": pd.Series(np.arange(1, n + 1)).map("城区责任区{}".format).to_numpy(dtype=object),
            "unit_id": pd.Series(units).map("CU{:05d}".format).to_numpy(dtype=object),
            "unit_name": pd.Series(units).map("城区责任单位{}".format).to_numpy(dtype=object),
            "duties": duties, "kind": kind, "priority": priority, "person": "", "post": "", "phone": "",
        },
        geometry=geoms, crs=METRIC_CRS,
    )
    return frame.to_crs(STORAGE_CRS), gaps


def city_points(zones: gpd.GeoDataFrame, gaps: np.ndarray, count: int, *, gap_share: float = 0.19, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``count`` WGS84 points: ``gap_share`` in the dropped blocks, the rest in the zones."""
    rng = np.random.default_rng(seed)
    in_gaps = round(count * gap_share)
    covered = zones.to_crs(METRIC_CRS).geometry.to_numpy()
    xy = np.concatenate([_uniform_in(gaps, in_gaps, rng), _uniform_in(covered, count - in_gaps, rng)])
    xy = xy[rng.permutation(count)]
    lonlat = gpd.GeoSeries(shapely.points(xy), crs=METRIC_CRS).to_crs(STORAGE_CRS)
    return lonlat.x.to_numpy(), lonlat.y.to_numpy()


def _uniform_in(polygons: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` metric points uniform over the union's area (polygons picked by area, then
    rejection sampling in their boxes)."""
    area = shapely.area(polygons)
    bounds = shapely.bounds(polygons)
    out = np.empty((0, 2))
    shapely.prepare(polygons)
    while len(out) < count:
        want = int((count - len(out)) * 1.6) + 16
        pick = rng.choice(len(polygons), want, p=area / area.sum())
        b = bounds[pick]
        x = rng.uniform(b[:, 0], b[:, 2])
        y = rng.uniform(b[:, 1], b[:, 3])
        inside = shapely.contains_xy(polygons[pick], x, y)
        out = np.concatenate([out, np.column_stack([x[inside], y[inside]])])
    return out[:count]
