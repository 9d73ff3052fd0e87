export {
  type AwsClients,
  type AwsConnection,
  createAwsClients,
  LOCAL_ENDPOINT,
  localConnection,
} from './client/connection.js';
export {
  connectJobClient,
  createJobClient,
  DEFAULT_IDEMPOTENCY_WINDOW,
  type EnqueuedJob,
  type EnqueueManyResult,
  type EnqueueOptions,
  type EnqueueRequest,
  type EnvironmentClientOptions,
  type JobClient,
  type JobClientOptions,
  jobClientFromEnvironment,
  MAX_INLINE_PAYLOAD_BYTES,
  type RetryResult,
  type WaitOptions,
} from './client/job-client.js';
export { type RedriveOptions, type RedriveResult, redriveDeadLetters } from './client/redrive.js';
export { configFromOutputs, type JobstackConfig, parseJobstackConfig, resolveStackConfig } from './client/stack-config.js';
export {
  ATTENTION_INDEX_NAME,
  ClientEnv,
  DEFAULT_QUEUE_NAME,
  DEFAULT_STACK_NAME,
  FunctionEnv,
  queueOutputSuffix,
  StackOutput,
} from './config.js';
export { type DurationInput, formatDuration, parseDuration } from './duration.js';
export {
  ENVELOPE_VERSION,
  type EnvelopeParseResult,
  envelopeFromRecord,
  type JobEnvelope,
  JobEnvelopeSchema,
  JobIdSchema,
  parseEnvelope,
  serializeEnvelope,
} from './envelope.js';
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
} from './errors.js';
export {
  cancelDisplaced,
  cancelIfSuperseded,
  type DebounceMark,
  debouncedReason,
  FlowCancelReason,
  InvalidFlowKeyError,
  InvalidFlowOptionError,
  isSupersededBy,
  type KeyedFlowPlan,
  KeyedFlowStore,
  type KeyedPeriod,
  type KeyedPeriodInput,
  keyedFlowFor,
  keyedFlowKeyOf,
  MAX_FLOW_KEY_LENGTH,
  MAX_FLOW_PERIOD_MS,
  type MarkResult,
  MIN_FLOW_PERIOD_MS,
  resolveKeyedFlow,
  type ThrottleResult,
  throttledReason,
} from './flow/debounce.js';
export { FlowKeyError } from './flow/errors.js';
export { type FlowState, type FlowStateStores, readFlowState } from './flow/flow-state.js';
export {
  type ConcurrencyLimit,
  type ConcurrencyLimitInput,
  flowKeyOf,
  MAX_CONCURRENCY_LIMIT,
  MAX_RATE_LIMIT,
  type RateLimit,
  type RateLimitInput,
  resolveFlowLimits,
  WHOLE_TYPE_KEY,
} from './flow/limits.js';
export { type FlowControlSummary, summarizeFlowControl } from './flow/summary.js';
export { isLeanJobId, LEAN_JOB_ID_PREFIX, newJobId, newLeanJobId } from './ids.js';
export {
  type AnyJobContract,
  type AnyJobDefinition,
  type ContractResult,
  defineJob,
  defineJobContract,
  defineRegistry,
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
  jobsWithoutHandlers,
  MAX_JOB_TIMEOUT_MS,
  type OnceOptions,
  type PayloadOf,
  planQueues,
  type QueuePlan,
  type ResultOf,
} from './job-definition.js';
export {
  defineLongJob,
  defineLongJobContract,
  implementLongJob,
  isLongJob,
  isLongJobContract,
  type LongJobPlan,
  MAX_STEP_TIMEOUT_MS,
  planLongJobs,
} from './long-jobs/define-long-job.js';
export { InvalidLongJobError } from './long-jobs/errors.js';
export type {
  LongJobContract,
  LongJobContractInput,
  LongJobDefinition,
  LongJobDefinitionInput,
  LongJobStep,
  LongJobStepContext,
  LongJobStepResult,
  LongJobWorkflow,
} from './long-jobs/types.js';
export { InvalidOrderingKeyError } from './ordering/errors.js';
export {
  FIFO_MAX_BATCH_SIZE,
  isFifoQueue,
  type JobOrdering,
  messageGroupOf,
  type OrderingOptions,
  orderingKeyOf,
} from './ordering/ordering.js';
export {
  createQueuePauses,
  type EventSourceState,
  EventSourceUpdateError,
  eventSourceStates,
  MAX_PAUSE_REASON_CHARS,
  PAUSE_CACHE_MS,
  PAUSE_SETTLE_MS,
  type PauseOptions,
  type PauseResult,
  PauseStore,
  pauseItemId,
  type QueuePause,
  type QueueStatus,
  type ResumeResult,
  setEventSourcesEnabled,
  stackUpdatedAt,
  UnknownQueueError,
} from './pause/index.js';
export type { PayloadRef } from './payload-store.js';
export {
  DeadLetterAttribute,
  functionSqsClient,
  JobQueue,
  MAX_SQS_DELAY_SECONDS,
  MAX_VISIBILITY_SECONDS,
  type OutgoingJob,
  type QueueMessageCounts,
} from './queue.js';
export {
  type JobErrorInfo,
  JobErrorInfoSchema,
  type JobHistoryEntry,
  JobHistoryEntrySchema,
  type JobProgress,
  JobProgressSchema,
  type JobRecord,
  JobRecordSchema,
} from './record.js';
export {
  DEFAULT_RETRY_POLICY,
  MAX_RETRY_DELAY_MS,
  type RetryPolicy,
  type RetryPolicyInput,
  resolveRetryPolicy,
  retryDelayMs,
} from './retry.js';
export {
  type DeclaredSchedule,
  type PlannedSchedule,
  planSchedules,
  type ScheduleDeclaration,
} from './scheduling/declared.js';
export { DEFAULT_SCHEDULER_THRESHOLD_MS, type DelayPlan, planDelay } from './scheduling/delay.js';
export { InvalidScheduleError, ScheduleError } from './scheduling/errors.js';
export { type Recurrence, type RecurrenceInput, toRecurrence } from './scheduling/expressions.js';
export type { ScheduleInfo, SchedulingConfig } from './scheduling/job-scheduler.js';
export { executionName, oneTimeScheduleName, recurringJobId } from './scheduling/names.js';
export {
  assertTransition,
  canTransition,
  isJobState,
  isTerminal,
  JOB_STATES,
  JobState,
  needsAttention,
  sourcesOf,
} from './states.js';
export { ATTENTION_SHARDS, attentionKey, attentionKeysOf } from './store/attention.js';
export {
  allOf,
  anyOf,
  type Condition,
  fromSourcesOf,
  ownedByAttempt,
  recordAbsent,
  stateIn,
  term,
  transitionFrom,
  unchangedSince,
  withCondition,
} from './store/conditions.js';
export { type ControlItemKind, controlItemId, isControlItemId } from './store/control-items.js';
export {
  FlowStore,
  type FlowStoreOptions,
  type SlotRequest,
  type SlotResult,
  type SlotState,
  type StartLog,
  type StartRequest,
  type StartResult,
} from './store/flow-store.js';
export {
  ENQUEUE_KEY_PREFIX,
  IdempotencyStore,
  MAX_STEP_RESULT_BYTES,
  STEP_KEY_PREFIX,
  type StepResolution,
  type StepState,
} from './store/idempotency-store.js';
export { JobMaintenance, UNFINISHED_STATES } from './store/job-maintenance.js';
export { JobReader } from './store/job-reads.js';
export { claimCondition, type DeadJobOptions, JobStore, MAX_HISTORY_ENTRIES } from './store/job-store.js';
export {
  type JobChange,
  jobChangeFromStreamRecord,
  jobChangesFromStream,
  type StateTransition,
  stateTransitionOf,
} from './store/stream-changes.js';
export type {
  CancelResult,
  ClaimRequest,
  ClaimResult,
  JobStoreOptions,
  ListPage,
  ListQuery,
  NewJobRecord,
  ScanPage,
} from './store/types.js';
