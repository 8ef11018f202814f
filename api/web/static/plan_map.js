// The planners' maps: gaps, overlaps and unadopted test points (#plan-map's data-features); on the
// coverage console the zones of the view with their owner, person in charge and phone (fetched by
// bounding box with the planner's session as the view moves, when data-zones is set); on a draft's
// page its changed zones and the open reports it moves. The streets beneath. A list row's link
// (data-place, data-id) shows its place on the map. Names are set as text.
'use strict';
(function () {
  const element = document.getElementById('plan-map');
  const labels = JSON.parse(element.dataset.labels);
  const map = window.zonemapPageMap(element);
  map.createPane('zones').style.zIndex = 350;  // beneath the gaps, overlaps and points (overlayPane, 400)
  const zoneCanvas = L.canvas({padding: 0.3, pane: 'zones'});
  const canvas = L.canvas({padding: 0.3});
  const MIN_ZONE_ZOOM = 12;
  const places = {gap: {}, overlap: {}, test_point: {}, zone: {}};
  window.zonemapPlanMap = {map, places};  // for the outline editor of a draft's page
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
  if (element.dataset.zones) { map.on('moveend', loadZones); }
  const CHANGE_STYLE = {
    added: {color: '#15803d', weight: 2, fillColor: '#4ade80', fillOpacity: 0.5},
    removed: {color: '#475569', weight: 2, dashArray: '5 4', fill: false},
    reshaped: {color: '#1d4ed8', weight: 2, fillColor: '#93c5fd', fillOpacity: 0.4},
    owner: {color: '#7e22ce', weight: 2, fillColor: '#d8b4fe', fillOpacity: 0.4},
    duties: {color: '#b45309', weight: 2, fillColor: '#fcd34d', fillOpacity: 0.4}
  };
  const draw = data => {
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
    const changed = L.geoJSON(data.changes || [], {
      style: feature => CHANGE_STYLE[feature.properties.change] || {},
      onEachFeature: (feature, layer) => {
        const p = feature.properties;
        places.zone[p.zone_id] = layer;
        layer.bindTooltip(() => text([`${labels[p.change] || p.change} · ${p.zone_id} ${p.name || ''}`,
          p.unit_before && p.unit_after && p.unit_before !== p.unit_after ? `${p.unit_before} → ${p.unit_after}` : (p.unit_after || p.unit_before)]), {sticky: true});
      }
    }).addTo(drawn);
    (data.reports || []).forEach(report => {
      L.circleMarker([report.lat, report.lon], {radius: 7, color: '#ffffff', weight: 2, fillColor: '#dc2626', fillOpacity: 1})
        .bindTooltip(() => text([`${labels.report || ''} ${report.id}`])).addTo(drawn);
    });
    if (element.dataset.fit === 'changes' && changed.getLayers().length) { map.fitBounds(changed.getBounds(), {maxZoom: 17, padding: [20, 20], animate: false}); }
    element.dataset.changes = String(changed.getLayers().length);
    element.dataset.gaps = String(data.gaps.length);
    element.dataset.ready = '1';
  };
  let again = null;
  const leaving = new AbortController();  // a page left (its draft published, say) drops the answer it still waits for
  const load = () => fetch(element.dataset.features, {credentials: 'same-origin', signal: leaving.signal}).then(response => {
    if (response.status === 202 || response.status === 503) {  // still being computed (a draft's comparison, a new version's coverage): asked again when the answer says
      again = setTimeout(load, 1000 * Math.min(10, Number(response.headers.get('Retry-After')) || 2));
      return undefined;
    }
    return response.ok ? response.json().then(draw) : undefined;  // gone meanwhile: nothing to draw
  }).catch(error => { if (error.name !== 'AbortError') { throw error; } });
  window.addEventListener('beforeunload', () => { clearTimeout(again); leaving.abort(); });
  load();
  if (element.dataset.zones) { loadZones(); }
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
