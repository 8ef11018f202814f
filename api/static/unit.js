// A unit's page: its figures and its reports with deadlines.
'use strict';
async function run() {
  const u = await api('/api/v1/units/' + encodeURIComponent(out.dataset.unit));
  const rate = u.figures.on_time_rate === null ? '–' : (u.figures.on_time_rate * 100).toFixed(0) + '%';
  out.appendChild(element('p', `${u.unit_name} (${u.unit_id}) · ${T.zones} ${u.zones.length} · ${T.points} ${u.test_points.length} · ${T.figures} ${rate}`));
  out.appendChild(element('h2', T.reports));
  out.appendChild(table([T.id, T.state, T.deadline, T.overdue, T.reason], u.reports.map(r => [r.id, r.state, r.deadline_at, r.overdue ? '⚠' : '', r.decision.reason])));
}
