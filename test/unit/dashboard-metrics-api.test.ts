import { describe, expect, it, vi } from 'vitest';
import { createDashboardApi, type DashboardJobs } from '../../functions/dashboard-api/api.js';
import { readDashboardName } from '../../functions/dashboard-api/environment.js';
import { type DashboardMetrics, dashboardMetricsSource, MetricsReadError } from '../../shared/dashboard-metrics/index.js';
import { ConfigurationError } from '../../shared/index.js';
import { dashboardBody, fakeCloudWatch, graph } from '../helpers/cloudwatch-fake.js';

const jobs = { config: { stackName: 'jobstack', queues: { default: {} } } } as unknown as DashboardJobs;
const stats = vi.fn();
const get = (query = '') => ({ method: 'GET', path: '/api/metrics', query: new URLSearchParams(query) });

describe('dashboard API: GET /api/metrics', () => {
  it('answers the dashboard’s widgets with data over the last hour by default, read through CloudWatch', async () => {
    const now = new Date('2026-12-01T06:00:00.000Z');
    const cloudWatch = fakeCloudWatch({
      body: dashboardBody([
        graph('Queue depth', [
          ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', 'q', { label: 'visible', stat: 'Maximum' }],
        ]),
      ]),
      points: { visible: [[now.getTime() / 1000 - 600, 7]] },
    });
    const api = createDashboardApi({
      jobs,
      stats,
      metrics: dashboardMetricsSource(
        cloudWatch.client,
        async () => 'dash',
        () => now,
      ),
    });
    const response = await api(get());
    expect(response.status).toBe(200);
    const body = response.body as DashboardMetrics;
    expect(body).toMatchObject({ dashboardName: 'dash', start: '2026-12-01T05:00:00.000Z', end: '2026-12-01T06:00:00.000Z' });
    expect(body.widgets[0]?.series[0]).toMatchObject({ label: 'visible', latest: 7 });
  });

  it('passes since and period on, checked', async () => {
    const metrics = vi.fn(async () => ({ dashboardName: 'd', start: '', end: '', widgets: [] }));
    const api = createDashboardApi({ jobs, stats, metrics });
    expect((await api(get('since=3h&period=5m'))).status).toBe(200);
    expect(metrics).toHaveBeenCalledWith({ sinceMs: 10_800_000, periodSeconds: 300 });
    expect(await api(get('period=7s'))).toEqual({
      status: 400,
      body: {
        error: {
          name: 'InvalidArgumentError',
          message: "period must be 1s, 5s, 10s, 30s or a whole number of minutes (given '7s')",
        },
      },
    });
    expect((await api(get('since=forever'))).status).toBe(400);
    expect(metrics).toHaveBeenCalledTimes(1);
  });

  it('answers 502 with the reason when CloudWatch cannot be read, 404 without a dashboard, 405 for a POST', async () => {
    const failing = createDashboardApi({
      jobs,
      stats,
      metrics: async () => {
        throw new MetricsReadError('CloudWatch GetMetricData: AccessDenied: not authorized', { code: 'AccessDenied' });
      },
    });
    expect(await failing(get())).toEqual({
      status: 502,
      body: { error: { name: 'ApiError', message: 'CloudWatch GetMetricData: AccessDenied: not authorized' } },
    });
    expect((await createDashboardApi({ jobs, stats })(get())).status).toBe(404);
    const oldStack = createDashboardApi({
      jobs,
      stats,
      metrics: dashboardMetricsSource(fakeCloudWatch({ body: '{}' }).client, async () => {
        throw new ConfigurationError("stack 'jobstack' has no output 'DashboardName'");
      }),
    });
    expect(await oldStack(get())).toMatchObject({
      status: 404,
      body: { error: { message: "stack 'jobstack' has no output 'DashboardName'" } },
    });
    expect((await failing({ ...get(), method: 'POST' })).status).toBe(405);
  });
});

describe('dashboard API environment', () => {
  it('reads the dashboard name the construct sets, and none when it is unset or blank', () => {
    expect(readDashboardName({ JOBSTACK_DASHBOARD_NAME: 'jobstack-dash' })).toBe('jobstack-dash');
    expect(readDashboardName({})).toBeUndefined();
    expect(readDashboardName({ JOBSTACK_DASHBOARD_NAME: ' ' })).toBeUndefined();
  });
});
