import { parseArgs } from 'node:util';
import {
  createCloudWatchReader,
  type DashboardMetrics,
  type DashboardMetricsSource,
  dashboardMetricsSource,
  type MetricsWindow,
  parseMetricsWindow,
  resolveDashboardName,
  type SeriesMetrics,
} from '../../shared/dashboard-metrics/index.js';
import { createAwsClients, formatDuration, InvalidArgumentError } from '../../shared/index.js';
import { type ConnectionFlags, connectionOptions, resolveConnection } from '../connect.js';
import { UsageError } from '../errors.js';
import { jsonOutputText } from '../json/print.js';
import { loadProjectConfig } from '../load-config.js';

/** Widest sparkline: longer windows are folded (each character the largest value of its periods). */
const SPARKLINE_WIDTH = 60;
const BARS = '▁▂▃▄▅▆▇█';
const NO_DATA = '·';

export interface MetricsArgs extends MetricsWindow {
  readonly flags: ConnectionFlags & { readonly json?: boolean | undefined };
}

/**
 * `jobstack metrics [--since 1h] [--period 5m] [--json]`: the stack's CloudWatch dashboard in the terminal,
 * a sparkline per series of every metric widget with its latest value.
 * @throws UsageError for a malformed or out-of-range flag, quoting it
 */
export function parseMetricsArgs(argv: string[]): MetricsArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...connectionOptions, since: { type: 'string' }, period: { type: 'string' } },
    allowPositionals: true,
  });
  if (positionals.length > 0) {
    throw new UsageError(`usage: jobstack metrics [--since 1h] [--period 5m] [--json] (given '${positionals.join(' ')}')`);
  }
  const { since, period, ...flags } = values;
  try {
    return { flags, ...parseMetricsWindow({ since, period }, { since: '--since', period: '--period' }) };
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw new UsageError(error.message);
    throw error;
  }
}

/** Where the command reads and writes; tests give a source over a mocked CloudWatch. */
export interface MetricsDeps {
  readonly metrics: DashboardMetricsSource;
  readonly write?: (text: string) => void;
}

export async function metricsCommand(argv: string[]): Promise<void> {
  const args = parseMetricsArgs(argv);
  const { stackName, aws } = resolveConnection(args.flags, await loadProjectConfig());
  const clients = createAwsClients(aws);
  await runMetrics(args, {
    metrics: dashboardMetricsSource(createCloudWatchReader(aws), () => resolveDashboardName(clients.cloudFormation, stackName)),
  });
}

/** Reads the dashboard's widgets over the window and prints them (text, or JSON with `--json`). */
export async function runMetrics(args: MetricsArgs, deps: MetricsDeps): Promise<DashboardMetrics> {
  const metrics = await deps.metrics(args);
  const write = deps.write ?? ((text: string) => process.stdout.write(text));
  write(args.flags.json ? jsonOutputText('metrics', metrics) : `${formatMetrics(metrics)}\n`);
  return metrics;
}

/** Per widget its title, then per series: label, sparkline over the window, latest value, statistic/period. */
export function formatMetrics(metrics: DashboardMetrics): string {
  const start = Date.parse(metrics.start);
  const end = Date.parse(metrics.end);
  const header = `dashboard ${metrics.dashboardName}: ${metrics.start} .. ${metrics.end} (last ${formatDuration(end - start)})`;
  const blocks = metrics.widgets.map((widget) => {
    const width = Math.max(0, ...widget.series.map((series) => series.label.length));
    const lines = widget.series.map((series) => {
      const latest = series.latest === null ? '-' : formatValue(series.latest);
      const line = `  ${series.label.padEnd(width)}  ${sparkline(series, start, end)}  ${latest.padStart(8)}  ${series.stat}/${formatDuration(series.periodSeconds * 1000)}`;
      return series.message === undefined ? line : `${line}  (${series.message})`;
    });
    return [widget.title, ...(lines.length > 0 ? lines : ['  (no series)'])].join('\n');
  });
  return [header, ...blocks].join('\n\n');
}

/**
 * One character per period of the window (folded to at most 60, each the largest value it covers), scaled
 * from 0 (or the lowest value, when negative) to the highest; `·` where the period has no data point.
 */
export function sparkline(series: Pick<SeriesMetrics, 'points' | 'periodSeconds'>, startMs: number, endMs: number): string {
  const periodMs = series.periodSeconds * 1000;
  const first = Math.floor(startMs / periodMs) * periodMs;
  const periods = Math.max(1, Math.ceil((endMs - first) / periodMs));
  const width = Math.min(periods, SPARKLINE_WIDTH);
  const columns: (number | undefined)[] = new Array(width).fill(undefined);
  for (const point of series.points) {
    const index = Math.floor((Date.parse(point.timestamp) - first) / periodMs);
    if (index < 0 || index >= periods) continue;
    const column = Math.floor((index * width) / periods);
    const before = columns[column];
    columns[column] = before === undefined ? point.value : Math.max(before, point.value);
  }
  const values = columns.filter((value): value is number => value !== undefined);
  const low = Math.min(0, ...values);
  const high = Math.max(...values, low);
  return columns
    .map((value) => {
      if (value === undefined) return NO_DATA;
      if (high === low) return BARS[0];
      return BARS[Math.min(BARS.length - 1, Math.floor(((value - low) / (high - low)) * BARS.length))];
    })
    .join('');
}

function formatValue(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(4)));
}
