import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetDashboardCommand, ResourceNotFound } from '@aws-sdk/client-cloudwatch';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createCloudWatchReader,
  DashboardBodyError,
  dashboardMetricsSchema,
  MetricsReadError,
  parseDashboardWidgets,
  parseSearch,
  readDashboardMetrics,
} from '../../shared/dashboard-metrics/index.js';
import { dashboardBody, fakeCloudWatch, graph } from '../helpers/cloudwatch-fake.js';

const QUEUE_DIMS = ['Queue', 'default', 'service', 'jobstack-worker'];
const SEARCH_STARTED = `SEARCH('{Jobstack,service,Queue,JobType} MetricName="JobsStarted"', 'Sum', 300)`;

const BODY = dashboardBody([
  { type: 'alarm', width: 24, height: 4, properties: { title: 'Alarms', alarms: ['arn:aws:cloudwatch:::alarm:a'] } },
  graph('Jobs by outcome (per queue)', [
    ['Jobstack', 'JobsStarted', ...QUEUE_DIMS, { label: 'default JobsStarted', stat: 'Sum' }],
    ['.', 'JobsDead', '.', '.', '.', '.', { label: 'default JobsDead', stat: 'Sum', period: 60 }],
  ]),
  graph('Jobs by outcome and type', [[{ label: 'JobsStarted', expression: SEARCH_STARTED }]]),
  graph('Queue depth', [['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', 'q-1']], { stat: 'Maximum', period: 60 }),
]);

const START = new Date('2026-12-01T05:00:00.000Z');
const END = new Date('2026-12-01T06:00:00.000Z');
const at = (minute: number) => START.getTime() / 1000 + minute * 60;

