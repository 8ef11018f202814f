"""Routing: every geotagged report to its accountable unit, one at a time or millions at once.

The rules, in order (see DESIGN.md):

1. Bad rows (coordinates that are not numbers or out of range, a negative accuracy, an
   unknown category) → ``error`` with the reason; the rest of the batch goes on.
2. Outside the union of the areas → ``outside``: kept, nobody assigned.
3. A category routed to a department → ``department``; the covering zone is recorded.
4. Zones covering the point (boundary inside) that hold the category's duty → ``routed``: the
   accountable owner is the one with the best zone (highest ``priority``, then smallest area,
   then smallest ``zone_id``), other covering owners are co-owners (rule ``zone`` for one
   owner, ``overlap`` for several). If the ``accuracy_m`` circle reaches a duty-holding zone of
   an owner that does not cover the point → ``ambiguous`` with the same provisional owner and
   every owner within ``accuracy_m`` as candidates.
5. No covering duty zone: the nearest duty zone within ``nearest_tolerance_m`` → ``nearest``
   (``ambiguous`` instead when the accuracy circle reaches duty zones of several owners);
   otherwise the sub-district's default unit → ``fallback`` (a coverage gap).
6. The nearest test point within ``test_point_radius_m`` is attached, with its adopting unit.

One implementation serves both entry points: `route_one` is `route` on a batch of one.
Coordinates are WGS84 lon/lat; every distance is measured in the layer's metric CRS.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from zones.config import RoutingConfig
from zones.enums import Rule, Status
from zones.errors import CRSError
from zones import kernels
from zones.layer import DUTY_BITS, ZoneLayer

DECISION_COLUMNS = [
    "id", "status", "unit_id", "zone_id", "co_owner_unit_ids", "candidate_unit_ids", "rule",
    "distance_m", "test_point_id", "zone_version", "reason",
]
EXTRA_COLUMNS = ["area_id", "test_point_unit_id", "deadline_hours"]
DUTY_ZH = {"sanitation": "卫生", "order": "秩序", "greening": "绿化", "facilities": "设施"}
CHUNK = 200_000
_STATUS = np.array(Status.values(), dtype=object)
_RULE = np.array(Rule.values(), dtype=object)
_S = {s: i for i, s in enumerate(Status)}
_R = {r: i for i, r in enumerate(Rule)}
_BIG = np.iinfo(np.int64).max

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]
Objects = NDArray[np.object_]


class _Batch:
    """Working arrays of one chunk of reports."""

    def __init__(self, ids: Objects, lon: Floats, lat: Floats, category: Objects, accuracy: Floats) -> None:
        n = len(ids)
        self.n = n
        self.ids, self.lon, self.lat, self.category, self.accuracy = ids, lon, lat, category, accuracy
        self.status = np.full(n, _S[Status.ERROR], dtype=np.int64)
        self.rule = np.full(n, _R[Rule.ERROR], dtype=np.int64)
        self.unit: Objects = np.full(n, None, dtype=object)
        self.zone = np.full(n, -1, dtype=np.int64)
        self.area = np.full(n, -1, dtype=np.int64)
        self.distance = np.full(n, np.nan)
        self.test_point = np.full(n, -1, dtype=np.int64)
        self.co_owners: Objects = np.full(n, "", dtype=object)
        self.candidates: Objects = np.full(n, "", dtype=object)
        self.reason: Objects = np.full(n, "", dtype=object)
        self.duty = np.full(n, -1, dtype=np.int64)  # duty bit, or -1 for department / bad rows
        self.department: Objects = np.full(n, None, dtype=object)
        self.deadline = np.full(n, np.nan)
        self.category_name: Objects = np.full(n, "", dtype=object)
        self._metric: tuple[Floats, Floats] | None = None

    def metric(self, layer: ZoneLayer) -> tuple[Floats, Floats]:
        """Metric x/y of every row (computed once, on first need)."""
        if self._metric is None:
            ok = np.isfinite(self.lon) & np.isfinite(self.lat)
            x = np.full(self.n, np.nan)
            y = np.full(self.n, np.nan)
            if ok.any():
                x[ok], y[ok] = layer.to_metric.transform(self.lon[ok], self.lat[ok])
            self._metric = (x, y)
        return self._metric


def _first_per_point(points: Ints, keys: Ints, n: int) -> Ints:
    """For each point, the position (into ``points``) of its pair with the smallest key; -1 if none.

    Keys must be unique per point.
    """
    best = np.full(n, _BIG, dtype=np.int64)
    np.minimum.at(best, points, keys)
    pos = np.full(n, -1, dtype=np.int64)
    hit = np.flatnonzero(best[points] == keys)
    pos[points[hit]] = hit
    return pos


def _distinct_owners(rows: Ints, owners: Ints, keys: Ints, n_units: int) -> tuple[Ints, Ints, Ints]:
    """Each row's distinct owners, ordered by their smallest key: (rows, owners, position in row)."""
    order = np.lexsort((keys, rows))
    rows, owners = rows[order], owners[order]
    _, first = np.unique(rows * n_units + owners, return_index=True)
    first.sort()
    rows, owners = rows[first], owners[first]
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]]) if len(rows) else np.empty(0, np.int64)
    lengths = np.diff(np.r_[starts, len(rows)])
    position = np.arange(len(rows)) - np.repeat(starts, lengths)
    return rows, owners, position


