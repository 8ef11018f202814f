"""The orientation layer: street lines with their names and the names of places (sub-districts,
stations, markets, schools, parks, ...), so that a person can find a street on a map with no
tiles at all (an offline intranet). Pure: a layer in, GeoJSON (or a Folium element) out.

The drawing is one script, ``maps/static/orientation.js``, used by the Folium maps and by the
pages' own maps alike; it sets every name as text.
"""

from __future__ import annotations

from typing import Any

import folium
import geopandas as gpd
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from jinja2 import Template

from geodata.crs import to_display
from maps.offline import local_plugin
from zones.config import STORAGE_CRS
from zones.layer import ZoneLayer
from zones.places import PLACE_TYPES

#: Street lines are simplified to this (degrees, ~1 m) for drawing.
SIMPLIFY_DEG = 1e-5
#: Outlines of the district and sub-districts, drawn for orientation only (degrees, ~30 m).
OUTLINE_SIMPLIFY_DEG = 3e-4
#: A street's name is written every this many metres along it (a long street needs it more than once).
NAME_EVERY_M = 350.0
JS = [("zonemap-orientation", "zonemap/orientation.js")]
CSS = [("zonemap-orientation-css", "zonemap/orientation.css")]


def orientation_geojson(layer: ZoneLayer, datum: str | None = None) -> dict[str, Any]:
    """Streets (``kind`` street), the district's and sub-districts' outlines (boundary) and names
    (area), and place names (place) of ``layer`` as a GeoJSON FeatureCollection, shifted to
    ``datum`` (None: WGS84; ``gcj02`` for an Amap basemap)."""
    outlines = shapely.simplify(layer.areas.boundary.to_numpy(), OUTLINE_SIMPLIFY_DEG)
    parts = [gpd.GeoDataFrame({"name": [""] * len(outlines), "kind": "boundary"}, geometry=outlines, crs=STORAGE_CRS)]
    if layer.streets is not None and len(layer.streets):
        simple = shapely.simplify(layer.streets.geometry.to_numpy(), SIMPLIFY_DEG)
        parts.append(gpd.GeoDataFrame({"name": [""] * len(simple), "kind": "street"}, geometry=simple, crs=STORAGE_CRS))
        parts.append(_street_names(layer.streets, layer.metric_crs))
    areas = layer.areas[layer.areas["level"] == "subdistrict"] if "level" in layer.areas.columns else layer.areas
    parts.append(gpd.GeoDataFrame({"name": areas["name"].to_numpy(), "kind": "area"},
                                  geometry=shapely.point_on_surface(areas.geometry.to_numpy()), crs=STORAGE_CRS))
    places = layer.test_points[layer.test_points["type"].isin(PLACE_TYPES)]
    parts.append(gpd.GeoDataFrame({"name": places["name"].to_numpy(), "kind": "place"},
                                  geometry=shapely.point_on_surface(places.geometry.to_numpy()), crs=STORAGE_CRS))
    frame = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=STORAGE_CRS)
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    shown = to_display(frame, None if datum in (None, "wgs84") else datum)
    shown = shown.set_geometry(shapely.set_precision(shown.geometry.to_numpy(), 1e-5), crs=shown.crs)
    return shown.to_geo_dict(show_bbox=False, drop_id=True)


def _street_names(streets: gpd.GeoDataFrame, metric_crs: str) -> gpd.GeoDataFrame:
    """Points to write each street's name at: every `NAME_EVERY_M` along it, measured in the
    metric CRS, the first half that distance from its start."""
    names, points = [], []
    for name, line in zip(streets["name"], streets.to_crs(metric_crs).geometry, strict=True):
        for part in getattr(line, "geoms", [line]):
            count = max(1, int(part.length // NAME_EVERY_M))
            step = part.length / count
            names += [name] * count
            points += [part.interpolate(step * (k + 0.5)) for k in range(count)]
    frame = gpd.GeoDataFrame({"name": names, "kind": "street_name"}, geometry=points, crs=metric_crs)
    return frame.to_crs(STORAGE_CRS)


class OrientationLayer(JSCSSMixin, MacroElement):
    """The orientation layer on a Folium map, drawn by ``orientation.js``."""

    _template = Template("""
{% macro script(this, kwargs) %}
zonemapOrientation({{ this._parent.get_name() }}, {{ this.data|tojson }});
{% endmacro %}
""")

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__()
        self._name = "OrientationLayer"
        self.data = data


def add_orientation(m: folium.Map, layer: ZoneLayer, prefix: str, datum: str | None = None) -> folium.Map:
    """Draw ``layer``'s streets and place names on ``m`` (scripts from ``prefix``)."""
    m.add_child(local_plugin(OrientationLayer(orientation_geojson(layer, datum)), prefix, JS, CSS))
    return m
