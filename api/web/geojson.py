"""GeoJSON output (RFC 7946: lon/lat, counter-clockwise outer rings)."""

from __future__ import annotations

import json
import math
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

#: Zone fields only dispatchers and planners see.
PRIVATE = ("person", "phone")


def _clean(value: Any) -> Any:
    """A JSON-safe scalar (NaN becomes null)."""
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(value) else float(value)
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return str(value)


def features_json(frame: gpd.GeoDataFrame, key: str) -> list[dict[str, Any]]:
    """GeoJSON features of ``frame``, ``key`` as the feature id."""
    geoms = shapely.orient_polygons(frame.geometry.to_numpy(), exterior_cw=False)
    columns = [c for c in frame.columns if c != frame.geometry.name]
    records = frame[columns].to_dict("records")
    return [
        {"type": "Feature", "id": str(rec[key]), "geometry": json.loads(shapely.to_geojson(geom)) if geom is not None else None,
         "properties": {k: _clean(v) for k, v in rec.items()}}
        for rec, geom in zip(records, geoms, strict=True)
    ]
