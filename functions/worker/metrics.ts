import { JobMetric, METRICS_NAMESPACE, MetricDimension, WORKER_SERVICE_NAME } from '../../shared/metrics.js';
import type { JobObserver, ObservedJob } from './job-observer.js';

/** The CloudWatch units the job metrics use. */
type Unit = 'Count' | 'Milliseconds';

/** What one invocation recorded for one (queue, job type): per metric, its unit and values. */
type Values = Map<JobMetric, { unit: Unit; values: number[] }>;

/**
 * EMF allows at most 100 values in one metric's array (Powertools flushes at the same bound); more durations than
 * that go out on further lines.
 */
const MAX_VALUES_PER_LINE = 100;

const QUEUE_SET = [MetricDimension.service, MetricDimension.queue];
const JOB_TYPE_SET = [MetricDimension.service, MetricDimension.queue, MetricDimension.jobType];

/** Where the lines go: stdout, one write per invocation (in Lambda, each line of stdout is a log event). */
export type EmfWriter = (text: string) => void;

const writeToStdout: EmfWriter = (text) => {
  process.stdout.write(text);
};

/**
 * A {@link JobObserver} that turns what a function reports into CloudWatch metrics in the Embedded Metric Format
 * (log lines CloudWatch reads, no API calls), written once per invocation, not per event.
 *
 * Every value is published under two dimension sets: (service, Queue), which the alarms watch without knowing the
 * job types, and (service, Queue, JobType), which the dashboard graphs. The lines are written here, one
 * `JSON.stringify` and one stdout write per invocation, rather than through Powertools Metrics instances (one
 * line and one serialization per dimension set): that cost the worker ~200 µs per invocation
 * (bench/worker-overhead.ts, BENCHMARKS.md section 2).
 *
 * One directive may name several dimension sets, and then every set gets the same values (EMF specification,
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html:
 * "Dimensions: A DimensionSet array", each set applying to every metric of the directive, whose values are the
 * line's members of the same names). So:
 * - a queue whose jobs in this invocation were all of one type (the common case) gets ONE line with both sets;
 * - a queue with jobs of several types gets one line per type (set with JobType) and one line of the queue's
 *   sums (set without), since a line has one value per metric name.
 *
 * Counts are summed; durations keep every value so CloudWatch can compute p50/p99. The names, units, namespace and
 * dimensions are those of shared/metrics.ts, which the alarms, the dashboard and the local metrics bridge read.
 *
 * Like Powertools Metrics, it writes nothing when `POWERTOOLS_METRICS_DISABLED` is true, or when it is unset and
 * `POWERTOOLS_DEV` is true (`jobstack dev`).
 *
 * @example
 * const observer = new MetricsObserver();
 * const processRecord = createRecordProcessor({ ..., observer });
 * export const handler = middy(lambdaHandler).use(flushJobMetrics(observer));
 */
export class MetricsObserver implements JobObserver {
  /** Values per queue, then per job type. */
  private readonly pending = new Map<string, Map<string, Values>>();
  private readonly write: EmfWriter | undefined;

  constructor(options: { readonly write?: EmfWriter; readonly env?: NodeJS.ProcessEnv } = {}) {
    this.write = metricsDisabled(options.env ?? process.env) ? undefined : (options.write ?? writeToStdout);
  }

  started(job: ObservedJob): void {
    this.count(job, JobMetric.started);
  }

  succeeded(job: ObservedJob, durationMs: number): void {
    this.count(job, JobMetric.succeeded);
    this.record(job, JobMetric.duration, 'Milliseconds', durationMs);
  }

  retried(job: ObservedJob, _delayMs?: number): void {
    this.count(job, JobMetric.retried);
  }

  dead(job: ObservedJob, _reason?: string): void {
    this.count(job, JobMetric.dead);
  }

  cancelled(job: ObservedJob): void {
    this.count(job, JobMetric.cancelled);
  }