describe('parseDashboardWidgets', () => {
  it('reads the metric widgets in order with their stat, period and dimensions, and leaves out the alarm widget', () => {
    const widgets = parseDashboardWidgets(BODY);
    expect(widgets.map((w) => w.title)).toEqual(['Jobs by outcome (per queue)', 'Jobs by outcome and type', 'Queue depth']);
    expect(widgets[0]?.series).toEqual([
      {
        kind: 'metric',
        label: 'default JobsStarted',
        namespace: 'Jobstack',
        metricName: 'JobsStarted',
        dimensions: { Queue: 'default', service: 'jobstack-worker' },
        stat: 'Sum',
        periodSeconds: 300,
        visible: true,
      },
      // "." repeats the row above: same namespace and dimensions, its own metric name and period.
      expect.objectContaining({
        metricName: 'JobsDead',
        namespace: 'Jobstack',
        periodSeconds: 60,
        dimensions: { Queue: 'default', service: 'jobstack-worker' },
      }),
    ]);
    expect(widgets[1]?.series).toEqual([
      { kind: 'expression', label: 'JobsStarted', expression: SEARCH_STARTED, periodSeconds: 300, visible: true },
    ]);
    // The widget's own stat and period apply where a row names none; the label defaults to the metric name.
    expect(widgets[2]?.series[0]).toMatchObject({
      label: 'ApproximateNumberOfMessagesVisible',
      stat: 'Maximum',
      periodSeconds: 60,
    });
  });

  it.each([
    ['not JSON', '{', /the dashboard body is not JSON/],
    ['no widgets', '{}', /no "widgets" list/],
    [
      'an odd dimension list',
      dashboardBody([graph('W', [['Ns', 'M', 'OnlyName']])]),
      /widget 'W', metric 1: expected \[namespace, metricName/,
    ],
    ['the "..." shorthand', dashboardBody([graph('W', [['...', 'x']])]), /"\.\.\." shorthand is not supported/],
    ['a row that is not a list', dashboardBody([graph('W', ['Ns'] as unknown as unknown[][])]), /metric 1 is not a list/],
  ])('fails on %s', (_, body, message) => {
    expect(() => parseDashboardWidgets(body)).toThrow(DashboardBodyError);
    expect(() => parseDashboardWidgets(body)).toThrow(message);
  });
});

describe('parseSearch', () => {
  it('reads a schema search: namespace, dimension names, metric name, stat and period', () => {
    expect(parseSearch(SEARCH_STARTED)).toEqual({
      namespace: 'Jobstack',
      dimensionNames: ['service', 'Queue', 'JobType'],
      metricName: 'JobsStarted',
      stat: 'Sum',
      periodSeconds: 300,
    });
    expect(parseSearch(`SEARCH('{Jobstack,service} MetricName="JobDuration"', 'p99', 60)`)).toMatchObject({
      stat: 'p99',
      periodSeconds: 60,
    });
  });

  it.each(['m1 + m2', `SEARCH('Jobstack JobsStarted', 'Sum', 300)`, `SEARCH('{Jobstack,service} MetricName="X"', 'Sum')`])(
    'leaves any other expression to CloudWatch: %s',
    (expression) => {
      expect(parseSearch(expression)).toBeUndefined();
    },
  );
});

describe('readDashboardMetrics', () => {
  const typeMetric = (type: string, extra: { Name: string; Value: string }[] = []) => ({
    Namespace: 'Jobstack',
    MetricName: 'JobsStarted',
    Dimensions: [
      { Name: 'service', Value: 'jobstack-worker' },
      { Name: 'Queue', Value: 'default' },
      { Name: 'JobType', Value: type },
      ...extra,
    ],
  });

  it('asks GetMetricData for each series with the widget’s stat, period and dimensions, one request per widget', async () => {
    const cloudWatch = fakeCloudWatch({ body: BODY });
    await readDashboardMetrics(cloudWatch.client, 'dash', { start: START, end: END });
    expect(cloudWatch.getDashboard).toHaveBeenCalledWith({ DashboardName: 'dash' });
    expect(cloudWatch.getMetricData).toHaveBeenCalledTimes(2); // the SEARCH widget matched no metric: no request
    expect(cloudWatch.getMetricData).toHaveBeenCalledWith({
      MetricDataQueries: [
        {
          Id: 'q_0',
          Label: 'default JobsStarted',
          ReturnData: true,
          MetricStat: {
            Metric: {
              Namespace: 'Jobstack',
              MetricName: 'JobsStarted',
              Dimensions: [
                { Name: 'Queue', Value: 'default' },
                { Name: 'service', Value: 'jobstack-worker' },
              ],
            },
            Period: 300,
            Stat: 'Sum',
          },
        },
        expect.objectContaining({ Id: 'q_1', MetricStat: expect.objectContaining({ Period: 60, Stat: 'Sum' }) }),
      ],
      StartTime: START,
      EndTime: END,
      ScanBy: 'TimestampAscending',
    });
    expect(cloudWatch.getMetricData).toHaveBeenCalledWith(
      expect.objectContaining({
        MetricDataQueries: [
          expect.objectContaining({
            MetricStat: {
              Metric: {
                Namespace: 'AWS/SQS',
                MetricName: 'ApproximateNumberOfMessagesVisible',
                Dimensions: [{ Name: 'QueueName', Value: 'q-1' }],
              },
              Period: 60,
              Stat: 'Maximum',
            },
          }),
        ],
      }),
    );
  });

  it('answers each series’ points oldest first with its latest value, in the documented shape', async () => {
    const cloudWatch = fakeCloudWatch({
      body: BODY,
      points: {
        'default JobsStarted': [
          [at(0), 3],
          [at(5), 7],
        ],
      },
    });
    const metrics = await readDashboardMetrics(cloudWatch.client, 'dash', { start: START, end: END });
    expect(dashboardMetricsSchema.parse(metrics)).toEqual(metrics);
    expect(metrics.widgets[0]?.series[0]).toEqual({
      label: 'default JobsStarted',
      stat: 'Sum',
      periodSeconds: 300,
      status: 'Complete',
      points: [
        { timestamp: '2026-12-01T05:00:00.000Z', value: 3 },
        { timestamp: '2026-12-01T05:05:00.000Z', value: 7 },
      ],
      latest: 7,
    });
    expect(metrics.widgets[0]?.series[1]).toMatchObject({ points: [], latest: null });
  });

  it('gives every series one --period when asked', async () => {
    const cloudWatch = fakeCloudWatch({ body: BODY });
    await readDashboardMetrics(cloudWatch.client, 'dash', { start: START, end: END, periodSeconds: 120 });
    const periods = cloudWatch.getMetricData.mock.calls.flatMap(([input]) =>
      (input.MetricDataQueries ?? []).map((q) => q.MetricStat?.Period),
    );
    expect(periods).toEqual([120, 120, 120]);
  });

  it('expands a schema SEARCH with ListMetrics into one series per metric with exactly its dimensions', async () => {
    const cloudWatch = fakeCloudWatch({
      body: BODY,
      metrics: [typeMetric('send-email'), typeMetric('resize'), typeMetric('extra', [{ Name: 'Other', Value: 'x' }])],
      points: { 'JobsStarted send-email': [[at(10), 4]] },
    });
    const metrics = await readDashboardMetrics(cloudWatch.client, 'dash', { start: START, end: END });
    expect(cloudWatch.listMetrics).toHaveBeenCalledWith({
      Namespace: 'Jobstack',
      MetricName: 'JobsStarted',
      Dimensions: [{ Name: 'service' }, { Name: 'Queue' }, { Name: 'JobType' }],
    });
    // Sorted by dimensions; labelled by the values that tell them apart; the metric with one more dimension is not in the schema.
    expect(metrics.widgets[1]?.series.map((s) => [s.label, s.stat, s.periodSeconds, s.latest])).toEqual([
      ['JobsStarted resize', 'Sum', 300, null],
      ['JobsStarted send-email', 'Sum', 300, 4],
    ]);
  });

  it('says when a SEARCH matches no metric yet, instead of drawing nothing', async () => {
    const metrics = await readDashboardMetrics(fakeCloudWatch({ body: BODY }).client, 'dash', { start: START, end: END });
    expect(metrics.widgets[1]?.series).toEqual([
      {
        label: 'JobsStarted',
        stat: 'Sum',
        periodSeconds: 300,
        status: 'Complete',
        message: 'no metric matches the search yet',
        points: [],
        latest: null,
      },
    ]);
  });

  it('sends other metric math to CloudWatch and shows its status and message when it cannot be evaluated', async () => {
    const body = dashboardBody([
      graph('Error rate', [
        ['AWS/Lambda', 'Errors', 'FunctionName', 'f', { id: 'errors', visible: false, stat: 'Sum' }],
        ['AWS/Lambda', 'Invocations', 'FunctionName', 'f', { id: 'calls', visible: false, stat: 'Sum' }],
        [{ expression: '100 * errors / calls', label: 'error %', id: 'rate' }],
      ]),
    ]);
    const cloudWatch = fakeCloudWatch({
      body,
      results: (query) =>
        query.Expression
          ? { StatusCode: 'InternalError', Messages: [{ Code: 'Unsupported', Value: 'Expressions not implemented' }] }
          : undefined,
    });
    const metrics = await readDashboardMetrics(cloudWatch.client, 'dash', { start: START, end: END });
    const [input] = cloudWatch.getMetricData.mock.calls[0] ?? [];
    expect(input?.MetricDataQueries?.map((q) => [q.Id, q.ReturnData, q.Expression])).toEqual([
      ['errors', false, undefined],
      ['calls', false, undefined],
      ['rate', true, '100 * errors / calls'],
    ]);
    expect(metrics.widgets[0]?.series).toEqual([
      {
        label: 'error %',
        stat: 'expression',
        periodSeconds: 300,
        status: 'InternalError',
        message: 'Unsupported: Expressions not implemented',
        points: [],
        latest: null,
      },
    ]);
  });

  it('follows NextToken and merges the pages of a series', async () => {
    const body = dashboardBody([graph('W', [['Ns', 'M', { label: 'm' }]])]);
    const cloudWatch = fakeCloudWatch({ body });
    cloudWatch.getMetricData
      .mockResolvedValueOnce({
        MetricDataResults: [{ Id: 'q_0', StatusCode: 'PartialData', Timestamps: [new Date(at(1) * 1000)], Values: [1] }],
        NextToken: 'page-2',
      })
      .mockResolvedValueOnce({
        MetricDataResults: [{ Id: 'q_0', StatusCode: 'Complete', Timestamps: [new Date(at(0) * 1000)], Values: [2] }],
      });
    const metrics = await readDashboardMetrics(cloudWatch.client, 'dash', { start: START, end: END });
    expect(cloudWatch.getMetricData).toHaveBeenLastCalledWith(expect.objectContaining({ NextToken: 'page-2' }));
    expect(metrics.widgets[0]?.series[0]).toMatchObject({ status: 'Complete', latest: 1, points: [{ value: 2 }, { value: 1 }] });
  });
});

describe('createCloudWatchReader', () => {
  let close: (() => void) | undefined;
  afterEach(() => close?.());

  it('is the AWS SDK’s CloudWatch client at the connection’s endpoint, signed for monitoring in its region', async () => {
    const requests: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        requests.push({ headers: request.headers, body });
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        response.end(JSON.stringify({ DashboardBody: dashboardBody([]) }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    close = () => server.close();
    const reader = createCloudWatchReader({
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' },
    });
    const metrics = await readDashboardMetrics(reader, 'dash', { start: START, end: END });
    expect(metrics.widgets).toEqual([]);
    const [request] = requests;
    expect(request?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKID\/\d{8}\/eu-west-1\/monitoring\/aws4_request, /,
    );
    expect(request?.headers['x-amz-target']).toBe('GraniteServiceVersion20100801.GetDashboard');
    expect(JSON.parse(request?.body ?? '')).toEqual({ DashboardName: 'dash' });
  });

  it('turns a CloudWatch error into MetricsReadError with its code', async () => {
    const cloudWatch = fakeCloudWatch({ body: BODY });
    cloudWatch.mock
      .on(GetDashboardCommand)
      .rejects(new ResourceNotFound({ message: 'Dashboard nope does not exist', $metadata: {} }));
    const failure = readDashboardMetrics(cloudWatch.client, 'nope', { start: START, end: END });
    await expect(failure).rejects.toThrow(MetricsReadError);
    await expect(failure).rejects.toMatchObject({
      code: 'ResourceNotFound',
      message: 'CloudWatch GetDashboard: ResourceNotFound: Dashboard nope does not exist',
    });
  });

  it('turns an unreachable endpoint into MetricsReadError naming the operation', async () => {
    const reader = createCloudWatchReader({
      endpoint: 'http://127.0.0.1:1',
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    await expect(readDashboardMetrics(reader, 'd', { start: START, end: END })).rejects.toThrow(
      /^CloudWatch GetDashboard failed: /,
    );
  });
});

describe('readDashboardMetrics: limits', () => {
  it('reads the first 500 series of a widget and says how many more it has', async () => {
    const metrics = Array.from({ length: 502 }, (_, i) => ({
      Namespace: 'Ns',
      MetricName: 'M',
      Dimensions: [{ Name: 'K', Value: `v${String(i).padStart(3, '0')}` }],
    }));
    const cloudWatch = fakeCloudWatch({
      body: dashboardBody([graph('Many', [[{ label: 'M', expression: `SEARCH('{Ns,K} MetricName="M"', 'Sum', 60)` }]])]),
      metrics,
    });
    const read = await readDashboardMetrics(cloudWatch.client, 'dash', { start: START, end: END });
    expect(cloudWatch.getMetricData.mock.calls[0]?.[0].MetricDataQueries).toHaveLength(500);
    const series = read.widgets[0]?.series ?? [];
    expect(series).toHaveLength(501);
    expect(series.at(-1)).toEqual({
      label: '2 more series',
      stat: 'Sum',
      periodSeconds: 60,
      status: 'PartialData',
      message: 'the widget has 502 series; GetMetricData reads at most 500 at once',
      points: [],
      latest: null,
    });
  });
});

describe('readDashboardMetrics: ListMetrics pages', () => {
  const search = dashboardBody([graph('Typed', [[{ label: 'M', expression: `SEARCH('{Ns,K} MetricName="M"', 'Sum', 60)` }]])]);
  const metric = (value: string) => ({ Namespace: 'Ns', MetricName: 'M', Dimensions: [{ Name: 'K', Value: value }] });

  it('follows NextToken through every page of matches', async () => {
    const cloudWatch = fakeCloudWatch({ body: search });
    cloudWatch.listMetrics
      .mockResolvedValueOnce({ Metrics: [metric('b')], NextToken: 'next' })
      .mockResolvedValueOnce({ Metrics: [metric('a')] });
    const read = await readDashboardMetrics(cloudWatch.client, 'dash', { start: START, end: END });
    expect(cloudWatch.listMetrics).toHaveBeenLastCalledWith(expect.objectContaining({ NextToken: 'next' }));
    expect(read.widgets[0]?.series.map((s) => s.label)).toEqual(['M a', 'M b']);
  });

  it('stops after 10 pages and says the rest are not shown', async () => {
    const cloudWatch = fakeCloudWatch({ body: search });
    let page = 0;
    cloudWatch.listMetrics.mockImplementation(async () => ({ Metrics: [metric(`v${page++}`)], NextToken: 'more' }));
    const read = await readDashboardMetrics(cloudWatch.client, 'dash', { start: START, end: END });
    expect(cloudWatch.listMetrics).toHaveBeenCalledTimes(10);
    const series = read.widgets[0]?.series ?? [];
    expect(series).toHaveLength(11);
    expect(series.at(-1)).toMatchObject({
      status: 'PartialData',
      message: 'more metrics match than 10 pages of ListMetrics; the rest are not shown',
    });
  });
});
