import { describe, expect, it } from 'vitest';
import { formatMetrics, parseMetricsArgs, runMetrics, sparkline } from '../../cli/commands/metrics.js';
import { UsageError } from '../../cli/errors.js';
import { dashboardMetricsSource } from '../../shared/dashboard-metrics/index.js';
import { parseCliJson } from '../helpers/cli-json.js';
import { dashboardBody, fakeCloudWatch, graph } from '../helpers/cloudwatch-fake.js';

const NOW = new Date('2026-12-01T06:00:00.000Z');
const minutesAgo = (minutes: number) => NOW.getTime() / 1000 - minutes * 60;

const BODY = dashboardBody([
  graph('Jobs by outcome (per queue)', [
    [
      'Jobstack',
      'JobsSucceeded',
      'Queue',
      'default',
      'service',
      'jobstack-worker',
      { label: 'default JobsSucceeded', stat: 'Sum' },
    ],
    ['Jobstack', 'JobsDead', 'Queue', 'default', 'service', 'jobstack-worker', { label: 'default JobsDead', stat: 'Sum' }],
  ]),
  graph("Queue 'default': depth", [
    ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', 'q', { label: 'visible', stat: 'Maximum', period: 60 }],
  ]),
]);

describe('jobstack metrics: arguments', () => {
  it('reads the last hour at the widgets’ own periods by default', () => {
    expect(parseMetricsArgs([])).toEqual({ flags: {}, sinceMs: 3_600_000 });
  });

  it('takes --since, --period (a duration, or bare seconds) and the connection flags', () => {
    expect(parseMetricsArgs(['--since', '6h', '--period', '5m', '--json', '--local'])).toEqual({
      flags: { json: true, local: true },
      sinceMs: 21_600_000,
      periodSeconds: 300,
    });
    expect(parseMetricsArgs(['--period', '60']).periodSeconds).toBe(60);
    expect(parseMetricsArgs(['--period', '10s']).periodSeconds).toBe(10);
  });

  it.each([
    [['--since', 'yesterday'], "--since must be a duration like 30m, 1h or 2d (given 'yesterday')"],
    [['--since', '30s'], "--since must be 1m..15d (given '30s')"],
    [['--since', '16d'], "--since must be 1m..15d (given '16d')"],
    [['--period', '0'], "--period must be a duration like 30m, 1h or 2d (given '0')"],
    [['--period', '90s'], "--period must be 1s, 5s, 10s, 30s or a whole number of minutes (given '90s')"],
    [
      ['--since', '2d', '--period', '1m'],
      '--since 2d at --period 1m is 2880 points per series; at most 1440: use a longer --period',
    ],
    [['extra'], "usage: jobstack metrics [--since 1h] [--period 5m] [--json] (given 'extra')"],
  ])('fails for %j with one clear line', (argv, message) => {
    expect(() => parseMetricsArgs(argv)).toThrow(UsageError);
    expect(() => parseMetricsArgs(argv)).toThrow(message);
  });

  it('fails on an unknown flag', () => {
    expect(() => parseMetricsArgs(['--window', '1h'])).toThrow(/Unknown option '--window'/);
  });
});

