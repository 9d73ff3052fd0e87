/**
 * The contract between the CDK stack, the Lambda functions and the client SDK:
 * environment variable names the functions read, and the stack output keys the
 * client discovers its configuration from. Both sides import these constants so a
 * rename cannot silently break one side.
 */

/** Environment variables set on every jobstack Lambda function by the `JobSystem` construct. */
export const FunctionEnv = {
  /** Name of the job-status DynamoDB table. */
  jobsTable: 'JOBSTACK_JOBS_TABLE',
  /** Name of the idempotency DynamoDB table. */
  idempotencyTable: 'JOBSTACK_IDEMPOTENCY_TABLE',
  /** URL of the queue this worker consumes. */
  queueUrl: 'JOBSTACK_QUEUE_URL',
  /** URL of that queue's dead-letter queue. */
  deadLetterQueueUrl: 'JOBSTACK_DLQ_URL',
  /** Logical name of the queue this worker consumes (`default`, ...). */
  queueName: 'JOBSTACK_QUEUE_NAME',
  /** Days a finished job record is kept before DynamoDB TTL deletes it. */
  recordRetentionDays: 'JOBSTACK_RECORD_RETENTION_DAYS',
  /** Bucket holding payloads too large to travel inline. */
  payloadBucket: 'JOBSTACK_PAYLOAD_BUCKET',
  /** ARN of the long-job state machine the worker starts long jobs on (only when the registry has long jobs). */
  longJobStateMachineArn: 'JOBSTACK_LONG_JOB_STATE_MACHINE_ARN',
  /**
   * Comma-separated job types a worker's queue carries. The worker checks at
   * cold start that its registry has a handler for each, so a deployment whose
   * bundled handlers miss a job type fails at once rather than dead-lettering jobs.
   */
  jobTypes: 'JOBSTACK_JOB_TYPES',
  /** JSON `{ [queueArn]: queueUrl }` of a prioritized queue's level queues (its worker consumes them all). */
  levelQueues: 'JOBSTACK_LEVEL_QUEUES',
  /**
   * How the worker writes successes: `batched` (the records of a batch together, PartiQL BatchExecuteStatement)
   * or `single` (an UpdateItem each). Unset: `batched` on AWS and on the emulator `jobstack local up` starts (its
   * patches stream PartiQL updates and set {@link FunctionEnv.emulatorPartiqlStreams}), `single` when
   * `AWS_ENDPOINT_URL` points the SDK at any other endpoint (an emulator whose PartiQL writes may reach no DynamoDB
   * stream, which lifecycle events and flows read: MiniStack's own do not).
   */
  successWrites: 'JOBSTACK_SUCCESS_WRITES',
  /** Set to `1` by jobstack's MiniStack launcher: PartiQL updates there write DynamoDB stream records as on AWS. */
  emulatorPartiqlStreams: 'JOBSTACK_EMULATOR_PARTIQL_STREAMS',
  /** Longest wait (ms) of a batched success for its batch mates. @default 10 (SUCCESS_LINGER_MS) */
  successLingerMs: 'JOBSTACK_SUCCESS_LINGER_MS',
} as const;

/** Environment variables of the user's own functions that hold a job client (set by `JobSystem.bindClient`). */
export const ClientEnv = {
  /** JSON `JobstackConfig` of the stack, read by `jobClientFromEnvironment`. */
  config: 'JOBSTACK_CONFIG',
} as const;

/** CloudFormation output keys of a jobstack stack. Queue outputs are suffixed with the queue's PascalCase name. */
export const StackOutput = {
  jobsTableName: 'JobsTableName',
  idempotencyTableName: 'IdempotencyTableName',
  payloadBucketName: 'PayloadBucketName',
  /** Comma-separated logical queue names, e.g. `default,reports`. */
  queueNames: 'QueueNames',
  /** Prefix of `QueueUrlDefault`, `QueueUrlReports`, ... */
  queueUrlPrefix: 'QueueUrl',
  /** Prefix of `DeadLetterQueueUrlDefault`, ... */
  deadLetterQueueUrlPrefix: 'DeadLetterQueueUrl',
  /** Prefix of `QueueArnDefault`, ...: the targets of schedules. */
  queueArnPrefix: 'QueueArn',
  /** Prefix of `QueueLevelsReports`, ...: a prioritized queue's level names, comma-separated, highest first. */
  queueLevelsPrefix: 'QueueLevels',
  /** Prefix of `QueueLevelUrlReportsLevelHigh`, ...: the URL of one priority level's queue. */
  queueLevelUrlPrefix: 'QueueLevelUrl',
  /** Prefix of `QueueLevelArnReportsLevelHigh`, ...: the ARN of one priority level's queue (schedule target). */
  queueLevelArnPrefix: 'QueueLevelArn',
  /** Prefix of `EventSourceMappingIdsDefault`, ...: comma-separated UUIDs of the mappings feeding the queue's worker. */
  eventSourceMappingIdsPrefix: 'EventSourceMappingIds',
  /** The stack's EventBridge Scheduler schedule group (delayed jobs, recurring schedules). */
  scheduleGroupName: 'ScheduleGroupName',
  /** Role Scheduler assumes to send to the job queues. */
  schedulerRoleArn: 'SchedulerRoleArn',
  /** Dead-letter queue of fires Scheduler could not deliver. */
  schedulerDeadLetterQueueArn: 'SchedulerDeadLetterQueueArn',
  /** The long-job state machine (only when the registry has long jobs). */
  longJobStateMachineArn: 'LongJobStateMachineArn',
} as const;

/** The default stack name, locally and on AWS. */
export const DEFAULT_STACK_NAME = 'jobstack';

/** The logical queue a job type uses when its definition names none. */
export const DEFAULT_QUEUE_NAME = 'default';

/** Name of the sparse global secondary index that lists jobs in states needing attention. */
export const ATTENTION_INDEX_NAME = 'byAttentionState';

/** `default` → `Default`, `media-uploads` → `MediaUploads`: the suffix used in output keys and construct ids. */
export function queueOutputSuffix(queueName: string): string {
  return queueName
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part.length > 0)
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join('');
}

/** `reports` + `high` → `ReportsLevelHigh`: the suffix of a priority level's outputs and construct ids. */
export function priorityLevelOutputSuffix(queueName: string, level: string): string {
  return `${queueOutputSuffix(queueName)}Level${queueOutputSuffix(level)}`;
}
