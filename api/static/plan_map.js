// The planners' coverage map: gaps, overlaps and unadopted test points of the current version
// (#plan-map's data-features), the zones of the view with their owner, person in charge and
// phone (fetched by bounding box with the planner's session as the view moves), and the streets.
// A list row's link (data-place, data-id) shows its place on the map. Names are set as text.
'use strict';
(function () {
  const element = document.getElementById('plan-map');
  const labels = JSON.parse(element.dataset.labels);
  const map = window.zonemapPageMap(element);
  map.createPane('zones').style.zIndex = 350;  // beneath the gaps, overlaps and points (overlayPane, 400)
  const zoneCanvas = L.canvas({padding: 0.3, pane: 'zones'});
  const canvas = L.canvas({padding: 0.3});
  const MIN_ZONE_ZOOM = 12;
  const places = {gap: {}, overlap: {}, test_point: {}};
  function text(lines) {
    const span = document.createElement('span');
    lines.filter(Boolean).forEach((line, i) => { if (i) { span.appendChild(document.createElement('br')); } span.appendChild(document.createTextNode(line)); });
    return span;
  }
  const zones = L.layerGroup().addTo(map);
  const drawn = L.layerGroup().addTo(map);
  const hint = L.control({position: 'topright'});
  hint.onAdd = () => { const div = L.DomUtil.create('div', 'map-hint'); div.textContent = labels.zoom; return div; };
  let pending = null;
  function loadZones() {
    if (pending) { pending.abort(); }
    if (map.getZoom() < MIN_ZONE_ZOOM) { zones.clearLayers(); hint.addTo(map); return; }
    hint.remove();
    const b = map.getBounds();
    pending = new AbortController();
    const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(v => v.toFixed(5)).join(',');
    fetch(`${element.dataset.zones}?bbox=${bbox}`, {signal: pending.signal, credentials: 'same-origin'})
      .then(response => response.json())
      .then(data => {
        zones.clearLayers();
        L.geoJSON(data, {
          renderer: zoneCanvas,
          style: {color: '#0f766e', weight: 1, fillColor: '#5eead4', fillOpacity: 0.12},
          onEachFeature: (feature, layer) => {
            const p = feature.properties;
            layer.bindTooltip(() => text([`${p.zone_id} · ${p.name}`, p.unit_name ? `${p.unit_name}（${p.unit_id}）` : p.unit_id,
              p.person ? `${labels.person}: ${p.person}` : '', p.phone ? `${labels.phone}: ${p.phone}` : '']), {sticky: true});
          }
        }).addTo(zones);
        element.dataset.zones_shown = String(data.features.length);
      })
      .catch(error => { if (error.name !== 'AbortError') { throw error; } });
  }
  map.on('moveend', loadZones);
  fetch(element.dataset.features, {credentials: 'same-origin'}).then(response => response.json()).then(data => {
    L.geoJSON(data.gaps, {
      renderer: canvas, style: {color: '#b91c1c', weight: 1, fillColor: '#ef4444', fillOpacity: 0.45},
      onEachFeature: (feature, layer) => {
        const p = feature.properties;
        places.gap[feature.id] = layer;
        layer.bindTooltip(() => text([`${labels.gap} ${p.gap_id} · ${Math.round(p.area_m2)} m²`, p.area_name,
          `${labels.suggested}: ${p.suggested_unit_name || p.suggested_unit_id}（${p.suggested_unit_id}）`]), {sticky: true});
      }
    }).addTo(drawn);
    L.geoJSON(data.overlaps, {
      renderer: canvas, style: {color: '#c2410c', weight: 1, fillColor: '#fb923c', fillOpacity: 0.6},
      onEachFeature: (feature, layer) => {
        const p = feature.properties;
        places.overlap[feature.id] = layer;
        layer.bindTooltip(() => text([`${labels.overlap} ${p.zone_a} / ${p.zone_b} · ${Math.round(p.area_m2)} m²`,
          `${labels.accountable}: ${p.accountable_unit_name || p.accountable_unit_id}（${p.accountable_unit_id}）`]), {sticky: true});
      }
    }).addTo(drawn);
    L.geoJSON(data.test_points, {
      pointToLayer: (feature, latlng) => L.circleMarker(latlng, {renderer: canvas, radius: 6, color: '#1d4ed8', weight: 2, fillColor: '#93c5fd', fillOpacity: 1}),
      onEachFeature: (feature, layer) => {
        places.test_point[feature.id] = layer;
        layer.bindTooltip(() => text([`${feature.properties.point_id} · ${feature.properties.name}`, feature.properties.area_name]));
      }
    }).addTo(drawn);
    element.dataset.gaps = String(data.gaps.length);
    element.dataset.ready = '1';
  });
  loadZones();
  document.addEventListener('click', event => {
    const link = event.target.closest('a[data-place]');
    if (!link) { return; }
    const layer = (places[link.dataset.place] || {})[link.dataset.id];
    if (!layer) { return; }
    event.preventDefault();
    element.scrollIntoView({behavior: 'smooth', block: 'center'});
    if (layer.getBounds) { map.fitBounds(layer.getBounds(), {maxZoom: 18, padding: [30, 30]}); } else { map.setView(layer.getLatLng(), 17); }
    map.once('moveend', () => layer.openTooltip(layer.getBounds ? layer.getBounds().getCenter() : layer.getLatLng()));
    element.dataset.shown = `${link.dataset.place}:${link.dataset.id}`;
  });
})();