describe('jobstack metrics: output', () => {
  async function run(argv: string[]) {
    const cloudWatch = fakeCloudWatch({
      body: BODY,
      points: {
        'default JobsSucceeded': [
          [minutesAgo(60), 2],
          [minutesAgo(30), 8],
          [minutesAgo(5), 4],
        ],
        visible: [[minutesAgo(1), 12]],
      },
    });
    let out = '';
    const metrics = await runMetrics(parseMetricsArgs(argv), {
      metrics: dashboardMetricsSource(
        cloudWatch.client,
        async () => 'jobstack-dashboard',
        () => NOW,
      ),
      write: (text) => {
        out += text;
      },
    });
    return { cloudWatch, metrics, out };
  }

  it('--json prints the documented shape: widgets, series, points and the latest value', async () => {
    const { out, cloudWatch } = await run(['--json', '--since', '1h']);
    const parsed = parseCliJson('metrics', out);
    expect(parsed.dashboardName).toBe('jobstack-dashboard');
    expect(parsed.start).toBe('2026-12-01T05:00:00.000Z');
    expect(parsed.end).toBe('2026-12-01T06:00:00.000Z');
    expect(parsed.widgets.map((w) => [w.title, w.series.map((s) => [s.label, s.latest])])).toEqual([
      [
        'Jobs by outcome (per queue)',
        [
          ['default JobsSucceeded', 4],
          ['default JobsDead', null],
        ],
      ],
      ["Queue 'default': depth", [['visible', 12]]],
    ]);
    expect(cloudWatch.getDashboard).toHaveBeenCalledWith({ DashboardName: 'jobstack-dashboard' });
    expect(cloudWatch.getMetricData).toHaveBeenCalledWith(
      expect.objectContaining({ StartTime: new Date('2026-12-01T05:00:00.000Z'), EndTime: NOW }),
    );
  });

  it('prints per widget its title and per series a sparkline, the latest value and stat/period', async () => {
    const { out } = await run([]);
    expect(out).toContain('dashboard jobstack-dashboard: 2026-12-01T05:00:00.000Z .. 2026-12-01T06:00:00.000Z (last 1h)');
    expect(out).toMatch(/^Jobs by outcome \(per queue\)\n {2}default JobsSucceeded {2}▃·····█····▅ +4 {2}Sum\/5m$/m);
    expect(out).toMatch(/^ {2}default JobsDead {7}·{12} +- {2}Sum\/5m$/m);
    expect(out).toMatch(/^Queue 'default': depth\n {2}visible {2}·{59}█ +12 {2}Maximum\/1m$/m);
  });

  it('--period reads every series at that period', async () => {
    const { cloudWatch } = await run(['--period', '10m']);
    const periods = cloudWatch.getMetricData.mock.calls.flatMap(([input]) =>
      (input.MetricDataQueries ?? []).map((q) => q.MetricStat?.Period),
    );
    expect(periods).toEqual([600, 600, 600]);
  });
});

describe('sparkline', () => {
  const start = Date.parse('2026-12-01T05:00:00.000Z');
  const point = (minute: number, value: number) => ({ timestamp: new Date(start + minute * 60_000).toISOString(), value });

  it('scales from zero to the highest value, one character a period, · where there is no point', () => {
    expect(sparkline({ periodSeconds: 60, points: [point(0, 0), point(1, 4), point(3, 8)] }, start, start + 4 * 60_000)).toBe(
      '▁▅·█',
    );
  });

  it('folds a long window into 60 characters, each the largest value it covers', () => {
    const line = sparkline({ periodSeconds: 60, points: [point(0, 1), point(1, 9)] }, start, start + 1_440 * 60_000);
    expect([...line]).toHaveLength(60);
    expect(line.startsWith('█·')).toBe(true);
  });

  it('draws a flat series of zeros at the bottom and negative values below zero', () => {
    expect(sparkline({ periodSeconds: 60, points: [point(0, 0), point(1, 0)] }, start, start + 2 * 60_000)).toBe('▁▁');
    expect(sparkline({ periodSeconds: 60, points: [point(0, -2), point(1, 2)] }, start, start + 2 * 60_000)).toBe('▁█');
  });
});

describe('formatMetrics', () => {
  it('says why a series has no data when CloudWatch could not read it', () => {
    const text = formatMetrics({
      dashboardName: 'd',
      start: '2026-12-01T05:00:00.000Z',
      end: '2026-12-01T05:10:00.000Z',
      widgets: [
        {
          title: 'Error rate',
          series: [
            {
              label: 'error %',
              stat: 'expression',
              periodSeconds: 300,
              status: 'InternalError',
              message: 'Unsupported: Expressions not implemented',
              points: [],
              latest: null,
            },
          ],
        },
        { title: 'Empty', series: [] },
      ],
    });
    expect(text).toContain('  error %  ··         -  expression/5m  (Unsupported: Expressions not implemented)');
    expect(text).toContain('Empty\n  (no series)');
  });
});
