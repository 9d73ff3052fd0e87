/**
 * What the local metrics bridge turns into `PutMetricData` on the emulator, in ONE table: every figure the
 * stack's alarms and CloudWatch dashboard read, with AWS's unit, the statistic its alarms and widgets use, AWS's
 * publishing period, and where the bridge finds it on the emulator — or why it cannot.
 *
 * Local tooling only: nothing here is deployed, and on AWS the services publish these metrics themselves.
 */

/** Where a bridged figure comes from on the emulator. */
export const MetricSource = {
  /** Embedded Metric Format lines in the stack's log groups, published as the lines declare. */
  emfLogLine: 'emf-log-line',
  /** A queue attribute read with GetQueueAttributes each bridge tick (a sample, like AWS's per-minute one). */
  queueAttribute: 'queue-attribute',
  /** Invocations whose log holds an error line, counted once per request id. */
  lambdaErrorLine: 'lambda-error-line',
  /** Executions seen by ListExecutions entering a status, counted once per execution. */
  executionStatus: 'execution-status',
  /** Recorded by the emulator itself; the bridge leaves it alone so it is never counted twice. */
  emulator: 'emulator',
  /** The emulator exposes nothing that counts it: not available locally. */
  unavailable: 'unavailable',
} as const;
export type MetricSource = (typeof MetricSource)[keyof typeof MetricSource];

/** One row of {@link BRIDGED_METRICS}. */
export interface BridgedMetric {
  /** The CloudWatch metric name; `*` for every metric an EMF line declares. */
  readonly metric: string;
  readonly namespace: string;
  /** The CloudWatch unit (`Count`, `Seconds`); for EMF, `from the line`. */
  readonly unit: string;
  /** The statistic the stack's alarms and dashboard read it with. */
  readonly statistic: 'Sum' | 'Maximum' | 'Sum, p50, p99';
  /** How often AWS publishes it, in seconds. */
  readonly periodSeconds: number;
  /** The dimension the value is published under (for EMF: the line's dimension sets). */
  readonly dimension: string;
  readonly source: MetricSource;
  /** What exactly is read: the attribute, the log line, the execution status, or why nothing is. */
  readonly from: string;
}

/** The names the bridge reads a queue's figures from (GetQueueAttributes). */
export const QueueAttribute = {
  visible: 'ApproximateNumberOfMessages',
  notVisible: 'ApproximateNumberOfMessagesNotVisible',
  delayed: 'ApproximateNumberOfMessagesDelayed',
  /**
   * Not a queue attribute on AWS (only a CloudWatch metric). jobstack's emulator launcher
   * (cli/local/ministack-with-patches.py) answers it when asked by name: the age in whole seconds of the oldest
   * message not waiting out a delay, from its send time (SentTimestamp).
   */
  oldestAge: 'ApproximateAgeOfOldestMessage',
} as const;

/** The log line marks of a failed invocation: AWS's Node.js runtime's, and the timeout line. */
export const LAMBDA_ERROR_MARKS = ['\tERROR\tInvoke Error', 'Task timed out after'] as const;

/** Execution statuses (ListExecutions) and the AWS/States metric each one counts. */
export const EXECUTION_STATUS_METRICS = {
  FAILED: 'ExecutionsFailed',
  TIMED_OUT: 'ExecutionsTimedOut',
  SUCCEEDED: 'ExecutionsSucceeded',
  ABORTED: 'ExecutionsAborted',
} as const;

/**
 * Every figure of the stack's alarms and dashboard, and how the bridge produces it locally.
 * Each row has a unit test (test/unit/metrics-bridge-mapping.test.ts).
 */
