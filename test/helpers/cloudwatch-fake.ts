import {
  CloudWatchClient,
  GetDashboardCommand,
  type GetDashboardCommandInput,
  type GetDashboardCommandOutput,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  type GetMetricDataCommandOutput,
  ListMetricsCommand,
  type ListMetricsCommandInput,
  type ListMetricsCommandOutput,
  type MetricDataQuery,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { vi } from 'vitest';
import type { MetricId } from '../../shared/dashboard-metrics/index.js';

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

type Output<T> = Omit<T, '$metadata'>;

/**
 * A CloudWatch SDK client mocked with aws-sdk-client-mock: the dashboard `body`, the metrics ListMetrics
 * knows, and per metric query (by its label) the points GetMetricData answers (epoch seconds). Each command's
 * input is recorded on its vi.fn() (`getDashboard`, `listMetrics`, `getMetricData`), which tests may re-stub.
 */
export function fakeCloudWatch(options: {
  body: string;
  metrics?: MetricId[];
  points?: Record<string, [seconds: number, value: number][]>;
  results?: (query: MetricDataQuery) => Partial<MetricDataResult> | undefined;
}) {
  const getDashboard = vi.fn(
    async (_input: GetDashboardCommandInput): Promise<Output<GetDashboardCommandOutput>> => ({ DashboardBody: options.body }),
  );
  const listMetrics = vi.fn(
    async (input: ListMetricsCommandInput): Promise<Output<ListMetricsCommandOutput>> => ({
      Metrics: (options.metrics ?? []).filter(
        (metric) =>
          metric.Namespace === input.Namespace &&
          metric.MetricName === input.MetricName &&
          (input.Dimensions ?? []).every(({ Name }) => metric.Dimensions?.some((d) => d.Name === Name)),
      ),
    }),
  );
  const getMetricData = vi.fn(
    async (input: GetMetricDataCommandInput): Promise<Output<GetMetricDataCommandOutput>> => ({
      MetricDataResults: (input.MetricDataQueries ?? [])
        .filter((query) => query.ReturnData !== false)
        .map((query) => {
          const points = options.points?.[query.Label ?? query.Id ?? ''] ?? [];
          return {
            Id: query.Id,
            Label: query.Label ?? query.Id,
            StatusCode: 'Complete',
            // CloudWatch's default order is newest first: the reader must not rely on the order.
            Timestamps: points.map(([seconds]) => new Date(seconds * 1000)).reverse(),
            Values: points.map(([, value]) => value).reverse(),
            ...options.results?.(query),
          };
        }),
    }),
  );
  const client = new CloudWatchClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const mock = mockClient(client);
  mock.on(GetDashboardCommand).callsFake((input: GetDashboardCommandInput) => getDashboard(input));
  mock.on(ListMetricsCommand).callsFake((input: ListMetricsCommandInput) => listMetrics(input));
  mock.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => getMetricData(input));
  return { client, mock, getDashboard, listMetrics, getMetricData };
}