def _join(rows: Ints, labels: Objects, position: Ints, out: Objects) -> None:
    """Write ``;``-joined ``labels`` per row into ``out`` (rows grouped, ``position`` within row)."""
    for k in range(int(position.max()) + 1 if len(position) else 0):
        sel = position == k
        target = rows[sel]
        out[target] = labels[sel] if k == 0 else out[target] + ";" + labels[sel]


def _check_rows(b: _Batch, layer: ZoneLayer) -> NDArray[np.bool_]:
    """Rule 1: flag bad rows with their reason; return the mask of usable rows."""
    with np.errstate(invalid="ignore"):
        numeric = np.isfinite(b.lon) & np.isfinite(b.lat)
        in_range = numeric & (np.abs(b.lon) <= 180) & (np.abs(b.lat) <= 90)
        accuracy_ok = ~(b.accuracy < 0) & ~np.isinf(b.accuracy)
    codes, uniques = pd.factorize(b.category, use_na_sentinel=True)
    known = np.zeros(len(uniques) + 1, dtype=bool)
    duty_of = np.full(len(uniques) + 1, -1, dtype=np.int64)
    dept_of = np.full(len(uniques) + 1, None, dtype=object)
    hours_of = np.full(len(uniques) + 1, np.nan)
    name_of = np.full(len(uniques) + 1, "", dtype=object)
    for k, code in enumerate(uniques):
        category = layer.category_table.get(str(code))
        if category is None:
            continue
        known[k] = True
        duty_of[k] = DUTY_BITS[category.duty] if category.duty else -1
        dept_of[k] = category.department_unit_id
        hours_of[k] = category.deadline_hours
        name_of[k] = category.name_zh
    b.duty, b.department, b.deadline, b.category_name = duty_of[codes], dept_of[codes], hours_of[codes], name_of[codes]
    category_ok = known[codes]
    usable = in_range & accuracy_ok & category_ok
    for pos in np.flatnonzero(~usable):
        problems = []
        if not numeric[pos]:
            problems.append(f"坐标不是有效数字（lon={b.lon[pos]!r}, lat={b.lat[pos]!r}）")
        elif not in_range[pos]:
            problems.append(f"坐标超出范围（lon={b.lon[pos]:g}, lat={b.lat[pos]:g}）")
        if not accuracy_ok[pos]:
            problems.append(f"定位精度 accuracy_m={b.accuracy[pos]!r} 不是非负数")
        if not category_ok[pos]:
            problems.append(f"未知类别 {b.category[pos]!r}")
        b.reason[pos] = "无法派单：" + "；".join(problems)
    b.accuracy = np.where(np.isnan(b.accuracy), 0.0, b.accuracy)
    return usable


def _locate_areas(b: _Batch, layer: ZoneLayer, rows: Ints) -> Ints:
    """Rule 2: the area naming each row's place; rows in no area become ``outside``."""
    points, areas, covers = layer.area_index.pairs(b.lon[rows], b.lat[rows])
    exact = ~covers
    hit = covers.copy()
    hit[exact] = shapely.intersects_xy(layer.area_geoms[areas[exact]], b.lon[rows[points[exact]]], b.lat[rows[points[exact]]])
    points, areas = points[hit], areas[hit]
    first = _first_per_point(points, layer.area_order[areas], len(rows))
    found = first >= 0
    b.area[rows[found]] = areas[first[found]]
    outside = rows[~found]
    b.status[outside], b.rule[outside] = _S[Status.OUTSIDE], _R[Rule.OUTSIDE]
    return rows[found]


