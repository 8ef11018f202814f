"""Compiled inner loops of the router (numba), over plain arrays.

Each kernel runs one loop over points (or point–polygon pairs) in parallel; the geometry is
given as boundary segments grouped by polygon (CSR ``seg_offsets``) and the spatial index as
grid CSR arrays. They decide nothing on their own: the router (`zones.router`) states the
rules and calls these for the arithmetic.

Point-in-polygon answers are exact or explicitly undecided: an orientation too close to zero
to trust in floating point (a point on, or within rounding of, a boundary) returns
``UNDECIDED`` and the caller asks GEOS, whose predicates are robust.
"""

from __future__ import annotations

import math

import numba
import numpy as np

INSIDE = 1
OUTSIDE = 0
UNDECIDED = -1
# Shewchuk's error bound for the orientation determinant evaluated in doubles.
_CCW_ERRBOUND = 3.3306690738754716e-16


@numba.njit(cache=True, nogil=True)
def _point_in_polygon(px: float, py: float, s0: int, s1: int,
                      x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray) -> int:  # pragma: no cover - compiled
    inside = False
    for k in range(s0, s1):
        ax, ay, bx, by = x0[k], y0[k], x1[k], y1[k]
        straddles = (ay > py) != (by > py)
        near = min(ax, bx) <= px <= max(ax, bx) and min(ay, by) <= py <= max(ay, by)
        if not (straddles or near):
            continue
        detl = (bx - ax) * (py - ay)
        detr = (by - ay) * (px - ax)
        det = detl - detr
        if abs(det) <= _CCW_ERRBOUND * (abs(detl) + abs(detr)) and near:
            return UNDECIDED  # on the boundary, or too close to tell
        if straddles:
            if abs(det) <= _CCW_ERRBOUND * (abs(detl) + abs(detr)):
                return UNDECIDED
            if (det > 0.0) == (by > ay):
                inside = not inside
    return INSIDE if inside else OUTSIDE


@numba.njit(cache=True, nogil=True)
def _cell(lon: float, lat: float, grid: np.ndarray) -> int:  # pragma: no cover - compiled
    """The grid cell of a point (grid: x0, y0, dx, dy, nx, ny, ...), or -1 outside it."""
    ix = int(math.floor((lon - grid[0]) / grid[2]))
    iy = int(math.floor((lat - grid[1]) / grid[3]))
    if ix < 0 or iy < 0 or ix >= int(grid[4]) or iy >= int(grid[5]):
        return -1
    return iy * int(grid[4]) + ix


@numba.njit(cache=True, nogil=True)
def _side(ax: float, ay: float, bx: float, by: float, cx: float, cy: float) -> int:  # pragma: no cover - compiled
    """The side of line a→b that c lies on: 1 left, -1 right, 0 on it or too close to tell."""
    detl = (bx - ax) * (cy - ay)
    detr = (by - ay) * (cx - ax)
    det = detl - detr
    if abs(det) <= _CCW_ERRBOUND * (abs(detl) + abs(detr)):
        return 0
    return 1 if det > 0.0 else -1


@numba.njit(cache=True, nogil=True)
def from_centre(px: float, py: float, cx: float, cy: float, centre: int, s0: int, s1: int, segments: np.ndarray,
                x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray) -> int:  # pragma: no cover - compiled
    """Point-in-polygon from a reference point (a cell's centre) whose state ``centre`` is known,
    testing only ``segments[s0:s1]``, the boundary segments in the cell: each proper crossing of
    the segment centre→point flips the state. A crossing through a vertex, or a point on or
    within rounding of the boundary, is ``UNDECIDED``."""
    flips = 0
    lo_x, hi_x, lo_y, hi_y = min(px, cx), max(px, cx), min(py, cy), max(py, cy)
    for q in range(s0, s1):
        k = segments[q]
        ax, ay, bx, by = x0[k], y0[k], x1[k], y1[k]
        if max(ax, bx) < lo_x or min(ax, bx) > hi_x or max(ay, by) < lo_y or min(ay, by) > hi_y:
            continue
        sa, sb = _side(cx, cy, px, py, ax, ay), _side(cx, cy, px, py, bx, by)
        if sa * sb > 0:
            continue
        sc, sp = _side(ax, ay, bx, by, cx, cy), _side(ax, ay, bx, by, px, py)
        if sc * sp > 0:
            continue
        if sa == 0 or sb == 0 or sc == 0 or sp == 0:
            return UNDECIDED
        flips += 1
    return centre if flips % 2 == 0 else INSIDE + OUTSIDE - centre


