// The operations of /openapi.json, as text.
fetch('/openapi.json').then(r => r.json()).then(doc => {
  const table = document.getElementById('ops');
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const row = table.insertRow();
      row.insertCell().textContent = method.toUpperCase();
      row.insertCell().appendChild(document.createElement('code')).textContent = path;
      row.insertCell().textContent = op.summary;
    }
  }
});
