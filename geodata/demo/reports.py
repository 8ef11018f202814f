"""Generated citizen reports for the demo: clustered where people are, with GPS noise, some
taken on Amap or Baidu (GCJ-02 / BD-09 coordinates) and a few outside the district.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.crs import METRIC_CRS, STORAGE_CRS, wgs84_to_bd09, wgs84_to_gcj02
from geodata.demo.generate import DemoLayers
from zones.enums import ReportSource

# Where reports come from: near test points, along streets, anywhere built up, anywhere in the
# district, just outside it.
_MIX = {"test_point": 0.55, "street": 0.25, "builtup": 0.12, "district": 0.06, "outside": 0.02}
_CRS_MIX = {"wgs84": 0.80, "gcj02": 0.15, "bd09": 0.05}
_SOURCE_MIX = {
    ReportSource.CITIZEN.value: 0.70,
    ReportSource.INSPECTION.value: 0.12,
    ReportSource.SELF_CHECK.value: 0.10,
    ReportSource.SPOT_CHECK.value: 0.06,
    ReportSource.LEADER.value: 0.02,
}
_PHRASES = ("请尽快处理", "已存在多日", "影响居民出行", "早晚高峰尤其严重", "附近居民多次反映", "拍照为证")
# Relative frequency of each category code; codes not listed get weight 1.
_CATEGORY_WEIGHTS = {"litter": 8, "illegal_ads": 5, "street_vending": 5, "bike_clutter": 6, "illegal_parking": 4, "overflowing_bin": 4, "damaged_greenery": 3}
_EPOCH = datetime(2026, 11, 1, tzinfo=UTC)


def _uniform_in(rng: np.random.Generator, geom: shapely.Geometry, count: int) -> np.ndarray:
    shapely.prepare(geom)
    minx, miny, maxx, maxy = geom.bounds
    out: list[np.ndarray] = []
    need = count
    while need > 0:
        xs = rng.uniform(minx, maxx, need * 2 + 10)
        ys = rng.uniform(miny, maxy, need * 2 + 10)
        inside = shapely.contains_xy(geom, xs, ys)
        pts = np.column_stack([xs[inside], ys[inside]])[:need]
        out.append(pts)
        need -= len(pts)
    return np.concatenate(out) if out else np.empty((0, 2))


def _representative_xy(geoms: gpd.GeoSeries) -> np.ndarray:
    pts = shapely.point_on_surface(geoms.to_numpy())
    return np.column_stack([shapely.get_x(pts), shapely.get_y(pts)])


def generate_reports(layers: DemoLayers, count: int, seed: int) -> pd.DataFrame:
    """``count`` reports with ``id, lon, lat, crs, accuracy_m, category, description, source,
    created_at``; ``lon``/``lat`` are in the row's ``crs``.
    """
    rng = np.random.default_rng(seed + 1)
    kinds = rng.choice(list(_MIX), size=count, p=list(_MIX.values()))
    xy = np.empty((count, 2))
    points_m = layers.test_points.to_crs(METRIC_CRS)
    tp_xy = _representative_xy(points_m.geometry)
    street_zones = layers.zones[layers.zones["kind"].isin(["frontage", "road"])].to_crs(METRIC_CRS)
    street_xy = _representative_xy(street_zones.geometry)
    district_m = layers.district.to_crs(METRIC_CRS).geometry.union_all()
    builtup_m = layers.builtup.to_crs(METRIC_CRS).geometry.union_all()
    ring = district_m.buffer(3000.0).difference(district_m.buffer(300.0))
    for kind in _MIX:
        rows = np.flatnonzero(kinds == kind)
        if not len(rows):
            continue
        if kind == "test_point":
            xy[rows] = tp_xy[rng.integers(len(tp_xy), size=len(rows))] + rng.normal(0.0, 60.0, (len(rows), 2))
        elif kind == "street":
            xy[rows] = street_xy[rng.integers(len(street_xy), size=len(rows))] + rng.normal(0.0, 15.0, (len(rows), 2))
        else:
            area = {"builtup": builtup_m, "district": district_m, "outside": ring}[kind]
            xy[rows] = _uniform_in(rng, area, len(rows))
    accuracy = np.clip(rng.lognormal(np.log(8.0), 0.6, count), 3.0, 80.0).round(1)
    xy += rng.normal(0.0, 1.0, (count, 2)) * (accuracy[:, None] / 2.0)
    lonlat = gpd.GeoSeries(shapely.points(xy), crs=METRIC_CRS).to_crs(STORAGE_CRS)
    lon, lat = lonlat.x.to_numpy().copy(), lonlat.y.to_numpy().copy()
    crs = rng.choice(list(_CRS_MIX), size=count, p=list(_CRS_MIX.values()))
    for name, func in (("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)):
        rows = crs == name
        lon[rows], lat[rows] = func(lon[rows], lat[rows])
    categories = layers.categories
    weights = np.array([_CATEGORY_WEIGHTS.get(c, 1) for c in categories["code"]], dtype=float)
    picked = rng.choice(len(categories), size=count, p=weights / weights.sum())
    phrases = rng.choice(_PHRASES, size=count)
    created = [(_EPOCH + timedelta(seconds=int(s))).isoformat() for s in np.sort(rng.integers(0, 27 * 86400, size=count))]
    return pd.DataFrame({
        "id": [f"R{n:07d}" for n in range(1, count + 1)],
        "lon": lon.round(7),
        "lat": lat.round(7),
        "crs": crs,
        "accuracy_m": accuracy,
        "category": categories["code"].to_numpy()[picked],
        "description": [f"{name}，{phrase}" for name, phrase in zip(categories["name_zh"].to_numpy()[picked], phrases, strict=True)],
        "source": rng.choice(list(_SOURCE_MIX), size=count, p=list(_SOURCE_MIX.values())),
        "created_at": created,
    })