@numba.njit(cache=True, nogil=True, inline="always")
def _segment_distance2(px: float, py: float, ax: float, ay: float, bx: float, by: float) -> float:  # pragma: no cover - compiled
    """Squared distance from a point to the segment from (ax, ay) to (bx, by)."""
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = 0.0
    if length2 > 0.0:
        t = min(max(((px - ax) * dx + (py - ay) * dy) / length2, 0.0), 1.0)
    ex, ey = px - (ax + t * dx), py - (ay + t * dy)
    return ex * ex + ey * ey


@numba.njit(cache=True, nogil=True)
def _segments_distance(px: float, py: float, limit: float, s0: int, s1: int, segments: np.ndarray,
                       x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray) -> float:  # pragma: no cover - compiled
    """Distance from a point to the nearest of ``segments[s0:s1]``, or inf when none is within
    ``limit``."""
    best = np.inf
    for q in range(s0, s1):
        k = segments[q]
        ax, ay, bx, by = x0[k], y0[k], x1[k], y1[k]
        if min(ax, bx) - px > limit or px - max(ax, bx) > limit or min(ay, by) - py > limit or py - max(ay, by) > limit:
            continue
        best = min(best, _segment_distance2(px, py, ax, ay, bx, by))
    return math.sqrt(best)


