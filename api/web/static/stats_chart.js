// The figures' chart (#stats-chart): closed on time and closure rate per group, as horizontal bars
// in the table's order; names set as text by ECharts. Without the script the table says it all.
'use strict';
(function () {
  const element = document.getElementById('stats-chart');
  const rows = JSON.parse(document.getElementById('stats-data').textContent);
  const labels = JSON.parse(element.dataset.labels);
  const chart = window.echarts.init(element, null, {renderer: 'svg'});
  const percent = value => (value === null || value === undefined ? '–' : `${(value * 100).toFixed(1)}%`);
  const names = rows.map(r => r.name).reverse();  // the first row on top
  const series = key => ({name: labels[key], type: 'bar', data: rows.map(r => r[key]).reverse(), label: {show: true, position: 'right', formatter: p => percent(p.value)}});
  chart.setOption({
    animation: false,
    color: ['#0f766e', '#94a3b8'],
    tooltip: {trigger: 'axis', axisPointer: {type: 'shadow'}, valueFormatter: percent},
    legend: {top: 0},
    grid: {left: 8, right: 56, top: 28, bottom: 8, containLabel: true},
    xAxis: {type: 'value', min: 0, max: 1, axisLabel: {formatter: v => `${Math.round(v * 100)}%`}},
    yAxis: {type: 'category', data: names, axisLabel: {width: 150, overflow: 'truncate'}},
    series: [series('on_time_rate'), series('closure_rate')],
  });
  window.addEventListener('resize', () => chart.resize());
})();
