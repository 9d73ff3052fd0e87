import type { ZodType } from 'zod';
import { ClientEnv } from '../config.js';
import { type DurationInput, parseDuration } from '../duration.js';
import { ENVELOPE_VERSION, type JobEnvelope, JobIdSchema } from '../envelope.js';
import {
  ConfigurationError,
  EnqueueError,
  InvalidArgumentError,
  InvalidPayloadError,
  LeanEnqueueRefusedError,
  PayloadTooLargeError,
  UnknownJobTypeError,
  WaitTimeoutError,
} from '../errors.js';
import { cancelDisplaced, KeyedFlowStore, keyedFlowFor, throttledReason } from '../flow/debounce.js';
import { fairnessKeyOf } from '../flow/fairness.js';
import { type FlowState, readFlowState } from '../flow/flow-state.js';
import { resolvePriority } from '../flow/priorities.js';
import { levelUrl, resendOf } from '../flow/routing.js';
import { type FlowControlSummary, summarizeFlowControl } from '../flow/summary.js';
import { BatchStore, MAX_BATCH_MEMBERS } from '../flows/batch-store.js';
import { callbackId, memberId } from '../flows/ids.js';
import type { BatchInfo } from '../flows/types.js';
import { isLeanJobId, LEAN_JOB_ID_PREFIX, newJobId, newLeanJobId } from '../ids.js';
import { type AnyJobContract, findJobDefinition, type JobRegistry, type PayloadOf, type ResultOf } from '../job-definition.js';
import { isFifoQueue, orderingKeyOf } from '../ordering/ordering.js';
import { PauseStore } from '../pause/pause-store.js';
import { createQueuePauses } from '../pause/queue-pauses.js';
import type { PauseOptions, PauseResult, QueueStatus, ResumeResult } from '../pause/types.js';
import { PayloadStore } from '../payload-store.js';
import { JobQueue, type OutgoingJob } from '../queue.js';
import type { JobRecord } from '../record.js';
import { createTimeFeatures } from '../scheduling/client-time.js';
import { DEFAULT_SCHEDULER_THRESHOLD_MS } from '../scheduling/delay.js';
import type { RecurrenceInput } from '../scheduling/expressions.js';
import type { ScheduleInfo } from '../scheduling/job-scheduler.js';
import { isTerminal, type JobState } from '../states.js';
import { unstorableNumbers } from '../storable.js';
import { FlowStore } from '../store/flow-store.js';
import { IdempotencyStore, type StepResolution } from '../store/idempotency-store.js';
import { type CancelResult, JobStore, type ListPage, type ListQuery, type NewJobRecord } from '../store/job-store.js';
import { type AwsClients, type AwsConnection, createAwsClients } from './connection.js';
import { type RedriveOptions, type RedriveResult, redriveDeadLetters } from './redrive.js';
import { type JobstackConfig, parseJobstackConfig, resolveStackConfig } from './stack-config.js';

/** How long an enqueue idempotency key holds by default. */
export const DEFAULT_IDEMPOTENCY_WINDOW = '24h';

/**
 * Largest payload carried inline, as serialized JSON. The record and the message
 * both hold it, and a record must stay below DynamoDB's 400 KB item limit.
 */
export const MAX_INLINE_PAYLOAD_BYTES = 200_000;

/** Largest payload of a batch callback: it is kept in the batch's item until the batch completes. */
export const MAX_CALLBACK_PAYLOAD_BYTES = 64_000;

/** Largest payload at all (stored in S3 past the inline limit); the worker holds it in memory. */
export const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

export interface EnqueueOptions {
  /**
   * Start no earlier than this from now, any length: up to `schedulerThreshold`
   * (15 minutes) through SQS `DelaySeconds`, beyond through a one-time
   * EventBridge Scheduler schedule (the job is `scheduled` with `runAt` until then).
   * Refused on a debounced job type, whose jobs wait their debounce period instead.
   */
  readonly delay?: DurationInput;
  /** Start no earlier than this time (instead of `delay`); a past time starts now. */
  readonly runAt?: Date;
  /**
   * Your own job id (1..128 of `A-Za-z0-9._:-`); enqueueing the same id twice
   * creates one job and the first payload wins: the later call sends nothing and
   * changes nothing. @default a new ULID
   */
  readonly jobId?: string;
  /** Carried into every log line of the job. @default the job id */
  readonly correlationId?: string;
  /**
   * Enqueueing again with the same key (for the same job type) within the
   * window returns the first job's id and creates nothing, also under
   * concurrent calls. The first payload wins: once the job exists, a later
   * enqueue with the key sends nothing and changes nothing (if the caller that
   * bound the key died before creating the job, the next caller creates it, with
   * its own payload). A delayed job holds its key until it runs plus the window,
   * and past that for as long as the job is not finished. Costs one extra write.
   */
  readonly idempotencyKey?: string;
  /** How long an idempotency key holds. @default '24h' */
  readonly idempotencyWindow?: DurationInput;
  /**
   * Priority level of the job on a queue with `priorities` (a level name, e.g. `'high'`): it is sent to that
   * level's SQS queue, and every retry and re-send goes there too. @default the contract's `priority`, else the
   * queue's lowest level
   * @throws InvalidPriorityError (nothing sent) when the queue has no levels or none of that name
   */
  readonly priority?: string;
}

export interface RetryResult {
  readonly jobId: string;
  /** `requeued`: a new attempt series started; `not-dead`: the job was not dead, nothing changed. */
  readonly outcome: 'requeued' | 'not-dead' | 'not-found';
  readonly state?: JobState;
}

/**
 * What `enqueue` returns: a handle on the job. Pass it to `get` or `wait` to
 * have the record's `result` typed as the job type's Result.
 */
export interface EnqueuedJob<Type extends string = string> {
  readonly jobId: string;
  readonly type: Type;
  readonly state: JobState;
  /** False when a job with this `jobId` already existed and nothing new was enqueued. */
  readonly created: boolean;
  /**
   * Set when the job type is throttled and another job held the key's window:
   * the id of that job. The job was recorded `cancelled` (its `error` says
   * until when the key is held) and will not run; `state` is `cancelled`.
   */
  readonly throttledBy?: string;
}

export type EnqueueRequest<R extends JobRegistry> = {
  [T in keyof R & string]: {
    readonly type: T;
    readonly payload: PayloadOf<R, T>;
    /** Per-item idempotency keys would cost one request each and defeat batching: use `enqueue` for those. */
    readonly options?: Omit<EnqueueOptions, 'jobId' | 'idempotencyKey' | 'idempotencyWindow'>;
  };
}[keyof R & string];

