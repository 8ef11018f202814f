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


@numba.njit(parallel=True, cache=True, nogil=True)
def covering(rows: np.ndarray, lon: np.ndarray, lat: np.ndarray, duty: np.ndarray, grid: np.ndarray,
             cell_offsets: np.ndarray, cell_items: np.ndarray, cell_covers: np.ndarray,
             zone_owner: np.ndarray, zone_duty: np.ndarray, zone_rank: np.ndarray,
             seg_offsets: np.ndarray, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray,
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """For each row: the best zone (lowest rank) covering its point that holds its duty, the best
    covering zone of any duty, whether covering duty zones belong to several owners, and whether
    some point-in-zone test was undecided (then the caller decides the row exactly)."""
    m = len(rows)
    best_duty = np.full(m, -1, dtype=np.int64)
    best_any = np.full(m, -1, dtype=np.int64)
    several = np.zeros(m, dtype=np.bool_)
    undecided = np.zeros(m, dtype=np.bool_)
    for j in numba.prange(m):
        i = rows[j]
        cell = _cell(lon[i], lat[i], grid)
        if cell < 0:
            continue
        bit = duty[i]
        owner = -1
        for q in range(cell_offsets[cell], cell_offsets[cell + 1]):
            z = cell_items[q]
            state = INSIDE
            if not cell_covers[q]:
                state = _point_in_polygon(lon[i], lat[i], seg_offsets[z], seg_offsets[z + 1], x0, y0, x1, y1)
            if state == UNDECIDED:
                undecided[j] = True
                continue
            if state == OUTSIDE:
                continue
            if best_any[j] < 0 or zone_rank[z] < zone_rank[best_any[j]]:
                best_any[j] = z
            if bit >= 0 and (zone_duty[z] >> bit) & 1 == 1:
                if owner >= 0 and zone_owner[z] != owner:
                    several[j] = True
                owner = zone_owner[z]
                if best_duty[j] < 0 or zone_rank[z] < zone_rank[best_duty[j]]:
                    best_duty[j] = z
    return best_duty, best_any, several, undecided


@numba.njit(parallel=True, cache=True, nogil=True)
def first_covering_cell(rows: np.ndarray, lon: np.ndarray, lat: np.ndarray, grid: np.ndarray,
                        cell_offsets: np.ndarray, cell_items: np.ndarray, cell_covers: np.ndarray,
                        order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """For each row, the polygon of lowest ``order`` whose grid cell it is in is wholly covered by;
    and whether other polygons merely touch that cell (then the caller decides exactly)."""
    m = len(rows)
    best = np.full(m, -1, dtype=np.int64)
    partial = np.zeros(m, dtype=np.bool_)
    for j in numba.prange(m):
        i = rows[j]
        cell = _cell(lon[i], lat[i], grid)
        if cell < 0:
            continue
        for q in range(cell_offsets[cell], cell_offsets[cell + 1]):
            p = cell_items[q]
            if not cell_covers[q]:
                partial[j] = True
            elif best[j] < 0 or order[p] < order[best[j]]:
                best[j] = p
    return best, partial


@numba.njit(cache=True, nogil=True)
def _boundary_distance(px: float, py: float, s0: int, s1: int,
                       x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray) -> float:  # pragma: no cover - compiled
    best = np.inf
    for k in range(s0, s1):
        ax, ay = x0[k], y0[k]
        dx, dy = x1[k] - ax, y1[k] - ay
        length2 = dx * dx + dy * dy
        t = 0.0
        if length2 > 0.0:
            t = ((px - ax) * dx + (py - ay) * dy) / length2
            t = min(max(t, 0.0), 1.0)
        ex, ey = px - (ax + t * dx), py - (ay + t * dy)
        d2 = ex * ex + ey * ey
        best = min(best, d2)
    return math.sqrt(best)


@numba.njit(parallel=True, cache=True, nogil=True)
def zones_near(rows: np.ndarray, lon: np.ndarray, lat: np.ndarray, x: np.ndarray, y: np.ndarray, radius: np.ndarray,
               duty: np.ndarray, cover_start: np.ndarray, cover_end: np.ndarray, cover_owners: np.ndarray,
               grid: np.ndarray, cell_offsets: np.ndarray, cell_items: np.ndarray,
               zone_owner: np.ndarray, zone_duty: np.ndarray, zone_rank: np.ndarray, zone_bounds: np.ndarray,
               seg_offsets: np.ndarray, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray,
               slots: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """For each row: the zones holding its duty within ``radius`` metres whose owner does not
    cover the point, reduced to distinct owners.

    Parameters
    ----------
    rows
        The rows to search (indices into the per-row arrays).
    cover_start, cover_end, cover_owners
        Per searched row (``rows[j]``), the owners covering its point:
        ``cover_owners[cover_start[j]:cover_end[j]]`` (excluded from the search).
    grid
        ``x0, y0, dx, dy, nx, ny, deg_per_m_x, deg_per_m_y`` of the zone grid.

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
    gx0, gy0, gdx, gdy, nx, ny, kx, ky = grid[0], grid[1], grid[2], grid[3], int(grid[4]), int(grid[5]), grid[6], grid[7]
    zones_plus = len(zone_owner) + 1
    for j in numba.prange(m):
        i = rows[j]
        r = radius[i]
        rx, ry = r * kx, r * ky
        ix0 = max(int(math.floor((lon[i] - rx - gx0) / gdx)), 0)
        ix1 = min(int(math.floor((lon[i] + rx - gx0) / gdx)), nx - 1)
        iy0 = max(int(math.floor((lat[i] - ry - gy0) / gdy)), 0)
        iy1 = min(int(math.floor((lat[i] + ry - gy0) / gdy)), ny - 1)
        bit = duty[i]
        best_key = np.iinfo(np.int64).max
        for iy in range(iy0, iy1 + 1):
            for ix in range(ix0, ix1 + 1):
                cell = iy * nx + ix
                for q in range(cell_offsets[cell], cell_offsets[cell + 1]):
                    z = cell_items[q]
                    if (zone_duty[z] >> bit) & 1 == 0:
                        continue
                    owner = zone_owner[z]
                    covering = False
                    for c in range(cover_start[j], cover_end[j]):
                        if cover_owners[c] == owner:
                            covering = True
                    if covering:
                        continue
                    bx = max(zone_bounds[z, 0] - x[i], x[i] - zone_bounds[z, 2], 0.0)
                    by = max(zone_bounds[z, 1] - y[i], y[i] - zone_bounds[z, 3], 0.0)
                    if bx * bx + by * by > r * r:
                        continue
                    d = _boundary_distance(x[i], y[i], seg_offsets[z], seg_offsets[z + 1], x0, y0, x1, y1)
                    if d > r:
                        continue
                    key = np.int64(d * 1000.0) * zones_plus + zone_rank[z] + 1
                    if key < best_key:
                        best_key = key
                        nearest[j] = z
                        nearest_m[j] = d
                    # Keep the owner with its smallest key.
                    slot = -1
                    for s in range(min(counts[j], slots)):
                        if owners[j, s] == owner:
                            slot = s
                    if slot >= 0:
                        if key < keys[j, slot]:
                            keys[j, slot] = key
                            metres[j, slot] = d
                    elif counts[j] < slots:
                        owners[j, counts[j]] = owner
                        keys[j, counts[j]] = key
                        metres[j, counts[j]] = d
                        counts[j] += 1
                    else:
                        counts[j] = slots + 1
        # Order the row's owners by key (insertion sort: a handful of entries).
        filled = min(counts[j], slots)
        for a in range(1, filled):
            k, o, d = keys[j, a], owners[j, a], metres[j, a]
            c = a - 1
            while c >= 0 and keys[j, c] > k:
                keys[j, c + 1], owners[j, c + 1], metres[j, c + 1] = keys[j, c], owners[j, c], metres[j, c]
                c -= 1
            keys[j, c + 1], owners[j, c + 1], metres[j, c + 1] = k, o, d
    return owners, metres, counts, nearest, nearest_m


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
        cell = _cell(lon[i], lat[i], grid)
        if cell < 0:
            continue
        best_mm = np.int64(np.iinfo(np.int64).max)
        best_rank = np.iinfo(np.int64).max
        for q in range(cell_offsets[cell], cell_offsets[cell + 1]):
            t = cell_items[q]
            if not math.isnan(point_x[t]):
                d = math.hypot(point_x[t] - x[i], point_y[t] - y[i])
            else:
                s0, s1 = seg_offsets[t], seg_offsets[t + 1]
                if _point_in_polygon(x[i], y[i], s0, s1, x0, y0, x1, y1) != OUTSIDE:
                    d = 0.0
                else:
                    d = _boundary_distance(x[i], y[i], s0, s1, x0, y0, x1, y1)
            if d > radius:
                continue
            mm = np.int64(d * 1000.0)
            if mm < best_mm or (mm == best_mm and point_rank[t] < best_rank):
                best_mm = mm
                best_rank = point_rank[t]
                out[j] = t
    return out
