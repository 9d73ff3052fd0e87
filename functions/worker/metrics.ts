import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { JobMetric, METRICS_NAMESPACE, MetricDimension, WORKER_SERVICE_NAME } from '../../shared/metrics.js';
import type { JobObserver, ObservedJob } from './job-observer.js';

/** A Powertools metric unit (`MetricUnit.Count`, ...). */
type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

/**
 * A {@link JobObserver} that turns what the worker reports into CloudWatch
 * metrics (Embedded Metric Format: log lines CloudWatch reads, no API calls).
 *
 * Each event is recorded twice, and both are written once per invocation, not
 * per event (building an EMF line per event cost more CPU than the job itself):
 * - on `metrics` itself, whose default dimensions name the queue: flushed by
 *   the `logMetrics` middleware; these are what the alarms watch (a `JobsDead`
 *   alarm per queue needs no job-type list);
 * - summed per job type (one batch may mix types, and an EMF line has one
 *   dimension set) and written by {@link flush}: these feed the dashboard's
 *   per-type graphs.
 *
 * `metrics` must have the `Queue` default dimension set (see {@link createWorkerMetrics}),
 * unless `queueFromJob` is set.
 *
 * @example
 * const metrics = createWorkerMetrics('default');
 * const observer = new MetricsObserver(metrics);
 * const processRecord = createRecordProcessor({ ..., observer });
 * const lambdaHandler = async (event, context) => {
 *   try { return await processPartialResponse(event, processRecord, processor, { context }); }
 *   finally { observer.flush(); }
 * };
 * export const handler = middy(lambdaHandler).use(logMetrics(metrics));
 */
export class MetricsObserver implements JobObserver {
  /** Writers of the per-type (and per-queue) lines, by dimension set. */
  private readonly lines = new Map<string, Metrics>();
  /** Values per (queue, job type), then per metric name. */
  private readonly pending = new Map<
    string,
    { queue: string; jobType: string; values: Map<JobMetric, { unit: Unit; values: number[] }> }
  >();

  /**
   * @param options.queueFromJob name each job's own queue as a dimension of every
   * value, for functions that serve jobs of several queues (the long-job step
   * function) and so have no queue default dimension.
   */
  constructor(
    private readonly metrics: Metrics,
    private readonly options: { readonly queueFromJob?: boolean } = {},
  ) {}

  started(job: ObservedJob): void {
    this.count(job, JobMetric.started);
  }

  succeeded(job: ObservedJob, durationMs: number): void {
    this.count(job, JobMetric.succeeded);
    this.record(job, JobMetric.duration, MetricUnit.Milliseconds, durationMs);
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

  /** Writes what this invocation recorded per job type (and per queue, with `queueFromJob`). Call once per invocation. */
  flush(): void {
    for (const group of this.pending.values()) {
      this.writeLine({ [MetricDimension.queue]: group.queue, [MetricDimension.jobType]: group.jobType }, group.values);
      if (this.options.queueFromJob) this.writeLine({ [MetricDimension.queue]: group.queue }, group.values);
    }
    this.pending.clear();
  }

  private count(job: ObservedJob, name: JobMetric): void {
    this.record(job, name, MetricUnit.Count, 1);
  }

  private record(job: ObservedJob, name: JobMetric, unit: Unit, value: number): void {
    // A metric must never break a job: a bad value (NaN from a broken clock) is dropped, not thrown.
    if (!Number.isFinite(value)) return;
    if (!this.options.queueFromJob) this.metrics.addMetric(name, unit, value);
    const key = `${job.queue}\u0000${job.jobType}`;
    let group = this.pending.get(key);
    if (!group) {
      group = { queue: job.queue, jobType: job.jobType, values: new Map() };
      this.pending.set(key, group);
    }
    const entry = group.values.get(name);
    if (!entry) group.values.set(name, { unit, values: [value] });
    // Counts are summed; durations keep every value so CloudWatch can compute p50/p99.
    else if (unit === MetricUnit.Count) entry.values[0] = (entry.values[0] ?? 0) + value;
    else entry.values.push(value);
  }

  private writeLine(dimensions: Record<string, string>, values: Map<JobMetric, { unit: Unit; values: number[] }>): void {
    // One Powertools Metrics per dimension set, kept across invocations: building one reads the environment.
    const key = JSON.stringify(dimensions);
    let line = this.lines.get(key);
    if (!line) {
      line = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: WORKER_SERVICE_NAME, defaultDimensions: dimensions });
      this.lines.set(key, line);
    }
    for (const [name, { unit, values: numbers }] of values) {
      for (const value of numbers) line.addMetric(name, unit, value);
    }
    line.publishStoredMetrics();
  }
}

/**
 * The worker's Powertools `Metrics`: jobstack's namespace and service, and the
 * queue the worker consumes as a default dimension (one worker serves one queue).
 */
export function createWorkerMetrics(queueName: string): Metrics {
  return new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName: WORKER_SERVICE_NAME,
    defaultDimensions: { [MetricDimension.queue]: queueName },
  });
}

/** Middy middleware: writes a {@link MetricsObserver}'s per-type lines at the end of every invocation, even a failed one. */
export function flushJobMetrics(observer: MetricsObserver) {
  const flush = async (): Promise<void> => {
    observer.flush();
  };
  return { after: flush, onError: flush };
}
