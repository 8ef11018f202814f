// The pages' maps: Leaflet with a maxZoom (so marker layers work without tiles), fitted to the
// district, with the offline orientation layer (streets and place names) and, where configured,
// tiles. Used by the citizens' form and the public board.
'use strict';
window.zonemapPageMap = function (element) {
  const bounds = JSON.parse(element.dataset.bounds);  // [minlon, minlat, maxlon, maxlat]
  element.hidden = false;
  const map = L.map(element, {maxZoom: 19, zoomControl: true});
  map.fitBounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]]);
  if (element.dataset.tiles) {
    L.tileLayer(element.dataset.tiles, {maxZoom: 19}).addTo(map);
  }
  fetch(element.dataset.orientation).then(response => response.json()).then(data => window.zonemapOrientation(map, data));
  L.control.scale({imperial: false}).addTo(map);
  // The attribution names Leaflet and whoever made the data and tiles drawn, as text.
  map.attributionControl.setPrefix('Leaflet');
  if (element.dataset.attribution) {
    const text = document.createElement('span');
    text.textContent = element.dataset.attribution;
    map.attributionControl.addAttribution(text.innerHTML);
  }
  return map;
};
