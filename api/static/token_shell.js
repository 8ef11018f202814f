// Shared by the token pages: the caller's token (session storage), API calls, and building
// tables whose every value is text (never HTML).
'use strict';
const out = document.getElementById('out');
const T = JSON.parse(out.dataset.texts);
const tokenBox = document.getElementById('token');
tokenBox.value = sessionStorage.getItem('zonemap-token') || '';

async function api(path, options) {
  const r = await fetch(path, Object.assign({headers: {'Authorization': 'Bearer ' + tokenBox.value, 'Content-Type': 'application/json'}}, options || {}));
  if (!r.ok) { const p = await r.json().catch(() => ({})); throw new Error(p.detail || String(r.status)); }
  return r.json();
}

function element(tag, text) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function table(headers, rows) {
  const t = element('table');
  const head = t.insertRow();
  for (const h of headers) head.appendChild(element('th', h));
  for (const cells of rows) {
    const row = t.insertRow();
    for (const cell of cells) {
      const td = row.insertCell();
      if (cell instanceof Node) td.appendChild(cell); else td.textContent = cell === null || cell === undefined ? '' : String(cell);
    }
  }
  return t;
}

document.getElementById('token-form').addEventListener('submit', event => {
  event.preventDefault();
  sessionStorage.setItem('zonemap-token', tokenBox.value);
  out.replaceChildren();
  run().catch(e => { out.replaceChildren(element('p', e.message)); out.firstChild.className = 'error'; });
});
if (tokenBox.value) document.getElementById('token-form').requestSubmit();
