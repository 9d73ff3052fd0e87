import { GetDashboardCommand, paginateGetMetricData, paginateListMetrics } from '@aws-sdk/client-cloudwatch';
import {
  type CloudWatchReader,
  cloudWatchRead,
  type MetricDataQuery,
  type MetricDataResult,
  type MetricId,
} from './cloudwatch-reader.js';
import type { DashboardMetrics, SeriesMetrics, WidgetMetrics } from './schema.js';
import { type MetricWidget, parseDashboardWidgets, type SeriesDefinition } from './widgets.js';
import type { MetricsWindow } from './window.js';

/** GetMetricData's limit of queries in one request. */
const MAX_QUERIES = 500;
/** Enough pages of ListMetrics (500 metrics each) for a SEARCH over job types; more is cut with a message. */
const MAX_LIST_PAGES = 10;
const MAX_DATA_PAGES = 20;
const DEFAULT_NOTE_PERIOD_SECONDS = 300;

export interface ReadDashboardMetricsOptions {
  readonly start: Date;
  readonly end: Date;
  /** One period for every series, in seconds. @default - each series' own period, as the widget draws it */
  readonly periodSeconds?: number;
}

/**
 * Reads a CloudWatch dashboard's metric widgets and their data: GetDashboard for the widgets, then one
 * GetMetricData per widget with each series' statistic, period and dimensions as the widget has them.
 *
 * A `SEARCH('{Namespace,Dim1,Dim2} MetricName="X"', 'Stat', period)` expression (the form the job
 * system's per-type widgets use) is expanded here, with ListMetrics, into one metric query per matching
 * metric: the same calls on AWS and on the local emulator, which does not evaluate expressions. Any other
 * expression is sent to GetMetricData as it is; where it cannot be evaluated its series says so in
 * `status` and `message` instead of failing the widget.
 *
 * @example
 * const reader = createCloudWatchReader(aws);
 * const end = new Date();
 * const metrics = await readDashboardMetrics(reader, 'jobstack-dashboard', { start: new Date(end.getTime() - 3_600_000), end });
 */
export async function readDashboardMetrics(
  reader: CloudWatchReader,
  dashboardName: string,
  options: ReadDashboardMetricsOptions,
): Promise<DashboardMetrics> {
  const { DashboardBody } = await cloudWatchRead('GetDashboard', () =>
    reader.send(new GetDashboardCommand({ DashboardName: dashboardName })),
  );
  const widgets = parseDashboardWidgets(DashboardBody ?? '');
  return {
    dashboardName,
    start: options.start.toISOString(),
    end: options.end.toISOString(),
    widgets: await Promise.all(widgets.map((widget) => readWidget(reader, widget, options))),
  };
}

/** One planned series: its query and how it is shown. */
interface Planned {
  readonly query: MetricDataQuery;
  readonly label: string;
  readonly stat: string;
  readonly periodSeconds: number;
}

async function readWidget(
  reader: CloudWatchReader,
  widget: MetricWidget,
  options: ReadDashboardMetricsOptions,
): Promise<WidgetMetrics> {
  const planned: Planned[] = [];
  const notes: SeriesMetrics[] = [];
  let next = 0;
  const newId = () => `q_${next++}`;
  for (const definition of widget.series) {
    const search = definition.kind === 'expression' ? parseSearch(definition.expression) : undefined;
    if (definition.kind === 'metric') {
      planned.push(metricQuery(definition, definition.id ?? newId(), options.periodSeconds));
    } else if (search) {
      const matches = await listMatching(reader, search);
      const periodSeconds = options.periodSeconds ?? search.periodSeconds;
      if (matches.metrics.length === 0 || matches.truncated) {
        notes.push(emptySeries(definition.label, search.stat, periodSeconds, matches.truncated));
      }
      for (const metric of matches.metrics) {
        const label = `${definition.label} ${distinguishingValues(metric, matches.metrics)}`.trim();
        planned.push({
          query: { Id: newId(), Label: label, MetricStat: { Metric: metric, Period: periodSeconds, Stat: search.stat } },
          label,
          stat: search.stat,
          periodSeconds,
        });
      }
    } else {
      const periodSeconds = options.periodSeconds ?? definition.periodSeconds;
      planned.push({
        query: {
          Id: definition.id ?? newId(),
          Label: definition.label,
          Expression: definition.expression,
          Period: periodSeconds,
          ReturnData: definition.visible,
        },
        label: definition.label,
        stat: 'expression',
        periodSeconds,
      });
    }
  }

  const kept = planned.slice(0, MAX_QUERIES);
  const results = kept.length === 0 ? new Map<string, MetricDataResult>() : await fetchAll(reader, kept, options);
  const series: SeriesMetrics[] = kept
    .filter(({ query }) => query.ReturnData !== false)
    .map(({ query, label, stat, periodSeconds }) => seriesOf(results.get(query.Id ?? ''), label, stat, periodSeconds));
  if (planned.length > MAX_QUERIES) {
    const [first] = planned.slice(MAX_QUERIES);
    notes.push({
      label: `${planned.length - MAX_QUERIES} more series`,
      stat: first?.stat ?? 'Sum',
      periodSeconds: first?.periodSeconds ?? DEFAULT_NOTE_PERIOD_SECONDS,
      status: 'PartialData',
      message: `the widget has ${planned.length} series; GetMetricData reads at most ${MAX_QUERIES} at once`,
      points: [],
      latest: null,
    });
  }
  return { title: widget.title, series: [...series, ...notes] };
}

