import { describe, expect, it } from 'vitest';
import { LOG_LOOKBACK_MS, LogGroupCursor } from '../../cli/local/metrics-bridge/log-cursor.js';
import {
  BRIDGED_METRICS,
  type BridgedMetric,
  type Datum,
  EXECUTION_STATUS_METRICS,
  emfData,
  executionData,
  failedRequestId,
  type LogEvent,
  lambdaErrorData,
  MetricSource,
  QueueAttribute,
  queueData,
  rowOf,
} from '../../cli/local/metrics-bridge/mapping.js';

const AT = Date.UTC(2026, 11, 1, 6, 0, 0);
const QUEUE = 'jobstack-JobSystemQueueDefault53D3C720-44152FBD9B47F';
const MACHINE = 'arn:aws:states:us-east-1:000000000000:stateMachine:jobstack-long-jobs';

/** A line exactly as Powertools Metrics writes it for the worker (copied from an emulator log). */
const WORKER_EMF_LINE = JSON.stringify({
  _aws: {
    Timestamp: AT,
    CloudWatchMetrics: [
      {
        Namespace: 'Jobstack',
        Dimensions: [['service', 'Queue']],
        Metrics: [
          { Name: 'JobsStarted', Unit: 'Count' },
          { Name: 'JobsDead', Unit: 'Count' },
          { Name: 'JobDuration', Unit: 'Milliseconds' },
        ],
      },
    ],
  },
  service: 'jobstack-worker',
  Queue: 'default',
  JobsStarted: 2,
  JobsDead: 1,
  JobDuration: [78, 120],
});

function executionAt(status: string, arn = `${MACHINE.replace(':stateMachine:', ':execution:')}:job-1`) {
  return { executionArn: arn, stateMachineArn: MACHINE, status, startDate: new Date(AT), stopDate: new Date(AT + 5_000) };
}