  /** Writes what this invocation recorded (see the class comment for the lines). Call once per invocation. */
  flush(): void {
    if (this.pending.size === 0) return;
    const timestamp = Date.now();
    let text = '';
    for (const [queue, types] of this.pending) {
      const [only] = types;
      if (types.size === 1 && only) {
        text += emfLines(timestamp, [QUEUE_SET, JOB_TYPE_SET], { queue, jobType: only[0] }, only[1]);
        continue;
      }
      for (const [jobType, values] of types) text += emfLines(timestamp, [JOB_TYPE_SET], { queue, jobType }, values);
      text += emfLines(timestamp, [QUEUE_SET], { queue }, sumOf(types.values()));
    }
    this.pending.clear();
    this.write?.(text);
  }

  private count(job: ObservedJob, name: JobMetric): void {
    this.record(job, name, 'Count', 1);
  }

  private record(job: ObservedJob, name: JobMetric, unit: Unit, value: number): void {
    // A metric must never break a job: a bad value (NaN from a broken clock) is dropped, not thrown.
    if (!Number.isFinite(value) || !this.write) return;
    let types = this.pending.get(job.queue);
    if (!types) {
      types = new Map();
      this.pending.set(job.queue, types);
    }
    let values = types.get(job.jobType);
    if (!values) {
      values = new Map();
      types.set(job.jobType, values);
    }
    addValue(values, name, unit, value);
  }
}

function addValue(values: Values, name: JobMetric, unit: Unit, value: number): void {
  const entry = values.get(name);
  if (!entry) values.set(name, { unit, values: [value] });
  else if (unit === 'Count') entry.values[0] = (entry.values[0] ?? 0) + value;
  else entry.values.push(value);
}

/** The queue's sums over its job types: counts added, durations concatenated. */
function sumOf(perType: Iterable<Values>): Values {
  const sum: Values = new Map();
  for (const values of perType) {
    for (const [name, entry] of values) for (const value of entry.values) addValue(sum, name, entry.unit, value);
  }
  return sum;
}

/**
 * The EMF line(s), newline-terminated, of `values` under `dimensionSets`. `_aws` comes first: CloudWatch does not
 * need it, but the local metrics bridge finds a line by its `{"_aws"` opening, as Powertools writes it.
 */
function emfLines(
  timestamp: number,
  dimensionSets: string[][],
  dimensions: { queue: string; jobType?: string },
  values: Values,
): string {
  let text = '';
  for (let page = 0; ; page++) {
    const metrics: { Name: string; Unit: Unit }[] = [];
    const members: Record<string, number | number[]> = {};
    let more = false;
    for (const [name, { unit, values: numbers }] of values) {
      const start = page * MAX_VALUES_PER_LINE;
      if (start >= numbers.length) continue;
      const slice = numbers.length === 1 ? numbers[0] : numbers.slice(start, start + MAX_VALUES_PER_LINE);
      if (slice === undefined) continue;
      if (start + MAX_VALUES_PER_LINE < numbers.length) more = true;
      metrics.push({ Name: name, Unit: unit });
      members[name] = slice;
    }
    if (metrics.length === 0) return text;
    text += `${JSON.stringify({
      _aws: {
        Timestamp: timestamp,
        CloudWatchMetrics: [{ Namespace: METRICS_NAMESPACE, Dimensions: dimensionSets, Metrics: metrics }],
      },
      [MetricDimension.service]: WORKER_SERVICE_NAME,
      [MetricDimension.queue]: dimensions.queue,
      ...(dimensions.jobType === undefined ? {} : { [MetricDimension.jobType]: dimensions.jobType }),
      ...members,
    })}\n`;
    if (!more) return text;
  }
}

/** Powertools Metrics' rule: `POWERTOOLS_METRICS_DISABLED` when set, else `POWERTOOLS_DEV`. */
function metricsDisabled(env: NodeJS.ProcessEnv): boolean {
  const disabled = env.POWERTOOLS_METRICS_DISABLED;
  if (disabled !== undefined) return isTruthy(disabled);
  return isTruthy(env.POWERTOOLS_DEV ?? '');
}

function isTruthy(value: string): boolean {
  return ['1', 'y', 'yes', 't', 'true', 'on'].includes(value.trim().toLowerCase());
}

/** Middy middleware: writes a {@link MetricsObserver}'s lines at the end of every invocation, even a failed one. */
export function flushJobMetrics(observer: MetricsObserver) {
  const flush = async (): Promise<void> => {
    observer.flush();
  };
  return { after: flush, onError: flush };
}
