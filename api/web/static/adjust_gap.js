// Adjusting a gap-fill suggestion before accepting it into a draft: the gap's outline becomes
// editable on the draft's map (Leaflet-Geoman: drag corners, drag an edge's middle to add one),
// the owner is chosen among the suggested one and the gap's neighbours, and the form sends the
// outline as GeoJSON. Without scripts the gaps are accepted as suggested.
'use strict';
(function () {
  const form = document.getElementById('adjust');
  if (!form || !window.zonemapPlanMap) { return; }
  const {map, places} = window.zonemapPlanMap;
  let editing = null;
  function stop() {
    if (editing) { editing.pm.disable(); map.removeLayer(editing); editing = null; }
    form.hidden = true;
  }
  document.querySelectorAll('button[data-adjust]').forEach(button => {
    button.hidden = false;
    button.addEventListener('click', () => {
      const gap = places.gap[button.dataset.adjust];
      if (!gap) { return; }
      stop();
      editing = L.geoJSON(gap.toGeoJSON(), {style: {color: '#0f766e', weight: 3, fillColor: '#14b8a6', fillOpacity: 0.25}}).getLayers()[0];
      editing.addTo(map);
      editing.pm.enable({allowSelfIntersection: false});
      const element = document.getElementById('plan-map');
      delete element.dataset.editing;
      map.once('moveend', () => { element.dataset.editing = button.dataset.adjust; });  // the outline is in place to be edited
      map.fitBounds(editing.getBounds(), {maxZoom: 18, padding: [30, 30], animate: false});
      form.elements.gap_id.value = button.dataset.adjust;
      form.querySelector('[data-gap]').textContent = button.dataset.adjust;
      form.elements.unit_id.replaceChildren(...JSON.parse(button.dataset.units).map(([code, label]) => new Option(label, code)));
      form.hidden = false;
      element.scrollIntoView({block: 'start'});
    });
  });
  form.querySelector('[data-cancel]').addEventListener('click', stop);
  form.addEventListener('submit', () => { form.elements.outline.value = JSON.stringify(editing.toGeoJSON().geometry); });
})();
