import { vi } from 'vitest';
import type { CloudWatchReader, MetricDataQuery, MetricDataResult, MetricId } from '../../shared/dashboard-metrics/index.js';

/** A dashboard body as CDK renders the job system's (metric rows, a SEARCH row, an alarm widget). */
export function dashboardBody(widgets: unknown[]): string {
  return JSON.stringify({ start: '-PT3H', widgets });
}

export function graph(title: string, metrics: unknown[][], extra: Record<string, unknown> = {}) {
  return {
    type: 'metric',
    width: 8,
    height: 6,
    properties: { view: 'timeSeries', title, region: 'us-east-1', metrics, ...extra },
  };
}

/**
 * A mocked CloudWatch: the dashboard `body`, the metrics ListMetrics knows, and per metric query (by its
 * label) the points GetMetricData answers. Every call is recorded on the vi.fn()s.
 */
export function fakeCloudWatch(options: {
  body: string;
  metrics?: MetricId[];
  points?: Record<string, [seconds: number, value: number][]>;
  results?: (query: MetricDataQuery) => Partial<MetricDataResult> | undefined;
}) {
  const reader = {
    getDashboard: vi.fn<CloudWatchReader['getDashboard']>(async () => ({ DashboardBody: options.body })),
    listMetrics: vi.fn<CloudWatchReader['listMetrics']>(async (input) => ({
      Metrics: (options.metrics ?? []).filter(
        (metric) =>
          metric.Namespace === input.Namespace &&
          metric.MetricName === input.MetricName &&
          input.Dimensions.every(({ Name }) => metric.Dimensions?.some((d) => d.Name === Name)),
      ),
    })),
    getMetricData: vi.fn<CloudWatchReader['getMetricData']>(async (input) => ({
      MetricDataResults: input.MetricDataQueries.filter((query) => query.ReturnData !== false).map((query) => {
        const points = options.points?.[query.Label ?? query.Id] ?? [];
        return {
          Id: query.Id,
          Label: query.Label ?? query.Id,
          StatusCode: 'Complete',
          // CloudWatch's default order is newest first: the reader must not rely on the order.
          Timestamps: points.map(([seconds]) => seconds).reverse(),
          Values: points.map(([, value]) => value).reverse(),
          ...options.results?.(query),
        };
      }),
    })),
  } satisfies CloudWatchReader;
  return reader;
}
