"""Large generated zone layers (10k–1M zones) for benchmarks and scale tests.

Zones are rotated-free rectangles of street-block size tiling the built-up part of the district
in a jittered grid: about 7 % of the cells are left out (gaps), about 10 % reach a few metres
over a neighbour (overlaps), and owners, duties and priorities are drawn at random. Everything
is vectorised, so 100k zones take about a second.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import shapely

from geodata.crs import METRIC_CRS, STORAGE_CRS
from zones.enums import ZoneKind

_KINDS = np.array([ZoneKind.FRONTAGE.value, ZoneKind.ROAD.value, ZoneKind.BLOCK.value, ZoneKind.RESIDENTIAL.value, ZoneKind.PLAZA.value, ZoneKind.PARK.value])
_KIND_WEIGHTS = np.array([0.55, 0.18, 0.1, 0.1, 0.03, 0.04])
_DUTY_SETS = np.array(["sanitation,order,greening", "sanitation,order,facilities", "sanitation,order,greening,facilities",
                       "sanitation,greening,facilities", "order", ""])
_DUTY_WEIGHTS = np.array([0.5, 0.2, 0.2, 0.07, 0.02, 0.01])
_GAP_SHARE = 0.07
_OVERLAP_SHARE = 0.10


def synthetic_zones(count: int, district: shapely.Geometry, *, seed: int = 0, units: int | None = None) -> gpd.GeoDataFrame:
    """About ``count`` zones (WGS84) inside ``district`` (a WGS84 polygon).

    Parameters
    ----------
    count
        Target number of zones; the result is within a few per cent of it.
    district
        The district outline in WGS84; every zone lies inside it.
    seed
        Random seed; the same seed gives the same layer.
    units
        Number of distinct owners (default ``count // 35``, at least 10).
    """
    rng = np.random.default_rng(seed)
    district_m = gpd.GeoSeries([district], crs=STORAGE_CRS).to_crs(METRIC_CRS).iloc[0]
    inner = district_m.buffer(-5.0)
    shapely.prepare(inner)
    # Cells of the grid that fall inside the district: size chosen so that ~count survive.
    cell = math.sqrt(inner.area / (count / (1.0 - _GAP_SHARE)))
    minx, miny, maxx, maxy = inner.bounds
    xs = np.arange(minx, maxx, cell)
    ys = np.arange(miny, maxy, cell)
    gx, gy = np.meshgrid(xs, ys)
    gx, gy = gx.ravel(), gy.ravel()
    centre_inside = shapely.contains_xy(inner, gx + cell / 2, gy + cell / 2)
    gx, gy = gx[centre_inside], gy[centre_inside]
    keep = rng.random(len(gx)) >= _GAP_SHARE
    gx, gy = gx[keep], gy[keep]
    n = len(gx)
    # Some zones reach over their neighbours ("rather step forward than leave a gap").
    grow = np.where(rng.random(n) < _OVERLAP_SHARE, rng.uniform(2.0, 0.3 * cell, n), 0.0)
    boxes = shapely.box(gx, gy, gx + cell + grow, gy + cell + grow)
    geoms = boxes.copy()
    edge = ~shapely.contains(inner, boxes)  # only cells on the outline need clipping
    geoms[edge] = shapely.intersection(boxes[edge], inner)
    polygonal = np.isin(shapely.get_type_id(geoms), [3, 6]) & ~shapely.is_empty(geoms)
    geoms = geoms[polygonal]
    n = len(geoms)
    unit_count = units or max(10, count // 35)
    unit_ids = rng.integers(1, unit_count + 1, n)
    frame = gpd.GeoDataFrame(
        {
            "zone_id": [f"S{k:07d}" for k in range(1, n + 1)],
            "name": [f"合成责任区{k}" for k in range(1, n + 1)],
            "unit_id": [f"SU{u:05d}" for u in unit_ids],
            "unit_name": [f"合成责任单位{u}" for u in unit_ids],
            "duties": rng.choice(_DUTY_SETS, n, p=_DUTY_WEIGHTS),
            "kind": rng.choice(_KINDS, n, p=_KIND_WEIGHTS),
            "priority": rng.integers(0, 5, n),
            "person": "",
            "post": "",
            "phone": "",
        },
        geometry=geoms,
        crs=METRIC_CRS,
    )
    return frame.to_crs(STORAGE_CRS)

