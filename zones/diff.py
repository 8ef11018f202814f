"""What changes between two versions of a zone layer: zones added, removed, reshaped, given to
another owner or other duties; test points adopted or dropped; and which open reports would
route to another owner.

Zones are matched by ``zone_id`` and test points by ``point_id``; everything is vectorised, so
a diff of two 100k-zone layers takes a few seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from zones.config import RoutingConfig
from zones.layer import ZoneLayer
from zones.router import route
from zones.schema import parse_duties

#: Vertices closer than this (degrees, about 1 cm) are the same: a zone exported again is not reshaped.
SAME_SHAPE_DEG = 1e-7
ZONE_CHANGES = ("added", "removed", "reshaped", "owner", "duties")
POINT_CHANGES = ("added", "removed", "adopted", "dropped", "owner")


@dataclass
class LayerDiff:
    """Changes from ``before`` to ``after``: one row per zone change (a zone both reshaped and
    given to another owner has two rows) and per test point change."""

    before: str
    after: str
    zones: pd.DataFrame  # change, zone_id, name, unit_before, unit_after, duties_before, duties_after, area_before_m2, area_after_m2
    test_points: pd.DataFrame  # change, point_id, name, unit_before, unit_after

    def counts(self) -> dict[str, dict[str, int]]:
        """How many zones and test points changed in each way (every way named, zeros too)."""
        return {
            "zones": {c: int((self.zones["change"] == c).sum()) for c in ZONE_CHANGES},
            "test_points": {c: int((self.test_points["change"] == c).sum()) for c in POINT_CHANGES},
        }


def _text(values: pd.Series) -> np.ndarray:
    return values.astype(object).where(values.notna(), "").astype(str).to_numpy(dtype=object)


def _same_duties(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Whether each pair of duty lists names the same duties (``"order,sanitation"`` is
    ``"sanitation、order"``); only differently written pairs are parsed."""
    same = before == after
    for k in np.flatnonzero(~same):
        same[k] = sorted(parse_duties(before[k])[0]) == sorted(parse_duties(after[k])[0])
    return same


