// The orientation layer: street lines with their names, the district's and sub-districts'
// outlines and names, and place names, drawn from GeoJSON (kind: street | street_name |
// boundary | area | place) so that a map without tiles still shows where one is. Every name is set as text,
// never as HTML. Used by the Folium maps and the pages' maps alike.
(function () {
  'use strict';
  var STYLE = {
    street: {color: '#9aa0a8', weight: 3, opacity: 0.9, interactive: false},
    boundary: {color: '#6b7280', weight: 1.5, opacity: 0.8, dashArray: '6 4', fill: false, interactive: false}
  };
  var PLACE = {radius: 3, color: '#6b7280', weight: 1, fillColor: '#ffffff', fillOpacity: 1, interactive: false};
  // Zoom levels [from, to) at which each kind is shown: names need room, places crowd a far view.
  var SHOWN = {area: [8, 15], street_name: [15, 99], place: [14, 99]};

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
    var labelled = [];
    var places = L.layerGroup();
    var lines = L.geoJSON(data, {
      filter: function (feature) { return feature.properties.kind !== 'place'; },
      style: function (feature) { return STYLE[feature.properties.kind] || STYLE.street; },
      pointToLayer: function (feature, latlng) { return L.circleMarker(latlng, {radius: 0, stroke: false, interactive: false}); },
      onEachFeature: function (feature, item) { label(feature, item); }
    });
    L.geoJSON(data, {
      filter: function (feature) { return feature.properties.kind === 'place'; },
      pointToLayer: function (feature, latlng) { return L.circleMarker(latlng, PLACE); },
      onEachFeature: function (feature, item) { places.addLayer(item); label(feature, item); }
    });

    function label(feature, item) {
      var name = feature.properties.name;
      if (!name) { return; }
      var kind = feature.properties.kind;
      item.bindTooltip(function () { return text(name); }, {
        permanent: true, interactive: false, opacity: 1,
        direction: kind === 'place' ? 'right' : 'center', className: 'zm-label zm-label-' + kind.replace('_', '-')
      });
      labelled.push({item: item, kind: kind});
    }

    function update() {
      var zoom = map.getZoom();
      if (visible('place', zoom)) { places.addTo(map); } else { places.remove(); }
      labelled.forEach(function (entry) {
        if (visible(entry.kind, zoom) && entry.item._map) { entry.item.openTooltip(); } else { entry.item.closeTooltip(); }
      });
    }
    lines.addTo(map);
    lines.bringToBack();
    map.on('zoomend', update);
    update();
    return lines;
  };
})();