/** Options of a whole `enqueueMany` call. */
export interface EnqueueManyOptions {
  /**
   * Send the messages without writing the job records first: the worker's claim
   * creates each record when the job starts, so a plain job costs 2 DynamoDB
   * writes (claim, outcome) instead of 3. For bulk fan-out. What it gives up:
   *
   * - `get(jobId)` returns undefined until the job starts (no record yet), and
   *   `list` shows the job only from then on; `wait` polls through that gap.
   * - The ids start with `lean:` (see `isLeanJobId`): `cancel` of such an id
   *   before the start writes a `cancelled` tombstone (type `unknown`) that the
   *   claim refuses, so the job never runs and its message is deleted unrun.
   * - A message SQS refused is reported in `failed` and nothing else exists of
   *   the job; a message lost after SQS took it cannot be re-sent by the sweeper
   *   (no record says it exists). SQS does not lose accepted messages, so this is
   *   the loss of a record only the sweeper's safety net relied on.
   * - Refused with LeanEnqueueRefusedError (nothing sent for any job of the call):
   *   delays beyond `schedulerThreshold` (15 minutes), payloads over the inline limit
   *   (S3), queues with priority levels, and job types with fairness, ordering,
   *   concurrency or rateLimit, all of which need the record before the start.
   *   Debounced and throttled types, ids and idempotency keys are refused as in
   *   every `enqueueMany`. Short delays (SQS `DelaySeconds`) and correlation ids work.
   * @default false
   */
  readonly lean?: boolean;
}

export interface EnqueueManyResult {
  /** Ids of the jobs enqueued, in request order (absent for failed entries). */
  readonly jobIds: (string | undefined)[];
  /** Entries SQS refused even after retries; their records were rolled back (a lean call wrote none). */
  readonly failed: { readonly index: number; readonly jobId: string; readonly reason: string }[];
}

export interface WaitOptions {
  /** @default '60s' */
  readonly timeout?: DurationInput;
  /** First poll interval; it doubles up to 2 s. @default '200ms' */
  readonly pollInterval?: DurationInput;
  /** Called whenever the record changes (state, attempts, progress). */
  readonly onUpdate?: (record: JobRecord) => void;
}

