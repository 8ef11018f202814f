// The inspector's round on a phone, offline too: the points on a map and nearest first; a point
// opens its checklist (cloned from the page's form for its type); saving keeps the entry and its
// photos in IndexedDB (idb) under a key of its own and sends it when the phone is online, so that
// nothing is lost and nothing is sent twice. The page, its scripts and the map layers are kept by
// the service worker (/inspect/sw.js).
'use strict';
(async function () {
  const data = JSON.parse(document.getElementById('round-data').textContent);
  const status = document.getElementById('queue-status');
  const list = document.getElementById('points');
  const panel = document.getElementById('point-panel');
  const where = document.getElementById('panel-where');
  const points = new Map(data.points.map(p => [p.id, p]));
  const db = await idb.openDB('zonemap-inspect', 1, {
    upgrade(store) {
      store.createObjectStore('outbox', {keyPath: 'key'});  // entries waiting to be sent, with their photos
      store.createObjectStore('done', {keyPath: 'id'});  // points recorded on this phone: round:point → problems found
    }
  });

  if ('serviceWorker' in navigator) {
    // Once the worker controls this page, the page is fetched again through it: kept for offline use.
    const kept = async () => {  // the worker stores what it fetched just after answering
      for (let tries = 0; tries < 50; tries += 1) {
        if (await caches.match(location.href) && await caches.match('/maps/orientation.geojson')) { return true; }
        await new Promise(resolve => setTimeout(resolve, 100));
      }
      return false;
    };
    const keep = () => fetch(location.href, {credentials: 'same-origin'}).then(kept).then(ready => {
      if (ready) { document.body.dataset.offlineReady = 'true'; }
    }).catch(() => {});
    if (navigator.serviceWorker.controller) {
      keep();
    } else {
      navigator.serviceWorker.addEventListener('controllerchange', keep, {once: true});
    }
    navigator.serviceWorker.register('/inspect/sw.js', {scope: '/inspect/'}).catch(() => {});
  }

  // The map and the list: each point's state, nearest first once the phone knows where it is.
  const mapElement = document.getElementById('inspect-map');
  const map = window.zonemapPageMap(mapElement);
  const markers = new Map();
  const COLOURS = {todo: '#6b7280', done: '#15803d', failed: '#b91c1c', waiting: '#b45309'};
  data.points.forEach(p => {
    const marker = L.circleMarker([p.lat, p.lon], {radius: 7, weight: 2, fillOpacity: 0.8}).addTo(map);
    marker.bindTooltip(p.name);
    marker.on('click', () => open(p.id));
    markers.set(p.id, marker);
  });
  if (data.points.length) {
    map.fitBounds(L.latLngBounds(data.points.map(p => [p.lat, p.lon])).pad(0.2), {maxZoom: 17});
  }

  function show(id, state) {
    const item = list.querySelector(`li[data-point="${CSS.escape(id)}"]`);
    item.className = state;
    const label = item.querySelector('.state');
    label.textContent = label.dataset[state];
    markers.get(id).setStyle({color: COLOURS[state], fillColor: COLOURS[state]});
  }

  async function refresh() {
    const waiting = await db.getAll('outbox');
    const mine = new Set(waiting.filter(e => e.round === data.round.id).map(e => e.point));
    const done = new Map((await db.getAll('done')).filter(d => d.round === data.round.id).map(d => [d.point, d.failed]));
    for (const p of data.points) {
      const state = mine.has(p.id) ? 'waiting' : (done.has(p.id) ? (done.get(p.id) ? 'failed' : 'done') : (p.failed ? 'failed' : (p.inspected ? 'done' : 'todo')));
      show(p.id, state);
    }
    const refused = waiting.filter(e => e.error).length;
    status.hidden = false;
    if (signInNeeded) {
      status.textContent = status.dataset.signin;
    } else if (refused) {
      status.textContent = status.dataset.refused.replace('{n}', String(refused));
    } else if (waiting.length) {
      status.textContent = (navigator.onLine ? '' : status.dataset.offline + ' ') + status.dataset.waiting.replace('{n}', String(waiting.length));
    } else {
      status.textContent = status.dataset.sent;
    }
    status.dataset.waitingCount = String(waiting.length);
  }

  function metres(a, b) {
    const rad = Math.PI / 180;
    const x = (b.lon - a.lon) * rad * Math.cos((a.lat + b.lat) / 2 * rad);
    const y = (b.lat - a.lat) * rad;
    return Math.sqrt(x * x + y * y) * 6371000;
  }

  let here = null;
  function nearestFirst() {
    if (!here) { return; }
    const items = [...list.children];
    items.forEach(li => {
      const d = metres(here, points.get(li.dataset.point));
      li.dataset.metres = String(d);
      li.querySelector('.distance').textContent = d < 1000 ? `${Math.round(d)} m` : `${(d / 1000).toFixed(1)} km`;
    });
    items.sort((a, b) => Number(a.dataset.metres) - Number(b.dataset.metres)).forEach(li => list.appendChild(li));
  }
  if (navigator.geolocation) {
    navigator.geolocation.watchPosition(position => {
      here = {lon: position.coords.longitude, lat: position.coords.latitude, accuracy: position.coords.accuracy};
      nearestFirst();
    }, () => {}, {enableHighAccuracy: true, maximumAge: 30000, timeout: 20000});
  }

  // A point's checklist: the page's form for its type, only the items a re-inspection goes back to.
  let current = null;
  function open(id) {
    const point = points.get(id);
    const template = document.getElementById(`form-${point.type}`);
    const form = template.content.firstElementChild.cloneNode(true);
    form.elements.point_id.value = id;
    form.querySelectorAll('fieldset.check-item').forEach(set => {
      const wanted = !point.codes || point.codes.includes(set.dataset.code);
      set.hidden = !wanted;
      set.disabled = !wanted;
    });
    form.addEventListener('change', () => follow(form));
    form.addEventListener('submit', event => { event.preventDefault(); save(form); });
    follow(form);
    document.getElementById('panel-title').textContent = point.name;
    const box = document.getElementById('panel-form');
    box.replaceChildren(form);
    if (here) {
      const d = Math.round(metres(here, point));
      where.textContent = (d > data.far_m ? where.dataset.far : where.dataset.near).replace('{m}', String(d)).replace('{far}', String(data.far_m));
    } else {
      where.textContent = where.dataset.unknown;
    }
    current = id;
    list.hidden = true;
    mapElement.hidden = true;
    panel.hidden = false;
    panel.scrollIntoView({block: 'start'});
  }

  function follow(form) {  // the photo fields a result needs
    form.querySelectorAll('fieldset.check-item').forEach(set => {
      const result = (set.querySelector('input[type=radio]:checked') || {}).value;
      const value = set.querySelector('input[type=number]');
      const failing = result === 'fail' || result === 'fixed' || (!result && value && value.value !== '' && Number(value.value) < Number(value.min || 0));
      set.querySelectorAll('.when-failed').forEach(n => { n.hidden = !failing && !(value && value.value !== ''); });
      set.querySelectorAll('.when-fixed').forEach(n => { n.hidden = result !== 'fixed'; });
    });
  }

  function close() {
    panel.hidden = true;
    list.hidden = false;
    mapElement.hidden = false;
    map.invalidateSize();
    current = null;
  }
  document.getElementById('panel-back').addEventListener('click', close);
  list.addEventListener('click', event => {
    const link = event.target.closest('a');
    if (!link) { return; }
    event.preventDefault();
    open(link.closest('li').dataset.point);
  });

  async function smaller(file) {  // what the service would keep anyway: less to store on the phone and to send
    try {
      return await window.zonemapSmallerPhoto(file, data.max_side, data.max_bytes);
    } catch (error) {
      return file;  // not a picture this browser decodes: sent as it is, and the service says what is wrong
    }
  }

  async function save(form) {
    form.elements.at.value = new Date().toISOString();
    if (here) {
      form.elements.lon.value = here.lon.toFixed(6);
      form.elements.lat.value = here.lat.toFixed(6);
      form.elements.accuracy_m.value = String(Math.round(here.accuracy));
    }
    const key = crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
    form.elements.key.value = key;
    const fields = [];
    const files = [];
    for (const [name, value] of new FormData(form)) {
      if (value instanceof File) {
        if (value.size) { files.push([name, await smaller(value), value.name]); }
      } else {
        fields.push([name, value]);
      }
    }
    const failed = [...form.querySelectorAll('input[type=radio]:checked')].filter(r => r.value === 'fail' || r.value === 'fixed').length;
    const point = form.elements.point_id.value;
    await db.put('outbox', {key, round: data.round.id, point, url: data.submit, fields, files, error: null});
    await db.put('done', {id: `${data.round.id}:${point}`, round: data.round.id, point, failed});
    close();
    await refresh();
    send();
  }

  // Sending: one entry at a time, each under its key (a retry is stored once on the service).
  let sending = false;
  let signInNeeded = false;
  async function send() {
    if (sending || !navigator.onLine) { await refresh(); return; }
    sending = true;
    try {
      for (const entry of await db.getAll('outbox')) {
        if (entry.error) { continue; }
        const body = new FormData();
        entry.fields.forEach(([name, value]) => body.append(name, value));
        entry.files.forEach(([name, blob, filename]) => body.append(name, blob, filename));
        let response;
        try {
          response = await fetch(entry.url, {method: 'POST', body, credentials: 'same-origin', headers: {Accept: 'application/json'}});
        } catch (error) {
          break;  // offline again: the rest waits
        }
        const json = (response.headers.get('Content-Type') || '').includes('application/json');
        if (response.ok && json) {
          await db.delete('outbox', entry.key);
        } else if (response.status === 422 && json) {
          entry.error = (await response.json()).errors.join(' ');
          await db.put('outbox', entry);
        } else {
          signInNeeded = response.redirected || response.status === 400 || response.status === 403;
          break;
        }
      }
    } finally {
      sending = false;
      await refresh();
    }
  }
  window.addEventListener('online', send);
  window.addEventListener('offline', refresh);
  setInterval(send, 15000);
  await refresh();
  send();
})();
