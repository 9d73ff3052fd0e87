/**
 * `jobstack`: defining job types, the typed client that enqueues and follows
 * them, and the errors and record types both sides share. Import contracts and
 * the client here; the Lambda handler factories live in `jobstack/worker`, the
 * CDK construct in `jobstack/cdk`.
 */

export { defineConfig, type JobstackProjectConfig } from '../cli/project-config.js';
export {
  type AwsClients,
  type AwsConnection,
  LOCAL_ENDPOINT,
  localConnection,
} from '../shared/client/connection.js';
export {
  type BatchCallback,
  type BatchOptions,
  type BatchResult,
  connectJobClient,
  createJobClient,
  type EnqueuedJob,
  type EnqueueManyOptions,
  type EnqueueManyResult,
  type EnqueueOptions,
  type EnqueueRequest,
  type EnvironmentClientOptions,
  type JobClient,
  type JobClientOptions,
  jobClientFromEnvironment,
  type RetryResult,
  type WaitOptions,
} from '../shared/client/job-client.js';
export type { RedriveOptions, RedriveResult } from '../shared/client/redrive.js';
export { configFromOutputs, type JobstackConfig, type QueueConfig } from '../shared/client/stack-config.js';
export {
  type CloudWatchReader,
  createCloudWatchReader,
  DashboardBodyError,
  type DashboardMetrics,
  dashboardMetricsSchema,
  type MetricDataQuery,
  type MetricDataResult,
  type MetricId,
  MetricsReadError,
  type ReadDashboardMetricsOptions,
  readDashboardMetrics,
  type SeriesMetrics,
  type WidgetMetrics,
} from '../shared/dashboard-metrics/index.js';
export type { DurationInput, DurationUnit } from '../shared/duration.js';
export {
  CheckpointNotStorableError,
  CheckpointTooLargeError,
  ConfigurationError,
  EnqueueError,
  IllegalTransitionError,
  InvalidArgumentError,
  InvalidDurationError,
  InvalidEnvelopeError,
  InvalidPayloadError,
  JobCancelledError,
  type JobErrorContext,
  JobErrorName,
  JobNotFoundError,
  JobstackError,
  JobTimeoutError,
  LeanEnqueueRefusedError,
  type LeanUnsupportedFeature,
  LeaseLostError,
  MessageDeferredError,
  NonRetryableError,
  OutcomeNotRecordedError,
  PayloadTooLargeError,
  StepOutcomeUnknownError,
  UnknownJobTypeError,
  WaitTimeoutError,
} from '../shared/errors.js';
export { lifecycleDetailJsonSchemas } from '../shared/events/json-schemas.js';
export {
  LIFECYCLE_EVENT_SOURCE,
  LIFECYCLE_SUMMARY_MAX_BYTES,
  LifecycleDetailType,
  LifecycleErrorSummarySchema,
  type LifecycleEventDetail,
  LifecycleEventDetailSchema,
  type LifecycleEventName,
  type LifecycleEventsOption,
  lifecycleDetailSchemaOf,
  lifecycleEventIdempotencyKey,
  OPTIONAL_LIFECYCLE_EVENTS,
  type OptionalLifecycleEvent,
} from '../shared/events/lifecycle-events.js';
export {
  FlowCancelReason,
  InvalidFlowKeyError,
  InvalidFlowOptionError,
  type KeyedPeriod,
  type KeyedPeriodInput,
} from '../shared/flow/debounce.js';
export { FlowKeyError } from '../shared/flow/errors.js';
export { type FairnessOption, InvalidFairnessKeyError } from '../shared/flow/fairness.js';
export type { FlowState } from '../shared/flow/flow-state.js';
export type { ConcurrencyLimit, ConcurrencyLimitInput, RateLimit, RateLimitInput } from '../shared/flow/limits.js';
export { InvalidPriorityError, type PriorityLevelConfig, type PriorityLevels } from '../shared/flow/priorities.js';
export type { FlowControlSummary } from '../shared/flow/summary.js';
export { MAX_BATCH_MEMBERS, MAX_FLOW_JOBS_PER_ATTEMPT } from '../shared/flows/batch-store.js';
export {
  BatchError,
  ChildJobsFailedError,
  FlowErrorName,
  FlowJobsTooLargeError,
  InvalidFlowJobError,
  TooManyFlowJobsError,
} from '../shared/flows/errors.js';
export type { BatchCounts, BatchInfo, BatchOutcome, BatchStatus, ChildDeadPolicy, ChildJob } from '../shared/flows/types.js';
export { isLeanJobId, LEAN_JOB_ID_PREFIX } from '../shared/ids.js';
export {
  type AnyJobContract,
  type AnyJobDefinition,
  type ContractResult,
  defineJob,
  defineJobContract,
  defineRegistry,
  type FlowJobOptions,
  type FlowJobRequest,
  type HandlerRegistry,
  type InterruptedStep,
  implementJob,
  type JobContext,
  type JobContract,
  type JobContractInput,
  type JobDefinition,
  type JobDefinitionInput,
  type JobHandler,
  type JobRegistry,
  type OnceOptions,
  type PayloadOf,
  type ResultOf,
  type SpawnOptions,
} from '../shared/job-definition.js';
export { defineLongJob, defineLongJobContract, implementLongJob } from '../shared/long-jobs/define-long-job.js';
export { InvalidLongJobError } from '../shared/long-jobs/errors.js';
export type {
  LongJobContract,
  LongJobContractInput,
  LongJobDefinition,
  LongJobDefinitionInput,
  LongJobStep,
  LongJobStepContext,
  LongJobStepResult,
  LongJobWorkflow,
} from '../shared/long-jobs/types.js';
export { InvalidOrderingKeyError } from '../shared/ordering/errors.js';
export type { JobOrdering, OrderingOptions } from '../shared/ordering/ordering.js';
export { EventSourceUpdateError, UnknownQueueError } from '../shared/pause/errors.js';
export type {
  EventSourceState,
  PauseOptions,
  PauseResult,
  QueuePause,
  QueueStatus,
  ResumeResult,
} from '../shared/pause/types.js';
export type { JobErrorInfo, JobHistoryEntry, JobProgress, JobRecord } from '../shared/record.js';
export type { RetryPolicy, RetryPolicyInput } from '../shared/retry.js';
export type { DeclaredSchedule, ScheduleDeclaration } from '../shared/scheduling/declared.js';
export { InvalidScheduleError, ScheduleError } from '../shared/scheduling/errors.js';
export type { RecurrenceInput } from '../shared/scheduling/expressions.js';
export type { ScheduleInfo, SchedulingConfig } from '../shared/scheduling/job-scheduler.js';
export { isTerminal, JobState } from '../shared/states.js';
export type { StepResolution } from '../shared/store/idempotency-store.js';
export type { CancelResult, ListPage, ListQuery } from '../shared/store/types.js';
export {
  ENQUEUE_EVENT_DETAIL_TYPE,
  type EnqueueEventDetail,
  EnqueueEventDetailSchema,
} from '../shared/triggers/enqueue-event.js';
export { InvalidEnqueueEventError, InvalidTriggerError, TriggerMappingError } from '../shared/triggers/errors.js';
export type { JobTrigger, JobTriggerEvent, JobTriggerInput } from '../shared/triggers/trigger.js';