export interface JobClient<R extends JobRegistry> {
  /**
   * Validates the payload against the job type's schema, writes the job record
   * (`queued`) and sends the message. Nothing is written if validation fails.
   *
   * The payload is serialized with JSON.stringify and validated in that form, so
   * what the handler receives is exactly what was checked: Dates become strings,
   * class instances lose their methods, `undefined` fields disappear.
   *
   * A debounced type's job waits its period and cancels the job of its key still
   * waiting; a throttled type's job enqueued while another holds its key's window
   * is recorded `cancelled` and not sent: the handle says so (`state`,
   * `throttledBy`) rather than an error (see README, "Flow control").
   *
   * @example
   * const { jobId } = await jobs.enqueue('demo.echo', { message: 'hi' }, { delay: '30s' });
   * @throws UnknownJobTypeError, InvalidPayloadError, PayloadTooLargeError, InvalidArgumentError (InvalidFlowKeyError
   * for a bad debounce/throttle key), EnqueueError
   */
  enqueue<T extends keyof R & string>(type: T, payload: PayloadOf<R, T>, options?: EnqueueOptions): Promise<EnqueuedJob<T>>;
  /**
   * Enqueues many jobs with batched writes (25 records a request) and sends (10
   * messages a request): the cheapest way in. Every payload is validated before
   * anything is written; one invalid payload throws and enqueues nothing.
   * Debounced and throttled job types are refused (InvalidArgumentError): use `enqueue`.
   *
   * With `{ lean: true }` no record is written before the start (2 writes a
   * plain job instead of 3); see `EnqueueManyOptions.lean` for what that gives up.
   * @example
   * const { jobIds } = await jobs.enqueueMany(users.map((user) => ({ type: 'email.send', payload: { to: user.email } })), { lean: true });
   * @throws InvalidArgumentError (LeanEnqueueRefusedError for what a lean call cannot carry), UnknownJobTypeError,
   * InvalidPayloadError, PayloadTooLargeError: nothing is written or sent
   */
  enqueueMany(requests: readonly EnqueueRequest<R>[], options?: EnqueueManyOptions): Promise<EnqueueManyResult>;
  /**
   * The job's record, read with strong consistency, or undefined if there is
   * none (or it expired). A job enqueued lean has no record until it starts:
   * undefined for such an id means "not started yet" or "unknown/expired". Given the handle `enqueue` returned, `result` is typed
   * as the job type's Result; given an id, it is `unknown`.
   * @example
   * const job = await jobs.enqueue('email.send', { to });
   * const record = await jobs.get(job); // record?.result: { messageId: string } | undefined
   */
  get<T extends keyof R & string>(job: EnqueuedJob<T>): Promise<JobRecord<ResultOf<R, T>> | undefined>;
  get(jobId: string): Promise<JobRecord | undefined>;
  /** Many records at once (BatchGetItem); ids with no record are left out. */
  getMany(jobIds: readonly string[]): Promise<JobRecord[]>;
  /**
   * Polls until the job is `succeeded`, `dead` or `cancelled` and returns its
   * record; with the handle `enqueue` returned, `result` is typed as the job
   * type's Result (check `state === 'succeeded'` before reading it).
   * @example
   * const record = await jobs.wait(await jobs.enqueue('email.send', { to }), { timeout: '30s' });
   * @throws WaitTimeoutError when the timeout passes first.
   */
  wait<T extends keyof R & string>(job: EnqueuedJob<T>, options?: WaitOptions): Promise<JobRecord<ResultOf<R, T>>>;
  wait(jobId: string, options?: WaitOptions): Promise<JobRecord>;
  /**
   * Records a person's verdict on a `ctx.once` step whose outcome was unknown
   * (the job is dead with StepOutcomeUnknownError): `{ result }` when the side
   * effect did happen (later attempts return that result), `{ rerun: true }`
   * when it did not (the next attempt runs the step). Then `retry(jobId)`.
   * Needs `grantResolveSteps`.
   * @example
   * await jobs.resolveStep(jobId, 'charge', { result: { chargeId: 'ch_123' } });
   * await jobs.retry(jobId);
   * @returns false when the step is not waiting for a verdict (completed, or never started)
   * @throws InvalidArgumentError when the result is not JSON or too large
   */
  resolveStep(jobId: string, step: string, resolution: StepResolution): Promise<boolean>;
  /** Lists jobs, newest first, one page at a time. */
  list(query?: ListQuery): Promise<ListPage>;
  /**
   * Cancels a job that has not started; asks a running one to stop at its next check. A lean job
   * (`isLeanJobId`) with no record yet is cancelled by writing its record `cancelled` (a tombstone
   * the worker's claim refuses, so it never runs): `outcome: 'cancelled'`, never `not-found`.
   */
  cancel(jobId: string): Promise<CancelResult>;
  /**
   * Re-runs one dead job: same id, a new series of the job type's `maxAttempts`
   * attempts (the attempt count goes on), the previous outcome kept in `history`.
   * @throws EnqueueError when the message could not be sent (the stuck-job sweeper re-sends it).
   */
  retry(jobId: string): Promise<RetryResult>;
  /**
   * Moves dead-lettered messages back to their queue and requeues their jobs,
   * optionally only those that died of one error class. Safe to interrupt and
   * to run concurrently with workers: nothing is lost and no job runs twice.
   * @example
   * await jobs.redrive({ queue: 'default', errorName: 'JobTimeoutError', limit: 100 });
   */
  redrive(options?: RedriveOptions): Promise<RedriveResult>;
  /**
   * Creates a recurring schedule (EventBridge Scheduler, in the stack's group)
   * that enqueues `type` with `payload` on every fire. Each fire's job id is
   * `sched:<name>:<scheduled time>`, so a repeated fire runs once.
   * @example
   * await jobs.schedule('nightly-report', { cron: '0 3 * * ? *', timezone: 'Europe/Berlin' }, 'report.build', { kind: 'daily' });
   * @throws InvalidScheduleError, UnknownJobTypeError, InvalidPayloadError, ScheduleError (name taken)
   */
  schedule<T extends keyof R & string>(
    name: string,
    recurrence: RecurrenceInput,
    type: T,
    payload: PayloadOf<R, T>,
  ): Promise<ScheduleInfo>;
  /** Deletes a recurring schedule created with `schedule`. @returns false when there was none. @throws ScheduleError for schedules the stack declares */
  unschedule(name: string): Promise<boolean>;
  /** The stack's recurring schedules (declared in the registry and created at runtime), by name. */
  listSchedules(): Promise<ScheduleInfo[]>;
  /**
   * Pauses a logical queue: enqueues keep landing in its SQS queue, and no job of it starts until
   * `resume`. Records the pause in the job table (the worker hands back, unrun and without using an
   * attempt, any delivery that still arrives while paused), disables the queue's event source mapping,
   * and returns once every worker has seen the pause (its check caches it for 5 seconds, so this takes
   * about 6): from then on no job of the queue starts, even while AWS is still disabling the mapping
   * (`queueStatus` shows `Disabling`). Jobs already running finish.
   * The first deploy of the stack after the pause resumes the queue, unless `keepOnDeploy`.
   * Pausing a paused queue replaces its reason and keepOnDeploy and keeps its `pausedAt`.
   * @example
   * await jobs.pause('emails', { reason: 'SMTP provider outage', keepOnDeploy: true });
   * @throws UnknownQueueError (listing the queues), InvalidArgumentError, EventSourceUpdateError
   */
  pause(queue: string, options?: PauseOptions): Promise<PauseResult>;
  /**
   * Resumes a paused queue: enables its event source mapping, then deletes the pause; the backlog
   * drains (deliveries handed back during the pause come back within 30 seconds).
   * @throws UnknownQueueError (listing the queues), EventSourceUpdateError
   */
  resume(queue: string): Promise<ResumeResult>;
  /** Every logical queue: `paused` (since when, why, keepOnDeploy) or `active`, and its event sources' states. */
  queueStatus(): Promise<QueueStatus[]>;
  /**
   * The current state of every flow-control option of a job type for one key:
   * `concurrency` (the jobs holding a slot: running, or crashed with a lease not
   * yet run out), `rateLimit` (the starts within the current window),
   * `debounce` (the latest job marked for the key) and `throttle` (the open
   * window and the job holding it). One strongly consistent read per option.
   * @example
   * const { concurrency, rateLimit } = await jobs.flowState('report.build', 'tenant-42');
   * @throws UnknownJobTypeError; InvalidArgumentError when an option is per key and `key` is not given
   */
  flowState<T extends keyof R & string>(type: T, key?: string): Promise<FlowState>;
  /** The flow control each job type declares (limits, ordering, debounce, throttle), without reading any state. */
  flowControl(): FlowControlSummary[];
  readonly config: JobstackConfig;
  /**
   * Enqueues `members` as one batch: the batch's counts item first, then each
   * member (`<batchId>.<index>`, in the order given), then their messages. When
   * every member has ended (`succeeded`, `dead` or `cancelled`), the flow
   * coordinator creates the callback jobs once: `onComplete` always, `onSuccess`
   * only if every member succeeded. Members and callbacks are validated like
   * `enqueue` (nothing is written if one is invalid); debounced and throttled
   * types, and per-member `jobId` and idempotency keys, are refused.
   *
   * Calling again with the same `batchId` after a failure creates what is
   * missing and changes nothing else. A member whose message could not be sent
   * stays `queued` and is listed in `unsent`; the stuck-job sweeper sends it later.
   *
   * @example
   * const { batchId } = await jobs.batch(files.map((file) => ({ type: 'resize', payload: { file } })), {
   *   onComplete: { type: 'notify', payload: { album } },
   * });
   * const progress = await jobs.getBatch(batchId); // { total, pending, succeeded, dead, cancelled, status }
   * @throws InvalidArgumentError, UnknownJobTypeError, InvalidPayloadError (nothing written), BatchError
   */
  batch(members: readonly EnqueueRequest<R>[], options?: BatchOptions<R>): Promise<BatchResult>;
  /** A batch's counts and state (`open` until every member was counted), or undefined if there is none. */
  getBatch(batchId: string): Promise<BatchInfo | undefined>;
}

/** A batch's callback job: its type and payload (validated when the batch is created). */
export type BatchCallback<R extends JobRegistry> = {
  [T in keyof R & string]: { readonly type: T; readonly payload: PayloadOf<R, T> };
}[keyof R & string];