def _covering_pairs(b: _Batch, layer: ZoneLayer, rows: Ints) -> tuple[Ints, Ints]:
    """(row, zone) for every zone covering each row's point, boundary included, grouped by row."""
    points, zones, covers = layer.cover_index.pairs(b.lon[rows], b.lat[rows])
    px, py = b.lon[rows[points]], b.lat[rows[points]]
    state = layer.zone_segments_wgs84.contains(zones, px, py, covers)
    undecided = np.flatnonzero(state == kernels.UNDECIDED)  # on a boundary: GEOS decides, exactly
    state[undecided] = shapely.intersects_xy(layer.zone_geoms[zones[undecided]], px[undecided], py[undecided])
    keep = state == kernels.INSIDE
    return rows[points[keep]], zones[keep]


def _zones_near(b: _Batch, layer: ZoneLayer, rows: Ints, radius: Floats, cover_rows: Ints, cover_owners: Ints) -> tuple[Ints, Ints, Floats, Ints, Ints, Floats]:
    """Zones holding each row's duty within ``radius`` metres, whose owners do not cover it.

    ``cover_rows`` (sorted) and ``cover_owners`` list the owners covering each row's point.
    Returns per-owner triples ``(row, owner, key, metres)`` flattened, and per row the nearest
    zone (-1 if none) and its distance.
    """
    x, y = b.metric(layer)
    segments = layer.zone_segments
    start = np.searchsorted(cover_rows, rows, side="left")
    end = np.searchsorted(cover_rows, rows, side="right")
    slots = 8
    while True:
        owners, keys, metres, counts, nearest, nearest_m = kernels.zones_near(
            rows, b.lon, b.lat, x, y, radius, b.duty, start, end, cover_owners,
            layer.zone_grid_array, layer.cover_index.offsets, layer.cover_index.items,
            layer.units[1], layer.zone_duty_mask, layer.zone_rank, layer.zone_metric_bounds,
            *segments.arrays, slots,
        )
        if counts.max(initial=0) <= slots:
            break
        slots *= 4  # some row is near more owners than fit: measure again with room for all
    filled = owners >= 0
    row_of = np.repeat(rows[:, None], slots, axis=1)
    return row_of[filled], owners[filled], keys[filled], metres[filled], nearest, nearest_m


def _route_zones(b: _Batch, layer: ZoneLayer, rows: Ints) -> Ints:
    """Rules 3 and 4 for rows inside the district; returns the rows left for rule 5."""
    unit_ids, owner = layer.units
    n_units = len(unit_ids)
    rank = layer.zone_rank
    cover_rows, cover_zones = _covering_pairs(b, layer, rows)
    # Rule 3: departments; the best covering zone (any duty) is kept for context.
    is_dept = b.duty[rows] < 0
    dept_rows = rows[is_dept]
    b.unit[dept_rows] = b.department[dept_rows]
    b.status[dept_rows], b.rule[dept_rows] = _S[Status.DEPARTMENT], _R[Rule.DEPARTMENT]
    dept_pairs = b.duty[cover_rows] < 0
    first = _first_per_point(cover_rows[dept_pairs], rank[cover_zones[dept_pairs]], b.n)
    has_zone = dept_rows[first[dept_rows] >= 0]
    b.zone[has_zone] = cover_zones[dept_pairs][first[has_zone]]
    # Rule 4: covering zones that hold the duty; the best one is accountable.
    duty_pairs = ~dept_pairs & ((layer.zone_duty_mask[cover_zones] >> np.maximum(b.duty[cover_rows], 0)) & 1 == 1)
    d_rows, d_zones = cover_rows[duty_pairs], cover_zones[duty_pairs]
    first = _first_per_point(d_rows, rank[d_zones], b.n)
    duty_rows = rows[~is_dept]
    covered = duty_rows[first[duty_rows] >= 0]
    best = d_zones[first[covered]]
    b.zone[covered] = best
    b.unit[covered] = unit_ids[owner[best]]
    b.distance[covered] = 0.0
    b.status[covered], b.rule[covered] = _S[Status.ROUTED], _R[Rule.ZONE]
    # Overlaps: the other covering owners are co-owners.
    multi = np.bincount(d_rows, minlength=b.n)[d_rows] > 1
    o_rows, o_owners, o_pos = _distinct_owners(d_rows[multi], owner[d_zones[multi]], rank[d_zones[multi]], n_units)
    co = o_pos > 0
    _join(o_rows[co], unit_ids[o_owners[co]], o_pos[co] - 1, b.co_owners)
    b.rule[np.unique(o_rows[co])] = _R[Rule.OVERLAP]
    # Ambiguity: a duty zone of an owner that does not cover the point within accuracy_m.
    check = covered[b.accuracy[covered] > 0]
    f_rows, f_owners, f_keys, _, _, _ = _zones_near(b, layer, check, b.accuracy, d_rows, owner[d_zones])
    ambiguous = np.unique(f_rows)
    if len(ambiguous):
        mine = np.isin(d_rows, ambiguous)
        c_rows = np.concatenate([d_rows[mine], f_rows])
        c_owners = np.concatenate([owner[d_zones[mine]], f_owners])
        c_keys = np.concatenate([rank[d_zones[mine]] + 1, f_keys])
        r, o, pos = _distinct_owners(c_rows, c_owners, c_keys, n_units)
        _join(r, unit_ids[o], pos, b.candidates)
        b.status[ambiguous], b.rule[ambiguous] = _S[Status.AMBIGUOUS], _R[Rule.AMBIGUOUS]
    return duty_rows[first[duty_rows] < 0]


