// Charts with the vendored uPlot (vendor/uPlot.iife.min.js), loaded once, on first use.

let loading = null;

function uPlotLib() {
  if (window.uPlot) return Promise.resolve(window.uPlot);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = "/dashboard/vendor/uPlot.iife.min.js";
      script.onload = () => resolve(window.uPlot);
      script.onerror = () => reject(new Error("The chart library could not be loaded."));
      document.head.append(script);
    });
  }
  return loading;
}

const PALETTE = ["#3b5bdb", "#e8590c", "#2b8a3e", "#862e9c", "#0c8599", "#c92a2a", "#5c940d"];

/**
 * A line chart in `el` (class "chart"). x: dates as ISO strings; series: [{label, values, band?}].
 * A series with `dash` is drawn dashed; `fill` shades it. `bands`: uPlot's bands, e.g.
 * [{series: [upper, lower], fill}] with 1-based indexes into `series`, shade between two
 * series. Redraws to its box's width.
 */
export async function lineChart(el, dates, series, { height = 220, bands } = {}) {
  const uPlot = await uPlotLib();
  const xs = dates.map((d) => Date.parse(d) / 1000);
  const width = () => Math.max(240, Math.floor(el.getBoundingClientRect().width || 600));
  const opts = {
    width: width(),
    height,
    legend: { live: false },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true } },
    bands,
    axes: [{ stroke: "#98a2b3", grid: { stroke: "rgba(128,128,128,.15)" } },
      { stroke: "#98a2b3", grid: { stroke: "rgba(128,128,128,.15)" }, size: 56 }],
    series: [{}, ...series.map((s, i) => ({
      label: s.label,
      stroke: s.color || PALETTE[i % PALETTE.length],
      width: s.width || 1.6,
      dash: s.dash,
      fill: s.fill,
      points: { show: false },
      spanGaps: false,
    }))],
  };
  el.replaceChildren();
  const plot = new uPlot(opts, [xs, ...series.map((s) => s.values)], el);
  const observer = new ResizeObserver(() => plot.setSize({ width: width(), height }));
  observer.observe(el);
  return () => { observer.disconnect(); plot.destroy(); };
}
