"""Readable addresses for Open311 reads: the sub-district, then the named zone the report lies in
or the nearest named street, never the position itself.

A zone's name (a road between two crossings, a shop's frontage, a school) is the most specific
place a person recognises; where the report's zone is unnamed or no longer in the layer, the
nearest named street within `STREET_REACH_M` says where it is ("丰阳路附近"); otherwise the
sub-district alone. Distances are measured in the layer's metric CRS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from api.persistence.models import Report
from zones.layer import ZoneLayer

STREET_REACH_M = 100.0  # a street farther than this does not say where a report is
NEAR = "附近"


@dataclass(frozen=True)
class _Names:
    """What one layer offers to name a place: areas and zones by id, and its named streets."""

    areas: dict[str, str]
    zones: dict[str, str]
    streets: shapely.STRtree | None
    street_names: np.ndarray


#: The names of the layer version last asked about (only its version is kept, never the layer).
_LATEST: dict[str, _Names] = {}


def _names(layer: ZoneLayer) -> _Names:
    found = _LATEST.get(layer.version)
    if found is None:
        found = _read_names(layer)
        _LATEST.clear()
        _LATEST[layer.version] = found
    return found


def _read_names(layer: ZoneLayer) -> _Names:
    areas = {str(a): str(n) for a, n in zip(layer.area_ids, layer.area_names[:-1], strict=True)}
    zones = {str(z): str(n) for z, n in zip(layer.zone_ids, layer.zone_names, strict=True) if n}
    streets = layer.streets
    if streets is None or streets.empty:
        return _Names(areas, zones, None, np.array([], dtype=object))
    named = streets[streets["name"].str.strip().astype(bool)]
    return _Names(areas, zones, shapely.STRtree(named.geometry.to_crs(layer.metric_crs).to_numpy()), named["name"].to_numpy(dtype=object))


def addresses(layer: ZoneLayer, reports: Sequence[Report]) -> list[str | None]:
    """Each report's address (None outside every area): sub-district, then its zone's name or
    ``<street>附近``."""
    names = _names(layer)
    places = [names.zones.get(r.zone_id or "") for r in reports]
    unplaced = [k for k, place in enumerate(places) if place is None]
    if unplaced and names.streets is not None:
        x, y = layer.to_metric.transform([reports[k].lon for k in unplaced], [reports[k].lat for k in unplaced])
        found, street = names.streets.query_nearest(shapely.points(x, y), max_distance=STREET_REACH_M, all_matches=False)
        for position, item in zip(found.tolist(), street.tolist(), strict=True):
            places[unplaced[position]] = f"{names.street_names[item]}{NEAR}"
    out: list[str | None] = []
    for report, place in zip(reports, places, strict=True):
        area = names.areas.get(report.area_id or "")
        out.append(None if area is None else area + (place or ""))
    return out
