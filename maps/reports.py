"""Report maps: all reports (heat map and clustered markers by state), a unit's own map, and the
public board map (published results only). Pure: frames in, ``folium.Map`` out."""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd
from folium.plugins import HeatMap, MarkerCluster

from maps import style
from maps.offline import local_plugin, offline_map
from maps.orientation import add_orientation
from maps.tooltip import with_tooltip
from zones.layer import ZoneLayer

STATE_COLOURS = {
    "submitted": "#7f7f7f", "dispatched": "#1f77b4", "rework": "#ff7f0e", "escalated": "#d62728", "disputed": "#9467bd",
    "rectified": "#17becf", "verified": "#2ca02c", "published": "#2ca02c", "rejected": "#8c564b", "duplicate": "#8c564b",
}
HEAT_JS = [("leaflet-heat.js", "folium/leaflet_heat.min.js")]
CLUSTER_JS = [("markerclusterjs", "markercluster/leaflet.markercluster.js")]
CLUSTER_CSS = [("markerclustercss", "markercluster/MarkerCluster.css"), ("markerclusterdefaultcss", "markercluster/MarkerCluster.Default.css")]


def _base(layer: ZoneLayer, prefix: str, attribution: str) -> folium.Map:
    bounds = layer.areas.total_bounds
    m = offline_map(prefix, location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2], zoom_start=12, attribution=attribution)
    add_orientation(m, layer, prefix)
    outlines = layer.areas[layer.areas["level"] == "subdistrict"][["name", "geometry"]]
    folium.GeoJson(outlines, name="街道 sub-districts", style_function=lambda _f: style.AREA_STYLE).add_to(m)
    return m


def _markers(reports: pd.DataFrame, prefix: str, name: str, *, public: bool) -> MarkerCluster:
    """Reports as circle markers coloured by state, clustered; every value reaches the page as
    data and is shown as text."""
    cluster = local_plugin(MarkerCluster(name=name), prefix, CLUSTER_JS, CLUSTER_CSS)
    unit = [n or u or "待派" for n, u in zip(reports["unit_name"], reports["unit_id"], strict=True)]
    properties = {"category": reports["category_name"].tolist(), "state": reports["state"].tolist(), "unit": unit}
    fields, aliases = ["category", "state", "unit"], ["类别", "状态", "单位"]
    if not public:
        properties["deadline"] = [d[:16] if isinstance(d, str) else "" for d in reports["deadline_at"]]
        fields, aliases = [*fields, "deadline"], [*aliases, "时限"]
    points = gpd.GeoDataFrame(properties, geometry=gpd.points_from_xy(reports["lon"], reports["lat"]), crs="EPSG:4326")
    markers = folium.GeoJson(points.to_geo_dict(show_bbox=False, drop_id=True), marker=folium.CircleMarker(radius=6, weight=2, fill=True, fill_opacity=0.85),
                             style_function=lambda f: {"color": STATE_COLOURS.get(f["properties"]["state"], "#7f7f7f"),
                                                       "fillColor": STATE_COLOURS.get(f["properties"]["state"], "#7f7f7f")})
    with_tooltip(markers, fields, aliases).add_to(cluster)
    return cluster


def reports_map(layer: ZoneLayer, reports: pd.DataFrame, *, asset_prefix: str, attribution: str = "") -> folium.Map:
    """Every report: a heat map of where they come from, and markers clustered, coloured by state.

    ``reports`` has ``lon, lat, state, category_name, unit_id, unit_name, deadline_at``.
    """
    m = _base(layer, asset_prefix, attribution)
    if len(reports):
        local_plugin(HeatMap(reports[["lat", "lon"]].to_numpy().tolist(), name="热力 heat map", radius=12), asset_prefix, HEAT_JS).add_to(m)
        _markers(reports, asset_prefix, "问题 reports", public=False).add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)  # a phone needs the map more than the list
    return m


def unit_map(layer: ZoneLayer, unit_id: str, reports: pd.DataFrame, *, asset_prefix: str, attribution: str = "") -> folium.Map:
    """One unit's zones and adopted test points, and its open reports with their deadlines."""
    m = _base(layer, asset_prefix, attribution)
    zones = layer.zones[layer.zones["unit_id"] == unit_id]
    colour = style.unit_colour(unit_id)
    if len(zones):
        with_tooltip(folium.GeoJson(zones[["zone_id", "name", "kind", "duties", "geometry"]], name="本单位责任区 zones",
                                    style_function=lambda _f: {**style.ZONE_STYLE, "color": colour, "fillColor": colour}),
                     ["zone_id", "name", "kind", "duties"], ["责任区", "名称", "类型", "职责"]).add_to(m)
        b = zones.total_bounds
        m.fit_bounds([[b[1], b[0]], [b[3], b[2]]])
    points = layer.test_points[layer.test_points["unit_id"] == unit_id]
    if len(points):
        with_tooltip(folium.GeoJson(points[["point_id", "name", "type", "geometry"]], name="包联测评点位 test points",
                                    marker=folium.CircleMarker(radius=5, color=style.POINT_OK, fill=True)),
                     ["point_id", "name", "type"], ["点位", "名称", "类型"]).add_to(m)
    if len(reports):
        _markers(reports, asset_prefix, "待整改问题 open reports", public=False).add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)  # a phone needs the map more than the list
    return m


def public_map(layer: ZoneLayer, published: pd.DataFrame, *, asset_prefix: str, attribution: str = "") -> folium.Map:
    """The public board (晾晒): published results only, no reporter data, positions rounded."""
    m = _base(layer, asset_prefix, attribution)
    if len(published):
        rounded = published.assign(lon=published["lon"].round(4), lat=published["lat"].round(4))
        _markers(rounded, asset_prefix, "已整改 published", public=True).add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)  # a phone needs the map more than the list
    return m
