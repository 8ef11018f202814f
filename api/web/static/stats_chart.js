// The figures' chart (#stats-chart): the sorted figure per group (closed on time and closure rate
// when the table is in its own order), as horizontal bars in the table's order; names set as text
// by ECharts. Without the script the table says it all.
'use strict';
(function () {
  const element = document.getElementById('stats-chart');
  const data = JSON.parse(document.getElementById('stats-data').textContent);
  const percent = data.series.every(s => s.percent);
  const format = value => (value === null || value === undefined ? '–' : percent ? `${(value * 100).toFixed(1)}%` : value.toFixed(1));
  const rows = data.rows.slice().reverse();  // the first row on top
  const chart = window.echarts.init(element, null, {renderer: 'canvas'});
  chart.setOption({
    animation: false,
    color: ['#0f766e', '#94a3b8'],
    tooltip: {trigger: 'axis', axisPointer: {type: 'shadow'}, valueFormatter: format},
    grid: {left: 8, right: 56, top: 8, bottom: 8, containLabel: true},
    xAxis: percent ? {type: 'value', min: 0, max: 1, axisLabel: {formatter: v => `${Math.round(v * 100)}%`}} : {type: 'value', min: 0},
    yAxis: {type: 'category', data: rows.map(r => r.name), axisLabel: {width: 150, overflow: 'truncate'}},
    series: data.series.map(s => ({name: s.label, type: 'bar', data: rows.map(r => r[s.key]), label: {show: true, position: 'right', formatter: p => format(p.value)}})),
  });
  window.addEventListener('resize', () => chart.resize());
})();