export interface BatchOptions<R extends JobRegistry> {
  /** The batch's id (1..100 of `A-Za-z0-9._:-`); give one to be able to call `batch` again after a failure. @default a new ULID */
  readonly batchId?: string;
  /** Enqueued once when every member has ended, whatever the outcomes. Its payload holds at most 64 KB. */
  readonly onComplete?: BatchCallback<R>;
  /** Enqueued once when every member has ended and all of them succeeded. Its payload holds at most 64 KB. */
  readonly onSuccess?: BatchCallback<R>;
}

export interface BatchResult {
  readonly batchId: string;
  /** Member job ids, in the order given. */
  readonly jobIds: readonly string[];
  /** Members whose message could not be sent now (they stay queued; the sweeper sends them). */
  readonly unsent: readonly { readonly jobId: string; readonly reason: string }[];
}

export interface JobClientOptions<R extends JobRegistry> {
  readonly registry: R;
  readonly config: JobstackConfig;
  /** Ignored when `clients` is given. */
  readonly aws?: AwsConnection;
  readonly clients?: AwsClients;
  /**
   * Payloads larger than this (serialized JSON) go to the stack's S3 bucket and
   * travel by reference, up to MAX_PAYLOAD_BYTES. @default MAX_INLINE_PAYLOAD_BYTES (200 KB)
   */
  readonly inlinePayloadLimitBytes?: number;
  /**
   * Delays up to this go through SQS `DelaySeconds`; longer ones through a
   * one-time EventBridge Scheduler schedule. At most 15 minutes (SQS's limit);
   * lower it to send short delays through the scheduler (tests).
   * @default '15m'
   */
  readonly schedulerThreshold?: DurationInput;
}

/**
 * Creates a typed client for one deployed jobstack.
 *
 * @example
 * const jobs = createJobClient({ registry, config: await resolveStackConfig(cfn, 'jobstack') });
 * const { jobId } = await jobs.enqueue('demo.echo', { message: 'hello' });
 * const record = await jobs.wait(jobId, { timeout: '30s' });
 */
