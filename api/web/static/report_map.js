// A report's map on its console page: the accountable zone filled, the candidates' and
// co-owners' zones outlined, the report with its accuracy circle, the attached test point; the
// streets layer beneath. Data come in the page (#report-surroundings); names are set as text.
'use strict';
(function () {
  const element = document.getElementById('report-map');
  const data = JSON.parse(document.getElementById('report-surroundings').textContent);
  const map = window.zonemapPageMap(element);
  const STYLE = {
    accountable: {color: '#0f766e', weight: 2, fillColor: '#14b8a6', fillOpacity: 0.35},
    candidate: {color: '#b45309', weight: 2, dashArray: '5 4', fill: false}
  };
  function label(text) { const span = document.createElement('span'); span.textContent = text; return span; }
  const drawn = L.featureGroup();
  L.geoJSON(data, {
    style: feature => STYLE[feature.properties.kind] || {},
    filter: feature => feature.properties.kind === 'accountable' || feature.properties.kind === 'candidate',
    onEachFeature: (feature, layer) => layer.bindTooltip(() => label(`${feature.properties.zone_id} · ${feature.properties.name} · ${feature.properties.unit_id}`))
  }).addTo(drawn);
  for (const feature of data.features) {
    const [lon, lat] = feature.geometry.coordinates;
    if (feature.properties.kind === 'report') {
      if (feature.properties.accuracy_m) {
        L.circle([lat, lon], {radius: feature.properties.accuracy_m, color: '#dc2626', weight: 1, fillOpacity: 0.08, interactive: false}).addTo(drawn);
      }
      L.circleMarker([lat, lon], {radius: 7, color: '#ffffff', weight: 2, fillColor: '#dc2626', fillOpacity: 1}).addTo(drawn);
    } else if (feature.properties.kind === 'test_point') {
      L.circleMarker([lat, lon], {radius: 6, color: '#1d4ed8', weight: 2, fillColor: '#93c5fd', fillOpacity: 1})
        .bindTooltip(() => label(feature.properties.name), {permanent: true, direction: 'right'}).addTo(drawn);
    }
  }
  drawn.addTo(map);
  map.fitBounds(drawn.getBounds(), {maxZoom: 18, padding: [20, 20]});
  element.dataset.zones = String(data.features.filter(f => f.properties.kind === 'accountable' || f.properties.kind === 'candidate').length);
})();