def _route_uncovered(b: _Batch, layer: ZoneLayer, config: RoutingConfig, rows: Ints) -> None:
    """Rule 5: nearest duty zone within the tolerance, else the sub-district's default unit."""
    unit_ids, owner = layer.units
    radius = np.zeros(b.n)
    radius[rows] = np.maximum(config.nearest_tolerance_m, b.accuracy[rows])
    none = np.empty(0, dtype=np.int64)
    n_rows, n_owners, n_keys, n_metres, nearest, nearest_m = _zones_near(b, layer, rows, radius, none, none)
    found_mask = (nearest >= 0) & (nearest_m <= config.nearest_tolerance_m)
    found = rows[found_mask]
    zones = nearest[found_mask]
    b.zone[found] = zones
    b.unit[found] = unit_ids[owner[zones]]
    b.distance[found] = nearest_m[found_mask]
    b.status[found], b.rule[found] = _S[Status.NEAREST], _R[Rule.NEAREST]
    # A nearest-routed row whose accuracy circle reaches duty zones of several owners: ambiguous.
    routed = np.zeros(b.n, dtype=bool)
    routed[found] = True
    reach = routed[n_rows] & (n_metres <= b.accuracy[n_rows])
    r, o, pos = _distinct_owners(n_rows[reach], n_owners[reach], n_keys[reach], len(unit_ids))
    several = np.unique(r[pos > 0])
    if len(several):
        mine = np.isin(r, several)
        _join(r[mine], unit_ids[o[mine]], pos[mine], b.candidates)
        b.status[several], b.rule[several] = _S[Status.AMBIGUOUS], _R[Rule.AMBIGUOUS]
    gap = rows[~found_mask]
    defaults = layer.areas["default_unit_id"].to_numpy(dtype=object)
    b.unit[gap] = defaults[b.area[gap]]
    b.status[gap], b.rule[gap] = _S[Status.FALLBACK], _R[Rule.FALLBACK]


def _attach_test_points(b: _Batch, layer: ZoneLayer, config: RoutingConfig, rows: Ints) -> None:
    """Rule 6: the nearest test point within the radius (ties: smaller ``point_id``)."""
    if not len(layer.test_points) or not len(rows):
        return
    index = layer.test_point_index(config.test_point_radius_m)
    x, y = b.metric(layer)
    tx, ty, _ = layer.test_point_xy
    b.test_point[rows] = kernels.nearest_points(
        rows, b.lon, b.lat, x, y, config.test_point_radius_m, layer.test_point_grid_array(config.test_point_radius_m),
        index.offsets, index.items, tx, ty, layer.test_point_rank, *layer.test_point_segments.arrays,
    )


def _cat(*parts: Objects | str) -> Objects:
    """Concatenate strings elementwise (object arrays and constants)."""
    out = parts[0]
    for part in parts[1:]:
        out = np.add(out, part, dtype=object)
    return np.asarray(out, dtype=object)


