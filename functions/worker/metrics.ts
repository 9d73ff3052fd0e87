import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { JobMetric, METRICS_NAMESPACE, MetricDimension, WORKER_SERVICE_NAME } from '../../shared/metrics.js';
import type { JobObserver, ObservedJob } from './job-observer.js';

/** A Powertools metric unit (`MetricUnit.Count`, ...). */
type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

/**
 * A {@link JobObserver} that turns what the worker reports into CloudWatch
 * metrics (Embedded Metric Format: log lines CloudWatch reads, no API calls).
 *
 * Each event is recorded twice:
 * - on `metrics` itself, whose default dimensions name the queue: these values
 *   are flushed once per invocation by the `logMetrics` middleware, and are what
 *   the alarms watch (a `JobsDead` alarm per queue needs no job-type list);
 * - as a single metric with the `JobType` dimension added, published at once,
 *   because one batch may mix job types and an EMF line has one dimension set
 *   for all its values. These feed the dashboard's per-type graphs.
 *
 * `metrics` must have the `Queue` default dimension set (see {@link createWorkerMetrics}).
 *
 * @example
 * const metrics = createWorkerMetrics('default');
 * const processRecord = createRecordProcessor({ ..., observer: new MetricsObserver(metrics) });
 * export const handler = middy(lambdaHandler).use(logMetrics(metrics));
 */
export class MetricsObserver implements JobObserver {
  /**
   * @param options.queueFromJob publish each value at once with the job's own
   * queue as dimension, for functions that serve jobs of several queues (the
   * long-job step function) and so have no queue default dimension.
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

  retried(job: ObservedJob): void {
    this.count(job, JobMetric.retried);
  }

  dead(job: ObservedJob): void {
    this.count(job, JobMetric.dead);
  }

  cancelled(job: ObservedJob): void {
    this.count(job, JobMetric.cancelled);
  }

  private count(job: ObservedJob, name: JobMetric): void {
    this.record(job, name, MetricUnit.Count, 1);
  }

  private record(job: ObservedJob, name: JobMetric, unit: Unit, value: number): void {
    // A metric must never break a job: a bad value (NaN from a broken clock) is dropped, not thrown.
    if (!Number.isFinite(value)) return;
    if (this.options.queueFromJob) {
      const perQueue = this.metrics.singleMetric();
      perQueue.addDimension(MetricDimension.queue, job.queue);
      perQueue.addMetric(name, unit, value);
    } else {
      this.metrics.addMetric(name, unit, value);
    }
    const perType = this.metrics.singleMetric();
    if (this.options.queueFromJob) perType.addDimension(MetricDimension.queue, job.queue);
    perType.addDimension(MetricDimension.jobType, job.jobType);
    perType.addMetric(name, unit, value);
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
