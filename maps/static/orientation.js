// The orientation layer: street lines with their names, the district's and sub-districts'
// outlines and names, and place names, drawn from GeoJSON (kind: street | street_name |
// boundary | area | place) so that a map without tiles still shows where one is. Every name is
// set as text, never as HTML. Names are made only for what is on screen at a zoom where they
// fit, so a far view of the district does not lay out a thousand labels. Used by the Folium maps
// and the pages' maps alike.
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

  function text(name) {
    var span = document.createElement('span');
    span.textContent = name;
    return span;
  }

  function visible(kind, zoom) {
    var range = SHOWN[kind] || [0, 99];
    return zoom >= range[0] && zoom < range[1];
  }

  window.zonemapOrientation = function (map, data) {
    var names = [];
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
      (kind === 'place' ? places : anchors).addLayer(marker);
      names.push({marker: marker, kind: kind, name: feature.properties.name, shown: false});
    });

    function update() {
      var zoom = map.getZoom();
      var bounds = map.getBounds().pad(0.3);
      if (visible('place', zoom)) { places.addTo(map); } else { places.remove(); }
      names.forEach(function (entry) {
        var show = visible(entry.kind, zoom) && bounds.contains(entry.marker.getLatLng());
        if (show && !entry.shown) {
          entry.marker.bindTooltip(text(entry.name), {permanent: true, interactive: false, opacity: 1,
            direction: entry.kind === 'place' ? 'right' : 'center', className: 'zm-label zm-label-' + entry.kind.replace('_', '-')});
        } else if (!show && entry.shown) {
          entry.marker.unbindTooltip();
        }
        entry.shown = show;
      });
    }
    lines.addTo(map);
    lines.bringToBack();
    anchors.addTo(map);
    map.on('zoomend moveend', update);
    update();
    return lines;
  };
})();