def _numbers(values: Floats, decimals: int) -> Objects:
    return np.char.mod(f"%.{decimals}f", np.round(values, decimals)).astype(object) if len(values) else np.empty(0, dtype=object)


def _reasons(b: _Batch, layer: ZoneLayer, config: RoutingConfig) -> None:
    """One line per row, in Chinese, that a dispatcher can check against the map.

    Rows that share a rule, zone, duty and unit share their text, so each distinct text is
    built once.
    """
    ids, labels = layer.unit_labels

    def unit(values: Objects) -> Objects:
        pos = ids.get_indexer(values)
        return np.where(pos >= 0, labels[np.maximum(pos, 0)], values).astype(object)

    zone_label = _cat(layer.zone_ids.astype(object), np.where(layer.zone_names != "", _cat("「", layer.zone_names, "」"), "").astype(object))
    zone_label = np.concatenate([zone_label, np.array([""], dtype=object)])
    duty = np.array([DUTY_ZH[d] for d in DUTY_BITS] + [""], dtype=object)
    tolerance = f"{config.nearest_tolerance_m:g}"
    area_names = np.concatenate([layer.areas["name"].to_numpy(dtype=object), np.array([""], dtype=object)])
    category_codes = pd.factorize(b.category)[0]
    z = len(layer.zones) + 1
    per_key = (
        (Rule.ZONE, lambda k: b.zone[k] * 8 + b.duty[k], lambda k: _cat("位于责任区 ", zone_label[b.zone[k]], " 内，", duty[b.duty[k]], "职责属", unit(b.unit[k]))),
        (Rule.FALLBACK, lambda k: b.area[k] * 8 + b.duty[k], lambda k: _cat(f"{tolerance} m 内没有", duty[b.duty[k]], "责任区（责任空白），由", area_names[b.area[k]], "默认单位", unit(b.unit[k]), "兜底")),
        (Rule.DEPARTMENT, lambda k: category_codes[k] * z + b.zone[k] + 1, lambda k: _cat(
            "类别「", b.category_name[k], "」由", unit(b.unit[k]), "统一处置",
            np.where(b.zone[k] >= 0, _cat("；所在责任区 ", zone_label[b.zone[k]]), "").astype(object))),
        (Rule.AMBIGUOUS, lambda k: (b.zone[k] * 8 + b.duty[k]) * 2 + (b.distance[k] == 0), lambda k: _cat(
            "定位精度范围内涉及多个单位的", duty[b.duty[k]], "责任区（见候选单位），",
            np.where(b.distance[k] == 0, "暂派覆盖该点的", "暂派最近的").astype(object), unit(b.unit[k]), "，请调度核实")),
        (Rule.OUTSIDE, lambda k: np.zeros(len(k), dtype=np.int64), lambda k: np.full(len(k), "坐标位于辖区之外，已记录待核实，不派单", dtype=object)),
    )
    for rule, key, build in per_key:
        rows = np.flatnonzero(b.rule == _R[rule])
        if len(rows):
            uniq, first, inverse = np.unique(key(rows), return_index=True, return_inverse=True)
            b.reason[rows] = build(rows[first])[inverse]
    for rule, build in (
        (Rule.OVERLAP, lambda k: _cat("位于多个单位的交叉责任区内，按优先级、面积、编号由 ", zone_label[b.zone[k]], " 的", unit(b.unit[k]), "主责，", b.co_owners[k], " 协同")),
        (Rule.NEAREST, lambda k: _cat("不在任何", duty[b.duty[k]], "责任区内，距最近的责任区 ", zone_label[b.zone[k]], " ", _numbers(b.distance[k], 1), f" m（容差 {tolerance} m），派给", unit(b.unit[k]))),
    ):
        rows = np.flatnonzero(b.rule == _R[rule])
        if len(rows):
            b.reason[rows] = build(rows)


