// The public board's map: one marker per published case (positions rounded by the server),
// each named by its category as text, linking to the case. Drawn again when htmx swaps in a
// filtered board.
'use strict';
(function () {
  function draw(root) {
    const element = root.querySelector ? root.querySelector('#board-map') : null;
    const data = document.getElementById('board-points');
    if (!element || !data) { return; }
    const points = JSON.parse(data.textContent);
    const map = window.zonemapPageMap(element);
    const markers = L.featureGroup(points.map(point => {
      const marker = L.circleMarker([point.lat, point.lon], {radius: 8, color: '#0f766e', weight: 2, fillColor: '#14b8a6', fillOpacity: 0.85});
      marker.bindTooltip(() => { const span = document.createElement('span'); span.textContent = point.name; return span; });
      if (point.url) { marker.on('click', () => { window.location.href = point.url; }); }
      return marker;
    })).addTo(map);
    element.dataset.markers = String(points.length);
    if (points.length) { map.fitBounds(markers.getBounds(), {maxZoom: parseInt(element.dataset.zoom || '16', 10), padding: [24, 24]}); }
  }
  if (window.htmx) { window.htmx.onLoad(draw); } else { draw(document); }
})();