export function createJobClient<R extends JobRegistry>(options: JobClientOptions<R>): JobClient<R> {
  const { registry, config } = options;
  const clients = options.clients ?? createAwsClients(options.aws);
  const store = new JobStore(clients.documentClient, config.jobsTable);
  const idempotency = new IdempotencyStore(clients.documentClient, config.idempotencyTable);
  const flows = new KeyedFlowStore(clients.documentClient, config.jobsTable);
  const batches = new BatchStore(clients.documentClient, config.jobsTable, store);
  const payloads = config.payloadBucket && clients.s3 ? new PayloadStore(clients.s3, config.payloadBucket) : undefined;
  const inlineLimitBytes = options.inlinePayloadLimitBytes ?? MAX_INLINE_PAYLOAD_BYTES;
  const time = createTimeFeatures({
    registry,
    config,
    store,
    scheduler: clients.scheduler,
    sfn: clients.sfn,
    thresholdMs: parseDuration(options.schedulerThreshold ?? DEFAULT_SCHEDULER_THRESHOLD_MS),
  });
  const pauses = createQueuePauses({
    config,
    pauses: new PauseStore(clients.documentClient, config.jobsTable),
    cloudFormation: clients.cloudFormation,
    ...(clients.lambda ? { lambda: clients.lambda } : {}),
  });
  /** One `JobQueue` per SQS queue URL (a logical queue with priority levels has one per level). */
  const queues = new Map<string, JobQueue>();
  const queueAt = (url: string, deadLetterUrl: string): JobQueue => {
    const existing = queues.get(url);
    if (existing) return existing;
    const queue = new JobQueue(clients.sqs, url, deadLetterUrl);
    queues.set(url, queue);
    return queue;
  };
  const queueConfigOf = (definition: AnyJobContract) => {
    const urls = config.queues[definition.queue];
    if (!urls) {
      throw new ConfigurationError(
        `job type '${definition.name}' uses queue '${definition.queue}', which stack '${config.stackName}' does not have`,
        {
          jobType: definition.name,
        },
      );
    }
    return urls;
  };
  /** The SQS queue of a job: its logical queue's, at its priority level when the queue has levels. */
  const queueFor = (definition: AnyJobContract, priority: string | undefined): JobQueue => {
    const urls = queueConfigOf(definition);
    return queueAt(levelUrl(urls, priority), urls.deadLetterUrl);
  };

  function prepare(type: string, payload: unknown, options: EnqueueOptions, lean = false) {
    if (options.jobId !== undefined && isLeanJobId(options.jobId)) {
      // Reserved: cancel would take a missing record of such an id for a lean job not started yet.
      throw new InvalidArgumentError(
        `invalid jobId ${JSON.stringify(options.jobId)}: ids starting with '${LEAN_JOB_ID_PREFIX}' are reserved for lean jobs`,
        { jobType: type },
      );
    }
    const definition = findJobDefinition(registry, type);
    if (!definition) throw new UnknownJobTypeError(type, Object.keys(registry));
    // Checked before serializing: JSON.stringify throws a bare TypeError on a BigInt.
    const unstorable = unstorableNumbers(payload);
    if (unstorable.length > 0) throw new InvalidPayloadError(type, unstorable);
    const json = JSON.stringify(payload);
    if (json === undefined) throw new InvalidPayloadError(type, ['payload is not JSON-serializable']);
    const sizeBytes = Buffer.byteLength(json);
    const offload = sizeBytes > inlineLimitBytes;
    if (offload && (!payloads || sizeBytes > MAX_PAYLOAD_BYTES)) {
      throw new PayloadTooLargeError(type, sizeBytes, payloads ? MAX_PAYLOAD_BYTES : inlineLimitBytes);
    }
    const wirePayload: unknown = JSON.parse(json);
    const schema: ZodType = definition.schema;
    const checked = schema.safeParse(wirePayload);
    if (!checked.success) {
      throw new InvalidPayloadError(
        type,
        checked.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
      );
    }
    const jobId = options.jobId ?? (lean ? newLeanJobId() : newJobId());
    if (!JobIdSchema.safeParse(jobId).success) {
      throw new InvalidArgumentError(`invalid jobId ${JSON.stringify(jobId)}: use 1..128 characters of A-Z a-z 0-9 . _ : -`);
    }
    const level = resolvePriority(definition.queue, queueConfigOf(definition).levels, options.priority ?? definition.priority, {
      jobType: type,
    });
    const fairnessKey = fairnessKeyOf(type, definition.fairness, checked.data);
    const flow = keyedFlowFor(definition, checked.data, options);
    const orderingKey =
      definition.ordering === undefined ? undefined : orderingKeyOf(type, definition.ordering, checked.data, jobId);
    const fifo = isFifoQueue(config.queues[definition.queue]?.url ?? '');
    if (orderingKey !== undefined && !fifo && config.queues[definition.queue] !== undefined) {
      throw new ConfigurationError(
        `job type '${type}' has ordering, but queue '${definition.queue}' of stack '${config.stackName}' is not a FIFO queue ` +
          `(given ${config.queues[definition.queue]?.url}): deploy the stack with this registry first`,
        { jobType: type },
      );
    }
    // A debounced job always waits its period: the last enqueue of the key within it is the one that runs.
    const requested = time.plan(flow?.mode === 'debounce' ? { delay: flow.periodMs } : options);
    // FIFO queues take no per-message delay: a short delay goes through a one-time schedule like a long one.
    const plan = fifo && requested.route === 'sqs' ? ({ route: 'scheduler', runAt: requested.runAt } as const) : requested;
    const delaySeconds = plan.route === 'sqs' ? plan.delaySeconds : 0;
    const correlationId = options.correlationId ?? jobId;
    const record: NewJobRecord = {
      id: jobId,
      type,
      queue: definition.queue,
      maxAttempts: definition.retry.maxAttempts,
      payload: wirePayload,
      correlationId,
      ...(plan.route === 'scheduler' ? { state: 'scheduled', runAt: plan.runAt.toISOString() } : { state: 'queued' }),
      ...(options.idempotencyKey === undefined ? {} : { idempotencyKey: options.idempotencyKey }),
      ...(level === undefined ? {} : { priority: level.name }),
      ...(fairnessKey === undefined ? {} : { fairnessKey }),
      ...(orderingKey === undefined ? {} : { orderingKey }),
    };
    const envelope: JobEnvelope = {
      v: ENVELOPE_VERSION,
      id: jobId,
      type,
      payload: wirePayload,
      enqueuedAt: new Date().toISOString(),
      ...(options.correlationId === undefined ? {} : { correlationId }),
    };
    return {
      definition,
      record,
      envelope,
      delaySeconds,
      orderingKey,
      plan,
      flow,
      ...(level?.arn === undefined ? {} : { levelArn: level.arn }),
      ...(offload ? { offloadJson: json } : {}),
    };
  }

  /**
   * The first message of a prepared job: its envelope and delay; on a standard queue its message group is its
   * fairness key, on a FIFO queue its ordering key, with the job id deduplicating the send (a double enqueue is
   * dropped by SQS too).
   */
  function outgoing(job: ReturnType<typeof prepare>): OutgoingJob {
    return {
      envelope: job.envelope,
      delaySeconds: job.delaySeconds,
      orderingKey: job.orderingKey,
      deduplicationId: job.envelope.id,
      ...(job.record.fairnessKey === undefined ? {} : { messageGroupId: job.record.fairnessKey }),
    };
  }

  /** Moves a payload over the inline limit to S3; the record and the message then carry only its reference. */
  async function offloadPayload<J extends ReturnType<typeof prepare>>(job: J): Promise<J> {
    if (job.offloadJson === undefined || !payloads) return job;
    const payloadRef = await payloads.put(job.record.id, job.offloadJson);
    return {
      ...job,
      record: { ...job.record, payload: null, payloadRef },
      envelope: { ...job.envelope, payload: null, payloadRef },
      offloadJson: undefined,
    };
  }

  /**
   * Throws LeanEnqueueRefusedError when the prepared job needs its record before it starts: the claim that creates
   * a lean job's record knows only the envelope, and the sweeper, the flow gate and re-sends read the rest
   * (payload reference, priority level, message group, flow-limit marks) from the record.
   */
  function refuseLeanUnsupported(job: ReturnType<typeof prepare>): void {
    const { definition, record } = job;
    const context = { jobType: record.type };
    const refuse = (feature: ConstructorParameters<typeof LeanEnqueueRefusedError>[0], why: string) => {
      throw new LeanEnqueueRefusedError(feature, why, context);
    };
    if (job.plan.route === 'scheduler')
      refuse('delay-over-threshold', `job type '${record.type}' would wait for a one-time schedule, which a record tracks`);
    if (job.offloadJson !== undefined)
      refuse('payload-offload', `the payload of job type '${record.type}' is over the inline limit and would go to S3`);
    if (queueConfigOf(definition).levels !== undefined)
      refuse('priority-levels', `queue '${definition.queue}' has priority levels, which re-sends read from the record`);
    if (definition.fairness !== undefined) refuse('fairness', `job type '${record.type}' has a fairness key`);
    if (definition.ordering !== undefined) refuse('ordering', `job type '${record.type}' has ordering (a FIFO queue)`);
    if (definition.concurrency !== undefined) refuse('concurrency', `job type '${record.type}' has a concurrency limit`);
    if (definition.rateLimit !== undefined) refuse('rateLimit', `job type '${record.type}' has a rate limit`);
  }

  /**
   * A lean enqueue: the messages only, 10 a request per queue. Nothing to roll back for a refused message:
   * no record was written.
   */
  async function sendLean(jobs: readonly ReturnType<typeof prepare>[]): Promise<EnqueueManyResult> {
    const byQueue = new Map<JobQueue, number[]>();
    jobs.forEach((job, index) => {
      const queue = queueFor(job.definition, job.record.priority);
      byQueue.set(queue, [...(byQueue.get(queue) ?? []), index]);
    });
    const indexById = new Map(jobs.map((job, index) => [job.record.id, index]));
    const failed: { index: number; jobId: string; reason: string }[] = [];
    for (const [queue, indexes] of byQueue) {
      const failures = await queue
        .sendMany(indexes.map((index) => outgoing(jobs[index] as (typeof jobs)[number])))
        .catch((error: unknown) => {
          // Which messages SQS took before the failure is unknown, and no record tells: say so rather than guess.
          throw new EnqueueError(
            `lean enqueueMany: sending to a queue failed part-way (${(error as Error).message}); the jobs whose message was sent will run, the others do not exist, and which is which cannot be told: see get(jobId) once they ran`,
            { cause: error },
          );
        });
      for (const failure of failures)
        failed.push({ index: indexById.get(failure.id) ?? -1, jobId: failure.id, reason: failure.reason });
    }
    const failedIds = new Set(failed.map((f) => f.jobId));
    return { jobIds: jobs.map((job) => (failedIds.has(job.record.id) ? undefined : job.record.id)), failed };
  }

  /**
   * Marks a debounced job, just sent, the latest of its key and cancels the job
   * it displaced if that one has not started. When a job enqueued after this
   * one is already marked, this one is the one cancelled.
   * @returns `cancelled` when this job was superseded, else undefined
   */
  async function markDebounced(
    jobId: string,
    type: string,
    key: string,
    enqueuedAt: string,
    periodMs: number,
  ): Promise<'cancelled' | undefined> {
    let mark: Awaited<ReturnType<KeyedFlowStore['markLatest']>>;
    try {
      mark = await flows.markLatest(type, key, { jobId, enqueuedAt }, periodMs);
    } catch (error) {
      throw new EnqueueError(
        `job ${jobId} was enqueued, but marking it the latest of debounce key ${JSON.stringify(key)} failed: it runs after its period, and the job it should have superseded may run too: ${(error as Error).message}`,
        { jobId, jobType: type, cause: error },
      );
    }
    // Left to the worker should this fail: it reads the mark before claiming the loser and cancels it then.
    const outcome = await cancelDisplaced(store, { jobId, enqueuedAt }, mark).catch(() => ({}) as { cancelled?: undefined });
    if (outcome.cancelled) await time.afterCancel({ outcome: 'cancelled', record: outcome.cancelled }).catch(() => undefined);
    return outcome.cancelled?.id === jobId ? 'cancelled' : undefined;
  }

  return {
    config,

    async enqueue(type, payload, options = {}) {
      let job = prepare(type, payload, options);
      if (options.idempotencyKey !== undefined) {
        const windowMs = parseDuration(options.idempotencyWindow ?? DEFAULT_IDEMPOTENCY_WINDOW);
        const owner = await idempotency.bindEnqueueKey(type, options.idempotencyKey, job.record.id, windowMs, {
          // A delayed job keeps its key until it has run, plus the window.
          ...(job.plan.route === 'now' ? {} : { runAt: job.plan.runAt.getTime() }),
          jobFinished: async (jobId) => {
            const record = await store.get(jobId);
            return record === undefined || isTerminal(record.state);
          },
        });
        // A caller that lost the race still creates the owner's record if the winner never did (it crashed):
        // the record's create-only condition lets exactly one of them send the message.
        if (!owner.bound) job = prepare(type, payload, { ...options, jobId: owner.jobId });
      }
      job = await offloadPayload(job);
      const flow = job.flow;
      if (flow?.mode === 'throttle') {
        const window = await flows.claimWindow(type, flow.key, job.record.id, flow.periodMs);
        if (window.outcome === 'throttled') {
          // Recorded, never sent: the record says which job holds the key and until when.
          const reason = throttledReason(window.holder, flow.key, window.untilMs);
          const { runAt: _runAt, ...waiting } = job.record;
          const created = await store.create({ ...waiting, state: 'cancelled', error: reason });
          const state = created ? 'cancelled' : ((await store.get(job.record.id))?.state ?? 'cancelled');
          return { jobId: job.record.id, type, state, created, ...(created ? { throttledBy: window.holder } : {}) };
        }
      }
      const releaseWindow = async () => {
        if (flow?.mode === 'throttle') await flows.releaseWindow(type, flow.key, job.record.id).catch(() => undefined);
      };
      const created = await store.create(job.record).catch(async (error: unknown) => {
        await releaseWindow();
        throw error;
      });
      if (!created) {
        await releaseWindow();
        const existing = await store.get(job.record.id);
        return { jobId: job.record.id, type, state: existing?.state ?? 'queued', created: false };
      }
      try {
        if (job.plan.route === 'scheduler') {
          await time.sendScheduled(job.envelope, job.definition, job.plan.runAt, {
            levelArn: job.levelArn,
            orderingKey: job.orderingKey,
          });
        } else await queueFor(job.definition, job.record.priority).send(outgoing(job));
      } catch (error) {
        await store.deleteUnsent(job.record.id).catch(() => {
          // The stuck-job sweeper finds a queued record with no message; the caller still learns the enqueue failed.
        });
        await releaseWindow();
        throw new EnqueueError(`could not send job ${job.record.id} to its queue: ${(error as Error).message}`, {
          jobId: job.record.id,
          jobType: type,
          cause: error,
        });
      }
      if (flow?.mode === 'debounce') {
        const state = await markDebounced(job.record.id, type, flow.key, job.envelope.enqueuedAt, flow.periodMs);
        return { jobId: job.record.id, type, state: state ?? job.record.state, created: true };
      }
      return { jobId: job.record.id, type, state: job.record.state, created: true };
    },

    async enqueueMany(requests, manyOptions = {}) {
      const lean = manyOptions.lean === true;
      if (manyOptions.lean !== undefined && typeof manyOptions.lean !== 'boolean') {
        throw new InvalidArgumentError(`enqueueMany's lean option is a boolean (given ${JSON.stringify(manyOptions.lean)})`);
      }
      const prepared = requests.map((request, index) => {
        try {
          // The batch write has no condition: only fresh ids are safe, so an id or key given anyway is refused.
          const given = ['jobId', 'idempotencyKey', 'idempotencyWindow'].filter(
            (name) => (request.options as Record<string, unknown> | undefined)?.[name] !== undefined,
          );
          if (given.length > 0) {
            throw new InvalidArgumentError(
              `enqueueMany takes no ${given.join(', ')} (given for job type '${request.type}'): use enqueue for those`,
            );
          }
          // Each would need its own conditional write before the batch: one request per job, as enqueue does.
          const keyed = findJobDefinition(registry, request.type);
          if (keyed?.debounce || keyed?.throttle) {
            throw new InvalidArgumentError(
              `enqueueMany takes no ${keyed.debounce ? 'debounced' : 'throttled'} job types (given '${request.type}'): use enqueue for those`,
              { jobType: request.type },
            );
          }
          const job = prepare(request.type, request.payload, request.options ?? {}, lean);
          if (lean) refuseLeanUnsupported(job);
          return job;
        } catch (error) {
          if (error instanceof Error) error.message = `request ${index}: ${error.message}`;
          throw error;
        }
      });
      if (lean) return sendLean(prepared);
      const jobs = await Promise.all(prepared.map((job) => offloadPayload(job)));
      await store.createMany(jobs.map((job) => job.record));
      const failed: { index: number; jobId: string; reason: string }[] = [];
      const byQueue = new Map<JobQueue, number[]>();
      for (const [index, job] of jobs.entries()) {
        if (job.plan.route !== 'scheduler') continue;
        const target = { levelArn: job.levelArn, orderingKey: job.orderingKey };
        await time.sendScheduled(job.envelope, job.definition, job.plan.runAt, target).catch(async (error: unknown) => {
          await store.deleteUnsent(job.record.id).catch(() => undefined);
          failed.push({ index, jobId: job.record.id, reason: (error as Error).message });
        });
      }
      jobs.forEach((job, index) => {
        if (job.plan.route === 'scheduler') return;
        const queue = queueFor(job.definition, job.record.priority);
        byQueue.set(queue, [...(byQueue.get(queue) ?? []), index]);
      });
      const indexById = new Map(jobs.map((job, index) => [job.record.id, index]));
      for (const [queue, indexes] of byQueue) {
        const queueFailures = await queue.sendMany(
          indexes.map((index) => {
            return outgoing(jobs[index] as (typeof jobs)[number]);
          }),
        );
        for (const failure of queueFailures) {
          await store.deleteUnsent(failure.id).catch(() => undefined);
          failed.push({ index: indexById.get(failure.id) ?? -1, jobId: failure.id, reason: failure.reason });
        }
      }
      const failedIds = new Set(failed.map((f) => f.jobId));
      return {
        jobIds: jobs.map((job) => (failedIds.has(job.record.id) ? undefined : job.record.id)),
        failed,
      };
    },

    get: ((job: string | EnqueuedJob) => store.get(jobIdOf(job))) as JobClient<R>['get'],

    getMany: (jobIds) => store.getMany(jobIds),

    wait: (async (job: string | EnqueuedJob, options: WaitOptions = {}): Promise<JobRecord> => {
      const jobId = jobIdOf(job);
      const timeoutMs = parseDuration(options.timeout ?? '60s');
      let intervalMs = parseDuration(options.pollInterval ?? '200ms');
      const deadline = Date.now() + timeoutMs;
      let lastSeen: JobRecord | undefined;
      for (;;) {
        const record = await store.get(jobId);
        if (record && (lastSeen === undefined || record.updatedAt !== lastSeen.updatedAt || record.state !== lastSeen.state)) {
          options.onUpdate?.(record);
        }
        lastSeen = record ?? lastSeen;
        if (record && isTerminal(record.state)) return record;
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw new WaitTimeoutError(jobId, timeoutMs, lastSeen?.state);
        await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, remaining)));
        intervalMs = Math.min(2_000, intervalMs * 2);
      }
    }) as JobClient<R>['wait'],

    list: (query) => store.list(query),

    resolveStep: (jobId, step, resolution) => idempotency.resolveStep(jobId, step, resolution),

    cancel: async (jobId) => time.afterCancel(await store.cancel(jobId, { tombstone: isLeanJobId(jobId) })),

    schedule: (name, recurrence, type, payload) => time.schedule(name, recurrence, type, payload),

    unschedule: (name) => time.unschedule(name),

    listSchedules: () => time.listSchedules(),

    pause: (queue, pauseOptions) => pauses.pause(queue, pauseOptions),

    resume: (queue) => pauses.resume(queue),

    queueStatus: () => pauses.queueStatus(),

    flowControl: () => summarizeFlowControl(registry),

    async flowState(type, key) {
      const contract = findJobDefinition(registry, type);
      if (!contract) throw new UnknownJobTypeError(type, Object.keys(registry));
      const stores = { limits: new FlowStore(clients.documentClient, config.jobsTable), keyed: flows };
      return readFlowState(stores, contract, key, Date.now());
    },

    async batch(members, batchOptions = {}) {
      if (!Array.isArray(members) || members.length === 0 || members.length > MAX_BATCH_MEMBERS) {
        throw new InvalidArgumentError(
          `a batch has 1..${MAX_BATCH_MEMBERS} members (given ${Array.isArray(members) ? members.length : typeof members})`,
        );
      }
      const batchId = batchOptions.batchId ?? newJobId();
      if (typeof batchId !== 'string' || !/^[A-Za-z0-9._:-]{1,100}$/.test(batchId)) {
        throw new InvalidArgumentError(
          `invalid batchId ${JSON.stringify(batchId)}: use 1..100 characters of A-Z a-z 0-9 . _ : -`,
        );
      }
      const noKeyed = (type: string, what: string) => {
        const keyed = findJobDefinition(registry, type);
        if (keyed?.debounce || keyed?.throttle) {
          throw new InvalidArgumentError(
            `${what} cannot be of a ${keyed.debounce ? 'debounced' : 'throttled'} job type (given '${type}')`,
            { jobType: type },
          );
        }
      };
      const prepared = members.map((member, index) => {
        try {
          const given = ['jobId', 'idempotencyKey', 'idempotencyWindow'].filter(
            (name) => (member.options as Record<string, unknown> | undefined)?.[name] !== undefined,
          );
          if (given.length > 0)
            throw new InvalidArgumentError(`batch members take no ${given.join(', ')} (given for '${member.type}')`);
          noKeyed(member.type, 'a batch member');
          const job = prepare(member.type, member.payload, { ...(member.options ?? {}), jobId: memberId(batchId, index) });
          return { ...job, record: { ...job.record, batchId } };
        } catch (error) {
          if (error instanceof Error) error.message = `member ${index}: ${error.message}`;
          throw error;
        }
      });
      const callback = (kind: 'onComplete' | 'onSuccess') => {
        const given = batchOptions[kind];
        if (given === undefined) return undefined;
        noKeyed(given.type, `the ${kind} callback`);
        const job = prepare(given.type, given.payload, { jobId: callbackId(batchId, kind) });
        const sizeBytes = Buffer.byteLength(JSON.stringify(job.record.payload));
        if (sizeBytes > MAX_CALLBACK_PAYLOAD_BYTES)
          throw new PayloadTooLargeError(given.type, sizeBytes, MAX_CALLBACK_PAYLOAD_BYTES);
        const { runAt: _runAt, ...record } = job.record;
        return { ...record, state: 'queued' as const, callbackOf: batchId };
      };
      const onComplete = callback('onComplete');
      const onSuccess = callback('onSuccess');
      const jobs = await Promise.all(prepared.map((job) => offloadPayload(job)));
      const { created } = await batches.createBatch(
        {
          batchId,
          kind: 'batch',
          total: jobs.length,
          ...(onComplete === undefined ? {} : { onComplete }),
          ...(onSuccess === undefined ? {} : { onSuccess }),
        },
        jobs.map((job) => job.record),
      );
      const fresh = new Set(created);
      const unsent: { jobId: string; reason: string }[] = [];
      const byQueue = new Map<JobQueue, (typeof jobs)[number][]>();
      for (const job of jobs) {
        if (!fresh.has(job.record.id)) continue;
        if (job.plan.route === 'scheduler') {
          const target = { levelArn: job.levelArn, orderingKey: job.orderingKey };
          await time.sendScheduled(job.envelope, job.definition, job.plan.runAt, target).catch((error: unknown) => {
            unsent.push({ jobId: job.record.id, reason: (error as Error).message });
          });
          continue;
        }
        const queue = queueFor(job.definition, job.record.priority);
        byQueue.set(queue, [...(byQueue.get(queue) ?? []), job]);
      }
      for (const [queue, queued] of byQueue) {
        const failures = await queue
          .sendMany(queued.map((job) => outgoing(job)))
          .catch((error: unknown) => queued.map((job) => ({ id: job.record.id, reason: (error as Error).message })));
        for (const failure of failures) unsent.push({ jobId: failure.id, reason: failure.reason });
      }
      return { batchId, jobIds: jobs.map((job) => job.record.id), unsent };
    },

    getBatch: (batchId) => batches.getBatch(batchId),

    async retry(jobId) {
      const current = await store.get(jobId);
      if (!current) return { jobId, outcome: 'not-found' };
      const extraAttempts = findJobDefinition(registry, current.type)?.retry.maxAttempts ?? current.maxAttempts;
      const outcome = await store.requeueDead(jobId, { extraAttempts, reason: 'retry' });
      if (!outcome.requeued) {
        return outcome.record ? { jobId, outcome: 'not-dead', state: outcome.record.state } : { jobId, outcome: 'not-found' };
      }
      const record = outcome.record;
      const urls = config.queues[record.queue];
      if (!urls)
        throw new ConfigurationError(
          `job ${jobId} belongs to queue '${record.queue}', which stack '${config.stackName}' does not have`,
        );
      try {
        // A re-send, to the job's level queue with its group: on a FIFO queue its ordering key and a fresh
        // deduplication id; on a standard queue its fairness key.
        await queueAt(levelUrl(urls, record.priority), urls.deadLetterUrl).send(resendOf(record));
      } catch (error) {
        throw new EnqueueError(`job ${jobId} was requeued but its message could not be sent: ${(error as Error).message}`, {
          jobId,
          jobType: record.type,
          cause: error,
        });
      }
      return { jobId, outcome: 'requeued', state: 'queued' };
    },

    async redrive(redriveOptions = {}) {
      const names = redriveOptions.queue === undefined ? Object.keys(config.queues) : [redriveOptions.queue];
      let total: RedriveResult = { moved: 0, discarded: 0, leftInPlace: 0 };
      for (const name of names) {
        const urls = config.queues[name];
        if (!urls)
          throw new InvalidArgumentError(
            `stack '${config.stackName}' has no queue '${name}' (queues: ${Object.keys(config.queues).join(', ')})`,
          );
        const limit = (redriveOptions.limit ?? 1_000) - total.moved - total.discarded;
        if (limit <= 0) break;
        const result = await redriveDeadLetters({ sqs: clients.sqs, store, registry }, urls, {
          limit,
          ...(redriveOptions.errorName === undefined ? {} : { errorName: redriveOptions.errorName }),
        });
        total = {
          moved: total.moved + result.moved,
          discarded: total.discarded + result.discarded,
          leftInPlace: total.leftInPlace + result.leftInPlace,
        };
      }
      return total;
    },
  };
}

