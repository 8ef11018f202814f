// The orientation layer: street lines with their names, the district's and sub-districts'
// outlines and names, and place names, drawn from GeoJSON (kind: street | street_name |
// boundary | area | place) so that a map without tiles still shows where one is. Every name is
// set as text, never as HTML. Names are made only for what is on screen at a zoom where they
// fit, so a far view of the district does not lay out a thousand labels; a name that would
// overlap one already placed, or a marker or cluster of the map's own data, is left out (sub-
// districts first, which give way to no dot, then streets, then places). Used by the Folium maps and the pages' maps alike.
(function () {
  'use strict';
  var STYLE = {
    street: {color: '#9aa0a8', weight: 3, opacity: 0.9, interactive: false},
    boundary: {color: '#6b7280', weight: 1.5, opacity: 0.8, dashArray: '6 4', fill: false, interactive: false}
  };
  var PLACE = {radius: 3, color: '#6b7280', weight: 1, fillColor: '#ffffff', fillOpacity: 1, interactive: false};
  var ANCHOR = {radius: 0, stroke: false, fill: false, interactive: false};
  // Zoom levels [from, to) at which each kind is shown: names need room, places crowd a far view.
  var SHOWN = {area: [10, 15], street_name: [15, 99], place: [14, 99]};
  // Which names win a place on the screen, and their type size in pixels (as orientation.css).
  var PRIORITY = {area: 0, street_name: 1, place: 2};
  var FONT = {area: 15, street_name: 12, place: 11};
  var GAP = 3;  // pixels kept free around a name

  function text(name) {
    var span = document.createElement('span');
    span.textContent = name;
    return span;
  }

  function visible(kind, zoom) {
    var range = SHOWN[kind] || [0, 99];
    return zoom >= range[0] && zoom < range[1];
  }

  // The box a name takes on the screen: CJK characters are one em wide, others about half.
  function box(entry, point) {
    var size = FONT[entry.kind], width = 0;
    for (var i = 0; i < entry.name.length; i += 1) { width += entry.name.charCodeAt(i) > 0x2e80 ? size : size * 0.6; }
    var height = size * 1.25;
    var left = entry.kind === 'place' ? point.x + 6 : point.x - width / 2;
    return {left: left - GAP, right: left + width + GAP, top: point.y - height / 2 - GAP, bottom: point.y + height / 2 + GAP};
  }

  function overlaps(a, b) {
    return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  }

  window.zonemapOrientation = function (map, data) {
    var names = [];
    var ours = {};
    var places = L.layerGroup();
    var anchors = L.layerGroup();
    var lines = L.geoJSON(data, {
      filter: function (feature) { return feature.properties.kind === 'street' || feature.properties.kind === 'boundary'; },
      style: function (feature) { return STYLE[feature.properties.kind]; }
    });
    data.features.forEach(function (feature) {
      var kind = feature.properties.kind;
      if (kind === 'street' || kind === 'boundary' || !feature.properties.name) { return; }
      var c = feature.geometry.coordinates;
      var marker = L.circleMarker([c[1], c[0]], kind === 'place' ? PLACE : ANCHOR);
      ours[L.stamp(marker)] = true;
      (kind === 'place' ? places : anchors).addLayer(marker);
      names.push({marker: marker, kind: kind, name: feature.properties.name, shown: false});
    });
    names.sort(function (a, b) { return PRIORITY[a.kind] - PRIORITY[b.kind]; });

    // What the map's own data takes on the screen: its markers and clusters (with their counts), and its dots.
    function taken() {
      var icons = [], dots = [];
      var size = map.getSize();
      map.eachLayer(function (layer) {
        if (ours[L.stamp(layer)] || !layer.getLatLng || layer instanceof L.Tooltip || layer instanceof L.Popup) { return; }
        var p = map.latLngToContainerPoint(layer.getLatLng());
        if (p.x < -50 || p.y < -50 || p.x > size.x + 50 || p.y > size.y + 50) { return; }
        var dot = layer instanceof L.CircleMarker;
        var r = dot ? layer.getRadius() + 2 : 22;  // a cluster's icon is 40 px
        (dot ? dots : icons).push({left: p.x - r, right: p.x + r, top: p.y - r, bottom: p.y + r});
      });
      return {icons: icons, dots: dots};
    }

    function update() {
      var zoom = map.getZoom();
      var bounds = map.getBounds().pad(0.3);
      if (visible('place', zoom)) { places.addTo(map); } else { places.remove(); }
      var data = taken();
      var placed = data.icons.slice();  // a sub-district's name gives way to names and to markers and clusters, not to dots
      var withDots = false;
      names.forEach(function (entry) {
        if (entry.kind !== 'area' && !withDots) {  // streets and places give way to the dots too
          placed = placed.concat(data.dots);
          withDots = true;
        }
        var show = visible(entry.kind, zoom) && bounds.contains(entry.marker.getLatLng());
        if (show) {
          var b = box(entry, map.latLngToContainerPoint(entry.marker.getLatLng()));
          show = !placed.some(function (other) { return overlaps(b, other); });
          if (show) { placed.push(b); }
        }
        if (show && !entry.shown) {
          entry.marker.bindTooltip(text(entry.name), {permanent: true, interactive: false, opacity: 1,
            direction: entry.kind === 'place' ? 'right' : 'center', className: 'zm-label zm-label-' + entry.kind.replace('_', '-')});
        } else if (!show && entry.shown) {
          entry.marker.unbindTooltip();
        }
        entry.shown = show;
      });
    }
    var pending = null;
    function later() {  // markers come and go as clusters split and merge: place the names again once they settle
      if (pending === null) { pending = setTimeout(function () { pending = null; update(); }, 60); }
    }
    lines.addTo(map);
    lines.bringToBack();
    anchors.addTo(map);
    map.on('zoomend moveend', update);
    map.on('layeradd layerremove', function (event) {
      if (!ours[L.stamp(event.layer)] && !(event.layer instanceof L.Tooltip) && event.layer.getLatLng) { later(); }
    });
    update();
    return lines;
  };
})();
