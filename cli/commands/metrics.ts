import { parseArgs } from 'node:util';
import {
  type CloudWatchReader,
  createCloudWatchReader,
  type DashboardMetrics,
  readDashboardMetrics,
  resolveDashboardName,
  type SeriesMetrics,
} from '../../shared/dashboard-metrics/index.js';
import { createAwsClients, formatDuration, parseDuration } from '../../shared/index.js';
import { type ConnectionFlags, connectionOptions, resolveConnection } from '../connect.js';
import { UsageError } from '../errors.js';
import { printJson } from '../format.js';
import { loadProjectConfig } from '../load-config.js';

const DEFAULT_SINCE = '1h';
const MIN_SINCE_MS = 60_000;
/** CloudWatch keeps 1-minute data for 15 days; a longer window would be mostly gaps at dashboard periods. */
const MAX_SINCE_MS = 15 * 86_400_000;
/** Points per series with an explicit --period: enough for a day at one minute. */
const MAX_POINTS = 1_440;
/** GetMetricData's periods below a minute (high-resolution metrics); above, whole minutes. */
const SUB_MINUTE_PERIODS = [1, 5, 10, 30];
/** Widest sparkline: longer windows are folded (each character the largest value of its periods). */
const SPARKLINE_WIDTH = 60;
const BARS = '▁▂▃▄▅▆▇█';
const NO_DATA = '·';

export interface MetricsArgs {
  readonly flags: ConnectionFlags & { readonly json?: boolean | undefined };
  readonly sinceMs: number;
  readonly periodSeconds?: number;
}

/**
 * `jobstack metrics [--since 1h] [--period 5m] [--json]`: the stack's CloudWatch dashboard in the terminal,
 * a sparkline per series of every metric widget with its latest value.
 * @throws UsageError for a malformed or out-of-range flag, quoting it
 */
export function parseMetricsArgs(argv: string[]): MetricsArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...connectionOptions, since: { type: 'string', default: DEFAULT_SINCE }, period: { type: 'string' } },
    allowPositionals: true,
  });
  if (positionals.length > 0)
    throw new UsageError(`usage: jobstack metrics [--since 1h] [--period 5m] [--json] (given '${positionals.join(' ')}')`);
  const sinceMs = durationFlag('--since', values.since);
  if (sinceMs < MIN_SINCE_MS || sinceMs > MAX_SINCE_MS) {
    throw new UsageError(`--since must be 1m..15d (given '${values.since}')`);
  }
  const { since, period, ...flags } = values;
  if (period === undefined) return { flags, sinceMs };
  const periodSeconds = durationFlag('--period', period, 's') / 1000;
  if (
    !(
      SUB_MINUTE_PERIODS.includes(periodSeconds) ||
      (Number.isInteger(periodSeconds) && periodSeconds % 60 === 0 && periodSeconds > 0)
    )
  ) {
    throw new UsageError(`--period must be 1s, 5s, 10s, 30s or a whole number of minutes (given '${period}')`);
  }
  const points = Math.ceil(sinceMs / 1000 / periodSeconds);
  if (points > MAX_POINTS) {
    throw new UsageError(
      `--since ${since} at --period ${period} is ${points} points per series; at most ${MAX_POINTS}: use a longer --period`,
    );
  }
  return { flags, sinceMs, periodSeconds };
}

/** A duration flag: `90s`, `5m`, `1h`, `2d`; a bare number is in `bareUnit` when given. */
function durationFlag(name: string, text: string, bareUnit?: 's'): number {
  const input = bareUnit !== undefined && /^\d+$/.test(text.trim()) ? `${text.trim()}${bareUnit}` : text;
  try {
    const ms = parseDuration(input);
    if (ms > 0) return ms;
  } catch {
    // reported below with the flag's name
  }
  throw new UsageError(`${name} must be a duration like 30m, 1h or 2d (given '${text}')`);
}

/** What the command reads and where it writes; tests give a fake reader. */
export interface MetricsDeps {
  readonly reader: CloudWatchReader;
  readonly dashboardName: () => Promise<string>;
  readonly now?: () => Date;
  readonly write?: (text: string) => void;
}

export async function metricsCommand(argv: string[]): Promise<void> {
  const args = parseMetricsArgs(argv);
  const { stackName, aws } = resolveConnection(args.flags, await loadProjectConfig());
  const clients = createAwsClients(aws);
  await runMetrics(args, {
    reader: createCloudWatchReader(aws),
    dashboardName: () => resolveDashboardName(clients.cloudFormation, stackName),
  });
}

/** Reads the dashboard's widgets over the window and prints them (text, or JSON with `--json`). */
export async function runMetrics(args: MetricsArgs, deps: MetricsDeps): Promise<DashboardMetrics> {
  const end = deps.now?.() ?? new Date();
  const start = new Date(end.getTime() - args.sinceMs);
  const metrics = await readDashboardMetrics(deps.reader, await deps.dashboardName(), {
    start,
    end,
    ...(args.periodSeconds === undefined ? {} : { periodSeconds: args.periodSeconds }),
  });
  const write = deps.write ?? ((text: string) => process.stdout.write(text));
  if (args.flags.json) {
    if (deps.write) write(`${JSON.stringify(metrics, null, 2)}\n`);
    else printJson(metrics);
  } else write(`${formatMetrics(metrics)}\n`);
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