/** One check per row of the mapping table; a row without a check fails the last test. */
const CHECKS: Record<string, (row: BridgedMetric) => void> = {
  'Jobstack *': (row) => {
    const data = emfData(`2026-12-01T06:00:00.000Z\tINFO\t${WORKER_EMF_LINE}`);
    expect(data.map((d) => [d.namespace, d.MetricName, d.Unit, d.Values])).toEqual([
      [row.namespace, 'JobsStarted', 'Count', [2]],
      [row.namespace, 'JobsDead', 'Count', [1]],
      [row.namespace, 'JobDuration', 'Milliseconds', [78, 120]],
    ]);
    for (const datum of data) {
      expect(datum.Timestamp).toBe(AT / 1000);
      expect(datum.Dimensions).toEqual([
        { Name: 'service', Value: 'jobstack-worker' },
        { Name: 'Queue', Value: 'default' },
      ]);
    }
    // Not EMF, broken JSON, a dimension without a value, another namespace: nothing.
    expect(emfData('{"level":"INFO","message":"Job succeeded"}')).toEqual([]);
    expect(emfData('{"_aws":{"Timestamp":')).toEqual([]);
    expect(emfData(WORKER_EMF_LINE.replace('"Queue":"default",', ''))).toEqual([]);
    expect(emfData(WORKER_EMF_LINE.replace('"Namespace":"Jobstack"', '"Namespace":"AWS/Lambda"'))).toEqual([]);
  },
  ...Object.fromEntries(
    Object.entries({
      'AWS/SQS ApproximateNumberOfMessagesVisible': QueueAttribute.visible,
      'AWS/SQS ApproximateNumberOfMessagesNotVisible': QueueAttribute.notVisible,
      'AWS/SQS ApproximateNumberOfMessagesDelayed': QueueAttribute.delayed,
      'AWS/SQS ApproximateAgeOfOldestMessage': QueueAttribute.oldestAge,
    }).map(([key, attribute]) => [
      key,
      (row: BridgedMetric) => {
        const data = queueData(QUEUE, { [attribute]: '7' }, AT);
        expect(data).toEqual([
          {
            namespace: 'AWS/SQS',
            MetricName: row.metric,
            Dimensions: [{ Name: 'QueueName', Value: QUEUE }],
            Timestamp: AT / 1000,
            Unit: row.unit,
            Value: 7,
          },
        ]);
        // A missing or nonsensical attribute is not turned into 0.
        expect(queueData(QUEUE, { [attribute]: 'x' }, AT)).toEqual([]);
        expect(queueData(QUEUE, {}, AT)).toEqual([]);
      },
    ]),
  ),
  'AWS/Lambda Errors': (row) => {
    const id = '5ce4d018-87ef-42b3-9c69-b54272019d8c';
    expect(failedRequestId(`2026-12-01T06:00:00.000Z\t${id}\tERROR\tInvoke Error \tError: boom`)).toBe(id);
    expect(failedRequestId(`2026-12-01T06:00:00.000Z ${id} Task timed out after 3.00 seconds`)).toBe(id);
    expect(failedRequestId(`{"level":"ERROR","message":"Job failed for good","function_request_id":"${id}"}`)).toBeUndefined();
    expect(failedRequestId(`REPORT RequestId: ${id}\tDuration: 1753 ms`)).toBeUndefined();
    expect(lambdaErrorData('worker-fn', 1, AT)).toEqual({
      namespace: row.namespace,
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: 'worker-fn' }],
      Timestamp: AT / 1000,
      Unit: 'Count',
      Value: 1,
    });
  },
  'AWS/Lambda Throttles': (row) => {
    expect(row.source).toBe(MetricSource.emulator);
    expect(everythingTheBridgeProduces().some((d) => d.MetricName === row.metric)).toBe(false);
  },
  'AWS/Lambda ConcurrentExecutions': (row) => {
    expect(row.source).toBe(MetricSource.unavailable);
    expect(everythingTheBridgeProduces().some((d) => d.MetricName === row.metric)).toBe(false);
  },
  'AWS/States ExecutionsStarted': (row) => {
    const seen = new Map<string, 'started' | 'stopped'>();
    expect(executionData(executionAt('RUNNING'), seen, AT).map((d) => [d.MetricName, d.Timestamp, d.Dimensions])).toEqual([
      [row.metric, AT / 1000, [{ Name: 'StateMachineArn', Value: MACHINE }]],
    ]);
    expect(executionData(executionAt('RUNNING'), seen, AT)).toEqual([]);
    // Started before the bridge: not counted now (it was, or would have been, in its own time).
    expect(executionData(executionAt('RUNNING', 'other'), new Map(), AT + 1)).toEqual([]);
  },
  ...Object.fromEntries(
    Object.entries(EXECUTION_STATUS_METRICS).map(([status, metric]) => [
      `AWS/States ${metric}`,
      (row: BridgedMetric) => {
        const seen = new Map<string, 'started' | 'stopped'>();
        executionData(executionAt('RUNNING'), seen, AT);
        const data = executionData(executionAt(status), seen, AT);
        expect(data.map((d) => [d.MetricName, d.Unit, d.Value, d.Timestamp])).toEqual([
          [row.metric, 'Count', 1, (AT + 5_000) / 1000],
        ]);
        expect(executionData(executionAt(status), seen, AT)).toEqual([]);
      },
    ]),
  ),
};

function everythingTheBridgeProduces(): Datum[] {
  const seen = new Map<string, 'started' | 'stopped'>();
  return [
    ...emfData(WORKER_EMF_LINE),
    ...queueData(QUEUE, Object.fromEntries(Object.values(QueueAttribute).map((name) => [name, '1'])), AT),
    lambdaErrorData('worker-fn', 1, AT),
    ...Object.keys(EXECUTION_STATUS_METRICS).flatMap((status) => executionData(executionAt(status, status), seen, AT)),
  ];
}

