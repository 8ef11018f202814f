"""The planners' coverage map: zones coloured by unit, gaps in red, overlaps highlighted, test
points green when adopted and covered (red otherwise), sub-district outlines, a layer control,
Chinese tooltips. Pure: layers in, ``folium.Map`` out; every asset from the given prefix."""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import shapely

from geodata.crs import to_display
from maps import style
from maps.offline import offline_map
from maps.orientation import add_orientation
from maps.tooltip import with_tooltip
from zones.coverage import Coverage
from zones.layer import ZoneLayer

#: Display simplification (degrees, ~0.5 m): keeps shapes, trims vertices of large layers.
SIMPLIFY_DEG = 5e-6
#: Coordinates are snapped to this grid (degrees, ~0.1 m) for display.
GRID_DEG = 1e-6


LEGEND = f"""<div style="position:fixed;bottom:24px;left:12px;z-index:1000;background:#fff;padding:6px 10px;border:1px solid #999;font:13px sans-serif">
<b>图例 Legend</b><br>
<span style="background:{style.UNIT_PALETTE[0]};opacity:.6">&nbsp;&nbsp;&nbsp;</span> 责任区（每个单位一种颜色） zones, one colour per unit<br>
<span style="background:{style.GAP_STYLE['fillColor']};opacity:.6">&nbsp;&nbsp;&nbsp;</span> 责任空白 gaps<br>
<span style="background:{style.OVERLAP_STYLE['fillColor']};opacity:.8">&nbsp;&nbsp;&nbsp;</span> 交叉 overlaps<br>
<span style="color:{style.POINT_OK}">●</span> 测评点位：已包联且在责任区内 test point adopted and covered<br>
<span style="color:{style.POINT_BAD}">●</span> 测评点位：无人包联或不在责任区 not adopted or in no zone<br>
<span style="border-top:2px dashed #333">&nbsp;&nbsp;&nbsp;&nbsp;</span> 街道界 sub-district
</div>"""


def _display(frame: gpd.GeoDataFrame, datum: str | None) -> dict:
    frame = frame[~(frame.geometry.isna() | frame.geometry.is_empty)]
    simple = shapely.simplify(frame.geometry.to_numpy(), SIMPLIFY_DEG, preserve_topology=True)
    shown = to_display(frame.set_geometry(simple, crs=frame.crs), None if datum == "wgs84" else datum)
    rounded = shapely.set_precision(shown.geometry.to_numpy(), GRID_DEG, mode="pointwise")  # finer digits are noise here
    shown = shown.set_geometry(rounded, crs=shown.crs)
    return shown[~shown.geometry.is_empty].to_geo_dict(show_bbox=False, drop_id=False)  # a bbox per feature is a sixth of the page


def coverage_map(layer: ZoneLayer, coverage: Coverage, *, asset_prefix: str, basemap: str | None = None, private: bool = False,
                 attribution: str = "") -> folium.Map:
    """Build the coverage map.

    Parameters
    ----------
    layer, coverage
        The zone layer and its analysis (`zones.coverage.analyse`).
    asset_prefix
        URL prefix of the app's own assets (e.g. ``/assets/``).
    basemap
        ``None`` (no tiles: works offline), a key of `maps.style.BASEMAPS` (data are shifted to
        GCJ-02 for an Amap basemap), or the URL template of a local tile server
        (``/tiles/{z}/{x}/{y}.png`` or ``http://...``, WGS84 tiles).
    private
        Show person and phone in tooltips (planners and dispatchers only).
    attribution
        Who made the layer's data drawn (the tiles name their own).
    """
    datum = None
    bounds = layer.areas.total_bounds
    m = offline_map(asset_prefix, location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2], zoom_start=12, prefer_canvas=True,
                     attribution=attribution)
    if basemap is not None:
        url, tiles_by, datum = style.BASEMAPS.get(basemap) or (basemap, "本地瓦片 local tiles", "wgs84")
        folium.TileLayer(url, attr=tiles_by, name="底图 basemap", subdomains="1234").add_to(m)
    add_orientation(m, layer, asset_prefix, None if datum == "wgs84" else datum)
    areas = _display(layer.areas[layer.areas["level"] == "subdistrict"][["area_id", "name", "default_unit_id", "geometry"]], datum)
    areas_layer = folium.GeoJson(areas, name="街道 sub-districts", style_function=lambda _f: style.AREA_STYLE)
    with_tooltip(areas_layer, ["name", "default_unit_id"], ["街道", "兜底单位"]).add_to(m)
    wanted = {"zone_id": "责任区", "name": "名称", "unit_name": "责任单位", "unit_id": "单位编码", "post": "岗位"}
    if private:
        wanted.update({"person": "责任人", "phone": "电话"})
    fields = [f for f in wanted if f in layer.zones.columns]
    aliases = [wanted[f] for f in fields]
    zones = layer.zones[[*fields, "geometry"]]

    def zone_style(feature: dict) -> dict:  # coloured by unit; folium groups features by style, so no colour travels per feature
        colour = style.unit_colour(feature["properties"]["unit_id"])
        return {**style.ZONE_STYLE, "color": colour, "fillColor": colour}

    with_tooltip(folium.GeoJson(_display(zones, datum), name="责任区 zones", style_function=zone_style), fields, aliases).add_to(m)
    gaps = coverage.gaps[["gap_id", "area_m2", "neighbour_unit_ids", "suggested_unit_id", "geometry"]]
    with_tooltip(folium.GeoJson(_display(gaps, datum), name="责任空白 gaps", style_function=lambda _f: style.GAP_STYLE),
                 ["gap_id", "area_m2", "neighbour_unit_ids", "suggested_unit_id"], ["空白", "面积 m²", "相邻单位", "建议补位单位"]).add_to(m)
    overlaps = coverage.overlaps[["unit_a", "unit_b", "area_m2", "accountable_unit_id", "geometry"]]
    with_tooltip(folium.GeoJson(_display(overlaps, datum), name="交叉 overlaps", style_function=lambda _f: style.OVERLAP_STYLE),
                 ["unit_a", "unit_b", "area_m2", "accountable_unit_id"], ["单位甲", "单位乙", "面积 m²", "主责单位"]).add_to(m)
    points = coverage.test_points.copy()
    points["ok"] = points["adopted"] & points["covered"]
    points["state"] = np.where(points["ok"], "已包联且在责任区内", np.where(points["adopted"], "不在任何责任区内", "无单位包联"))
    points["unit_id"] = points["unit_id"].fillna("")
    points = points[["point_id", "name", "type", "unit_id", "state", "ok", "geometry"]]
    points = points.set_geometry(shapely.point_on_surface(points.geometry.to_numpy()), crs=points.crs)
    with_tooltip(folium.GeoJson(_display(points, datum), name="测评点位 test points", marker=folium.CircleMarker(radius=5, weight=1, fill_opacity=0.9),
                                style_function=lambda f: {"color": style.POINT_OK if f["properties"]["ok"] else style.POINT_BAD,
                                                          "fillColor": style.POINT_OK if f["properties"]["ok"] else style.POINT_BAD}),
                 ["name", "type", "unit_id", "state"], ["点位", "类型", "包联单位", "状态"]).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    m.get_root().html.add_child(folium.Element(LEGEND))
    m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    return m
