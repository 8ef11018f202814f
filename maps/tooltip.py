"""Tooltips that show a feature's properties as text: every value reaches the page through
``textContent``, so a name such as ``<img src=x onerror=...>`` is shown, never run. Folium's own
tooltips insert property values as HTML."""

from __future__ import annotations

import folium
from branca.element import MacroElement
from jinja2 import Template


class TextTooltip(MacroElement):
    """A tooltip for the features of a `folium.GeoJson`: ``aliases[i]: properties[fields[i]]``
    per row, empty values left out."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function (group, fields, aliases) {
    function content(layer) {
        var properties = (layer.feature || {}).properties || {};
        var table = document.createElement("table");
        for (var i = 0; i < fields.length; i++) {
            var value = properties[fields[i]];
            if (value === null || value === undefined || value === "") { continue; }
            var row = table.insertRow();
            row.insertCell().textContent = aliases[i];
            row.insertCell().textContent = String(value);
        }
        return table;
    }
    // On each feature, not on the group: a group inside a marker cluster is never on the map.
    group.eachLayer(function (layer) { layer.bindTooltip(function () { return content(layer); }, {"sticky": true}); });
})({{ this._parent.get_name() }}, {{ this.fields|tojson }}, {{ this.aliases|tojson }});
{% endmacro %}
""")

    def __init__(self, fields: list[str], aliases: list[str]) -> None:
        super().__init__()
        self._name = "TextTooltip"
        self.fields = list(fields)
        self.aliases = list(aliases)


def with_tooltip(layer: folium.GeoJson, fields: list[str], aliases: list[str]) -> folium.GeoJson:
    """Give ``layer`` a `TextTooltip` and return it."""
    layer.add_child(TextTooltip(fields, aliases))
    return layer