function metricQuery(
  definition: Extract<SeriesDefinition, { kind: 'metric' }>,
  id: string,
  override: number | undefined,
): Planned {
  const periodSeconds = override ?? definition.periodSeconds;
  return {
    query: {
      Id: id,
      Label: definition.label,
      ReturnData: definition.visible,
      MetricStat: {
        Metric: {
          Namespace: definition.namespace,
          MetricName: definition.metricName,
          Dimensions: Object.entries(definition.dimensions).map(([Name, Value]) => ({ Name, Value })),
        },
        Period: periodSeconds,
        Stat: definition.stat,
      },
    },
    label: definition.label,
    stat: definition.stat,
    periodSeconds,
  };
}

/** Every page of GetMetricData for the queries, merged by query id. */
async function fetchAll(
  reader: CloudWatchReader,
  planned: readonly Planned[],
  options: ReadDashboardMetricsOptions,
): Promise<Map<string, MetricDataResult>> {
  const merged = new Map<string, MetricDataResult>();
  await cloudWatchRead('GetMetricData', async () => {
    let page = 0;
    const pages = paginateGetMetricData(
      { client: reader },
      {
        MetricDataQueries: planned.map(({ query }) => query),
        StartTime: options.start,
        EndTime: options.end,
        ScanBy: 'TimestampAscending',
      },
    );
    for await (const output of pages) {
      for (const result of output.MetricDataResults ?? []) {
        const id = result.Id ?? '';
        const before = merged.get(id);
        merged.set(
          id,
          before === undefined
            ? result
            : {
                ...result,
                Timestamps: [...(before.Timestamps ?? []), ...(result.Timestamps ?? [])],
                Values: [...(before.Values ?? []), ...(result.Values ?? [])],
                Messages: [...(before.Messages ?? []), ...(result.Messages ?? [])],
              },
        );
      }
      if (++page >= MAX_DATA_PAGES) break;
    }
  });
  return merged;
}

const STATUSES = ['Complete', 'PartialData', 'InternalError', 'Forbidden'] as const;

function seriesOf(result: MetricDataResult | undefined, label: string, stat: string, periodSeconds: number): SeriesMetrics {
  if (result === undefined) {
    return {
      ...emptySeries(label, stat, periodSeconds, false),
      status: 'InternalError',
      message: 'CloudWatch returned no result',
    };
  }
  const values = result.Values ?? [];
  const points = (result.Timestamps ?? [])
    .map((at, index) => ({ seconds: at.getTime() / 1000, value: values[index] }))
    .filter((point): point is { seconds: number; value: number } => Number.isFinite(point.value))
    .sort((a, b) => a.seconds - b.seconds)
    .map(({ seconds, value }) => ({ timestamp: new Date(seconds * 1000).toISOString(), value }));
  const status = STATUSES.find((known) => known === result.StatusCode) ?? 'InternalError';
  const message = (result.Messages ?? [])
    .map((entry) => [entry.Code, entry.Value].filter(Boolean).join(': '))
    .filter(Boolean)
    .join('; ');
  return {
    label,
    stat,
    periodSeconds,
    status,
    ...(message === '' ? (status === 'Complete' ? {} : { message: `status ${result.StatusCode ?? 'missing'}` }) : { message }),
    points,
    latest: points.at(-1)?.value ?? null,
  };
}

function emptySeries(label: string, stat: string, periodSeconds: number, truncated: boolean): SeriesMetrics {
  return {
    label,
    stat,
    periodSeconds,
    status: truncated ? 'PartialData' : 'Complete',
    message: truncated
      ? `more metrics match than ${MAX_LIST_PAGES} pages of ListMetrics; the rest are not shown`
      : 'no metric matches the search yet',
    points: [],
    latest: null,
  };
}

