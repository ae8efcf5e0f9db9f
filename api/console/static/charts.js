/* The console's charts: uPlot (vendored in static/vendor) over day or time series. */
(function () {
  "use strict";
  const COLOURS = ["#0b4f9c", "#c2410c", "#166534", "#7e22ce", "#b91c1c", "#0f766e"];

  /* xs: unix seconds; series: [{label, values}]; draws into container (emptied first). */
  function lineChart(container, xs, series, options) {
    container.replaceChildren();
    const width = Math.max(280, container.clientWidth || 600);
    const opts = Object.assign({
      width: width,
      height: 260,
      series: [{}].concat(series.map((s, i) => ({ label: s.label, stroke: COLOURS[i % COLOURS.length], width: 2, points: { show: true, size: 6 } }))),
      axes: [{}, { size: 70 }],
    }, options || {});
    const chart = new window.uPlot(opts, [xs].concat(series.map((s) => s.values)), container);
    container.dataset.points = String(xs.length);
    container.dataset.series = String(series.length);
    const resize = () => chart.setSize({ width: Math.max(280, container.clientWidth), height: 260 });
    window.addEventListener("resize", resize);
    return chart;
  }

  window.ecomCharts = { lineChart };
})();