export const BRIDGED_METRICS: readonly BridgedMetric[] = [
  {
    metric: '*',
    namespace: 'Jobstack',
    unit: 'from the line',
    statistic: 'Sum, p50, p99',
    periodSeconds: 60,
    dimension: "the line's dimension sets (service, Queue[, JobType])",
    source: MetricSource.emfLogLine,
    from: 'JSON log lines with an _aws.CloudWatchMetrics directive, at the line’s _aws.Timestamp',
  },
  {
    metric: 'ApproximateNumberOfMessagesVisible',
    namespace: 'AWS/SQS',
    unit: 'Count',
    statistic: 'Maximum',
    periodSeconds: 60,
    dimension: 'QueueName',
    source: MetricSource.queueAttribute,
    from: QueueAttribute.visible,
  },
  {
    metric: 'ApproximateNumberOfMessagesNotVisible',
    namespace: 'AWS/SQS',
    unit: 'Count',
    statistic: 'Maximum',
    periodSeconds: 60,
    dimension: 'QueueName',
    source: MetricSource.queueAttribute,
    from: QueueAttribute.notVisible,
  },
  {
    metric: 'ApproximateNumberOfMessagesDelayed',
    namespace: 'AWS/SQS',
    unit: 'Count',
    statistic: 'Maximum',
    periodSeconds: 60,
    dimension: 'QueueName',
    source: MetricSource.queueAttribute,
    from: QueueAttribute.delayed,
  },
  {
    metric: 'ApproximateAgeOfOldestMessage',
    namespace: 'AWS/SQS',
    unit: 'Seconds',
    statistic: 'Maximum',
    periodSeconds: 60,
    dimension: 'QueueName',
    source: MetricSource.queueAttribute,
    from: QueueAttribute.oldestAge,
  },
  {
    metric: 'Errors',
    namespace: 'AWS/Lambda',
    unit: 'Count',
    statistic: 'Sum',
    periodSeconds: 60,
    dimension: 'FunctionName',
    source: MetricSource.lambdaErrorLine,
    from: `a line with '${LAMBDA_ERROR_MARKS.join("' or '")}' and the request id, once per request id`,
  },
  {
    metric: 'Throttles',
    namespace: 'AWS/Lambda',
    unit: 'Count',
    statistic: 'Sum',
    periodSeconds: 60,
    dimension: 'FunctionName',
    source: MetricSource.emulator,
    from: 'MiniStack records it itself for every invocation that finds no concurrency slot (event source mappings included)',
  },
  {
    metric: 'ConcurrentExecutions',
    namespace: 'AWS/Lambda',
    unit: 'Count',
    statistic: 'Maximum',
    periodSeconds: 60,
    dimension: 'FunctionName',
    source: MetricSource.unavailable,
    from: 'MiniStack exposes no count of running invocations; the dashboard graph stays empty locally',
  },
  {
    metric: 'ExecutionsStarted',
    namespace: 'AWS/States',
    unit: 'Count',
    statistic: 'Sum',
    periodSeconds: 60,
    dimension: 'StateMachineArn',
    source: MetricSource.executionStatus,
    from: 'every execution ListExecutions shows for the first time, at its startDate',
  },
  ...Object.entries(EXECUTION_STATUS_METRICS).map(
    ([status, metric]): BridgedMetric => ({
      metric,
      namespace: 'AWS/States',
      unit: 'Count',
      statistic: 'Sum',
      periodSeconds: 60,
      dimension: 'StateMachineArn',
      source: MetricSource.executionStatus,
      from:
        status === 'TIMED_OUT'
          ? 'executions in status TIMED_OUT, at their stopDate (MiniStack 1.5.33 never sets it: always 0 locally)'
          : `executions in status ${status}, at their stopDate`,
    }),
  ),
];

/** A metric datum as PutMetricData takes it (JSON protocol; Timestamp in epoch seconds). */
export interface Datum {
  readonly namespace: string;
  readonly MetricName: string;
  readonly Dimensions: readonly { readonly Name: string; readonly Value: string }[];
  readonly Timestamp: number;
  readonly Unit: string;
  readonly Value?: number;
  readonly Values?: readonly number[];
  readonly StorageResolution?: number;
}

/** The row of {@link BRIDGED_METRICS} for a metric, or throws: a figure without a row is never published. */
export function rowOf(namespace: string, metric: string): BridgedMetric {
  const row =
    BRIDGED_METRICS.find((entry) => entry.namespace === namespace && entry.metric === metric) ??
    BRIDGED_METRICS.find((entry) => entry.namespace === namespace && entry.metric === '*');
  if (!row) throw new Error(`metrics bridge: no mapping row for ${namespace} ${metric}`);
  return row;
}

function datumFor(namespace: string, metric: string, dimension: string, value: string, at: number, count: number): Datum {
  const row = rowOf(namespace, metric);
  return {
    namespace,
    MetricName: metric,
    Dimensions: [{ Name: dimension, Value: value }],
    Timestamp: at / 1000,
    Unit: row.unit,
    Value: count,
  };
}

/**
 * The queue rows' data points of one queue sample. An attribute the emulator did not answer gives no point
 * (a missing figure stays missing rather than becoming 0).
 */
export function queueData(queueName: string, attributes: Record<string, string | undefined>, atMs: number): Datum[] {
  const data: Datum[] = [];
  for (const row of BRIDGED_METRICS) {
    if (row.source !== MetricSource.queueAttribute) continue;
    const raw = attributes[row.from];
    if (raw === undefined) continue;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0) continue;
    data.push(datumFor(row.namespace, row.metric, row.dimension, queueName, atMs, value));
  }
  return data;
}

/** A log event as FilterLogEvents returns it. */
export interface LogEvent {
  readonly logStreamName: string;
  readonly timestamp: number;
  readonly message: string;
}

const EMF_UNITS = new Set([
  'Seconds',
  'Microseconds',
  'Milliseconds',
  'Bytes',
  'Kilobytes',
  'Megabytes',
  'Gigabytes',
  'Terabytes',
  'Bits',
  'Kilobits',
  'Megabits',
  'Gigabits',
  'Terabits',
  'Percent',
  'Count',
  'Bytes/Second',
  'Kilobytes/Second',
  'Megabytes/Second',
  'Gigabytes/Second',
  'Terabytes/Second',
  'Bits/Second',
  'Kilobits/Second',
  'Megabits/Second',
  'Gigabits/Second',
  'Terabits/Second',
  'Count/Second',
  'None',
]);