def _route_chunk(ids: Objects, lon: Floats, lat: Floats, category: Objects, accuracy: Floats, layer: ZoneLayer, config: RoutingConfig, with_reasons: bool) -> dict[str, Any]:
    b = _Batch(ids, lon, lat, category, accuracy)
    usable = np.flatnonzero(_check_rows(b, layer))
    inside = _locate_areas(b, layer, usable)
    uncovered = _route_zones(b, layer, inside)
    _route_uncovered(b, layer, config, uncovered)
    _attach_test_points(b, layer, config, inside)
    if with_reasons:
        _reasons(b, layer, config)
    zone_ids = np.concatenate([layer.zone_ids, np.array([None], dtype=object)])
    tp_ids = np.concatenate([layer.test_points["point_id"].to_numpy(dtype=object), np.array([None], dtype=object)])
    tp_units = np.concatenate([layer.test_points["unit_id"].to_numpy(dtype=object), np.array([None], dtype=object)])
    area_ids = np.concatenate([layer.areas["area_id"].to_numpy(dtype=object), np.array([None], dtype=object)])
    return {
        "id": ids,
        "status": _STATUS[b.status],
        "unit_id": b.unit,
        "zone_id": zone_ids[b.zone],
        "co_owner_unit_ids": b.co_owners,
        "candidate_unit_ids": b.candidates,
        "rule": _RULE[b.rule],
        "distance_m": b.distance,
        "test_point_id": tp_ids[b.test_point],
        "zone_version": np.full(b.n, layer.version, dtype=object),
        "reason": b.reason,
        "area_id": area_ids[b.area],
        "test_point_unit_id": tp_units[b.test_point],
        "deadline_hours": b.deadline,
    }


def _column(frame: pd.DataFrame, name: str, default: Any) -> NDArray[Any]:
    return frame[name].to_numpy() if name in frame.columns else np.full(len(frame), default)


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
    is_point = shapely.get_type_id(geoms) == 0
    x = np.full(len(geoms), np.nan)
    y = np.full(len(geoms), np.nan)
    x[is_point] = shapely.get_x(geoms[is_point])
    y[is_point] = shapely.get_y(geoms[is_point])
    return x, y


def route(
    reports: pd.DataFrame,
    layer: ZoneLayer,
    config: RoutingConfig | None = None,
    *,
    with_reasons: bool = True,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
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
        Threads for large batches (default: the CPU count); chunks of 200,000 rows.
    progress
        Called with the number of rows finished after each chunk.

    Returns
    -------
    pandas.DataFrame
        ``DECISION_COLUMNS`` then ``EXTRA_COLUMNS``.
    """
    config = config or RoutingConfig()
    lon, lat = _coordinates(reports)
    ids = _column(reports, "id", None).astype(object)
    if "id" not in reports.columns:
        ids = np.arange(1, len(reports) + 1).astype(str).astype(object)
    category = _column(reports, "category", None).astype(object)
    accuracy = pd.to_numeric(pd.Series(_column(reports, "accuracy_m", np.nan)), errors="coerce").to_numpy(dtype=np.float64)
    starts = list(range(0, len(reports), CHUNK)) or [0]

    def run(start: int) -> dict[str, Any]:
        end = start + CHUNK
        part = _route_chunk(ids[start:end], lon[start:end], lat[start:end], category[start:end], accuracy[start:end], layer, config, with_reasons)
        if progress is not None:
            progress(len(part["id"]))
        return part

    threads = min(workers or os.cpu_count() or 1, len(starts))
    if threads > 1:
        with ThreadPoolExecutor(threads) as pool:
            parts = list(pool.map(run, starts))
    else:
        parts = [run(s) for s in starts]
    columns = {name: np.concatenate([p[name] for p in parts]) for name in DECISION_COLUMNS + EXTRA_COLUMNS}
    return pd.DataFrame({name: pd.Series(values, dtype=values.dtype, copy=False) for name, values in columns.items()})


def route_one(
    lon: float,
    lat: float,
    category: str,
    layer: ZoneLayer,
    config: RoutingConfig | None = None,
    *,
    accuracy_m: float | None = None,
    report_id: str | None = None,
) -> dict[str, Any]:
    """Route one report: `route` on a batch of one, returned as a dict of the decision's fields."""
    row = _route_chunk(
        np.array([report_id], dtype=object),
        np.array([lon], dtype=np.float64),
        np.array([lat], dtype=np.float64),
        np.array([category], dtype=object),
        np.array([np.nan if accuracy_m is None else accuracy_m], dtype=np.float64),
        layer,
        config or RoutingConfig(),
        True,
    )
    return {name: (values[0].item() if isinstance(values[0], np.generic) else values[0]) for name, values in row.items()}
