// The Metrics section: the stack's CloudWatch dashboard widgets (GET /api/metrics), one chart each,
// redrawn in place every minute (CloudWatch's finest standard resolution; each read is billed per metric)
// with the window chosen in its form. `?metricsRefresh=<seconds>` in the page's address sets another interval.

import { drawChart, seriesColor } from './chart.js';

const DEFAULT_REFRESH_SECONDS = 60;

/** The refresh interval: `?metricsRefresh=` when it is 2..3600 seconds, else a minute. */
function refreshMs() {
  const asked = Number(new URLSearchParams(window.location.search).get('metricsRefresh'));
  const seconds = Number.isFinite(asked) && asked >= 2 && asked <= 3600 ? asked : DEFAULT_REFRESH_SECONDS;
  return seconds * 1000;
}

const $ = (selector) => document.querySelector(selector);

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

async function fetchMetrics() {
  const form = new FormData($('#metrics-window'));
  const query = new URLSearchParams();
  for (const name of ['since', 'period']) {
    const value = String(form.get(name) ?? '');
    if (value) query.set(name, value);
  }
  const response = await fetch(`/api/metrics?${query}`);
  const json = await response.json();
  if (!response.ok) throw new Error(json.error ? `${json.error.name}: ${json.error.message}` : `HTTP ${response.status}`);
  return json;
}

/** One figure per widget, kept across refreshes (found by its title) so the page does not jump. */
function widgetFigure(container, widget, index) {
  let figure = container.querySelector(`figure[data-index="${index}"]`);
  if (!figure || figure.dataset.title !== widget.title) {
    figure = el('figure', { class: 'chart', 'data-index': index, 'data-testid': `widget-${index}` });
    figure.dataset.title = widget.title;
    figure.append(el('figcaption', {}, widget.title), el('div', { class: 'plot' }), el('ul', { class: 'legend' }));
    const existing = container.querySelector(`figure[data-index="${index}"]`);
    if (existing) existing.replaceWith(figure);
    else container.append(figure);
  }
  return figure;
}

function legendItem(series, index) {
  const swatch = el('span', { class: 'swatch' });
  swatch.style.backgroundColor = seriesColor(index);
  const latest = series.latest === null ? '–' : String(+series.latest.toPrecision(4));
  const item = el('li', { 'data-series': series.label }, swatch, `${series.label} `, el('b', { 'data-latest': '' }, latest));
  item.title = `${series.stat} per ${series.periodSeconds} s`;
  if (series.message) item.append(el('span', { class: 'muted' }, ` (${series.message})`));
  return item;
}

function render(metrics) {
  const container = $('#metrics');
  const xRange = [Date.parse(metrics.start), Date.parse(metrics.end)];
  metrics.widgets.forEach((widget, index) => {
    const figure = widgetFigure(container, widget, index);
    drawChart(
      figure.querySelector('.plot'),
      widget.series.map((series) => ({
        label: series.label,
        points: series.points.map((point) => ({ x: Date.parse(point.timestamp), y: point.value })),
      })),
      { xRange },
    );
    figure.querySelector('.legend').replaceChildren(...widget.series.map(legendItem));
  });
  for (const stale of container.querySelectorAll('figure')) {
    if (Number(stale.dataset.index) >= metrics.widgets.length) stale.remove();
  }
  const start = new Date(metrics.start).toLocaleTimeString();
  const end = new Date(metrics.end).toLocaleTimeString();
  $('#metrics-status').textContent = `dashboard ${metrics.dashboardName}, ${start} – ${end}`;
  $('#metrics-status').className = 'muted small';
}

async function refresh() {
  try {
    render(await fetchMetrics());
  } catch (error) {
    $('#metrics-status').textContent = `metrics: ${error.message}`;
    $('#metrics-status').className = 'error small';
  }
}

/** Draws the widgets now, again every minute (or `?metricsRefresh=`) and whenever the window changes. */
export function startMetrics() {
  $('#metrics-window').addEventListener('change', () => void refresh());
  void refresh();
  setInterval(refresh, refreshMs());
}
