/**
 * `jobstack/cdk`: the `JobSystem` construct for your own CDK stack, its props, and the types of what it
 * exposes. Only re-exports; the construct's building blocks stay internal to the package.
 */
export {
  type JobQueueResources,
  JobSystem,
  type JobSystemBundlingOptions,
  type JobSystemProps,
} from '../infra/job-system.js';
export type { LongJobs } from '../infra/long-jobs.js';
export type {
  AgeAlarmOptions,
  CountAlarmOptions,
  JobAlarmsOptions,
  JobMonitoring,
  JobSystemMonitoringOptions,
} from '../infra/monitoring.js';
export type { JobScheduling } from '../infra/scheduling.js';
export type { WebDashboardApi, WebDashboardOptions } from '../infra/web-dashboard.js';