/** The id of a job given by id or by the handle `enqueue` returned. */
function jobIdOf(job: string | EnqueuedJob): string {
  return typeof job === 'string' ? job : job.jobId;
}

/**
 * Resolves a stack's configuration from its outputs and creates a client for it.
 *
 * @example
 * const jobs = await connectJobClient({ registry, stackName: 'jobstack' });
 */
export async function connectJobClient<R extends JobRegistry>(options: {
  readonly registry: R;
  readonly stackName: string;
  readonly aws?: AwsConnection;
  /** See `JobClientOptions.schedulerThreshold`. @default '15m' */
  readonly schedulerThreshold?: DurationInput;
}): Promise<JobClient<R>> {
  const clients = createAwsClients(options.aws);
  const config = await resolveStackConfig(clients.cloudFormation, options.stackName);
  return createJobClient({
    registry: options.registry,
    config,
    clients,
    ...(options.schedulerThreshold === undefined ? {} : { schedulerThreshold: options.schedulerThreshold }),
  });
}

/** What `jobClientFromEnvironment` takes. */
export interface EnvironmentClientOptions<R extends JobRegistry> extends Omit<JobClientOptions<R>, 'config'> {
  /** Where to read `JOBSTACK_CONFIG` from. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Creates a client from the JSON `JobstackConfig` in the environment variable
 * `JOBSTACK_CONFIG`, which `JobSystem.bindClient(fn)` sets on a function along
 * with the grants the client needs. Makes no AWS call: create it once, at
 * module scope, and a broken deployment fails at cold start.
 *
 * @example
 * import registry from './jobs/contracts.js';
 * const jobs = jobClientFromEnvironment({ registry });
 * export const handler = async () => jobs.enqueue('email.send', { to: 'a@example.com' });
 * @throws ConfigurationError when the variable is unset, not JSON, or not a jobstack configuration (naming what is wrong)
 */
export function jobClientFromEnvironment<R extends JobRegistry>(options: EnvironmentClientOptions<R>): JobClient<R> {
  const { env = process.env, ...clientOptions } = options;
  const json = env[ClientEnv.config];
  if (!json) {
    throw new ConfigurationError(
      `environment variable ${ClientEnv.config} is not set: give the function access with jobs.bindClient(fn) in your CDK stack`,
    );
  }
  return createJobClient({ ...clientOptions, config: parseJobstackConfig(json, `environment variable ${ClientEnv.config}`) });
}
