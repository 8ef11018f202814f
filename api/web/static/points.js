// A map of points (published cases, a dispatcher's list of reports): one marker each, named as
// text, linking to its page; the data come in the page (#map-points), positions as the server
// gives them. Drawn again when htmx swaps in a filtered list.
'use strict';
(function () {
  function draw(root) {
    const element = root.querySelector ? root.querySelector('#points-map') : null;
    const data = document.getElementById('map-points');
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
