// The dashboard's line chart, drawn with uPlot (https://github.com/leeoniya/uPlot, the `uplot` package,
// served by dashboard/server.ts under /vendor/). Everything else calls drawChart(el, series) only.
import uPlot from '/vendor/uPlot.esm.js';

const PALETTE = ['#2f6fde', '#e0731f', '#2a9d4b', '#d13b3b', '#8c56c6', '#8c564b', '#d0579d', '#6b7280', '#a3a31b', '#159fb3'];
const HEIGHT = 150;
const AXIS = '#8a93a3';
const GRID = '#eef0f3';

/** The colour of the series at `index`, for a legend drawn outside the chart. */
export function seriesColor(index) {
  return PALETTE[index % PALETTE.length];
}

/**
 * Draws `series` as lines in `el` (a block element; its chart is created once and updated in place).
 * series: [{ label, points: [{ x: epoch milliseconds, y: number }] }], each in the colour seriesColor(i).
 * The x axis spans options.xRange ([from, to] in epoch milliseconds) when given, else the points; the
 * y axis 0 (or the lowest value, when negative) to the highest.
 * The canvas carries data-points (how many points it drew) for tests and tools.
 */
export function drawChart(el, series, options = {}) {
  const width = Math.max(220, Math.floor(el.clientWidth || 360));
  const all = series.flatMap((s) => s.points);
  const state = { xRange: xRangeOf(options.xRange, all), empty: all.length === 0 };
  const data = aligned(series);
  const shape = `${width}|${series.map((s) => s.label).join('\n')}`;

  let chart = el.uplot;
  if (chart && el.dataset.shape === shape) {
    // The options' scale range and draw hook read the current window and emptiness from here.
    el.uplotState.current = state;
    chart.setData(data);
  } else {
    chart?.destroy();
    el.replaceChildren();
    el.uplotState = { current: state };
    chart = new uPlot(chartOptions(series, width, el.uplotState), data, el);
    el.uplot = chart;
    el.dataset.shape = shape;
    chart.ctx.canvas.setAttribute('role', 'img');
  }
  const canvas = chart.ctx.canvas;
  canvas.dataset.points = String(all.length);
  canvas.setAttribute('aria-label', `${series.length} series, ${all.length} points`);
}

function chartOptions(series, width, state) {
  // state.current: { xRange: [from, to] in epoch seconds, empty: whether no series has a point }
  const axis = { stroke: AXIS, grid: { stroke: GRID, width: 1 }, ticks: { show: false }, font: '11px system-ui, sans-serif' };
  return {
    width,
    height: HEIGHT,
    legend: { show: false },
    cursor: { show: false },
    scales: {
      // uPlot's time scale is in epoch seconds.
      x: { time: true, range: () => state.current.xRange },
      y: {
        range: (_chart, low, high) => {
          const min = Math.min(0, Number.isFinite(low) ? low : 0);
          const max = Number.isFinite(high) ? high : min + 1;
          return [min, max === min ? min + 1 : max];
        },
      },
    },
    axes: [
      { ...axis, values: (_chart, splits) => splits.map(clock) },
      { ...axis, size: 46, values: (_chart, splits) => splits.map(shortNumber) },
    ],
    series: [
      {},
      ...series.map((s, index) => ({
        label: s.label,
        stroke: seriesColor(index),
        width: 1.6,
        spanGaps: true,
        // A dot on each point, so a lone point shows too.
        points: { show: true, size: 5, stroke: seriesColor(index), fill: seriesColor(index) },
      })),
    ],
    hooks: {
      draw: [
        (chart) => {
          if (!state.current.empty) return;
          const { ctx, bbox } = chart;
          ctx.save();
          ctx.fillStyle = AXIS;
          ctx.textAlign = 'left';
          ctx.textBaseline = 'middle';
          ctx.font = `${11 * uPlot.pxRatio}px system-ui, sans-serif`;
          ctx.fillText('no data in this window', bbox.left + 6 * uPlot.pxRatio, bbox.top + bbox.height / 2);
          ctx.restore();
        },
      ],
    },
  };
}

/** uPlot's columns: the union of the points' times (seconds), then each series' value at each (null where none). */
function aligned(series) {
  const times = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const index = new Map(times.map((x, i) => [x, i]));
  const columns = series.map((s) => {
    const values = new Array(times.length).fill(null);
    for (const p of s.points) values[index.get(p.x)] = p.y;
    return values;
  });
  return [times.map((x) => x / 1000), ...columns];
}

function xRangeOf(range, points) {
  let [min, max] = range ?? (points.length === 0 ? [Date.now() - 3_600_000, Date.now()] : extent(points.map((p) => p.x)));
  if (min === max) [min, max] = [min - 60_000, max + 60_000];
  return [min / 1000, max / 1000];
}

function extent(values) {
  return [Math.min(...values), Math.max(...values)];
}

function shortNumber(value) {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${+(value / 1e6).toPrecision(3)}M`;
  if (abs >= 1e3) return `${+(value / 1e3).toPrecision(3)}k`;
  return String(+value.toPrecision(3));
}

function clock(seconds) {
  return new Date(seconds * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}
