// The dispatchers' queue: ambiguous, fallback, disputed and overdue reports, with reassign.
'use strict';
const QUEUES = [['ambiguous', 'decision=ambiguous&status=dispatched'], ['fallback', 'decision=fallback&status=dispatched'], ['disputed', 'status=disputed'], ['overdue', 'overdue=true']];

function reassignForm(report) {
  const form = element('form');
  const input = element('input');
  input.size = 8; input.placeholder = T.to; input.required = true;
  const button = element('button', T.reassign);
  button.className = 'reassign'; button.dataset.id = report.id;
  form.append(input, ' ', button);
  form.addEventListener('submit', event => {
    event.preventDefault();
    api(`/api/v1/reports/${report.id}/transitions`, {method: 'POST', body: JSON.stringify({action: 'reassign', unit_id: input.value, note: 'dispatch page'})})
      .then(() => { button.textContent = T.done; button.disabled = true; })
      .catch(e => { const p = element('span', ' ' + e.message); p.className = 'error'; form.append(p); });
  });
  return form;
}

async function run() {
  for (const [key, query] of QUEUES) {
    const page = await api('/api/v1/reports?limit=200&' + query);
    out.appendChild(element('h2', `${T[key]} (${page.items.length})`));
    out.appendChild(table([T.id, T.category, T.unit, T.candidates, T.deadline, T.reason, ''], page.items.map(r => [
      r.id, r.category, r.unit_id, r.decision.candidate_unit_ids.join(';'), r.deadline_at, r.decision.reason, reassignForm(r)])));
  }
}