/**
 * The data points of one EMF log line, as CloudWatch extracts them
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
 * per directive, per dimension set, every metric it names, with the values of the line's members of the same
 * names (a number, or an array of numbers). A line that is not EMF, or a directive member that does not follow the
 * specification (a dimension without a string value, a value that is not a number), gives no point: CloudWatch
 * rejects those too. Only namespaces with a row in {@link BRIDGED_METRICS} are bridged.
 */
export function emfData(message: string): Datum[] {
  const start = message.indexOf('{"_aws"');
  if (start < 0) return [];
  let line: unknown;
  try {
    line = JSON.parse(message.slice(start));
  } catch {
    return [];
  }
  if (typeof line !== 'object' || line === null) return [];
  const members = line as Record<string, unknown>;
  const aws = members._aws as { Timestamp?: unknown; CloudWatchMetrics?: unknown } | undefined;
  if (!aws || typeof aws.Timestamp !== 'number' || !Array.isArray(aws.CloudWatchMetrics)) return [];
  const data: Datum[] = [];
  for (const directive of aws.CloudWatchMetrics as { Namespace?: unknown; Dimensions?: unknown; Metrics?: unknown }[]) {
    if (typeof directive?.Namespace !== 'string' || !Array.isArray(directive.Metrics)) continue;
    if (!BRIDGED_METRICS.some((row) => row.namespace === directive.Namespace && row.source === MetricSource.emfLogLine)) continue;
    const sets = Array.isArray(directive.Dimensions) ? (directive.Dimensions as unknown[]) : [[]];
    for (const set of sets) {
      if (!Array.isArray(set)) continue;
      const dimensions = set.map((name) => ({ Name: String(name), Value: members[String(name)] }));
      if (!dimensions.every((d): d is { Name: string; Value: string } => typeof d.Value === 'string')) continue;
      for (const metric of directive.Metrics as { Name?: unknown; Unit?: unknown; StorageResolution?: unknown }[]) {
        if (typeof metric?.Name !== 'string') continue;
        const raw = members[metric.Name];
        const values = (Array.isArray(raw) ? raw : [raw]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
        if (values.length === 0) continue;
        const unit = typeof metric.Unit === 'string' && EMF_UNITS.has(metric.Unit) ? metric.Unit : 'None';
        data.push({
          namespace: directive.Namespace,
          MetricName: metric.Name,
          Dimensions: dimensions,
          Timestamp: aws.Timestamp / 1000,
          Unit: unit,
          Values: values,
          ...(metric.StorageResolution === 1 ? { StorageResolution: 1 } : {}),
        });
      }
    }
  }
  return data;
}

/** The request id of a failed invocation's error line (see {@link LAMBDA_ERROR_MARKS}), else undefined. */
export function failedRequestId(message: string): string | undefined {
  if (!LAMBDA_ERROR_MARKS.some((mark) => message.includes(mark))) return undefined;
  // `<time>\t<request id>\tERROR\tInvoke Error ...` and `<time> <request id> Task timed out after ...`
  const match = /^\S+[\t ]([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})[\t ]/i.exec(message);
  return match?.[1];
}

/** The AWS/Lambda Errors point of failed invocations of one function. */
export function lambdaErrorData(functionName: string, failures: number, atMs: number): Datum {
  return datumFor('AWS/Lambda', 'Errors', 'FunctionName', functionName, atMs, failures);
}

/** An execution as ListExecutions returns it. */
export interface ExecutionSummary {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly status: string;
  readonly startDate: Date;
  readonly stopDate?: Date | undefined;
}

/**
 * The AWS/States points of what changed in an execution since the bridge last saw it: started (first seen), and
 * its terminal status (first seen terminal). `seen` holds what was already counted and is updated.
 */
export function executionData(execution: ExecutionSummary, seen: Map<string, 'started' | 'stopped'>, sinceMs: number): Datum[] {
  const data: Datum[] = [];
  const before = seen.get(execution.executionArn);
  const dimension = rowOf('AWS/States', 'ExecutionsStarted').dimension;
  if (before === undefined) {
    const started = execution.startDate.getTime();
    if (started >= sinceMs)
      data.push(datumFor('AWS/States', 'ExecutionsStarted', dimension, execution.stateMachineArn, started, 1));
    seen.set(execution.executionArn, 'started');
  }
  const metric = EXECUTION_STATUS_METRICS[execution.status as keyof typeof EXECUTION_STATUS_METRICS];
  if (metric !== undefined && seen.get(execution.executionArn) !== 'stopped') {
    const stopped = (execution.stopDate ?? new Date()).getTime();
    if (stopped >= sinceMs) data.push(datumFor('AWS/States', metric, dimension, execution.stateMachineArn, stopped, 1));
    seen.set(execution.executionArn, 'stopped');
  }
  return data;
}
