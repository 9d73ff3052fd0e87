// A small line chart on a canvas: the one place the dashboard draws a chart. Everything else calls
// drawChart(el, series) only, so putting a charting library in its place (uPlot) changes this file alone.

const PALETTE = ['#2f6fde', '#e0731f', '#2a9d4b', '#d13b3b', '#8c56c6', '#8c564b', '#d0579d', '#6b7280', '#a3a31b', '#159fb3'];
const HEIGHT = 150;
const PAD = { left: 46, right: 10, top: 10, bottom: 22 };
const AXIS = '#8a93a3';
const GRID = '#eef0f3';

/** The colour of the series at `index`, for a legend drawn outside the chart. */
export function seriesColor(index) {
  return PALETTE[index % PALETTE.length];
}

/**
 * Draws `series` as lines in `el` (a block element; its canvas is created once and redrawn in place).
 * series: [{ label, points: [{ x: epoch milliseconds, y: number }] }], each in the colour seriesColor(i).
 * The x axis spans options.xRange ([from, to] in epoch milliseconds) when given, else the points; the
 * y axis 0 (or the lowest value, when negative) to the highest.
 * The canvas carries data-points (how many points it drew) for tests and tools.
 */
export function drawChart(el, series, options = {}) {
  let canvas = el.querySelector('canvas');
  if (!canvas) {
    canvas = document.createElement('canvas');
    canvas.setAttribute('role', 'img');
    el.append(canvas);
  }
  const width = Math.max(220, Math.floor(el.clientWidth || 360));
  const ratio = window.devicePixelRatio || 1;
  canvas.width = width * ratio;
  canvas.height = HEIGHT * ratio;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${HEIGHT}px`;
  const ctx = canvas.getContext('2d');
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, HEIGHT);
  ctx.font = '11px system-ui, sans-serif';

  const all = series.flatMap((s) => s.points);
  canvas.dataset.points = String(all.length);
  canvas.setAttribute('aria-label', `${series.length} series, ${all.length} points`);
  if (all.length === 0) {
    ctx.fillStyle = AXIS;
    ctx.fillText('no data in this window', PAD.left, HEIGHT / 2);
    return;
  }

  let [xMin, xMax] = options.xRange ?? extent(all.map((p) => p.x));
  if (xMin === xMax) [xMin, xMax] = [xMin - 60_000, xMax + 60_000];
  const [low, high] = extent(all.map((p) => p.y));
  const yMin = Math.min(0, low);
  const yMax = high === yMin ? yMin + 1 : high;
  const plotWidth = width - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const sx = (x) => PAD.left + ((x - xMin) / (xMax - xMin)) * plotWidth;
  const sy = (y) => PAD.top + (1 - (y - yMin) / (yMax - yMin)) * plotHeight;

  // Grid and y labels at the bottom, middle and top.
  ctx.lineWidth = 1;
  for (const y of [yMin, (yMin + yMax) / 2, yMax]) {
    ctx.strokeStyle = GRID;
    ctx.beginPath();
    ctx.moveTo(PAD.left, Math.round(sy(y)) + 0.5);
    ctx.lineTo(width - PAD.right, Math.round(sy(y)) + 0.5);
    ctx.stroke();
    ctx.fillStyle = AXIS;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    ctx.fillText(shortNumber(y), PAD.left - 6, sy(y));
  }
  // The first and last time under the axis.
  ctx.textBaseline = 'top';
  ctx.textAlign = 'left';
  ctx.fillText(clock(xMin), PAD.left, HEIGHT - PAD.bottom + 6);
  ctx.textAlign = 'right';
  ctx.fillText(clock(xMax), width - PAD.right, HEIGHT - PAD.bottom + 6);

  series.forEach((s, index) => {
    const points = [...s.points].sort((a, b) => a.x - b.x);
    ctx.strokeStyle = seriesColor(index);
    ctx.fillStyle = seriesColor(index);
    ctx.lineWidth = 1.6;
    ctx.beginPath();
    for (const [i, p] of points.entries()) {
      if (i === 0) ctx.moveTo(sx(p.x), sy(p.y));
      else ctx.lineTo(sx(p.x), sy(p.y));
    }
    ctx.stroke();
    // A dot on each point, so a lone point shows too.
    for (const p of points) {
      ctx.beginPath();
      ctx.arc(sx(p.x), sy(p.y), 2.2, 0, 2 * Math.PI);
      ctx.fill();
    }
  });
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

function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}
