"""Colours and labels of the maps (module constants: copied, never mutated)."""

from __future__ import annotations

import hashlib

UNIT_PALETTE = (
    "#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f",
    "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#31a354", "#756bb1",
)
GAP_STYLE = {"color": "#d62728", "fillColor": "#d62728", "fillOpacity": 0.45, "weight": 1}
OVERLAP_STYLE = {"color": "#ff7f0e", "fillColor": "#ff7f0e", "fillOpacity": 0.6, "weight": 1}
AREA_STYLE = {"color": "#333333", "fill": False, "weight": 2, "dashArray": "6 4"}
ZONE_STYLE = {"weight": 0.6, "fillOpacity": 0.45}
POINT_OK = "#2ca02c"
POINT_BAD = "#d62728"
#: Basemaps: name → (tile URL template, attribution, datum of the tiles).
BASEMAPS = {
    "osm": ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "© OpenStreetMap contributors", "wgs84"),
    "amap": ("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}", "© 高德地图 AutoNavi", "gcj02"),
    "tianditu": ("https://t0.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec&STYLE=default"
                 "&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=YOUR_KEY", "© 天地图", "wgs84"),
}


def unit_colour(unit_id: str) -> str:
    """A stable colour per unit."""
    return UNIT_PALETTE[int(hashlib.md5(unit_id.encode(), usedforsecurity=False).hexdigest(), 16) % len(UNIT_PALETTE)]
