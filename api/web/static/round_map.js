// A round's progress on a map: each point coloured by its state (not yet, inspected, problems found).
'use strict';
(function () {
  const element = document.getElementById('round-map');
  const points = JSON.parse(document.getElementById('round-points').textContent);
  const map = window.zonemapPageMap(element);
  const COLOURS = {todo: '#6b7280', done: '#15803d', failed: '#b91c1c'};
  points.forEach(p => {
    const marker = L.circleMarker([p.lat, p.lon], {radius: 7, weight: 2, color: COLOURS[p.state], fillColor: COLOURS[p.state], fillOpacity: 0.8}).addTo(map);
    const label = document.createElement('span');
    label.textContent = `${p.name} · ${p.type}${p.rate === null ? '' : ` · ${(p.rate * 100).toFixed(1)}%`}`;
    marker.bindTooltip(label);
  });
  if (points.length) { map.fitBounds(L.latLngBounds(points.map(p => [p.lat, p.lon])).pad(0.2), {maxZoom: 16}); }
  element.dataset.markers = String(points.length);
})();
