/**
 * `jobstack/cdk`: the `JobSystem` construct for your own CDK stack, its props, and the types of what it
 * exposes. Only re-exports; the construct's building blocks stay internal to the package.
 */

export type { EventIntake, EventIntakeOptions, EventIntakeProps, PlannedTrigger } from '../infra/event-intake.js';
export type { FlowQueue, JobFlows, JobFlowsProps } from '../infra/flows.js';
export {
  type JobQueueResources,
  JobSystem,
  type JobSystemBundlingOptions,
  type JobSystemProps,
  type QueueSettings,
} from '../infra/job-system.js';
export type { FunctionBundling } from '../infra/jobstack-function.js';
export type { LifecycleEvents, LifecycleEventsProps } from '../infra/lifecycle-events.js';
export type { LongJobs, LongJobsProps } from '../infra/long-jobs.js';
export type {
  AgeAlarmOptions,
  CountAlarmOptions,
  JobAlarmsOptions,
  JobMonitoring,
  JobMonitoringProps,
  JobSystemMonitoringOptions,
} from '../infra/monitoring.js';
export type { JobScheduling, JobSchedulingProps } from '../infra/scheduling.js';
export type { WebDashboardApi, WebDashboardApiProps, WebDashboardOptions } from '../infra/web-dashboard.js';
// The types its props and properties are made of, shared with `jobstack`.
export type { JobstackConfig, QueueConfig } from '../shared/client/stack-config.js';
export type { LifecycleEventName, LifecycleEventsOption, OptionalLifecycleEvent } from '../shared/events/lifecycle-events.js';
export type { PriorityLevelConfig, PriorityLevels } from '../shared/flow/priorities.js';
export type { JobRegistry } from '../shared/job-definition.js';
