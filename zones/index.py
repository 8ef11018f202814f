"""A uniform-grid spatial index for points against polygons, in lon/lat.

Routing asks one question millions of times: which polygons hold, or lie near, this point?
A tree (STRtree) answers it from point geometries; creating a million shapely points alone
costs more than the whole routing budget. The grid answers it from raw coordinate arrays:
each cell lists the polygons whose bounding box (widened by a margin) reaches it, and — for
an unwidened grid — whether the polygon covers the whole cell, so most points need no exact
test at all. Everything is numpy over index pairs.

Notes
-----
Cells are in degrees; margins are given in metres and widened conservatively into degrees, so a
candidate list is always a superset of the polygons within that many metres. Exact distances
are the caller's business (in the metric CRS).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from zones import kernels

# Conservative metres per degree: a margin converted with these is never too small.
_M_PER_DEG_LAT = 110_000.0
_M_PER_DEG_LON_EQUATOR = 111_320.0
_MAX_CELLS = 8_000_000

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


def metres_to_degrees(metres: float | FloatArray, max_lat: float) -> tuple[FloatArray, FloatArray]:
    """Widen ``metres`` into (lon, lat) degrees, never too small for latitudes up to ``max_lat``."""
    cos_lat = max(math.cos(math.radians(min(abs(max_lat), 89.0))), 1e-6)
    m = np.asarray(metres, dtype=np.float64)
    return m / (_M_PER_DEG_LON_EQUATOR * cos_lat * 0.999), m / _M_PER_DEG_LAT


@dataclass(frozen=True)
class Grid:
    """A regular grid of ``nx`` × ``ny`` cells of ``dx`` × ``dy`` degrees from ``(x0, y0)``."""

    x0: float
    y0: float
    dx: float
    dy: float
    nx: int
    ny: int

    @classmethod
    def covering(cls, bounds: tuple[float, float, float, float], cell_m: float, *, margin_m: float = 0.0) -> Grid:
        """A grid over ``bounds`` (lon/lat) grown by ``margin_m`` metres on every side, with cells of
        about ``cell_m`` metres, capped in count.

        An index answering "what lies within r metres of this point" needs ``margin_m >= r``: a
        point up to r metres beyond the items' extent must still fall in a cell.
        """
        if margin_m > 0:
            mx, my = metres_to_degrees(margin_m, max(abs(bounds[1]), abs(bounds[3])))
            bounds = (bounds[0] - float(mx), bounds[1] - float(my), bounds[2] + float(mx), bounds[3] + float(my))
        minx, miny, maxx, maxy = bounds
        mid_lat = (miny + maxy) / 2.0
        dx = cell_m / (111_320.0 * math.cos(math.radians(mid_lat)))
        dy = cell_m / 110_950.0
        nx = max(1, math.ceil((maxx - minx) / dx) + 1)
        ny = max(1, math.ceil((maxy - miny) / dy) + 1)
        if nx * ny > _MAX_CELLS:
            scale = math.sqrt(nx * ny / _MAX_CELLS)
            return cls.covering(bounds, cell_m * scale * 1.01)  # bounds already grown
        return cls(minx, miny, dx, dy, nx, ny)

    @property
    def cells(self) -> int:
        """Number of cells."""
        return self.nx * self.ny

    def cell_of(self, x: FloatArray, y: FloatArray) -> IntArray:
        """The cell of each point, or -1 outside the grid (or for NaN)."""
        with np.errstate(invalid="ignore"):
            fx = np.floor((x - self.x0) / self.dx)
            fy = np.floor((y - self.y0) / self.dy)
            ok = (fx >= 0) & (fx < self.nx) & (fy >= 0) & (fy < self.ny)
        cell = np.full(len(x), -1, dtype=np.int64)
        cell[ok] = fy[ok].astype(np.int64) * self.nx + fx[ok].astype(np.int64)
        return cell

    def as_array(self, max_lat: float) -> FloatArray:
        """``x0, y0, dx, dy, nx, ny`` and degrees per metre (lon, lat) for the kernels."""
        kx, ky = metres_to_degrees(1.0, max_lat)
        return np.array([self.x0, self.y0, self.dx, self.dy, self.nx, self.ny, float(kx), float(ky)], dtype=np.float64)

    def cell_boxes(self, cells: IntArray) -> NDArray[np.object_]:
        """Polygons of the given cells."""
        ix, iy = cells % self.nx, cells // self.nx
        x0 = self.x0 + ix * self.dx
        y0 = self.y0 + iy * self.dy
        return shapely.box(x0, y0, x0 + self.dx, y0 + self.dy)


_CLASSIFY_CHUNK = 100_000  # cell boxes alive at once: bounds the temporary GEOS memory


def _classify(geoms: NDArray[np.object_], ids: IntArray, grid: Grid, cells: IntArray, items: IntArray) -> tuple[IntArray, IntArray, NDArray[np.bool_]]:
    """Keep the (cell, polygon) pairs whose polygon meets the cell; flag those it covers whole."""
    shapely.prepare(geoms[ids])
    keep = np.zeros(len(items), dtype=bool)
    covers = np.zeros(len(items), dtype=bool)
    for start in range(0, len(items), _CLASSIFY_CHUNK):
        part = slice(start, start + _CLASSIFY_CHUNK)
        boxes = grid.cell_boxes(cells[part])
        polygons = geoms[items[part]]
        hit = np.flatnonzero(shapely.intersects(polygons, boxes))
        keep[start + hit] = True
        covers[start + hit] = shapely.covers(polygons[hit], boxes[hit])
    return cells[keep], items[keep], covers[keep]


class GridIndex:
    """Cell → polygon lists (CSR), built once per layer.

    Parameters
    ----------
    geoms
        Polygons (or points) in lon/lat; ``None`` or empty entries are never returned.
    grid
        The grid to bucket them in.
    margin_m
        Widen each bounding box by this many metres: the cell's list then holds every polygon
        within that distance of any point of the cell (a superset).
    classify
        Only for ``margin_m == 0``: drop pairs whose polygon misses the cell, and flag pairs
        whose polygon covers the whole cell (points there need no exact test).

    Attributes
    ----------
    offsets, items, covers
        Cell ``c`` lists ``items[offsets[c]:offsets[c + 1]]``; ``covers`` flags each pair.
    """

    def __init__(self, geoms: NDArray[np.object_], grid: Grid, *, margin_m: float = 0.0, classify: bool = False) -> None:
        self.grid = grid
        self.margin_m = margin_m
        valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        ids = np.flatnonzero(valid)
        bounds = shapely.bounds(geoms[ids]) if len(ids) else np.empty((0, 4))
        if margin_m > 0 and len(ids):
            mx, my = metres_to_degrees(margin_m, max(abs(bounds[:, 1]).max(), abs(bounds[:, 3]).max()))
            bounds = bounds + np.array([-mx, -my, mx, my])
        ix0 = np.clip(np.floor((bounds[:, 0] - grid.x0) / grid.dx), 0, grid.nx - 1).astype(np.int64)
        iy0 = np.clip(np.floor((bounds[:, 1] - grid.y0) / grid.dy), 0, grid.ny - 1).astype(np.int64)
        ix1 = np.clip(np.floor((bounds[:, 2] - grid.x0) / grid.dx), 0, grid.nx - 1).astype(np.int64)
        iy1 = np.clip(np.floor((bounds[:, 3] - grid.y0) / grid.dy), 0, grid.ny - 1).astype(np.int64)
        width = ix1 - ix0 + 1
        counts = width * (iy1 - iy0 + 1)
        owner = np.repeat(np.arange(len(ids)), counts)
        k = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        cells = (iy0[owner] + k // width[owner]) * grid.nx + ix0[owner] + k % width[owner]
        items = ids[owner]
        covers = np.zeros(len(items), dtype=bool)
        if classify and len(items):
            cells, items, covers = _classify(geoms, ids, grid, cells, items)
        order = np.argsort(cells, kind="stable")
        self.items = items[order].astype(np.int64)
        self.covers = covers[order]
        self.pair_cells = cells[order]
        self.offsets = np.zeros(grid.cells + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.pair_cells, minlength=grid.cells), out=self.offsets[1:])

    def pairs(self, x: FloatArray, y: FloatArray) -> tuple[IntArray, IntArray, NDArray[np.bool_]]:
        """Candidate ``(point index, polygon index, polygon covers the point's cell)`` pairs."""
        cell = self.grid.cell_of(x, y)
        inside = cell >= 0
        start = np.where(inside, self.offsets[np.where(inside, cell, 0)], 0)
        count = np.where(inside, self.offsets[np.where(inside, cell + 1, 0)] - start, 0)
        total = int(count.sum())
        point = np.repeat(np.arange(len(x)), count)
        pos = np.arange(total) - np.repeat(np.cumsum(count) - count, count) + np.repeat(start, count)
        return point, self.items[pos], self.covers[pos]

    def __len__(self) -> int:
        return len(self.items)


class Segments:
    """The boundary segments of polygons, grouped by polygon (CSR), for compiled point tests.

    Segment ``k`` runs from ``(x0[k], y0[k])`` to ``(x1[k], y1[k])``; polygon ``p`` owns
    segments ``offsets[p]`` to ``offsets[p + 1]``. Points (and empty geometries) own none.
    """

    def __init__(self, geoms: NDArray[np.object_]) -> None:
        polygonal = np.isin(shapely.get_type_id(geoms), [3, 6])
        lines, owner = shapely.get_parts(shapely.boundary(np.where(polygonal, geoms, np.array(None, dtype=object))), return_index=True)
        coords, line = shapely.get_coordinates(lines, return_index=True)
        same = np.flatnonzero(line[1:] == line[:-1])
        polygon = owner[line[same]]
        order = np.argsort(polygon, kind="stable")
        start, end = coords[same][order], coords[same + 1][order]
        self.x0, self.y0 = np.ascontiguousarray(start[:, 0]), np.ascontiguousarray(start[:, 1])
        self.x1, self.y1 = np.ascontiguousarray(end[:, 0]), np.ascontiguousarray(end[:, 1])
        self.offsets = np.zeros(len(geoms) + 1, dtype=np.int64)
        np.cumsum(np.bincount(polygon, minlength=len(geoms)), out=self.offsets[1:])

    @property
    def arrays(self) -> tuple[IntArray, FloatArray, FloatArray, FloatArray, FloatArray]:
        """``offsets, x0, y0, x1, y1``, as the kernels take them."""
        return self.offsets, self.x0, self.y0, self.x1, self.y1

    def contains(self, polygons: IntArray, x: FloatArray, y: FloatArray, covers: NDArray[np.bool_] | None = None) -> NDArray[np.int8]:
        """Per pair: `kernels.INSIDE`, `OUTSIDE` or `UNDECIDED` (on a boundary, or too close)."""
        flags = np.zeros(len(polygons), dtype=bool) if covers is None else covers
        return kernels.points_in_polygons(x, y, polygons, flags, *self.arrays)


class CellSegments:
    """For each pair of a classified `GridIndex` whose polygon does not cover the cell whole:
    the polygon's boundary segments that reach the cell, and where the cell's centre lies.

    A point is then tested against only the few segments in its cell: it is inside exactly when
    the centre is inside and the segment from the centre to the point crosses the boundary an
    even number of times, or the centre is outside and it crosses an odd number of times (see
    `kernels.from_centre`). Distances within a radius need only the segments of the cells the
    radius reaches.

    Attributes
    ----------
    offsets, segments
        Pair ``q`` (a position in the index's ``items``) owns ``segments[offsets[q]:offsets[q + 1]]``
        (indices into the `Segments` the lists were built from; none for covering pairs).
    centre
        Per pair: `kernels.INSIDE` or `OUTSIDE` for the cell's centre, `kernels.UNDECIDED` when
        it lies on the boundary (then the pair is tested against the whole polygon).
    bounds
        Per pair: ``minx, miny, maxx, maxy`` of its segments (NaN for pairs without any).
    """

    def __init__(self, index: GridIndex, segments: Segments, geoms: NDArray[np.object_]) -> None:
        grid = index.grid.as_array(0.0)
        seg, cell = kernels.segment_cells(segments.x0, segments.y0, segments.x1, segments.y1, grid)
        polygon = np.repeat(np.arange(len(segments.offsets) - 1), np.diff(segments.offsets))[seg]
        n = np.int64(len(segments.offsets))
        keys = cell * n + polygon
        order = np.argsort(keys, kind="stable")
        keys, seg = keys[order], seg[order]
        pair_keys = index.pair_cells * n + index.items  # sorted: cells in order, polygons ascending within a cell
        partial = pair_keys[~index.covers]
        at = np.minimum(np.searchsorted(partial, keys), max(len(partial) - 1, 0))
        kept = (partial[at] == keys) if len(partial) else np.zeros(len(keys), dtype=bool)
        self.segments = seg[kept].astype(np.int32 if len(segments.x0) < 2**31 else np.int64)
        self.offsets = np.append(np.searchsorted(keys[kept], pair_keys), len(self.segments)).astype(np.int64)
        self.bounds = np.full((len(pair_keys), 4), np.nan)
        owned = np.flatnonzero(np.diff(self.offsets) > 0)
        if len(owned):
            at = self.offsets[owned]
            for k, (a, b, reduce) in enumerate(((segments.x0, segments.x1, np.minimum), (segments.y0, segments.y1, np.minimum),
                                                 (segments.x0, segments.x1, np.maximum), (segments.y0, segments.y1, np.maximum))):
                self.bounds[owned, k] = reduce.reduceat(reduce(a[self.segments], b[self.segments]), at)
        self.centre = np.full(len(pair_keys), kernels.INSIDE, dtype=np.int8)
        q = np.flatnonzero(~index.covers)
        if len(q):
            cells = index.pair_cells[q]
            cx = grid[0] + (cells % index.grid.nx + 0.5) * grid[2]
            cy = grid[1] + (cells // index.grid.nx + 0.5) * grid[3]
            inside = shapely.contains_xy(geoms[index.items[q]], cx, cy)
            touches = ~inside & shapely.intersects_xy(geoms[index.items[q]], cx, cy)
            self.centre[q] = np.where(touches, kernels.UNDECIDED, np.where(inside, kernels.INSIDE, kernels.OUTSIDE))

    @property
    def arrays(self) -> tuple[IntArray, NDArray[np.integer], NDArray[np.int8]]:
        """``offsets, segments, centre``, as the kernels take them."""
        return self.offsets, self.segments, self.centre
