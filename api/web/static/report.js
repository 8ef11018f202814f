// The citizens' form, enhanced: a map to drop a pin on (or the phone's location), which fills in
// lon/lat and asks the server (htmx, #check) who handles that spot and what is already reported
// nearby; photos larger than the limit are refused before they are sent.
'use strict';
(function () {
  const form = document.getElementById('report');
  const lon = document.getElementById('lon');
  const lat = document.getElementById('lat');
  const accuracy = document.getElementById('accuracy_m');
  const status = document.getElementById('locate-status');
  const mapElement = document.getElementById('pick-map');
  const map = window.zonemapPageMap(mapElement);
  document.querySelectorAll('.map-actions, .map-hint').forEach(node => { node.hidden = false; });
  let pin = null;

  function place(latlng, zoom) {
    if (pin === null) {
      pin = L.marker(latlng, {draggable: true, autoPan: true, icon: L.divIcon({className: 'pin', html: '', iconSize: [28, 28], iconAnchor: [14, 28]})}).addTo(map);
      pin.on('dragend', () => moved(pin.getLatLng(), null));
    } else {
      pin.setLatLng(latlng);
    }
    if (zoom) { map.setView(latlng, Math.max(map.getZoom(), zoom)); }
  }

  function moved(latlng, metres) {
    lon.value = latlng.lng.toFixed(6);
    lat.value = latlng.lat.toFixed(6);
    accuracy.value = metres === null ? '' : String(Math.round(metres));
    document.body.dispatchEvent(new CustomEvent('pinmoved'));
  }

  map.on('click', event => { place(event.latlng, 0); moved(event.latlng, null); });
  if (lon.value && lat.value) {  // the form came back (something to correct): the pin where it was
    place(L.latLng(parseFloat(lat.value), parseFloat(lon.value)), 17);
    document.body.dispatchEvent(new CustomEvent('pinmoved'));
  }

  // A place found by name (no GPS, or a spot elsewhere) moves the pin there; the person then
  // moves it to the exact spot.
  document.getElementById('place-results').addEventListener('click', event => {
    const link = event.target.closest('a.place');
    if (!link) { return; }
    event.preventDefault();
    const latlng = L.latLng(parseFloat(link.dataset.lat), parseFloat(link.dataset.lon));
    place(latlng, 17);
    moved(latlng, null);
    link.closest('ul').querySelectorAll('a.place').forEach(other => other.removeAttribute('aria-current'));
    link.setAttribute('aria-current', 'true');
    mapElement.scrollIntoView({block: 'nearest', behavior: 'smooth'});
  });

  function locate() {
    if (!navigator.geolocation) { status.textContent = status.dataset.denied; return; }
    status.textContent = status.dataset.locating;
    navigator.geolocation.getCurrentPosition(position => {
      const latlng = L.latLng(position.coords.latitude, position.coords.longitude);
      place(latlng, 17);
      moved(latlng, position.coords.accuracy);
      status.textContent = status.dataset.found.replace('{m}', String(Math.round(position.coords.accuracy)));
    }, () => { status.textContent = status.dataset.denied; }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
  }
  document.getElementById('locate').addEventListener('click', locate);
  // Choosing the problem brings the answer (who handles this spot, what is already reported) into
  // view on a small screen; moving the pin does not scroll the map away from under a finger.
  const check = document.getElementById('check');
  let showAnswer = false;
  document.getElementById('category').addEventListener('change', () => { showAnswer = true; });
  document.body.addEventListener('htmx:afterSwap', event => {
    if (event.target !== check || !showAnswer || !check.querySelector('.who, .alert')) { return; }  // an answer without the category does not count
    showAnswer = false;
    check.scrollIntoView({block: 'nearest', behavior: 'smooth'});
  });
  // Someone who already allowed this site their location is located at once (never asked unprompted).
  if (!lon.value && navigator.permissions) {
    navigator.permissions.query({name: 'geolocation'}).then(state => { if (state.state === 'granted') { locate(); } }).catch(() => {});
  }

  // Photos: scaled on the phone (photo_scale.js) to the size the service keeps.
  const photos = form.querySelector('.photos');
  const maxBytes = parseInt(photos.dataset.maxBytes, 10);
  const maxSide = parseInt(photos.dataset.maxSide, 10);

  const send = form.querySelector('button.primary[type=submit]');
  let scaling = 0;  // pictures being scaled: the form waits for them
  photos.querySelectorAll('input[type=file]').forEach(input => input.addEventListener('change', async () => {
    let file = input.files[0];
    if (file && window.createImageBitmap && window.DataTransfer) {
      scaling += 1;
      send.disabled = true;
      try {
        const scaled = await window.zonemapSmallerPhoto(file, maxSide, maxBytes);
        if (scaled !== file) {
          const chosen = new DataTransfer();
          chosen.items.add(scaled);
          input.files = chosen.files;  // the form sends the smaller picture
          file = scaled;
        }
      } catch (error) { /* not a picture this browser decodes: sent as it is, and the service says what is wrong */ }
      scaling -= 1;
      send.disabled = scaling > 0;
    }
    const tooLarge = Boolean(file) && file.size > maxBytes;
    input.setCustomValidity(tooLarge ? photos.dataset.tooLarge : '');
    if (tooLarge) { input.reportValidity(); }
    const preview = input.parentElement.querySelector('.preview');
    if (preview.src) { URL.revokeObjectURL(preview.src); }
    preview.hidden = !file || tooLarge;
    if (file && !tooLarge) { preview.src = URL.createObjectURL(file); }
    input.dataset.bytes = file ? String(file.size) : '';
  }));
})();