/** A schema SEARCH: the namespace, the exact set of dimension names, one metric name, its statistic and period. */
export interface SchemaSearch {
  readonly namespace: string;
  readonly dimensionNames: readonly string[];
  readonly metricName: string;
  readonly stat: string;
  readonly periodSeconds: number;
}

const SEARCH_PATTERN = /^\s*SEARCH\(\s*'\{([^}]+)\}\s+MetricName="([^"]+)"\s*'\s*,\s*'([^']+)'\s*,\s*(\d+)\s*\)\s*$/;

/** The schema SEARCH an expression is, or undefined for any other expression (sent to CloudWatch as it is). */
export function parseSearch(expression: string): SchemaSearch | undefined {
  const match = SEARCH_PATTERN.exec(expression);
  if (!match) return undefined;
  const [namespace, ...dimensionNames] = (match[1] as string).split(',').map((part) => part.trim().replace(/^"|"$/g, ''));
  if (!namespace || dimensionNames.some((name) => name === '')) return undefined;
  return {
    namespace,
    dimensionNames,
    metricName: match[2] as string,
    stat: match[3] as string,
    periodSeconds: Number(match[4]),
  };
}

/** The metrics a schema search matches: exactly its dimension names (a schema excludes metrics with more). */
async function listMatching(
  reader: CloudWatchReader,
  search: SchemaSearch,
): Promise<{ metrics: MetricId[]; truncated: boolean }> {
  const wanted = [...search.dimensionNames].sort().join('\n');
  const metrics: MetricId[] = [];
  const complete = await cloudWatchRead('ListMetrics', async () => {
    let page = 0;
    const pages = paginateListMetrics(
      { client: reader },
      {
        Namespace: search.namespace,
        MetricName: search.metricName,
        Dimensions: search.dimensionNames.map((Name) => ({ Name })),
      },
    );
    for await (const output of pages) {
      for (const metric of output.Metrics ?? []) {
        const names = (metric.Dimensions ?? []).map((dimension) => dimension.Name).sort();
        if (names.join('\n') === wanted) metrics.push(metric);
      }
      if (output.NextToken === undefined) return true;
      if (++page >= MAX_LIST_PAGES) return false;
    }
    return true;
  });
  return { metrics: sortByDimensions(metrics), truncated: !complete };
}

function sortByDimensions(metrics: MetricId[]): MetricId[] {
  const key = (metric: MetricId) => (metric.Dimensions ?? []).map((d) => `${d.Name}=${d.Value}`).join(',');
  return metrics.sort((a, b) => key(a).localeCompare(key(b)));
}

/** The dimension values that tell this metric apart from the other matches (all of them when it is alone). */
function distinguishingValues(metric: MetricId, all: readonly MetricId[]): string {
  const dimensions = metric.Dimensions ?? [];
  const varying = dimensions.filter(
    (dimension) =>
      all.length === 1 ||
      all.some((other) => other.Dimensions?.find((d) => d.Name === dimension.Name)?.Value !== dimension.Value),
  );
  return varying.map((dimension) => dimension.Value).join(' ');
}

/** Reads the dashboard over the last `sinceMs` (at `periodSeconds`, when given), ending now. */
export type DashboardMetricsSource = (window: MetricsWindow) => Promise<DashboardMetrics>;

/**
 * A {@link DashboardMetricsSource} for one dashboard, whose name is found on first use (and again after a
 * failure): what `jobstack dashboard` and the deployed dashboard API serve at `/api/metrics`.
 *
 * @example
 * const metrics = dashboardMetricsSource(createCloudWatchReader(aws), () => resolveDashboardName(cloudFormation, stackName));
 * const lastHour = await metrics({ sinceMs: 3_600_000 });
 */
export function dashboardMetricsSource(
  reader: CloudWatchReader,
  dashboardName: () => Promise<string>,
  now: () => Date = () => new Date(),
): DashboardMetricsSource {
  let name: Promise<string> | undefined;
  return async (window) => {
    name ??= dashboardName().catch((error: unknown) => {
      name = undefined;
      throw error;
    });
    const end = now();
    return readDashboardMetrics(reader, await name, {
      start: new Date(end.getTime() - window.sinceMs),
      end,
      ...(window.periodSeconds === undefined ? {} : { periodSeconds: window.periodSeconds }),
    });
  };
}
