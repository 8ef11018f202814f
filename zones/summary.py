"""A planner's one-screen summary of a layer set: counts, units, areas, extent."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import shapely

from zones.config import METRIC_CRS


def _check_geographic(gdf: gpd.GeoDataFrame, what: str) -> None:
    if gdf.crs is None or not gdf.crs.is_geographic:
        msg = f"{what} must be in WGS84 lon/lat, got {gdf.crs}"
        raise ValueError(msg)


def summarise(
    zones: gpd.GeoDataFrame | None = None,
    test_points: gpd.GeoDataFrame | None = None,
    areas: gpd.GeoDataFrame | None = None,
    *,
    metric_crs: str = METRIC_CRS,
) -> dict[str, Any]:
    """Summarise validated WGS84 layers; areas in km² are measured in ``metric_crs``."""
    out: dict[str, Any] = {}
    if zones is not None:
        _check_geographic(zones, "zones")
        metric = zones.geometry.to_crs(metric_crs)
        union = shapely.union_all(metric.to_numpy())
        out["zones"] = {
            "count": len(zones),
            "units": int(zones["unit_id"].nunique()),
            "by_kind": {str(k): int(v) for k, v in zones["kind"].value_counts().sort_index().items()},
            "area_km2": round(float(metric.area.sum()) / 1e6, 3),
            "covered_km2": round(union.area / 1e6, 3),
            "overlap_km2": round((float(metric.area.sum()) - union.area) / 1e6, 3),
            "bbox": [round(v, 6) for v in zones.total_bounds.tolist()],
        }
    if test_points is not None:
        _check_geographic(test_points, "test points")
        adopted = test_points["unit_id"].notna() & (test_points["unit_id"].astype(str).str.len() > 0)
        out["test_points"] = {
            "count": len(test_points),
            "adopted": int(adopted.sum()),
            "not_adopted": int((~adopted).sum()),
            "by_type": {str(k): int(v) for k, v in test_points["type"].value_counts().sort_index().items()},
        }
    if areas is not None:
        _check_geographic(areas, "areas")
        metric = areas.geometry.to_crs(metric_crs)
        out["areas"] = [
            {"area_id": a, "name": n, "level": lv, "default_unit_id": u, "area_km2": round(float(m.area) / 1e6, 2)}
            for a, n, lv, u, m in zip(areas["area_id"], areas["name"], areas["level"], areas["default_unit_id"], metric, strict=True)
        ]
        out["bbox"] = [round(v, 6) for v in areas.total_bounds.tolist()]
    return out