describe('the metrics bridge mapping table', () => {
  for (const row of BRIDGED_METRICS) {
    it(`${row.namespace} ${row.metric}: ${row.source} (${row.unit}, ${row.statistic}, ${row.periodSeconds} s)`, () => {
      const check = CHECKS[`${row.namespace} ${row.metric}`];
      expect(check, 'every row has a check').toBeDefined();
      check?.(row);
    });
  }

  it('has one row per metric, and none without a check', () => {
    const keys = BRIDGED_METRICS.map((row) => `${row.namespace} ${row.metric}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(Object.keys(CHECKS).sort()).toEqual([...keys].sort());
  });

  it('fails if a figure has no row', () => {
    expect(() => rowOf('AWS/SQS', 'NumberOfMessagesSent')).toThrow(/no mapping row for AWS\/SQS NumberOfMessagesSent/);
  });
});

describe('emfData with several dimension sets in one directive', () => {
  /** The worker's line for an invocation of one job type (functions/worker/metrics.ts). */
  const line = {
    _aws: {
      Timestamp: AT,
      CloudWatchMetrics: [
        {
          Namespace: 'Jobstack',
          Dimensions: [
            ['service', 'Queue'],
            ['service', 'Queue', 'JobType'],
          ],
          Metrics: [
            { Name: 'JobsSucceeded', Unit: 'Count' },
            { Name: 'JobDuration', Unit: 'Milliseconds' },
          ],
        },
      ],
    },
    service: 'jobstack-worker',
    Queue: 'default',
    JobType: 'demo.echo',
    JobsSucceeded: 2,
    JobDuration: [78, 120],
  };
  const names = (datum: Datum) => datum.Dimensions.map((d) => `${d.Name}=${d.Value}`).join(',');

  it('publishes every metric under each set, as CloudWatch extracts it', () => {
    const data = emfData(JSON.stringify(line));
    expect(data.map((d) => [d.MetricName, names(d), d.Unit, d.Values])).toEqual([
      ['JobsSucceeded', 'service=jobstack-worker,Queue=default', 'Count', [2]],
      ['JobDuration', 'service=jobstack-worker,Queue=default', 'Milliseconds', [78, 120]],
      ['JobsSucceeded', 'service=jobstack-worker,Queue=default,JobType=demo.echo', 'Count', [2]],
      ['JobDuration', 'service=jobstack-worker,Queue=default,JobType=demo.echo', 'Milliseconds', [78, 120]],
    ]);
  });

  it('drops only the set whose dimension has no value', () => {
    const { JobType: _dropped, ...withoutType } = line;
    const data = emfData(JSON.stringify(withoutType));
    expect(data.map((d) => [d.MetricName, names(d)])).toEqual([
      ['JobsSucceeded', 'service=jobstack-worker,Queue=default'],
      ['JobDuration', 'service=jobstack-worker,Queue=default'],
    ]);
  });
});

describe('LogGroupCursor', () => {
  const event = (stream: string, timestamp: number, message = 'line'): LogEvent => ({
    logStreamName: stream,
    timestamp,
    message,
  });

  it('hands out each event once across overlapping reads, stream by stream', () => {
    const cursor = new LogGroupCursor(AT);
    const first = [event('a', AT + 10, 'a1'), event('a', AT + 10, 'a2'), event('b', AT + 20, 'b1')];
    expect(cursor.take(first).map((e) => e.message)).toEqual(['a1', 'a2', 'b1']);
    expect(cursor.startTime()).toBe(AT);
    // The next read returns the same events again plus new ones (one more at a's last timestamp, a late stream c).
    const second = [...first.slice(0, 2), event('a', AT + 10, 'a3'), event('c', AT + 15, 'c1'), first[2] as LogEvent];
    expect(cursor.take(second).map((e) => e.message)).toEqual(['a3', 'c1']);
    expect(cursor.take(second)).toEqual([]);
  });

  it('ignores events before its start and forgets streams older than the lookback', () => {
    const cursor = new LogGroupCursor(AT);
    expect(cursor.take([event('old', AT - 1)])).toEqual([]);
    cursor.take([event('a', AT + 1)]);
    cursor.take([event('b', AT + LOG_LOOKBACK_MS + 10)]);
    expect(cursor.startTime()).toBe(AT + 10);
    expect(cursor.streamCount).toBe(1);
  });
});
