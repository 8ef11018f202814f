"""Point-in-zone from a cell's centre (`zones.index.CellSegments`, `kernels.from_centre`) against
GEOS, on zones whose edges cross cells every way, and the segment-to-cell lists it reads."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import Polygon

from tests.zones.test_router import X0, Y0, D, cell, make_layer
from zones import kernels
from zones.index import CellSegments


def _star(cx: float, cy: float, arms: int, outer: float) -> Polygon:
    angle = np.arange(2 * arms) * np.pi / arms + 0.3
    radius = np.where(np.arange(2 * arms) % 2 == 0, outer, outer * 0.4)
    return Polygon(zip(X0 + (cx + radius * np.cos(angle)) * D, Y0 + (cy + radius * np.sin(angle)) * D, strict=True))


ZONES = [
    {"zone_id": "BOX", "unit_id": "U1", "duties": "sanitation", "geometry": cell(0, 0, 30, 30)},  # edges on grid lines of D
    {"zone_id": "NEXT", "unit_id": "U2", "duties": "sanitation", "geometry": cell(30, 0, 60, 30)},  # shares an edge with BOX
    {"zone_id": "STAR", "unit_id": "U3", "duties": "order", "geometry": _star(30, 45, 7, 14)},  # long slanted edges
    {"zone_id": "HOLE", "unit_id": "U4", "duties": "order",  # a hole, and a long diagonal edge
     "geometry": Polygon([(X0 + 70 * D, Y0), (X0 + 130 * D, Y0 + 60 * D), (X0 + 70 * D, Y0 + 60 * D)],
                         [[(X0 + 80 * D, Y0 + 40 * D), (X0 + 90 * D, Y0 + 40 * D), (X0 + 90 * D, Y0 + 50 * D)]])},
]


def _decide(layer, cells: CellSegments, lon: np.ndarray, lat: np.ndarray) -> list[tuple[int, int, int]]:
    """(point, zone, state) for every partial pair of each point's cell."""
    index, grid = layer.cover_index, layer.zone_grid_array
    segments = layer.zone_segments_wgs84
    out = []
    for k, c in enumerate(index.grid.cell_of(lon, lat)):
        if c < 0:
            continue
        cx = grid[0] + (c % index.grid.nx + 0.5) * grid[2]
        cy = grid[1] + (c // index.grid.nx + 0.5) * grid[3]
        for q in range(index.offsets[c], index.offsets[c + 1]):
            if index.covers[q] or cells.centre[q] == kernels.UNDECIDED:
                continue
            state = kernels.from_centre(lon[k], lat[k], cx, cy, int(cells.centre[q]), cells.offsets[q], cells.offsets[q + 1],
                                        cells.segments, segments.x0, segments.y0, segments.x1, segments.y1)
            out.append((k, int(index.items[q]), int(state)))
    return out


def test_from_centre_agrees_with_geos_inside_outside_and_on_edges():
    layer = make_layer(ZONES)
    cells = CellSegments(layer.cover_index, layer.zone_segments_wgs84, layer.zone_geoms)
    rng = np.random.default_rng(3)
    anywhere = rng.uniform(-5, 135, (4000, 2))
    on_grid = rng.integers(-2, 135, (2000, 2)).astype(float)  # on the boxes' edges and vertices, among others
    vertices = shapely.get_coordinates(layer.zone_geoms)  # every vertex of every zone
    xy = np.concatenate([X0 + anywhere[:, 0] * D, X0 + on_grid[:, 0] * D, vertices[:, 0]]), \
        np.concatenate([Y0 + anywhere[:, 1] * D, Y0 + on_grid[:, 1] * D, vertices[:, 1]])
    decided = _decide(layer, cells, *xy)
    assert len(decided) > 1000
    geoms = layer.zone_geoms
    for k, zone, state in decided:
        covers = shapely.intersects_xy(geoms[zone], xy[0][k], xy[1][k])
        inside = shapely.contains_xy(geoms[zone], xy[0][k], xy[1][k])
        if state == kernels.UNDECIDED:
            continue  # the router asks GEOS
        assert covers == inside  # a point on a boundary is never decided here
        assert (state == kernels.INSIDE) == inside
    assert any(state == kernels.UNDECIDED for _, _, state in decided)  # the vertices and edges were reached


def test_every_segment_is_listed_in_the_cells_of_its_points():
    layer = make_layer(ZONES)
    segments = layer.zone_segments_wgs84
    seg, cell_ids = kernels.segment_cells(segments.x0, segments.y0, segments.x1, segments.y1, layer.zone_grid_array)
    listed = set(zip(seg.tolist(), cell_ids.tolist(), strict=True))
    t = np.linspace(0.0, 1.0, 17)
    for k in range(len(segments.x0)):
        x = segments.x0[k] + t * (segments.x1[k] - segments.x0[k])
        y = segments.y0[k] + t * (segments.y1[k] - segments.y0[k])
        for c in layer.zone_grid.cell_of(x, y):
            assert (k, int(c)) in listed
