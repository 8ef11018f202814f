"""Routing: every geotagged report to its accountable unit, one at a time or millions at once.

The rules, in order (see DESIGN.md):

1. Rows that cannot be routed (`zones.intake`: a place that is not a number, swapped or outside
   China, an accuracy that is not 0 to 100 km, an empty or unknown category) → ``error`` with
   every reason; the rest of the batch goes on.
2. Outside the union of the areas → ``outside``: kept, nobody assigned.
3. A category routed to a department → ``department``; the best covering zone (any duty) is
   recorded for context.
4. Zones covering the point (boundary inside) that hold the category's duty → ``routed``: the
   accountable owner is the one with the best zone (highest ``priority``, then smallest area to
   the square metre, then smallest ``zone_id``), the other covering owners are co-owners (rule ``zone`` for one
   owner, ``overlap`` for several). If the ``accuracy_m`` circle reaches a duty-holding zone of
   an owner that does not cover the point → ``ambiguous``: same provisional owner; candidates
   are the covering owners (accountable first) and then every other owner with a duty zone
   within ``accuracy_m``, nearest first.
5. No covering duty zone: the nearest duty zone within ``nearest_tolerance_m`` → ``nearest``
   (``ambiguous`` instead when the accuracy circle reaches duty zones of several owners; the
   nearest stays provisional owner); otherwise the sub-district's default unit → ``fallback``
   (a coverage gap).
6. The nearest test point within ``test_point_radius_m`` is attached, with its adopting unit.

Ties are broken by the accountability order of zones (and ``point_id`` for test points);
distances are compared to the millimetre. Both entry points run the same compiled per-point
steps (`zones.kernels`): `route` over chunks of rows, `route_one` for its point in one compiled
call (`kernels.route_point`), leaving to the batch path, on a batch of one, what that call does
not decide (refused reports, places on or within rounding of a boundary, crowded spots); tests
hold the two to the same decisions, field for field. Coordinates are WGS84 lon/lat; every
distance is measured in the layer's metric CRS.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, NamedTuple

import numba
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from zones import kernels
from zones.config import RoutingConfig
from zones.decision import CORE_FIELDS, DECISION_FIELDS, Decision
from zones.enums import Rule, Status
from zones.errors import CRSError
from zones.index import CellSegments, Segments
from zones.intake import refusals, routable
from zones.layer import DUTY_BITS, ZoneLayer

#: The columns of a batch's decisions: the report's id, the decision proper, then its by-products.
DECISION_COLUMNS = ["id", *CORE_FIELDS]
EXTRA_COLUMNS = [name for name in DECISION_FIELDS if name not in CORE_FIELDS]
DUTY_ZH = {"sanitation": "卫生", "order": "秩序", "greening": "绿化", "facilities": "设施"}
_DUTY_NAMES = np.array([DUTY_ZH[d] for d in DUTY_BITS] + [""], dtype=object)  # by duty bit; -1: none
CHUNK = 250_000
_MIN_CHUNK = 20_000  # fewer rows a thread: one chunk, its kernels parallel
_S = {s: i for i, s in enumerate(Status)}
_R = {r: i for i, r in enumerate(Rule)}
_BIG = np.iinfo(np.int64).max
_SLOTS = 8
_NUMBERS = frozenset({"distance_m", "deadline_hours"})  # the decision's numeric columns; the others hold text
_COVER_SLOTS = 4  # covering zones the kernel lists per row; rows in more are decided pair by pair

Ints = NDArray[np.int64]
RawCategories = Sequence[Any] | NDArray[np.object_]  # the categories as the reports name them
Floats = NDArray[np.float64]
Objects = NDArray[np.object_]
Coded = tuple[Ints, list[str] | Objects]


class _Batch:
    """Working arrays of one chunk of reports; units, zones, areas and texts as integer codes."""

    def __init__(self, lon: Floats, lat: Floats, category: Ints, accuracy: Floats) -> None:
        n = len(lon)
        self.n = n
        self.lon, self.lat, self.category, self.accuracy = lon, lat, category, accuracy
        self.status = np.full(n, _S[Status.ERROR], dtype=np.int64)
        self.rule = np.full(n, _R[Rule.ERROR], dtype=np.int64)
        self.unit = np.full(n, -1, dtype=np.int64)
        self.zone = np.full(n, -1, dtype=np.int64)
        self.area = np.full(n, -1, dtype=np.int64)
        self.distance = np.full(n, np.nan)
        self.test_point = np.full(n, -1, dtype=np.int64)
        self.duty = np.full(n, -1, dtype=np.int64)  # duty bit; -1 for department and bad rows
        self.co_owners: Coded = (np.full(n, -1, dtype=np.int64), [])
        self.candidates: Coded = (np.full(n, -1, dtype=np.int64), [])
        self.errors: dict[int, str] = {}
        self._x = np.full(n, np.nan)
        self._y = np.full(n, np.nan)
        self._projected = np.zeros(n, dtype=bool)

    def metric(self, layer: ZoneLayer, rows: Ints) -> tuple[Floats, Floats]:
        """Metric x/y arrays of the batch, projected for ``rows`` (each row once, on first need;
        NaN for rows not asked for and unusable ones)."""
        todo = rows[~self._projected[rows]]
        self._projected[todo] = True
        lon, lat = self.lon[todo], self.lat[todo]
        todo = todo[np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)]
        if len(todo):
            self._x[todo], self._y[todo] = layer.to_metric.transform(self.lon[todo], self.lat[todo])
        return self._x, self._y


def _first_per_point(points: Ints, keys: Ints, n: int) -> Ints:
    """For each point, the position (into ``points``) of its pair with the smallest key; -1 if
    none. Equal keys belong to the same zone, so any of them will do."""
    best = np.full(n, _BIG, dtype=np.int64)
    np.minimum.at(best, points, keys)
    pos = np.full(n, -1, dtype=np.int64)
    hit = np.flatnonzero(best[points] == keys)
    pos[points[hit]] = hit
    return pos


def _factorize(values: NDArray[Any]) -> tuple[Ints, NDArray[Any]]:
    """Codes of ``values`` in order of first appearance, and the distinct values (hash-based;
    a plain dict for the handful of rows of a single report, where pandas' set-up dominates)."""
    if len(values) > 64:
        codes, uniques = pd.factorize(values)
        return codes.astype(np.int64), np.asarray(uniques)
    seen: dict[Any, int] = {}
    codes = np.array([seen.setdefault(v, len(seen)) for v in values.tolist()], dtype=np.int64)
    return codes, np.array(list(seen), dtype=values.dtype)


def _first_of_each(codes: Ints, count: int) -> Ints:
    """Position of the first occurrence of each code ``0..count-1`` in ``codes``."""
    first = np.empty(count, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    return first


def _join_codes(matrix: Ints, ids: Objects) -> Objects:
    """``;``-joined ``ids`` of each row of ``matrix`` (left-aligned codes, -1 padding)."""
    out = ids[np.maximum(matrix[:, 0], 0)].astype(object)
    for k in range(1, matrix.shape[1]):
        more = np.flatnonzero(matrix[:, k] >= 0)
        if not len(more):
            break
        out[more] = np.add(np.add(out[more], ";", dtype=object), ids[matrix[more, k]], dtype=object)
    return out


def _owner_lists(matrix: Ints, layer: ZoneLayer) -> Coded:
    """``;``-joined unit ids of each row of ``matrix`` (unit codes left-aligned, -1 padding),
    as codes into the distinct texts."""
    if not len(matrix):
        return np.empty(0, dtype=np.int64), []
    ids = layer.unit_ids
    head = np.zeros((len(matrix), 3), dtype=np.int64)
    head[:, :min(3, matrix.shape[1])] = matrix[:, :3] + 1
    short = (matrix[:, 3:] < 0).all(axis=1) & (head.max() < (1 << 20))
    codes = np.empty(len(matrix), dtype=np.int64)
    texts: list[str] = []
    if short.any():  # up to three owners: one integer key per row, texts built once per key
        keys = (head[short, 0] << 42) | (head[short, 1] << 21) | head[short, 2]
        inverse, uniques = _factorize(keys)
        codes[short] = inverse
        texts = _join_codes(head[short][_first_of_each(inverse, len(uniques))] - 1, ids).tolist()
    if not short.all():  # longer lists: by their text
        inverse, uniques = _factorize(_join_codes(matrix[~short], ids))
        codes[~short] = inverse + len(texts)
        texts.extend(uniques.tolist())
    return codes, texts


def _set_lists(target: Coded, rows: Ints, matrix: Ints, layer: ZoneLayer) -> Coded:
    codes, texts = _owner_lists(matrix, layer)
    out = target[0]
    out[rows] = codes + len(target[1])
    return out, [*target[1], *texts]


def _check_rows(b: _Batch, layer: ZoneLayer, raw_category: RawCategories, refused: Mapping[int, str]) -> Ints:
    """Rule 1: name what is wrong with rows that cannot be routed (`zones.intake`, or ``refused``
    already by the caller with its reason); return the usable rows."""
    known = b.category >= 0
    b.duty = np.where(known, layer.category_duty[np.maximum(b.category, 0)], -1)
    for pos, found in refusals(b.lon, b.lat, b.accuracy, raw_category, known).items():
        b.errors[pos] = "无法派单：" + "；".join(r.reason for r in found)
    b.errors.update(refused)
    b.accuracy = np.where(np.isnan(b.accuracy), 0.0, b.accuracy)
    if not b.errors:
        return np.arange(b.n)
    usable = np.ones(b.n, dtype=bool)
    usable[list(b.errors)] = False
    return np.flatnonzero(usable)


def _in_cell_order(b: _Batch, layer: ZoneLayer, rows: Ints) -> Ints:
    """``rows`` sorted by where they are on the zone grid: the kernels then read each cell's
    zones and segments from memory once for many points, instead of once a point."""
    return kernels.cell_order(rows, b.lon, b.lat, layer.zone_grid_array) if len(rows) > 1 else rows


def _locate_areas(b: _Batch, layer: ZoneLayer, rows: Ints) -> Ints:
    """Rule 2: the area naming each row's place (sub-districts before the district); rows in no
    area become ``outside``."""
    index = layer.area_index
    segments = _area_segments(layer)
    best, partial = kernels.first_covering(rows, b.lon, b.lat, layer.area_grid_array, index.offsets, index.items, index.covers,
                                           *segments.arrays, layer.area_order, *_area_boundaries(layer).arrays[1:])
    if partial.any():  # points on or within rounding of an area boundary: test every candidate area exactly
        exact = rows[partial]
        points, areas, covers = index.pairs(b.lon[exact], b.lat[exact])
        hit = covers.copy()
        test = ~covers
        hit[test] = shapely.intersects_xy(layer.area_geoms[areas[test]], b.lon[exact[points[test]]], b.lat[exact[points[test]]])
        first = _first_per_point(points[hit], layer.area_order[areas[hit]], len(exact))
        best[partial] = np.append(areas[hit], -1)[first]
    found = best >= 0
    b.area[rows[found]] = best[found]
    outside = rows[~found]
    b.status[outside], b.rule[outside] = _S[Status.OUTSIDE], _R[Rule.OUTSIDE]
    return rows[found]


def _cell_segments(layer: ZoneLayer) -> CellSegments:
    """The zones' boundary segments by cell of the cover index (built once per layer)."""
    return layer._cached(("cell_segments", 0.0), lambda: CellSegments(layer.cover_index, layer.zone_segments_wgs84, layer.zone_geoms))


def _area_boundaries(layer: ZoneLayer) -> Segments:
    """The areas' boundary segments (built once per layer)."""
    return layer._cached(("area_boundaries", 0.0), lambda: Segments(layer.area_geoms))


def _area_segments(layer: ZoneLayer) -> CellSegments:
    """The areas' boundary segments by cell of the area index (built once per layer)."""
    return layer._cached(("area_segments", 0.0), lambda: CellSegments(layer.area_index, _area_boundaries(layer), layer.area_geoms))


def _covering_pairs(b: _Batch, layer: ZoneLayer, rows: Ints) -> tuple[Ints, Ints]:
    """(row, zone) for every zone covering each row's point, boundary included, grouped by row."""
    points, zones, covers = layer.cover_index.pairs(b.lon[rows], b.lat[rows])
    px, py = b.lon[rows[points]], b.lat[rows[points]]
    state = layer.zone_segments_wgs84.contains(zones, px, py, covers)
    undecided = np.flatnonzero(state == kernels.UNDECIDED)  # on a boundary: GEOS decides, exactly
    state[undecided] = shapely.intersects_xy(layer.zone_geoms[zones[undecided]], px[undecided], py[undecided])
    keep = state == kernels.INSIDE
    return rows[points[keep]], zones[keep]


def _zones_near(b: _Batch, layer: ZoneLayer, rows: Ints, radius: Floats, also: tuple[Ints, Ints] | None = None,
                ) -> tuple[list[tuple[Ints, Ints, Floats]], Ints, Floats]:
    """Duty zones within ``radius[row]`` metres of each of ``rows`` whose owners do not cover
    the point: ``b.unit[row]`` does, and so do the owners ``also`` pairs with the row
    (``(rows, owners)``, each row's pairs in one run).

    Returns blocks ``(rows, owners, metres)`` of the rows near some such zone: each row's
    distinct owners nearest first with their distances, padded with -1 / inf (rows near many
    owners come in a wider block); and per row of ``rows`` the nearest such zone and its
    distance (-1 / inf if none).
    """
    nearest, nearest_m = np.full(len(rows), -1, dtype=np.int64), np.full(len(rows), np.inf)
    if not len(rows):
        return [], nearest, nearest_m
    index = layer.cover_index
    start = np.zeros(b.n, dtype=np.int64)
    end = np.zeros(b.n, dtype=np.int64)
    also_rows, also_owners = also if also is not None else (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))
    if len(also_rows):
        runs = np.flatnonzero(np.r_[True, also_rows[1:] != also_rows[:-1]])
        start[also_rows[runs]] = runs
        end[also_rows[runs]] = np.r_[runs[1:], len(also_rows)]

    cells = (layer.zone_grid_array, index.offsets, index.items, index.covers, *_cell_segments(layer).arrays[:2])
    # Most rows have no zone to measure nearby: find them in lon/lat, and project only the others.
    near = kernels.near_any(rows, b.lon, b.lat, radius, b.duty, b.unit, start, end, also_owners, *cells, _cell_segments(layer).bounds,
                            layer.units[1], layer.zone_duty_mask, *layer.zone_segments_wgs84.arrays[1:])
    if not near.any():
        return [], nearest, nearest_m
    rows = rows[near]
    x, y = b.metric(layer, rows)

    def run(sel: Ints, slots: int) -> tuple[Ints, Floats, Ints, Ints, Floats]:
        return kernels.zones_near(
            rows[sel], b.lon, b.lat, x, y, radius, b.duty, b.unit, start, end, also_owners, *cells, _cell_segments(layer).bounds,
            layer.units[1], layer.zone_duty_mask, layer.zone_rank, layer.zone_metric_bounds,
            *layer.zone_segments.arrays[1:], slots,
        )

    owners, metres, counts, nearest[near], nearest_m[near] = run(np.arange(len(rows)), _SLOTS)
    crowded = np.flatnonzero(counts > _SLOTS)
    if not len(crowded):
        return [(rows, owners, metres)], nearest, nearest_m
    # More owners nearby than slots: measure those rows again with room for all.
    slots = _SLOTS
    while True:
        slots *= 8
        o, m, c, _, _ = run(crowded, slots)
        if c.max() <= slots:
            break
    plain = np.flatnonzero(counts <= _SLOTS)
    return [(rows[plain], owners[plain], metres[plain]), (rows[crowded], o, m)], nearest, nearest_m


def _route_zones(b: _Batch, layer: ZoneLayer, rows: Ints) -> Ints:
    """Rules 3 and 4 for rows inside the district; returns the rows left for rule 5."""
    owner = layer.units[1]
    rank = layer.zone_rank
    index = layer.cover_index
    best_duty, best_any, several, undecided, found, count = kernels.covering(
        rows, b.lon, b.lat, b.duty, layer.zone_grid_array, index.offsets, index.items, index.covers, *_cell_segments(layer).arrays,
        owner, layer.zone_duty_mask, rank, *layer.zone_segments_wgs84.arrays, _COVER_SLOTS,
    )
    # Rows on a zone boundary, or in more zones than the kernel listed, are decided pair by pair;
    # rows covered by several owners need their covering zones, which the kernel listed.
    exact = undecided | (count > _COVER_SLOTS)
    listed = np.flatnonzero(several & ~exact)
    zones_listed = found[listed]
    e_rows, e_zones = np.repeat(rows[listed], count[listed]), zones_listed[zones_listed >= 0]
    if exact.any():
        x_rows, x_zones = _covering_pairs(b, layer, rows[exact])
        e_rows, e_zones = np.concatenate([x_rows, e_rows]), np.concatenate([x_zones, e_zones])
        first = _first_per_point(x_rows, rank[x_zones], b.n)
        best_any[exact] = np.append(x_zones, -1)[first[rows[exact]]]
    duty_pairs = (b.duty[e_rows] >= 0) & ((layer.zone_duty_mask[e_zones] >> np.maximum(b.duty[e_rows], 0)) & 1 == 1)
    d_rows, d_zones = e_rows[duty_pairs], e_zones[duty_pairs]
    if exact.any():
        first = _first_per_point(d_rows, rank[d_zones], b.n)
        best_duty[exact] = np.append(d_zones, -1)[first[rows[exact]]]
    # Rule 3: departments, with the best covering zone of any duty for context.
    dept = b.duty[rows] < 0
    dept_rows = rows[dept]
    b.unit[dept_rows] = layer.category_department[b.category[dept_rows]]
    b.zone[dept_rows] = best_any[dept]
    b.status[dept_rows], b.rule[dept_rows] = _S[Status.DEPARTMENT], _R[Rule.DEPARTMENT]
    # Rule 4: the best covering duty zone is accountable; other covering owners co-own.
    is_covered = ~dept & (best_duty >= 0)
    covered = rows[is_covered]
    b.zone[covered] = best_duty[is_covered]
    b.unit[covered] = owner[best_duty[is_covered]]
    b.distance[covered] = 0.0
    b.status[covered], b.rule[covered] = _S[Status.ROUTED], _R[Rule.ZONE]
    co_matrix = _co_owners(b, layer, d_rows, owner[d_zones], rank[d_zones])
    # Ambiguity: a duty zone within accuracy_m of an owner that does not cover the point. The
    # covering owners: the accountable one, plus the others of rows in several owners' zones.
    check = covered[b.accuracy[covered] > 0]
    blocks, _, _ = _zones_near(b, layer, check, b.accuracy, (d_rows, owner[d_zones]))
    for block_rows, owners, _ in blocks:
        hit = owners[:, 0] >= 0
        ambiguous = block_rows[hit]
        if not len(ambiguous):
            continue
        matrix = np.column_stack([b.unit[ambiguous], owners[hit]])
        shared = np.flatnonzero(co_matrix[ambiguous, 0] >= 0) if co_matrix.shape[1] else np.empty(0, dtype=np.int64)
        if len(shared):  # rows with co-owners list them right after the accountable owner
            rows_co = ambiguous[shared]
            wide = np.column_stack([b.unit[rows_co], co_matrix[rows_co], owners[hit][shared]])
            b.candidates = _set_lists(b.candidates, rows_co, _left_align(wide), layer)
            keep = np.ones(len(ambiguous), dtype=bool)
            keep[shared] = False
            ambiguous_only, matrix = ambiguous[keep], matrix[keep]
        else:
            ambiguous_only = ambiguous
        b.candidates = _set_lists(b.candidates, ambiguous_only, matrix, layer)
        b.status[ambiguous], b.rule[ambiguous] = _S[Status.AMBIGUOUS], _R[Rule.AMBIGUOUS]
    return rows[~dept & (best_duty < 0)]


def _left_align(matrix: Ints) -> Ints:
    """Move each row's entries (not -1) to the left, keeping their order."""
    if not (matrix < 0).any():
        return matrix
    order = np.argsort(matrix < 0, axis=1, kind="stable")
    return np.take_along_axis(matrix, order, axis=1)


def _co_owners(b: _Batch, layer: ZoneLayer, rows: Ints, owners: Ints, ranks: Ints) -> Ints:
    """Record co-owners of rows covered by several owners; return them as a (n, k) matrix."""
    if not len(rows):
        return np.empty((b.n, 0), dtype=np.int64)
    multi = np.bincount(rows, minlength=b.n)[rows] > 1
    rows, owners, ranks = rows[multi], owners[multi], ranks[multi]
    if not len(rows):
        return np.empty((b.n, 0), dtype=np.int64)
    order = np.lexsort((ranks, rows))
    rows, owners = rows[order], owners[order]
    _, first = np.unique(rows * len(layer.unit_ids) + owners, return_index=True)  # each owner once, at its best zone
    keep = np.sort(first)
    rows, owners = rows[keep], owners[keep]
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    position = np.arange(len(rows)) - np.repeat(starts, np.diff(np.r_[starts, len(rows)]))
    co = position > 0
    matrix = np.full((b.n, max(int(position.max()), 1)), -1, dtype=np.int64)
    matrix[rows[co], position[co] - 1] = owners[co]
    several = np.unique(rows[co])
    if len(several):
        b.rule[several] = _R[Rule.OVERLAP]
        b.co_owners = _set_lists(b.co_owners, several, matrix[several], layer)
    return matrix


def _route_uncovered(b: _Batch, layer: ZoneLayer, config: RoutingConfig, rows: Ints) -> None:
    """Rule 5: nearest duty zone within the tolerance, else the sub-district's default unit."""
    radius = np.zeros(b.n)
    radius[rows] = np.maximum(config.nearest_tolerance_m, b.accuracy[rows])
    blocks, nearest, nearest_m = _zones_near(b, layer, rows, radius)
    found = (nearest >= 0) & (nearest_m <= config.nearest_tolerance_m)
    hit = rows[found]
    b.zone[hit] = nearest[found]
    b.unit[hit] = layer.units[1][nearest[found]]
    b.distance[hit] = nearest_m[found]
    b.status[hit], b.rule[hit] = _S[Status.NEAREST], _R[Rule.NEAREST]
    # Several owners within the accuracy circle of a nearest-routed row: ambiguous.
    routed = b.status == _S[Status.NEAREST]
    for block_rows, owners, metres in blocks:
        reach = np.where(metres <= b.accuracy[block_rows][:, None], owners, -1)  # a prefix: nearest first
        several = routed[block_rows] & ((reach >= 0).sum(axis=1) > 1)
        if several.any():
            b.candidates = _set_lists(b.candidates, block_rows[several], reach[several], layer)
            b.status[block_rows[several]], b.rule[block_rows[several]] = _S[Status.AMBIGUOUS], _R[Rule.AMBIGUOUS]
    gap = rows[~found]
    b.unit[gap] = layer.area_default_unit[b.area[gap]]
    b.status[gap], b.rule[gap] = _S[Status.FALLBACK], _R[Rule.FALLBACK]


def _test_point_grid(layer: ZoneLayer, radius_m: float) -> Floats:
    """The test-point grid for ``radius_m`` as the kernels take it (built once per layer)."""
    return layer._cached(("test_point_grid", float(radius_m)), lambda: layer.test_point_grid_array(radius_m))


def _attach_test_points(b: _Batch, layer: ZoneLayer, config: RoutingConfig, rows: Ints) -> None:
    """Rule 6: the nearest test point within the radius (ties: smaller ``point_id``)."""
    if not len(layer.test_points) or not len(rows):
        return
    index = layer.test_point_index(config.test_point_radius_m)
    cell = index.grid.cell_of(b.lon[rows], b.lat[rows])
    rows = rows[(cell >= 0) & (index.offsets[np.maximum(cell, 0) + 1] > index.offsets[np.maximum(cell, 0)])]  # others have none near
    x, y = b.metric(layer, rows)
    tx, ty = layer.test_point_xy
    b.test_point[rows] = kernels.nearest_points(
        rows, b.lon, b.lat, x, y, config.test_point_radius_m, _test_point_grid(layer, config.test_point_radius_m),
        index.offsets, index.items, tx, ty, layer.test_point_rank, *layer.test_point_segments.arrays,
    )


def _cat(*parts: Objects | str) -> Objects:
    """Concatenate strings elementwise (object arrays and constants)."""
    out: Any = parts[0]
    for part in parts[1:]:
        out = np.add(out, part, dtype=object)
    return np.asarray(out, dtype=object)


class _Texts(NamedTuple):
    """Categories of a text column: texts shared by every batch on a layer, then this chunk's."""

    base: Objects
    extra: list[str]


_OUTSIDE = "坐标位于辖区之外，已记录待核实，不派单"


def _reason_base(layer: ZoneLayer, tolerance_m: float) -> Objects:
    """Reasons that depend only on the layer and the tolerance, built once: per zone (routed,
    then nearest), per unit (ambiguous: covered, then nearest), and the outside notice."""
    def make() -> Objects:
        owner_label = layer.unit_labels[layer.units[1]]
        zone_label = layer.zone_labels[:-1]
        routed = _cat("位于责任区 ", zone_label, " 内，责任单位", owner_label)
        nearest = _cat(f"不在对应职责的责任区内，由 {tolerance_m:g} m 容差内最近的责任区 ", zone_label, " 的", owner_label, "负责（距离见 distance_m）")
        unit = layer.unit_labels[:-1]
        covered = _cat("定位精度范围内涉及多个单位的责任区（见候选单位），暂派覆盖该点的", unit, "，请调度核实")
        closest = _cat("不在对应职责的责任区内，定位精度范围内涉及多个单位（见候选单位），暂派最近的", unit, "，请调度核实")
        return np.concatenate([routed, nearest, covered, closest, np.array([_OUTSIDE], dtype=object)])

    return layer._cached(("reasons", float(tolerance_m)), make)


def _overlap_reasons(layer: ZoneLayer, zone: Ints, unit: Ints, co_owners: Objects) -> Objects:
    """Reasons of ``overlap`` decisions (``co_owners``: the ``;``-joined co-owners)."""
    return _cat("位于多个单位的交叉责任区内，按优先级、面积、编号由 ", layer.zone_labels[zone], " 的", layer.unit_labels[unit], "主责，", co_owners, " 协同")


def _fallback_reasons(layer: ZoneLayer, tolerance_m: float, area: Ints, duty: Ints, unit: Ints) -> Objects:
    """Reasons of ``fallback`` decisions (a coverage gap)."""
    return _cat(f"{tolerance_m:g} m 内没有", _DUTY_NAMES[duty], "责任区（责任空白），由", layer.area_names[area], "默认单位",
                layer.unit_labels[unit], "兜底")


def _department_reasons(layer: ZoneLayer, category: Ints, unit: Ints, zone: Ints) -> Objects:
    """Reasons of ``department`` decisions, with the covering zone (-1: none) for context."""
    return _cat("类别「", layer.category_names[category], "」由", layer.unit_labels[unit], "统一处置",
                np.where(zone >= 0, _cat("；所在责任区 ", layer.zone_labels[zone]), "").astype(object))


def _reasons(b: _Batch, layer: ZoneLayer, config: RoutingConfig) -> tuple[Ints, _Texts]:
    """One line per row, in Chinese, that a dispatcher can check against the map.

    Routed, nearest, ambiguous and outside rows take a text shared by the layer; the others'
    texts are built once per distinct (rule, zone, duty, unit) in this chunk.
    """
    base = _reason_base(layer, config.nearest_tolerance_m)
    zones, units = len(layer.zones), len(layer.unit_ids)
    codes = np.full(b.n, -1, dtype=np.int64)
    rows = np.flatnonzero(b.rule == _R[Rule.ZONE])
    codes[rows] = b.zone[rows]
    rows = np.flatnonzero(b.rule == _R[Rule.NEAREST])
    codes[rows] = zones + b.zone[rows]
    rows = np.flatnonzero(b.rule == _R[Rule.AMBIGUOUS])
    codes[rows] = 2 * zones + b.unit[rows] + np.where(b.distance[rows] == 0, 0, units)
    codes[b.rule == _R[Rule.OUTSIDE]] = len(base) - 1
    extra: list[str] = []

    def add(rows: Ints, keys: Ints, build: Callable[[Ints], Objects]) -> None:
        inverse, uniques = _factorize(keys)
        codes[rows] = inverse + len(base) + len(extra)
        extra.extend(build(rows[_first_of_each(inverse, len(uniques))]).tolist())

    groups: tuple[tuple[Rule, Callable[[Ints], Ints], Callable[[Ints], Objects]], ...] = (
        (Rule.OVERLAP, lambda k: b.zone[k] * (len(b.co_owners[1]) + 1) + b.co_owners[0][k],
         lambda k: _overlap_reasons(layer, b.zone[k], b.unit[k], np.array([*b.co_owners[1], ""], dtype=object)[b.co_owners[0][k]])),
        (Rule.FALLBACK, lambda k: b.area[k] * 8 + b.duty[k],
         lambda k: _fallback_reasons(layer, config.nearest_tolerance_m, b.area[k], b.duty[k], b.unit[k])),
        (Rule.DEPARTMENT, lambda k: b.category[k] * (zones + 2) + b.zone[k] + 1,
         lambda k: _department_reasons(layer, b.category[k], b.unit[k], b.zone[k])),
    )
    for rule, key, build in groups:
        rows = np.flatnonzero(b.rule == _R[rule])
        if len(rows):
            add(rows, key(rows), build)
    for row, text in b.errors.items():
        codes[row] = len(base) + len(extra)
        extra.append(text)
    return codes, _Texts(base, extra)


def _route_chunk(lon: Floats, lat: Floats, category: Ints, raw_category: RawCategories, accuracy: Floats, layer: ZoneLayer, config: RoutingConfig,
                 with_reasons: bool, refused: Mapping[int, str]) -> dict[str, Any]:
    """Route one chunk; columns as arrays, text columns as (codes, categories), or as one text
    shared by every row (the layer version)."""
    b = _Batch(lon, lat, category, accuracy)
    inside = _in_cell_order(b, layer, _locate_areas(b, layer, _check_rows(b, layer, raw_category, refused)))
    _route_uncovered(b, layer, config, _route_zones(b, layer, inside))
    _attach_test_points(b, layer, config, inside)
    reason = _reasons(b, layer, config) if with_reasons else (np.full(b.n, -1, dtype=np.int64), _Texts(np.empty(0, dtype=object), []))
    deadline = np.where(b.category >= 0, layer.category_hours[np.maximum(b.category, 0)], np.nan)
    return {
        "status": (b.status, layer.status_names),
        "unit_id": (b.unit, layer.unit_ids),
        "zone_id": (b.zone, layer.zone_ids),
        "co_owner_unit_ids": b.co_owners,
        "candidate_unit_ids": b.candidates,
        "rule": (b.rule, layer.rule_names),
        "distance_m": b.distance,
        "test_point_id": (b.test_point, layer.test_point_ids),
        "zone_version": layer.version,
        "reason": reason,
        "area_id": (b.area, layer.area_ids),
        "test_point_unit_id": (np.append(layer.test_point_unit_codes, -1)[b.test_point], layer.unit_ids),
        "deadline_hours": deadline,
    }


def _coordinates(reports: pd.DataFrame) -> tuple[Floats, Floats]:
    if "lon" in reports.columns and "lat" in reports.columns:
        return (pd.to_numeric(reports["lon"], errors="coerce").to_numpy(dtype=np.float64),
                pd.to_numeric(reports["lat"], errors="coerce").to_numpy(dtype=np.float64))
    geometry = getattr(reports, "geometry", None)
    if geometry is None:
        msg = "reports need lon/lat columns or a point geometry"
        raise ValueError(msg)
    if geometry.crs is not None and not geometry.crs.is_geographic:
        msg = f"reports are in {geometry.crs}; route() takes WGS84 lon/lat"
        raise CRSError(msg)
    geoms = geometry.to_numpy()
    is_point = (shapely.get_type_id(geoms) == 0) & ~shapely.is_empty(geoms)
    x = np.full(len(geoms), np.nan)
    y = np.full(len(geoms), np.nan)
    x[is_point] = shapely.get_x(geoms[is_point])
    y[is_point] = shapely.get_y(geoms[is_point])
    return x, y


def _fill(out: NDArray[Any], at: slice, value: Any) -> None:
    """Write one chunk's column into ``out[at]``: an array or a text shared by every row as is,
    or text as ``(codes, categories)``, None where the code is -1."""
    if not isinstance(value, tuple):
        out[at] = value
        return
    codes, categories = value
    table = (np.concatenate([categories.base, np.asarray(categories.extra, dtype=object)]) if isinstance(categories, _Texts)
             else np.asarray(categories, dtype=object))
    out[at] = np.append(table, np.array([None], dtype=object))[codes]  # a new array, copied in: faster than np.take into ``out``


def route(
    reports: pd.DataFrame,
    layer: ZoneLayer,
    config: RoutingConfig | None = None,
    *,
    with_reasons: bool = True,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    refused: Mapping[int, str] | None = None,
) -> pd.DataFrame:
    """Route a batch of reports; one decision row per input row, in input order.

    Parameters
    ----------
    reports
        Columns ``id``, ``category`` and optional ``accuracy_m`` (metres), with ``lon``/``lat``
        (WGS84) or a point geometry in WGS84.
    layer
        The zone layer to route against.
    config
        Tolerances; the defaults of `RoutingConfig` when not given.
    with_reasons
        Build the one-line ``reason`` of each decision.
    workers
        Threads working on chunks of up to 250,000 rows, each running its compiled kernels on
        one core (default: the CPU count); a batch too small to give each thread 20,000 rows is
        one chunk whose kernels use every core.
    progress
        Called with the number of rows finished after each chunk.
    refused
        Rows (by position) the caller already refused, with the reason each decision gives.

    Returns
    -------
    pandas.DataFrame
        ``DECISION_COLUMNS`` then ``EXTRA_COLUMNS``; text columns hold ``None`` where empty.
    """
    config = config or RoutingConfig()
    lon, lat = _coordinates(reports)
    n = len(reports)
    ids = reports["id"].array if "id" in reports.columns else np.arange(1, n + 1).astype(str)
    raw = reports["category"] if "category" in reports.columns else pd.Series([None] * n, dtype=object)
    category = layer.category_codes(raw)
    accuracy = pd.to_numeric(reports["accuracy_m"], errors="coerce").to_numpy(dtype=np.float64) if "accuracy_m" in reports.columns else np.full(n, np.nan)
    refused = refused or {}
    threads = min(workers or os.cpu_count() or 1, max(1, n // _MIN_CHUNK))
    size = -(-n // max(threads, -(-n // CHUNK))) or 1  # chunks of at most CHUNK rows, at least one per thread
    starts = list(range(0, n, size)) or [0]
    columns: dict[str, Any] = {"id": ids}
    for name in DECISION_COLUMNS[1:] + EXTRA_COLUMNS:
        columns[name] = np.empty(n, dtype=np.float64 if name in _NUMBERS else object)

    def run(start: int) -> None:
        at = slice(start, start + size)
        here = {pos - start: reason for pos, reason in refused.items() if start <= pos < at.stop}
        if threads > 1:
            numba.set_num_threads(1)  # this thread's kernels: the chunks already keep every core busy
        part = _route_chunk(lon[at], lat[at], category[at], raw.array[at], accuracy[at], layer, config, with_reasons, here)
        for name, value in part.items():
            _fill(columns[name], at, value)  # in the worker: text columns cost no time after the last chunk
        if progress is not None:
            progress(len(part["distance_m"]))

    if threads > 1:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(run, starts))
    else:
        for start in starts:
            run(start)
    for name in DECISION_COLUMNS[1:] + EXTRA_COLUMNS:
        if name not in _NUMBERS:
            columns[name] = pd.Series(columns[name], dtype=object, index=reports.index, copy=False)
    return pd.DataFrame(columns, index=reports.index, copy=False)


#: The decision of each of `kernels.route_point`'s outcomes (covered by several owners: ``overlap``).
_POINT_OUTCOMES = {
    kernels.POINT_OUTSIDE: (Status.OUTSIDE, Rule.OUTSIDE), kernels.POINT_DEPARTMENT: (Status.DEPARTMENT, Rule.DEPARTMENT),
    kernels.POINT_COVERED: (Status.ROUTED, Rule.ZONE), kernels.POINT_NEAREST: (Status.NEAREST, Rule.NEAREST),
    kernels.POINT_GAP: (Status.FALLBACK, Rule.FALLBACK),
}
_PointKernel = Callable[[float, float, float, float, int, int, float, float], tuple[int, int, int, int, float, int, Ints, Ints]]


def _point_kernel(layer: ZoneLayer, radius_m: float) -> _PointKernel:
    """`kernels.route_point` bound to the layer's arrays, as the compiled overload's entry point:
    no argument type dispatch on each call (built once per layer and test-point radius)."""
    def make() -> _PointKernel:
        cover, area = layer.cover_index, layer.area_index
        points = layer.test_point_index(radius_m)
        cells = _cell_segments(layer)
        bound = (
            (layer.area_grid_array, area.offsets, area.items, area.covers, *_area_segments(layer).arrays, layer.area_order,
             *_area_boundaries(layer).arrays[1:], layer.area_default_unit),
            (layer.zone_grid_array, cover.offsets, cover.items, cover.covers, *cells.arrays, cells.bounds, layer.units[1], layer.zone_duty_mask,
             layer.zone_rank, layer.zone_metric_bounds, *layer.zone_segments_wgs84.arrays, *layer.zone_segments.arrays[1:]),
            (_test_point_grid(layer, radius_m), points.offsets, points.items, *layer.test_point_xy, layer.test_point_rank,
             *layer.test_point_segments.arrays),
            float(radius_m), _COVER_SLOTS, _SLOTS,
        )
        example = (*bound, 0.0, 0.0, 0.0, 0.0, -1, -1, 0.0, 0.0)  # a point off the grids: compiles (or loads) the overload
        kernels.route_point(*example)
        compiled = kernels.route_point.overloads[tuple(kernels.route_point.typeof_pyval(a) for a in example)]
        entry = compiled.entry_point  # type: ignore[attr-defined]  # a field numba's CompileResult builds at run time
        return partial(entry, *bound)

    return layer._cached(("point_kernel", float(radius_m)), make)


#: Reasons of the compiled path's overlap, fallback and department decisions kept per layer and
#: tolerance, at most this many (then built per call again): a few hundred on a district's layer.
_ONE_REASONS_KEPT = 20_000


def _reason_of_one(layer: ZoneLayer, config: RoutingConfig, rule: Rule, category: int, area: int, zone: int, unit: int, distance: float,
                   co_owners: str | None) -> str:
    """The reason `_reasons` gives a decision of the compiled path: the layer's shared texts, or
    the batch functions' text for this (rule, category, area, zone, unit, co-owners), built once."""
    tolerance = config.nearest_tolerance_m
    base = _reason_base(layer, tolerance)
    zones = len(layer.zones)
    if rule is Rule.ZONE:
        return base[zone]
    if rule is Rule.NEAREST:
        return base[zones + zone]
    if rule is Rule.AMBIGUOUS:
        return base[2 * zones + unit + (0 if distance == 0 else len(layer.unit_ids))]
    if rule is Rule.OUTSIDE:
        return base[-1]
    kept: dict[tuple[Any, ...], str] = layer._cached(("reasons of one", float(tolerance)), dict)
    key = (rule, category, area, zone, unit, co_owners)
    reason = kept.get(key)
    if reason is None:
        one = partial(np.full, 1, dtype=np.int64)
        if rule is Rule.OVERLAP:
            reason = _overlap_reasons(layer, one(zone), one(unit), np.array([co_owners], dtype=object))[0]
        elif rule is Rule.FALLBACK:
            reason = _fallback_reasons(layer, tolerance, one(area), one(layer.category_duty[category]), one(unit))[0]
        else:
            reason = _department_reasons(layer, one(category), one(unit), one(zone))[0]
        if len(kept) < _ONE_REASONS_KEPT:
            kept[key] = reason
    return reason


def _route_point(lon: Any, lat: Any, category: Any, accuracy_m: Any, layer: ZoneLayer, config: RoutingConfig) -> Decision | None:
    """`route_one` through the compiled single-point kernel, which runs the batch kernels'
    per-point steps; None when the batch path must decide: a report refused, a place on or
    within rounding of a boundary, more covering zones or nearby owners than the kernel holds."""
    try:
        lon, lat = float(lon), float(lat)
        accuracy = math.nan if accuracy_m is None else float(accuracy_m)
    except (TypeError, ValueError, OverflowError):
        return None
    code = layer.category_code(category)
    if code < 0 or not routable(lon, lat, accuracy):
        return None
    x, y = layer.to_metric.transform(lon, lat)
    outcome, area, zone, unit, distance, point, co_owners, candidates = _point_kernel(layer, config.test_point_radius_m)(
        lon, lat, x, y, int(layer.category_duty[code]), int(layer.category_department[code]), 0.0 if math.isnan(accuracy) else accuracy,
        config.nearest_tolerance_m)
    if outcome == kernels.POINT_DEFER:
        return None
    status, rule = _POINT_OUTCOMES[outcome]
    if len(co_owners):  # covered by several owners
        rule = Rule.OVERLAP
    if len(candidates):
        status, rule = Status.AMBIGUOUS, Rule.AMBIGUOUS
    unit_ids = layer.unit_ids
    co_ids = tuple(unit_ids[co_owners].tolist())
    reason = _reason_of_one(layer, config, rule, code, area, zone, unit, distance, ";".join(co_ids) or None)
    adopter = int(layer.test_point_unit_codes[point]) if point >= 0 else -1
    hours = float(layer.category_hours[code])
    return Decision(
        status=layer.status_names[_S[status]], unit_id=unit_ids[unit] if unit >= 0 else None, zone_id=layer.zone_ids[zone] if zone >= 0 else None,
        co_owner_unit_ids=co_ids, candidate_unit_ids=tuple(unit_ids[candidates].tolist()), rule=layer.rule_names[_R[rule]],
        distance_m=None if math.isnan(distance) else distance, test_point_id=layer.test_point_ids[point] if point >= 0 else None,
        zone_version=layer.version, reason=reason, area_id=layer.area_ids[area] if area >= 0 else None,
        test_point_unit_id=unit_ids[adopter] if adopter >= 0 else None, deadline_hours=None if math.isnan(hours) else hours,
    )


def route_one(
    lon: float,
    lat: float,
    category: str,
    layer: ZoneLayer,
    config: RoutingConfig | None = None,
    *,
    accuracy_m: float | None = None,
) -> Decision:
    """Route one report: the batch kernels' per-point steps in one compiled call (`kernels.route_point`),
    or the batch path on a batch of one for what that call leaves to it (see `_route_point`).

    The kernels run on the calling thread only: waking the parallel kernels' thread pool for one
    point costs more than the point, and a web server already runs one request per thread.
    """
    config = config or RoutingConfig()
    decided = _route_point(lon, lat, category, accuracy_m, layer, config)
    if decided is not None:
        return decided
    raw = np.array([category], dtype=object)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)  # for this thread only
    try:
        part = _route_chunk(
            np.array([lon], dtype=np.float64),
            np.array([lat], dtype=np.float64),
            layer.category_codes(raw),
            raw,
            np.array([np.nan if accuracy_m is None else accuracy_m], dtype=np.float64),
            layer,
            config,
            True,
            {},
        )
    finally:
        numba.set_num_threads(threads)
    out: dict[str, Any] = {}
    for name in DECISION_FIELDS:
        value = part[name]
        if isinstance(value, tuple):
            code = int(value[0][0])
            categories = value[1]
            if isinstance(categories, _Texts):
                out[name] = None if code < 0 else categories.base[code] if code < len(categories.base) else categories.extra[code - len(categories.base)]
            else:
                out[name] = categories[code] if code >= 0 else None
        elif isinstance(value, str):
            out[name] = value
        else:
            out[name] = None if np.isnan(value[0]) else float(value[0])
    return Decision.from_row(out)


#: What `route` reads from a layer, built by `warm`.
_LAYER_PARTS = (
    "category_table", "_category_position", "category_duty", "category_department", "category_hours", "category_names",
    "area_geoms", "area_index", "area_grid_array", "area_order", "area_default_unit", "area_ids", "area_names",
    "units", "unit_ids", "unit_labels", "zone_ids", "zone_labels", "zone_geoms", "zone_rank", "zone_duty_mask", "cover_index",
    "zone_grid_array", "zone_segments_wgs84", "zone_segments", "zone_metric_bounds", "to_metric",
    "test_point_xy", "test_point_rank", "test_point_segments", "test_point_ids", "test_point_unit_codes",
)


def warm(layer: ZoneLayer, config: RoutingConfig | None = None) -> None:
    """Build now every structure routing reads (indexes, boundary segments, reasons), which the
    first reports would otherwise wait for.

    Runs no parallel compiled kernel, so a process may fork afterwards: a parallel kernel run before a
    fork leaves GNU OpenMP broken in the child (wrong answers, not errors), and servers that
    load the app before forking their workers do exactly that.
    """
    config = config or RoutingConfig()
    for name in _LAYER_PARTS:
        getattr(layer, name)
    layer.test_point_index(config.test_point_radius_m)
    _test_point_grid(layer, config.test_point_radius_m)
    _cell_segments(layer)
    _area_segments(layer)
    _reason_base(layer, config.nearest_tolerance_m)
    _point_kernel(layer, config.test_point_radius_m)  # serial: compiled (or loaded) now, safe before a fork