@numba.njit(cache=True, nogil=True)
def segment_cells(x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray,
                  grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """``(segment, cell)`` for every grid cell each segment may reach: a superset, from the cells
    its bounding box spans (as `_cell` places points), less, for a segment spanning more than
    two cells either way, the cells its line clearly misses. Not parallel: it runs while a layer
    is warmed, before a server forks."""
    gx0, gy0, gdx, gdy, nx, ny = grid[0], grid[1], grid[2], grid[3], int(grid[4]), int(grid[5])
    n = len(x0)
    counts = np.zeros(n, dtype=np.int64)
    seg = np.empty(0, dtype=np.int64)
    cell = np.empty(0, dtype=np.int64)
    for fill in range(2):
        if fill:
            total = counts.sum()
            seg = np.empty(total, dtype=np.int64)
            cell = np.empty(total, dtype=np.int64)
            at = 0
        for k in range(n):
            ax, ay, bx, by = x0[k], y0[k], x1[k], y1[k]
            ix0 = min(max(int(math.floor((min(ax, bx) - gx0) / gdx)), 0), nx - 1)
            ix1 = min(max(int(math.floor((max(ax, bx) - gx0) / gdx)), 0), nx - 1)
            iy0 = min(max(int(math.floor((min(ay, by) - gy0) / gdy)), 0), ny - 1)
            iy1 = min(max(int(math.floor((max(ay, by) - gy0) / gdy)), 0), ny - 1)
            long = ix1 - ix0 > 1 or iy1 - iy0 > 1
            slack = 1e-6 * (gdx + gdy) * (abs(bx - ax) + abs(by - ay))
            for iy in range(iy0, iy1 + 1):
                for ix in range(ix0, ix1 + 1):
                    if long:
                        # Corners of the cell, widened by a millionth of a cell: all clearly on one side?
                        left, right = gx0 + (ix - 1e-6) * gdx, gx0 + (ix + 1 + 1e-6) * gdx
                        bottom, top = gy0 + (iy - 1e-6) * gdy, gy0 + (iy + 1 + 1e-6) * gdy
                        above = below = 0
                        for cx, cy in ((left, bottom), (right, bottom), (left, top), (right, top)):
                            det = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
                            if det > slack:
                                above += 1
                            elif det < -slack:
                                below += 1
                        if above == 4 or below == 4:
                            continue
                    if fill:
                        seg[at] = k
                        cell[at] = iy * nx + ix
                        at += 1
                    else:
                        counts[k] += 1
    return seg, cell


@numba.njit(parallel=True, cache=True, nogil=True)
def points_in_polygons(px: np.ndarray, py: np.ndarray, polygon: np.ndarray, covers: np.ndarray, seg_offsets: np.ndarray,
                       x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """Per pair: ``INSIDE``, ``OUTSIDE`` or ``UNDECIDED`` (pairs flagged ``covers`` are inside)."""
    out = np.empty(len(px), dtype=np.int8)
    for i in numba.prange(len(px)):
        if covers[i]:
            out[i] = INSIDE
        else:
            p = polygon[i]
            out[i] = _point_in_polygon(px[i], py[i], seg_offsets[p], seg_offsets[p + 1], x0, y0, x1, y1)
    return out


@numba.njit(cache=True, nogil=True, inline="always")
def _covering_at(px: float, py: float, bit: int, grid: np.ndarray,
                 cell_offsets: np.ndarray, cell_items: np.ndarray, cell_covers: np.ndarray,
                 pair_offsets: np.ndarray, pair_segments: np.ndarray, pair_centre: np.ndarray,
                 zone_owner: np.ndarray, zone_duty: np.ndarray, zone_rank: np.ndarray,
                 seg_offsets: np.ndarray, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray,
                 found: np.ndarray) -> tuple[int, int, bool, bool, int]:  # pragma: no cover - compiled
    """`covering` for one point: ``best_duty, best_any, several, undecided, count``, the zones
    written into ``found`` (as many as it holds)."""
    best_duty = -1
    best_any = -1
    several = False
    undecided = False
    count = 0
    cell = _cell(px, py, grid)
    if cell < 0:
        return best_duty, best_any, several, undecided, count
    slots = len(found)
    owner = -1
    nx = int(grid[4])
    cx = grid[0] + (cell % nx + 0.5) * grid[2]
    cy = grid[1] + (cell // nx + 0.5) * grid[3]
    for q in range(cell_offsets[cell], cell_offsets[cell + 1]):
        z = cell_items[q]
        state = INSIDE
        if cell_covers[q]:
            pass
        elif pair_centre[q] != UNDECIDED:
            state = from_centre(px, py, cx, cy, pair_centre[q], pair_offsets[q], pair_offsets[q + 1], pair_segments, x0, y0, x1, y1)
        else:
            state = _point_in_polygon(px, py, seg_offsets[z], seg_offsets[z + 1], x0, y0, x1, y1)
        if state == UNDECIDED:
            undecided = True
            continue
        if state == OUTSIDE:
            continue
        if count < slots:
            found[count] = z
        count += 1
        if best_any < 0 or zone_rank[z] < zone_rank[best_any]:
            best_any = z
        if bit >= 0 and (zone_duty[z] >> bit) & 1 == 1:
            if owner >= 0 and zone_owner[z] != owner:
                several = True
            owner = zone_owner[z]
            if best_duty < 0 or zone_rank[z] < zone_rank[best_duty]:
                best_duty = z
    return best_duty, best_any, several, undecided, count


@numba.njit(parallel=True, cache=True, nogil=True)
def covering(rows: np.ndarray, lon: np.ndarray, lat: np.ndarray, duty: np.ndarray, grid: np.ndarray,
             cell_offsets: np.ndarray, cell_items: np.ndarray, cell_covers: np.ndarray,
             pair_offsets: np.ndarray, pair_segments: np.ndarray, pair_centre: np.ndarray,
             zone_owner: np.ndarray, zone_duty: np.ndarray, zone_rank: np.ndarray,
             seg_offsets: np.ndarray, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray, slots: int,
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """For each row: the best zone (lowest rank) covering its point that holds its duty, the best
    covering zone of any duty, whether covering duty zones belong to several owners, whether
    some point-in-zone test was undecided (then the caller decides the row exactly), and the
    zones covering it: up to ``slots`` of them, left-aligned and padded with -1, and how many.

    A zone that only partly covers the point's cell is tested against its segments in the cell
    (``pair_*``: `zones.index.CellSegments`), or, when the cell's centre is on its boundary,
    against all of them."""
    m = len(rows)
    best_duty = np.full(m, -1, dtype=np.int64)
    best_any = np.full(m, -1, dtype=np.int64)
    several = np.zeros(m, dtype=np.bool_)
    undecided = np.zeros(m, dtype=np.bool_)
    found = np.full((m, slots), -1, dtype=np.int64)
    count = np.zeros(m, dtype=np.int64)
    for j in numba.prange(m):
        i = rows[j]
        d, a, s, u, c = _covering_at(lon[i], lat[i], duty[i], grid, cell_offsets, cell_items, cell_covers, pair_offsets, pair_segments,
                                     pair_centre, zone_owner, zone_duty, zone_rank, seg_offsets, x0, y0, x1, y1, found[j])
        best_duty[j], best_any[j], several[j], undecided[j], count[j] = d, a, s, u, c
    return best_duty, best_any, several, undecided, found, count


@numba.njit(cache=True, nogil=True, inline="always")
def _first_covering_at(px: float, py: float, grid: np.ndarray,
                       cell_offsets: np.ndarray, cell_items: np.ndarray, cell_covers: np.ndarray,
                       pair_offsets: np.ndarray, pair_segments: np.ndarray, pair_centre: np.ndarray, order: np.ndarray,
                       x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray) -> tuple[int, bool]:  # pragma: no cover - compiled
    """`first_covering` for one point."""
    best = -1
    undecided = False
    cell = _cell(px, py, grid)
    if cell < 0:
        return best, undecided
    nx = int(grid[4])
    cx = grid[0] + (cell % nx + 0.5) * grid[2]
    cy = grid[1] + (cell // nx + 0.5) * grid[3]
    for q in range(cell_offsets[cell], cell_offsets[cell + 1]):
        p = cell_items[q]
        if best >= 0 and order[p] >= order[best]:
            continue
        state = INSIDE
        if cell_covers[q]:
            pass
        elif pair_centre[q] == UNDECIDED:
            state = UNDECIDED
        else:
            state = from_centre(px, py, cx, cy, pair_centre[q], pair_offsets[q], pair_offsets[q + 1], pair_segments, x0, y0, x1, y1)
        if state == UNDECIDED:
            undecided = True
        elif state == INSIDE:
            best = p
    return best, undecided


@numba.njit(parallel=True, cache=True, nogil=True)
def first_covering(rows: np.ndarray, lon: np.ndarray, lat: np.ndarray, grid: np.ndarray,
                   cell_offsets: np.ndarray, cell_items: np.ndarray, cell_covers: np.ndarray,
                   pair_offsets: np.ndarray, pair_segments: np.ndarray, pair_centre: np.ndarray, order: np.ndarray,
                   x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """For each row, the polygon of lowest ``order`` covering its point (tested against the
    polygons' segments in its cell: `zones.index.CellSegments`), and whether a test that could
    change the answer was undecided (then the caller decides the row exactly)."""
    m = len(rows)
    best = np.full(m, -1, dtype=np.int64)
    undecided = np.zeros(m, dtype=np.bool_)
    for j in numba.prange(m):
        i = rows[j]
        b, u = _first_covering_at(lon[i], lat[i], grid, cell_offsets, cell_items, cell_covers, pair_offsets, pair_segments, pair_centre,
                                  order, x0, y0, x1, y1)
        best[j], undecided[j] = b, u
    return best, undecided


@numba.njit(cache=True, nogil=True)
def cell_order(rows: np.ndarray, lon: np.ndarray, lat: np.ndarray, grid: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """``rows`` ordered by runs of 16 grid cells along a row of the grid (rows outside the grid
    first): a counting sort, with a table 16 times smaller than the grid."""
    cells = np.empty(len(rows), dtype=np.int64)
    starts = np.zeros((int(grid[4]) * int(grid[5]) >> 4) + 3, dtype=np.int64)
    for j in range(len(rows)):
        cells[j] = (_cell(lon[rows[j]], lat[rows[j]], grid) + 1) >> 4
        starts[cells[j] + 1] += 1
    for c in range(1, len(starts)):
        starts[c] += starts[c - 1]
    out = np.empty_like(rows)
    for j in range(len(rows)):
        out[starts[cells[j]]] = rows[j]
        starts[cells[j]] += 1
    return out


@numba.njit(cache=True, nogil=True)
def _boundary_distance(px: float, py: float, s0: int, s1: int,
                       x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray) -> float:  # pragma: no cover - compiled
    best = np.inf
    for k in range(s0, s1):
        best = min(best, _segment_distance2(px, py, x0[k], y0[k], x1[k], y1[k]))
    return math.sqrt(best)


@numba.njit(cache=True, nogil=True, inline="always")
def _near_any_at(px: float, py: float, r: float, bit: int, own: int, also_owners: np.ndarray,
                 grid: np.ndarray, cell_offsets: np.ndarray, cell_items: np.ndarray, cell_covers: np.ndarray,
                 pair_offsets: np.ndarray, pair_segments: np.ndarray, pair_bounds: np.ndarray, zone_owner: np.ndarray, zone_duty: np.ndarray,
                 x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray) -> bool:  # pragma: no cover - compiled
    """`near_any` for one point, the owners covering it being ``own`` and ``also_owners``."""
    gx0, gy0, gdx, gdy, nx, ny, kx, ky = grid[0], grid[1], grid[2], grid[3], int(grid[4]), int(grid[5]), grid[6], grid[7]
    rx, ry = r * kx, r * ky
    lo_x, hi_x, lo_y, hi_y = px - rx, px + rx, py - ry, py + ry
    ix0 = max(int(math.floor((lo_x - gx0) / gdx)), 0)
    ix1 = min(int(math.floor((hi_x - gx0) / gdx)), nx - 1)
    iy0 = max(int(math.floor((lo_y - gy0) / gdy)), 0)
    iy1 = min(int(math.floor((hi_y - gy0) / gdy)), ny - 1)
    for iy in range(iy0, iy1 + 1):
        for ix in range(ix0, ix1 + 1):
            cell = iy * nx + ix
            for q in range(cell_offsets[cell], cell_offsets[cell + 1]):
                z = cell_items[q]
                if cell_covers[q] or (zone_duty[z] >> bit) & 1 == 0 or zone_owner[z] == own:
                    continue
                if pair_bounds[q, 0] > hi_x or pair_bounds[q, 2] < lo_x or pair_bounds[q, 1] > hi_y or pair_bounds[q, 3] < lo_y:
                    continue
                covering = False
                for c in range(len(also_owners)):
                    if also_owners[c] == zone_owner[z]:
                        covering = True
                if covering:
                    continue
                for t in range(pair_offsets[q], pair_offsets[q + 1]):
                    k = pair_segments[t]
                    if min(x0[k], x1[k]) <= hi_x and max(x0[k], x1[k]) >= lo_x and min(y0[k], y1[k]) <= hi_y and max(y0[k], y1[k]) >= lo_y:
                        return True
    return False


@numba.njit(parallel=True, cache=True, nogil=True)
def near_any(rows: np.ndarray, lon: np.ndarray, lat: np.ndarray, radius: np.ndarray, duty: np.ndarray,
             own: np.ndarray, also_start: np.ndarray, also_end: np.ndarray, also_owners: np.ndarray,
             grid: np.ndarray, cell_offsets: np.ndarray, cell_items: np.ndarray, cell_covers: np.ndarray,
             pair_offsets: np.ndarray, pair_segments: np.ndarray, pair_bounds: np.ndarray, zone_owner: np.ndarray, zone_duty: np.ndarray,
             x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """Whether a boundary segment (lon/lat) of a zone `zones_near` would measure reaches the box of
    ``radius`` metres, widened into degrees as the grid does, around each row's point. Rows where
    none does are near no such zone and need no metric place; the arguments are `zones_near`'s,
    and ``pair_bounds`` the bounds of each pair's segments."""
    m = len(rows)
    out = np.zeros(m, dtype=np.bool_)
    for j in numba.prange(m):
        i = rows[j]
        out[j] = _near_any_at(lon[i], lat[i], radius[i], duty[i], own[i], also_owners[also_start[i]:also_end[i]], grid, cell_offsets, cell_items,
                              cell_covers, pair_offsets, pair_segments, pair_bounds, zone_owner, zone_duty, x0, y0, x1, y1)
    return out


@numba.njit(cache=True, nogil=True, inline="always")
def _zones_near_at(px: float, py: float, x: float, y: float, r: float, bit: int, own: int, also_owners: np.ndarray,
                   grid: np.ndarray, cell_offsets: np.ndarray, cell_items: np.ndarray, cell_covers: np.ndarray,
                   pair_offsets: np.ndarray, pair_segments: np.ndarray, pair_bounds: np.ndarray,
                   zone_owner: np.ndarray, zone_duty: np.ndarray, zone_rank: np.ndarray, zone_bounds: np.ndarray,
                   x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray,
                   owners: np.ndarray, keys: np.ndarray, metres: np.ndarray) -> tuple[int, int, float]:  # pragma: no cover - compiled
    """`zones_near` for one point (lon/lat ``px, py``, metric ``x, y``), the owners covering it
    being ``own`` and ``also_owners``: fills ``owners``, ``keys`` and ``metres`` (padded with -1,
    the largest key, inf) and returns the count of owners, the nearest zone and its distance."""
    slots = len(owners)
    count = 0
    nearest = -1
    nearest_m = np.inf
    gx0, gy0, gdx, gdy, nx, ny, kx, ky = grid[0], grid[1], grid[2], grid[3], int(grid[4]), int(grid[5]), grid[6], grid[7]
    zones_plus = len(zone_owner) + 1
    rx, ry = r * kx, r * ky
    ix0 = max(int(math.floor((px - rx - gx0) / gdx)), 0)
    ix1 = min(int(math.floor((px + rx - gx0) / gdx)), nx - 1)
    iy0 = max(int(math.floor((py - ry - gy0) / gdy)), 0)
    iy1 = min(int(math.floor((py + ry - gy0) / gdy)), ny - 1)
    best_key = np.iinfo(np.int64).max
    for iy in range(iy0, iy1 + 1):
        for ix in range(ix0, ix1 + 1):
            cell = iy * nx + ix
            for q in range(cell_offsets[cell], cell_offsets[cell + 1]):
                z = cell_items[q]
                if cell_covers[q] or (zone_duty[z] >> bit) & 1 == 0:
                    continue
                if pair_bounds[q, 0] > px + rx or pair_bounds[q, 2] < px - rx or pair_bounds[q, 1] > py + ry or pair_bounds[q, 3] < py - ry:
                    continue
                owner = zone_owner[z]
                covering = owner == own
                for c in range(len(also_owners)):
                    if also_owners[c] == owner:
                        covering = True
                if covering:
                    continue
                bx = max(zone_bounds[z, 0] - x, x - zone_bounds[z, 2], 0.0)
                by = max(zone_bounds[z, 1] - y, y - zone_bounds[z, 3], 0.0)
                if bx * bx + by * by > r * r:
                    continue
                d = _segments_distance(x, y, r, pair_offsets[q], pair_offsets[q + 1], pair_segments, x0, y0, x1, y1)
                if d > r:
                    continue
                key = np.int64(d * 1000.0) * zones_plus + zone_rank[z] + 1
                # Equal keys: the same zone, seen again from another cell (to the millimetre).
                if key < best_key or (key == best_key and d < nearest_m):
                    best_key = key
                    nearest = z
                    nearest_m = d
                # Keep the owner with its smallest key.
                slot = -1
                for s in range(min(count, slots)):
                    if owners[s] == owner:
                        slot = s
                if slot >= 0:
                    if key < keys[slot] or (key == keys[slot] and d < metres[slot]):
                        keys[slot] = key
                        metres[slot] = d
                elif count < slots:
                    owners[count] = owner
                    keys[count] = key
                    metres[count] = d
                    count += 1
                else:
                    count = slots + 1
    # Order the owners by key (insertion sort: a handful of entries).
    for a in range(1, min(count, slots)):
        k, o, d = keys[a], owners[a], metres[a]
        c = a - 1
        while c >= 0 and keys[c] > k:
            keys[c + 1], owners[c + 1], metres[c + 1] = keys[c], owners[c], metres[c]
            c -= 1
        keys[c + 1], owners[c + 1], metres[c + 1] = k, o, d
    return count, nearest, nearest_m


@numba.njit(parallel=True, cache=True, nogil=True)
def zones_near(rows: np.ndarray, lon: np.ndarray, lat: np.ndarray, x: np.ndarray, y: np.ndarray, radius: np.ndarray,
               duty: np.ndarray, own: np.ndarray, also_start: np.ndarray, also_end: np.ndarray, also_owners: np.ndarray,
               grid: np.ndarray, cell_offsets: np.ndarray, cell_items: np.ndarray, cell_covers: np.ndarray,
               pair_offsets: np.ndarray, pair_segments: np.ndarray, pair_bounds: np.ndarray,
               zone_owner: np.ndarray, zone_duty: np.ndarray, zone_rank: np.ndarray, zone_bounds: np.ndarray,
               x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray,
               slots: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """For each row: the zones holding its duty within ``radius`` metres whose owner does not
    cover the point, reduced to distinct owners.

    Parameters
    ----------
    rows
        The rows to search (indices into the per-row arrays).
    own, also_start, also_end, also_owners
        Per row ``i`` (indices as ``rows`` gives them), the owners covering its point, excluded
        from the search: ``own[i]`` (-1: none) and ``also_owners[also_start[i]:also_end[i]]``.
    grid
        ``x0, y0, dx, dy, nx, ny, deg_per_m_x, deg_per_m_y`` of the zone grid.
    pair_offsets, pair_segments, pair_bounds
        Each (cell, zone) pair's boundary segments in the cell and their lon/lat bounds
        (`zones.index.CellSegments`);
        ``x0, y0, x1, y1`` are those segments in metres. A zone's distance is the smallest over
        the cells within the radius, which holds every segment within it; pairs covering their
        cell hold none (the zone's boundary near the point lies in another cell).

    Returns
    -------
    owners, metres, counts, nearest, nearest_m
        Up to ``slots`` distinct owners per row, nearest first (by their best zone's key:
        distance in mm, then the zone's rank), with that zone's distance, padded with -1 / inf;
        how many owners there were (more than ``slots`` means they did not fit); the nearest
        zone and its distance, or -1 and inf.
    """
    m = len(rows)
    owners = np.full((m, slots), -1, dtype=np.int64)
    keys = np.full((m, slots), np.iinfo(np.int64).max, dtype=np.int64)
    metres = np.full((m, slots), np.inf)
    counts = np.zeros(m, dtype=np.int64)
    nearest = np.full(m, -1, dtype=np.int64)
    nearest_m = np.full(m, np.inf)
    for j in numba.prange(m):
        i = rows[j]
        c, z, d = _zones_near_at(lon[i], lat[i], x[i], y[i], radius[i], duty[i], own[i], also_owners[also_start[i]:also_end[i]],
                                 grid, cell_offsets, cell_items, cell_covers, pair_offsets, pair_segments, pair_bounds,
                                 zone_owner, zone_duty, zone_rank, zone_bounds, x0, y0, x1, y1, owners[j], keys[j], metres[j])
        counts[j], nearest[j], nearest_m[j] = c, z, d
    return owners, metres, counts, nearest, nearest_m


@numba.njit(cache=True, nogil=True, inline="always")
def _nearest_point_at(px: float, py: float, x: float, y: float, radius: float,
                      grid: np.ndarray, cell_offsets: np.ndarray, cell_items: np.ndarray,
                      point_x: np.ndarray, point_y: np.ndarray, point_rank: np.ndarray,
                      seg_offsets: np.ndarray, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray) -> int:  # pragma: no cover - compiled
    """`nearest_points` for one point (lon/lat ``px, py``, metric ``x, y``)."""
    out = -1
    cell = _cell(px, py, grid)
    if cell < 0:
        return out
    best_mm = np.int64(np.iinfo(np.int64).max)
    best_rank = np.iinfo(np.int64).max
    for q in range(cell_offsets[cell], cell_offsets[cell + 1]):
        t = cell_items[q]
        if not math.isnan(point_x[t]):
            d = math.hypot(point_x[t] - x, point_y[t] - y)
        else:
            s0, s1 = seg_offsets[t], seg_offsets[t + 1]
            if _point_in_polygon(x, y, s0, s1, x0, y0, x1, y1) != OUTSIDE:
                d = 0.0
            else:
                d = _boundary_distance(x, y, s0, s1, x0, y0, x1, y1)
        if d > radius:
            continue
        mm = np.int64(d * 1000.0)
        if mm < best_mm or (mm == best_mm and point_rank[t] < best_rank):
            best_mm = mm
            best_rank = point_rank[t]
            out = t
    return out


@numba.njit(parallel=True, cache=True, nogil=True)
def nearest_points(rows: np.ndarray, lon: np.ndarray, lat: np.ndarray, x: np.ndarray, y: np.ndarray, radius: float,
                   grid: np.ndarray, cell_offsets: np.ndarray, cell_items: np.ndarray,
                   point_x: np.ndarray, point_y: np.ndarray, point_rank: np.ndarray,
                   seg_offsets: np.ndarray, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """For each row, the nearest test point within ``radius`` metres (ties: lower rank), or -1.

    Point test points have coordinates in ``point_x/point_y``; polygon ones (``NaN`` there) are
    measured to their boundary, and a point inside one is at distance 0.
    """
    out = np.full(len(rows), -1, dtype=np.int64)
    for j in numba.prange(len(rows)):
        i = rows[j]
        out[j] = _nearest_point_at(lon[i], lat[i], x[i], y[i], radius, grid, cell_offsets, cell_items, point_x, point_y, point_rank,
                                   seg_offsets, x0, y0, x1, y1)
    return out


# What `route_point` found: the router turns it into a decision, or asks the batch path (``POINT_DEFER``).
POINT_DEFER = -1
POINT_OUTSIDE = 0
POINT_DEPARTMENT = 1
POINT_COVERED = 2
POINT_NEAREST = 3
POINT_GAP = 4


@numba.njit(cache=True, nogil=True)
def route_point(areas: tuple, zones: tuple, test_points: tuple, test_point_radius: float, cover_slots: int, near_slots: int,
                lon: float, lat: float, x: float, y: float, bit: int, department: int, accuracy: float, tolerance: float,
                ) -> tuple[int, int, int, int, float, int, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """One report through the batch kernels' per-point steps, on the calling thread.

    ``areas``, ``zones`` and ``test_points`` bundle the arrays `first_covering`, `covering`,
    `near_any`, `zones_near` and `nearest_points` take (see `zones.router`); ``x, y`` is the
    point in metres, ``bit`` its category's duty (-1: routed to unit ``department``),
    ``accuracy`` in metres (0: not given).

    Returns ``outcome, area, zone, unit, distance, test_point, co_owners, candidates``:
    ``outcome`` one of ``POINT_*``; the covering owners after the accountable one (rank order)
    and the candidates of an ambiguous decision, as unit codes. ``POINT_DEFER`` (the rest
    unset) when the batch path must decide: a test too close to a boundary to trust, more
    covering zones than ``cover_slots`` or nearby owners than ``near_slots``.
    """
    none = np.empty(0, dtype=np.int64)
    defer = (POINT_DEFER, -1, -1, -1, np.nan, -1, none, none)
    ag, ao, ai, ac, apo, aps, apc, aorder, ax0, ay0, ax1, ay1, default_unit = areas
    area, undecided = _first_covering_at(lon, lat, ag, ao, ai, ac, apo, aps, apc, aorder, ax0, ay0, ax1, ay1)
    if undecided:
        return defer
    if area < 0:
        return POINT_OUTSIDE, -1, -1, -1, np.nan, -1, none, none
    (grid, offsets, items, covers, pair_offsets, pair_segments, pair_centre, pair_bounds, owner, duty_mask, rank, bounds,
     seg_offsets, x0, y0, x1, y1, mx0, my0, mx1, my1) = zones
    found = np.full(cover_slots, -1, dtype=np.int64)
    best_duty, best_any, several, undecided, count = _covering_at(lon, lat, bit, grid, offsets, items, covers, pair_offsets, pair_segments,
                                                                  pair_centre, owner, duty_mask, rank, seg_offsets, x0, y0, x1, y1, found)
    if undecided or count > cover_slots:
        return defer
    tg, to, ti, tx, ty, trank, ts, tx0, ty0, tx1, ty1 = test_points
    point = _nearest_point_at(lon, lat, x, y, test_point_radius, tg, to, ti, tx, ty, trank, ts, tx0, ty0, tx1, ty1)
    if bit < 0:
        return POINT_DEPARTMENT, area, best_any, department, np.nan, point, none, none
    near = np.full(near_slots, -1, dtype=np.int64)
    keys = np.full(near_slots, np.iinfo(np.int64).max, dtype=np.int64)
    metres = np.full(near_slots, np.inf)
    if best_duty >= 0:
        unit = owner[best_duty]
        covering = np.full(1, unit, dtype=np.int64)
        if several:  # each covering owner once, at its best duty zone, in rank order
            listed = found[:count]
            covering = np.empty(count, dtype=np.int64)
            k = 0
            for z in listed[np.argsort(rank[listed])]:
                seen = (duty_mask[z] >> bit) & 1 == 0
                for c in range(k):
                    seen = seen or covering[c] == owner[z]
                if not seen:
                    covering[k] = owner[z]
                    k += 1
            covering = covering[:k]
        also = covering if several else none
        candidates = none
        if accuracy > 0 and _near_any_at(lon, lat, accuracy, bit, unit, also, grid, offsets, items, covers, pair_offsets, pair_segments,
                                         pair_bounds, owner, duty_mask, x0, y0, x1, y1):
            n, _, _ = _zones_near_at(lon, lat, x, y, accuracy, bit, unit, also, grid, offsets, items, covers, pair_offsets, pair_segments,
                                     pair_bounds, owner, duty_mask, rank, bounds, mx0, my0, mx1, my1, near, keys, metres)
            if n > near_slots:
                return defer
            if n:
                candidates = np.concatenate((covering, near[:n]))
        return POINT_COVERED, area, best_duty, unit, 0.0, point, covering[1:], candidates
    radius = max(tolerance, accuracy)
    n, nearest, nearest_m = 0, -1, np.inf
    if _near_any_at(lon, lat, radius, bit, -1, none, grid, offsets, items, covers, pair_offsets, pair_segments, pair_bounds, owner, duty_mask,
                    x0, y0, x1, y1):
        n, nearest, nearest_m = _zones_near_at(lon, lat, x, y, radius, bit, -1, none, grid, offsets, items, covers, pair_offsets, pair_segments,
                                               pair_bounds, owner, duty_mask, rank, bounds, mx0, my0, mx1, my1, near, keys, metres)
        if n > near_slots:
            return defer
    if nearest < 0 or nearest_m > tolerance:
        return POINT_GAP, area, -1, default_unit[area], np.nan, point, none, none
    reach = 0  # the owners within the accuracy circle: nearest first
    while reach < n and metres[reach] <= accuracy:
        reach += 1
    for k in range(reach, n):
        if metres[k] <= accuracy:
            return defer  # not a prefix (owners tied to the millimetre)
    return POINT_NEAREST, area, nearest, owner[nearest], nearest_m, point, none, near[:reach] if reach > 1 else none
