/**
 * The custom CloudWatch metrics the worker publishes (Embedded Metric Format,
 * written by functions/worker/metrics.ts) and the alarms and dashboard read. Both sides import
 * these names, so a rename cannot silently leave an alarm watching nothing.
 */

/** CloudWatch namespace of every jobstack metric. */
export const METRICS_NAMESPACE = 'Jobstack';

/**
 * Powertools adds the service name as a `service` dimension to every metric;
 * alarms must name it to match the published series.
 */
export const WORKER_SERVICE_NAME = 'jobstack-worker';

/** Metric names: counts per job outcome, and the run time of a succeeded attempt. */
export const JobMetric = {
  started: 'JobsStarted',
  succeeded: 'JobsSucceeded',
  retried: 'JobsRetried',
  dead: 'JobsDead',
  cancelled: 'JobsCancelled',
  /** Milliseconds from the start of the attempt that succeeded to its success. */
  duration: 'JobDuration',
} as const;

export type JobMetric = (typeof JobMetric)[keyof typeof JobMetric];

/**
 * Dimension names. Every metric is published twice: per queue (`service`,
 * `Queue`), which alarms can watch without knowing the job types, and per job
 * type (`service`, `Queue`, `JobType`), which the dashboard graphs.
 */
export const MetricDimension = {
  service: 'service',
  queue: 'Queue',
  jobType: 'JobType',
} as const;