def _same_shape(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Whether each pair of geometries is the same shape (vertices within `SAME_SHAPE_DEG`, in any
    order); only pairs not equal as written are normalised."""
    same = shapely.equals_exact(before, after, tolerance=SAME_SHAPE_DEG)
    rest = np.flatnonzero(~same)
    same[rest] = shapely.equals_exact(before[rest], after[rest], tolerance=SAME_SHAPE_DEG, normalize=True)
    return same


def _owner(values: pd.Series) -> np.ndarray:
    """Unit ids with blanks as ``""``."""
    return values.astype(object).where(values.notna(), "").astype(str).str.strip().to_numpy(dtype=object)


def _zone_changes(before: ZoneLayer, after: ZoneLayer) -> pd.DataFrame:
    left = pd.DataFrame({"zone_id": before.zones["zone_id"].to_numpy(dtype=object), "b": np.arange(len(before.zones))})
    right = pd.DataFrame({"zone_id": after.zones["zone_id"].to_numpy(dtype=object), "a": np.arange(len(after.zones))})
    both = left.merge(right, on="zone_id", how="outer", sort=True)
    b = both["b"].fillna(-1).astype(np.int64).to_numpy()
    a = both["a"].fillna(-1).astype(np.int64).to_numpy()
    in_b, in_a = b >= 0, a >= 0
    unit_b = np.where(in_b, _owner(before.zones["unit_id"])[np.maximum(b, 0)], None)
    unit_a = np.where(in_a, _owner(after.zones["unit_id"])[np.maximum(a, 0)], None)
    duties_b = np.where(in_b, _text(before.zones["duties"])[np.maximum(b, 0)], None)
    duties_a = np.where(in_a, _text(after.zones["duties"])[np.maximum(a, 0)], None)
    area_b = np.where(in_b, before.zone_area_m2[np.maximum(b, 0)], np.nan)
    area_a = np.where(in_a, after.zone_area_m2[np.maximum(a, 0)], np.nan)
    names = np.where(in_a, after.zones["name"].to_numpy(dtype=object)[np.maximum(a, 0)], before.zones["name"].to_numpy(dtype=object)[np.maximum(b, 0)])
    common = in_a & in_b
    reshaped, duties = np.zeros(len(both), dtype=bool), np.zeros(len(both), dtype=bool)
    reshaped[common] = ~_same_shape(before.zones.geometry.to_numpy()[b[common]], after.zones.geometry.to_numpy()[a[common]])
    duties[common] = ~_same_duties(duties_b[common], duties_a[common])
    masks = {
        "added": in_a & ~in_b, "removed": in_b & ~in_a, "reshaped": reshaped,
        "owner": common & (unit_b != unit_a), "duties": duties,
    }
    frames = [pd.DataFrame({"change": change, "zone_id": both["zone_id"].to_numpy()[m], "name": names[m],
                            "unit_before": unit_b[m], "unit_after": unit_a[m], "duties_before": duties_b[m], "duties_after": duties_a[m],
                            "area_before_m2": np.round(area_b[m], 1), "area_after_m2": np.round(area_a[m], 1)})
              for change, m in masks.items()]
    return pd.concat(frames, ignore_index=True)


def _point_changes(before: ZoneLayer, after: ZoneLayer) -> pd.DataFrame:
    left = pd.DataFrame({"point_id": before.test_points["point_id"].to_numpy(dtype=object), "name_b": before.test_points["name"].to_numpy(dtype=object),
                         "unit_before": _owner(before.test_points["unit_id"])})
    right = pd.DataFrame({"point_id": after.test_points["point_id"].to_numpy(dtype=object), "name_a": after.test_points["name"].to_numpy(dtype=object),
                          "unit_after": _owner(after.test_points["unit_id"])})
    both = left.merge(right, on="point_id", how="outer", sort=True, indicator=True)
    was, now = both["unit_before"].fillna(""), both["unit_after"].fillna("")
    common = (both["_merge"] == "both").to_numpy()
    masks = {
        "added": (both["_merge"] == "right_only").to_numpy(), "removed": (both["_merge"] == "left_only").to_numpy(),
        "adopted": common & (was == "").to_numpy() & (now != "").to_numpy(),
        "dropped": common & (was != "").to_numpy() & (now == "").to_numpy(),
        "owner": common & (was != "").to_numpy() & (now != "").to_numpy() & (was != now).to_numpy(),
    }
    name = both["name_a"].where(both["name_a"].notna(), both["name_b"])
    frames = [pd.DataFrame({"change": change, "point_id": both["point_id"].to_numpy()[m], "name": name.to_numpy()[m],
                            "unit_before": both["unit_before"].to_numpy()[m], "unit_after": both["unit_after"].to_numpy()[m]})
              for change, m in masks.items()]
    return pd.concat(frames, ignore_index=True)


def diff_layers(before: ZoneLayer, after: ZoneLayer) -> LayerDiff:
    """The changes from ``before`` to ``after``."""
    return LayerDiff(before.version, after.version, _zone_changes(before, after), _point_changes(before, after))


def rerouted(reports: pd.DataFrame, before: ZoneLayer, after: ZoneLayer, config: RoutingConfig | None = None) -> pd.DataFrame:
    """The reports that ``after`` would give to another owner.

    ``reports`` holds ``id``, ``lon``, ``lat``, ``category``, ``accuracy_m`` and ``unit_id`` (the
    unit holding it now). A report is affected when the layer's change moves its spot to another
    unit (the routes of ``before`` and ``after`` differ) and that unit is not already the one
    holding it: a report a dispatcher gave to someone else by hand stays theirs unless the new
    layer moves the spot. Returns ``report_id``, ``unit_id`` (now), ``to_unit_id``, ``to_zone_id``
    and ``reason`` (the new route's), in the order of ``reports``.
    """
    columns = ["report_id", "unit_id", "to_unit_id", "to_zone_id", "reason"]
    if not len(reports):
        return pd.DataFrame(columns=columns)
    old = route(reports, before, config)
    new = route(reports, after, config)
    to = new["unit_id"].astype(object).to_numpy()
    moved = (old["unit_id"].astype(object).to_numpy() != to) & pd.notna(to)
    moved &= reports["unit_id"].astype(object).to_numpy() != to
    return pd.DataFrame({
        "report_id": reports["id"].to_numpy()[moved], "unit_id": reports["unit_id"].to_numpy()[moved],
        "to_unit_id": to[moved], "to_zone_id": new["zone_id"].to_numpy()[moved], "reason": new["reason"].to_numpy()[moved],
    }, columns=columns)
