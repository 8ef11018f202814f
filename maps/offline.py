"""Web assets the maps load, served by the app itself (district intranets are offline).

Assets come from registry packages (XStatic), never from a CDN. A map built here loads exactly
the files listed in `ASSETS`, under a URL prefix the caller gives (the app's ``/assets/``, or a
relative folder for a map written to disk).
"""

from __future__ import annotations

from pathlib import Path

import folium
import xstatic.pkg.leaflet
import xstatic.pkg.leaflet_markercluster
from branca.element import MacroElement
from jinja2 import Template
from markupsafe import escape

#: URL folder → directory on disk.
ASSET_DIRS = {
    "leaflet": Path(xstatic.pkg.leaflet.BASE_DIR),
    "markercluster": Path(xstatic.pkg.leaflet_markercluster.BASE_DIR),
    "folium": Path(folium.__file__).parent / "templates",  # Folium's wheel ships leaflet.heat
    "zonemap": Path(__file__).parent / "static",  # our own: the orientation layer (streets and place names)
}
#: Only these kinds of files are served.
SERVED_SUFFIXES = {".js", ".css", ".png"}
#: What every map loads: (name, path under the prefix).
JS = [("leaflet", "leaflet/leaflet.js")]
CSS = [("leaflet_css", "leaflet/leaflet.css")]


def asset_file(path: str, folders: dict[str, Path] | None = None) -> Path | None:
    """The file behind an asset URL path such as ``leaflet/images/layers.png`` (None if unknown
    or outside the asset folders: `ASSET_DIRS`, or ``folders``)."""
    folder, _, rest = path.partition("/")
    root = (folders or ASSET_DIRS).get(folder)
    if root is None or not rest:
        return None
    candidate = (root / rest).resolve()
    if root.resolve() not in candidate.parents or not candidate.is_file() or candidate.suffix not in SERVED_SUFFIXES:
        return None
    return candidate


def local_plugin(plugin: folium.MacroElement, prefix: str, js: list[tuple[str, str]], css: list[tuple[str, str]] | None = None) -> folium.MacroElement:
    """Point a Folium plugin's scripts and styles at the app's own copies."""
    plugin.default_js = [(name, prefix + path) for name, path in js]
    plugin.default_css = [(name, prefix + path) for name, path in css or []]
    return plugin


# Folium embeds data with Jinja's ``tojson``: by default ASCII-only (six bytes per Chinese
# character) with spaces after separators. UTF-8 text and no spaces make the same page ~20 %
# smaller; ``tojson`` still escapes < > & ' so the data stays safe inside <script>.
COMPACT_JSON = {"sort_keys": True, "ensure_ascii": False, "separators": (",", ":")}


#: The closest zoom of every map (street frontages are a few metres wide).
MAX_ZOOM = 19


class MapFrame(MacroElement):
    """What frames every map: a metric scale bar, and an attribution that names Leaflet and the
    data drawn (the tiles add their own), as text."""

    _template = Template("""
{% macro script(this, kwargs) %}
L.control.scale({imperial: false}).addTo({{ this._parent.get_name() }});
{{ this._parent.get_name() }}.attributionControl.setPrefix("Leaflet");
{% if this.attribution %}{{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.attribution|tojson }});{% endif %}
{% endmacro %}
""")

    def __init__(self, attribution: str) -> None:
        super().__init__()
        self._name = "MapFrame"
        self.attribution = str(escape(attribution))


def offline_map(prefix: str, *, attribution: str = "", **kwargs: object) -> folium.Map:
    """A ``folium.Map`` whose scripts and styles all come from ``prefix`` (no CDN), embedding its
    data as compact UTF-8 JSON, with a metric scale bar and ``attribution`` naming the data drawn."""
    folium.GeoJson._template.environment.policies["json.dumps_kwargs"] = COMPACT_JSON  # one environment serves every folium template
    m = folium.Map(tiles=None, maxZoom=MAX_ZOOM, **kwargs)  # without tiles Leaflet has no maxZoom, and marker clusters refuse to work
    m.default_js = [(name, prefix + path) for name, path in JS]
    m.default_css = [(name, prefix + path) for name, path in CSS]
    m.add_child(MapFrame(attribution))
    return m
