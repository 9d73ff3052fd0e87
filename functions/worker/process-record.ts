import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSRecord } from 'aws-lambda';
import { cancelIfSuperseded, type KeyedFlowStore, keyedFlowKeyOf } from '../../shared/flow/debounce.js';
import { type BatchStore, readMembers } from '../../shared/flows/batch-store.js';
import { ChildJobsFailedError } from '../../shared/flows/errors.js';
import type { ChildJob } from '../../shared/flows/types.js';
import {
  type AnyJobDefinition,
  ConfigurationError,
  type FlowStore,
  type HandlerRegistry,
  type IdempotencyStore,
  type JobEnvelope,
  type JobErrorInfo,
  JobErrorName,
  type JobQueue,
  type JobRecord,
  type JobStore,
  JobstackError,
  JobTimeoutError,
  NonRetryableError,
  OutcomeNotRecordedError,
  parseEnvelope,
  UnknownJobTypeError,
} from '../../shared/index.js';
import { findJobDefinition } from '../../shared/job-definition.js';
import type { SuccessBatch } from '../../shared/store/success-batch.js';
import { classifyFailure } from '../attempt/failure.js';
import { storableResult, writeOutcome } from '../attempt/outcome.js';
import { type PayloadReader, resolvePayload, validatePayload } from '../attempt/payload.js';
import { recordCancelWatch, runAttempt, type Timers } from '../attempt/run-attempt.js';
import type { LongJobStarter } from '../long-job/start-long-job.js';
import { AttemptFlows } from './attempt-flows.js';
import { toErrorInfo } from './error-info.js';
import { enterFlowGate, type FlowPass } from './flow-gate.js';
import { createJobContext } from './job-context.js';
import { type JobLog, jobLog } from './job-log.js';
import { type JobObserver, silentObserver } from './job-observer.js';
import { PAUSED_HAND_BACK_DELAY_SECONDS, type PauseGate, stringAttributesOf } from './pause-gate.js';

/** Time kept back from the Lambda deadline to record the outcome of an attempt. */
export const DEADLINE_SAFETY_MS = 3_000;
/** Slack added to a lease beyond the attempt's own deadline before another delivery may take over. */
export const LEASE_SLACK_MS = 10_000;
/** The last outcome write starts at least this long before the Lambda ends, so it can finish. */
const LAST_WRITE_MARGIN_MS = 1_000;
/** `ctx.once` results outlive any retry series: 30 days. */
export const DEFAULT_STEP_RETENTION_MS = 30 * 86_400_000;

export interface RecordProcessorDeps {
  readonly registry: HandlerRegistry;
  readonly store: JobStore;
  readonly queue: JobQueue;
  /**
   * The level queues of a queue with priorities, by queue ARN: a retry changes the visibility of the message
   * on the queue it came from (`eventSourceARN`), not on `queue`. @default every message is from `queue`
   */
  readonly levelQueues?: ReadonlyMap<string, JobQueue>;
  readonly queueName: string;
  readonly logger: Logger;
  readonly clock?: () => number;
  readonly random?: () => number;
  /** Timers of the attempt's deadline, cancellation watch and outcome-write backoff. @default the real ones */
  readonly timers?: Timers;
  /** Reads payloads that travel by reference (over the inline limit). */
  readonly payloads?: PayloadReader;
  /** Stores `ctx.once` step results; jobs calling `ctx.once` fail without it. */
  readonly idempotency?: IdempotencyStore;
  /** How long `ctx.once` results are kept. @default DEFAULT_STEP_RETENTION_MS */
  readonly stepRetentionMs?: number;
  /** Told about every start, success, retry, death and cancellation (metrics). @default silentObserver */
  readonly observer?: JobObserver;
  /** Starts the Step Functions execution of a long job (`defineLongJob`); long jobs are never run here. */
  readonly startLongJob?: LongJobStarter;
  /** The queue's pause: while paused, every delivery is handed back unrun (`jobs.pause`). @default never paused */
  readonly pause?: PauseGate;
  /** Reads debounce marks; jobs of a debounced type are rejected without it. */
  readonly flows?: KeyedFlowStore;
  /** Keeps concurrency slots and rate-limit starts; job types with `concurrency` or `rateLimit` die without it. */
  readonly flow?: FlowStore;
  /**
   * Writes follow-ups (`ctx.enqueue`) and children (`ctx.spawnAndWait`) with the attempt's outcome, and reads a
   * resumed parent's children. Without it, an attempt that asks for either fails with ConfigurationError.
   */
  readonly batches?: BatchStore;
  /**
   * Writes the successes of records running together in one request (PartiQL BatchExecuteStatement).
   * @default each success is its own UpdateItem
   */
  readonly successes?: SuccessBatch;
}

/** Thrown to report a record as failed in the batch response, so SQS delivers it again. */
export class RedeliveryRequestedError extends JobstackError {
  constructor(message: string, context: { jobId: string; jobType: string; cause?: unknown }) {
    super(message, context);
    this.name = 'RedeliveryRequestedError';
  }
}

/**
 * Builds the per-message step of the worker. It returns normally when the
 * message may be deleted (the job finished, was dead-lettered, or the delivery
 * was a duplicate) and throws when SQS should deliver it again (a retry after
 * the backoff delay, another delivery still holds the job, a dead-letter copy
 * is still owed, or DynamoDB could not be written).
 *
 * Poison input is recorded and moved to the dead-letter queue, so it can
 * neither fail its batch mates nor be retried forever; it throws only when that
 * copy fails (the record is then dead with the copy owed, and the next delivery
 * sends it).
 *
 * The attempt itself runs the shared pipeline of functions/attempt/, as the
 * long-job step runner does.
 */
export function createRecordProcessor(deps: RecordProcessorDeps) {
  const clock = deps.clock ?? Date.now;
  const random = deps.random ?? Math.random;
  const observer = deps.observer ?? silentObserver;

  /** The queue a message was received from: its priority level's, else the worker's queue. */
  function sourceQueue(message: SQSRecord): JobQueue {
    return deps.levelQueues?.get(message.eventSourceARN) ?? deps.queue;
  }

  const successes = deps.successes;
  return successes
    ? async function processRecord(message: SQSRecord, lambdaContext?: Context): Promise<void> {
        successes.enter();
        try {
          await processDelivery(message, lambdaContext);
        } finally {
          successes.leave();
        }
      }
    : processDelivery;

  async function processDelivery(message: SQSRecord, lambdaContext?: Context): Promise<void> {
    // Before anything else: while the queue is paused nothing starts, not even a long job's execution.
    if (deps.pause && (await deps.pause.isPaused())) {
      const from = sourceQueue(message);
      if (from.fifo) {
        // A FIFO queue takes no delayed copy, and a copy would leave its place in the message group: the
        // message itself waits (one receive counted; the mapping is disabled, so only its disabling lag or a
        // deploy that re-enabled it delivers here, and FIFO queues allow extra receives for held messages).
        await from.delayRedelivery(message.receiptHandle, PAUSED_HAND_BACK_DELAY_SECONDS);
        deps.logger.info('Queue is paused: left the delivery in its FIFO queue unrun', {
          queue: deps.queueName,
          messageId: message.messageId,
          delaySeconds: PAUSED_HAND_BACK_DELAY_SECONDS,
        });
        const held = parseEnvelope(message.body);
        throw new RedeliveryRequestedError(`queue ${deps.queueName} is paused`, {
          jobId: held.ok ? held.envelope.id : (held.jobId ?? message.messageId),
          jobType: held.ok ? held.envelope.type : (held.jobType ?? 'unknown'),
        });
      }
      // A delayed copy, the original deleted: no receive counted, and a flow-limit wait keeps its counters.
      // If the send fails this throws, and the original comes back after its visibility timeout. The copy goes
      // to the queue the delivery came from (its priority level's) with its message group (its fairness tenant).
      await from.sendAgain(
        message.body,
        PAUSED_HAND_BACK_DELAY_SECONDS,
        stringAttributesOf(message),
        message.attributes?.MessageGroupId,
      );
      deps.logger.info('Queue is paused: handed the delivery back unrun', {
        queue: deps.queueName,
        messageId: message.messageId,
        delaySeconds: PAUSED_HAND_BACK_DELAY_SECONDS,
      });
      return;
    }
    const parsed = parseEnvelope(message.body);
    if (!parsed.ok) {
      await rejectPoison(message, parsed.error, { jobId: parsed.jobId, jobType: parsed.jobType });
      return;
    }
    const envelope = parsed.envelope;
    const definition = findJobDefinition(deps.registry, envelope.type);
    if (!definition) {
      const error = new UnknownJobTypeError(envelope.type, Object.keys(deps.registry), { jobId: envelope.id });
      await rejectPoison(message, error, { jobId: envelope.id, jobType: envelope.type });
      return;
    }
    let rawPayload: unknown;
    try {
      rawPayload = await resolvePayload(envelope, deps.payloads);
    } catch (error) {
      // Anything else (S3 throttled, no bucket configured) may pass: the message comes back.
      if (!(error instanceof NonRetryableError)) throw error;
      await rejectPoison(message, error, { jobId: envelope.id, jobType: envelope.type, definition });
      return;
    }
    const payload = validatePayload(definition, rawPayload, envelope.id);
    if (!payload.ok) {
      await rejectPoison(message, payload.error, { jobId: envelope.id, jobType: envelope.type, definition });
      return;
    }
    if (definition.debounce && (await supersededByDebounce(message, envelope, definition, payload.payload))) return;
    if (definition.mode === 'long') {
      if (!deps.startLongJob) {
        const error = new ConfigurationError(
          `job type '${envelope.type}' is a long job, but this worker has no state machine to start it on`,
          { jobId: envelope.id, jobType: envelope.type },
        );
        await rejectPoison(message, error, { jobId: envelope.id, jobType: envelope.type, definition });
        return;
      }
      // Thrown errors (throttling, an outage) leave the message for SQS to deliver again; starting is idempotent.
      await deps.startLongJob(envelope, definition, { queueName: deps.queueName, logger: deps.logger });
      return;
    }
    await runJob(message, envelope, definition, payload.payload, lambdaContext);
  }

  /**
   * Before a debounced job is claimed: cancels it when a later enqueue of its
   * key superseded it and it has not started (one read of the key's mark).
   * @returns true when the delivery is done (cancelled now, or rejected for a bad key)
   */
  async function supersededByDebounce(
    message: SQSRecord,
    envelope: JobEnvelope,
    definition: AnyJobDefinition,
    payload: unknown,
  ): Promise<boolean> {
    const context = { jobId: envelope.id, jobType: envelope.type, definition };
    if (!deps.flows || !definition.debounce) {
      const error = new ConfigurationError(
        `job type '${envelope.type}' is debounced, but this worker cannot read debounce marks`,
        {
          jobId: envelope.id,
          jobType: envelope.type,
        },
      );
      await rejectPoison(message, error, context);
      return true;
    }
    let key: string;
    try {
      key = keyedFlowKeyOf(envelope.type, 'debounce', definition.debounce, payload);
    } catch (error) {
      await rejectPoison(message, error as JobstackError, context);
      return true;
    }
    const check = await cancelIfSuperseded({ flows: deps.flows, store: deps.store }, envelope.type, key, {
      jobId: envelope.id,
      enqueuedAt: envelope.enqueuedAt,
    });
    if (!check.cancelled) {
      // Superseded and already cancelled by the enqueuing caller: a duplicate delivery, nothing to claim.
      if (check.finished === undefined || (check.finished.state === 'dead' && check.finished.deadLetterPending)) return false;
      deps.logger.info('Skipping delivery: the job is already finished', { jobId: envelope.id, state: check.finished.state });
      return true;
    }
    observer.cancelled({ jobType: envelope.type, queue: deps.queueName, attempt: 0 });
    deps.logger.info('Job cancelled before its start: a later enqueue of its debounce key superseded it', {
      jobId: envelope.id,
      jobType: envelope.type,
      supersededBy: check.by,
    });
    return true;
  }

  async function runJob(
    message: SQSRecord,
    envelope: JobEnvelope,
    definition: AnyJobDefinition,
    payload: unknown,
    lambdaContext: Context | undefined,
  ): Promise<void> {
    const startedAt = clock();
    const lambdaDeadline = startedAt + (lambdaContext?.getRemainingTimeInMillis() ?? definition.timeoutMs + DEADLINE_SAFETY_MS);
    const deadline = Math.min(startedAt + definition.timeoutMs, lambdaDeadline - DEADLINE_SAFETY_MS);
    const correlationId = envelope.correlationId ?? envelope.id;
    const leaseUntil = deadline + LEASE_SLACK_MS;
    const gateLog = jobLog(deps.logger, { jobId: envelope.id, jobType: envelope.type, correlation_id: correlationId });
    const gate = await enterFlowGate(
      message,
      envelope,
      definition,
      payload,
      leaseUntil,
      // A waiting job's copy goes back to the queue it came from: its priority level's.
      { ...deps, queue: sourceQueue(message), clock, random },
      gateLog,
    );
    if (!gate.pass) {
      if (!gate.waiting) await rejectPoison(message, gate.error, { jobId: envelope.id, jobType: envelope.type, definition });
      return;
    }
    try {
      await claimAndRun(message, envelope, definition, payload, { startedAt, lambdaDeadline, deadline, leaseUntil }, gate.gate);
    } finally {
      // After the outcome is written, or when the claim found the job not this delivery's to run.
      await gate.gate.leave(gateLog);
    }
  }

  async function claimAndRun(
    message: SQSRecord,
    envelope: JobEnvelope,
    definition: AnyJobDefinition,
    payload: unknown,
    times: { startedAt: number; lambdaDeadline: number; deadline: number; leaseUntil: number },
    gate: FlowPass,
  ): Promise<void> {
    const { startedAt, lambdaDeadline, deadline } = times;
    const correlationId = envelope.correlationId ?? envelope.id;
    const claim = await deps.store.claim({
      id: envelope.id,
      type: envelope.type,
      queue: deps.queueName,
      maxAttempts: definition.retry.maxAttempts,
      payload: envelope.payload,
      correlationId,
      enqueuedAt: envelope.enqueuedAt,
      leaseUntil: times.leaseUntil,
      // A recurring fire's record is created here: keep its group, so re-sends of the job stay in it.
      ...(definition.ordering && message.attributes.MessageGroupId ? { orderingKey: message.attributes.MessageGroupId } : {}),
    });
    const logger = jobLog(deps.logger, {
      jobId: envelope.id,
      jobType: envelope.type,
      correlation_id: correlationId,
      attempt: claim.record.attempts,
    });
    await gate.claimed(claim.outcome === 'claimed', logger);

    if (claim.outcome === 'finished') {
      if (claim.record.state === 'dead' && claim.record.deadLetterPending) {
        await sendOwedDeadLetter(message, claim.record, logger);
        return;
      }
      logger.info('Skipping delivery: the job is already finished', { state: claim.record.state });
      return;
    }
    if (claim.outcome === 'busy') {
      const waitMs = Math.max(1_000, claim.retryAt - clock());
      await sourceQueue(message).delayRedelivery(message.receiptHandle, waitMs / 1_000);
      logger.info("Not this delivery's turn (another holds the lease, or the backoff has not passed); checking again later", {
        waitMs,
        state: claim.record.state,
      });
      throw new RedeliveryRequestedError(`job ${envelope.id} is running under another delivery`, {
        jobId: envelope.id,
        jobType: envelope.type,
      });
    }

    const record = claim.record;
    const attempt = record.attempts;
    const observed = { jobType: record.type, queue: deps.queueName, attempt };
    if (record.cancelRequested) {
      await deps.store.markCancelledByRun(record.id, attempt);
      observer.cancelled(observed);
      logger.info('Job was cancelled while its previous run was in flight; not running it again');
      return;
    }
    if (attempt > record.maxAttempts) {
      // The previous run died (timeout or crash) on the last attempt it had.
      const error: JobErrorInfo = {
        name: JobErrorName.attemptsExhausted,
        message: `attempt ${attempt - 1} of ${record.maxAttempts} did not finish (the function timed out or crashed)`,
        retryable: false,
      };
      await killJob(message, record, attempt, error, logger);
      return;
    }

    let children: readonly ChildJob[] | undefined;
    if (record.waitingFor !== undefined) {
      const resumed = await childrenOf(record, logger);
      if (resumed.failed) {
        await killJob(message, record, attempt, resumed.failed, logger);
        return;
      }
      children = resumed.children;
    }

    logger.debug('Job started');
    observer.started(observed);
    const flows = new AttemptFlows(deps.registry, { id: record.id, type: record.type, correlationId }, attempt);
    let result: unknown;
    let waits = false;
    try {
      result = await runAttempt(
        (signal) =>
          definition.handler(
            payload,
            createJobContext(
              {
                store: deps.store,
                stepRetentionMs: deps.stepRetentionMs ?? DEFAULT_STEP_RETENTION_MS,
                ...(deps.idempotency ? { idempotency: deps.idempotency } : {}),
              },
              { record, attempt, correlationId, logger, signal, deadline, flows, ...(children ? { children } : {}) },
            ),
          ),
        {
          deadline,
          timeoutError: () => new JobTimeoutError(record.id, record.type, deadline - startedAt),
          clock,
          ...(deps.timers ? { timers: deps.timers } : {}),
          cancelWatch: recordCancelWatch(record.id, (id, options) => deps.store.get(id, options), logger),
        },
      );
    } catch (thrown) {
      // ctx.spawnAndWait ended the handler: the attempt ends waiting, not failed.
      if (thrown === flows.signal) waits = true;
      else {
        await handleFailure(message, record, attempt, thrown, definition, logger, clock() - startedAt);
        return;
      }
    }
    if (flows.any && !deps.batches) {
      const error = new ConfigurationError('ctx.enqueue and ctx.spawnAndWait need the flow store; this worker has none', {
        jobId: record.id,
        jobType: record.type,
      });
      await handleFailure(message, record, attempt, error, definition, logger, clock() - startedAt);
      return;
    }
    // A handler that called spawnAndWait and then returned anyway still waits: the children are what it asked for.
    if (waits || flows.wait !== undefined) {
      await recordWait(message, record, attempt, flows, logger, { startedAt, lambdaDeadline });
      return;
    }
    // Outside the try: the handler has returned, and a failure to record that is never a handler failure.
    await recordSuccess(message, record, attempt, result, logger, { startedAt, lambdaDeadline }, flows);
  }

  /**
   * The children of a resumed parent (it waited for them with `ctx.spawnAndWait`), read from their records, or
   * the error to end it with when a child did not succeed and the parent asked to fail then.
   */
  async function childrenOf(
    record: JobRecord,
    logger: JobLog,
  ): Promise<{ children: ChildJob[]; failed?: undefined } | { failed: JobErrorInfo; children?: undefined }> {
    const batchId = record.waitingFor as string;
    const batch = deps.batches ? await deps.batches.getBatch(batchId) : undefined;
    if (!batch) {
      // Expired or never written: the parent cannot learn its children's outcomes, which retrying does not change.
      const error = new ChildJobsFailedError([], { jobId: record.id, jobType: record.type });
      error.message = `the children batch ${batchId} this job waited for cannot be read (expired, or no flow store configured)`;
      return { failed: toErrorInfo(error, false) };
    }
    const members = await readMembers(deps.store, batch);
    const children = members.map(
      (member): ChildJob => ({
        jobId: member.id,
        type: member.type,
        state: member.state,
        ...(member.result === undefined ? {} : { result: member.result }),
        ...(member.error === undefined ? {} : { error: member.error }),
      }),
    );
    const notSucceeded = children.filter((child) => child.state !== 'succeeded');
    if ((batch.onChildDead ?? 'fail') === 'fail' && notSucceeded.length > 0) {
      const error = new ChildJobsFailedError(
        notSucceeded.map(({ jobId, state }) => ({ jobId, state })),
        { jobId: record.id, jobType: record.type },
      );
      logger.error('A child job did not succeed and the parent fails with it', { children: notSucceeded.length });
      return { failed: toErrorInfo(error, false) };
    }
    return { children };
  }

  /**
   * Ends the attempt `waiting` for its children: the parent's move, its children batch, its children and its
   * follow-ups are one transaction (functions/../shared/flows/batch-store.ts). Like a success, this write is
   * tried again, and if it cannot be made the job ends dead rather than run the handler again.
   */
  async function recordWait(
    message: SQSRecord,
    record: JobRecord,
    attempt: number,
    flows: AttemptFlows,
    logger: JobLog,
    times: { startedAt: number; lambdaDeadline: number },
  ): Promise<void> {
    const wait = flows.wait;
    const batches = deps.batches;
    if (!wait || !batches) return;
    let owned: boolean;
    try {
      owned = await writeOutcome(() => batches.waitForChildren(record.id, attempt, wait.batch, wait.children, flows.followUps), {
        until: times.lambdaDeadline - LAST_WRITE_MARGIN_MS,
        clock,
        ...(deps.timers ? { timers: deps.timers } : {}),
        onRetry: (error, delayMs) => logger.warn('Could not record the wait for child jobs; trying again', { error, delayMs }),
      });
    } catch (writeError) {
      logger.error('Job asked to wait for child jobs but the wait could not be recorded; ending it dead', {
        error: writeError as Error,
      });
      const error = toErrorInfo(new OutcomeNotRecordedError(record.id, record.type, attempt, writeError), false);
      await killJob(message, record, attempt, error, logger);
      return;
    }
    const durationMs = clock() - times.startedAt;
    if (owned) {
      logger.info('Job is waiting for its child jobs', {
        durationMs,
        batchId: wait.batch.batchId,
        children: wait.children.length,
        followUps: flows.followUps.length,
      });
      return;
    }
    // The write refuses a job asked to cancel during the run: it ends cancelled, and its children are never created.
    const current = await deps.store.get(record.id, { consistent: true });
    if (current?.state === 'running' && current.attempts === attempt && current.cancelRequested) {
      if (await deps.store.markCancelledByRun(record.id, attempt)) {
        observer.cancelled({ jobType: record.type, queue: deps.queueName, attempt });
        logger.info('Job was asked to cancel while it ran; it is cancelled instead of waiting for children');
      }
      return;
    }
    logger.warn('Job asked to wait for child jobs but no longer owned this attempt (cancelled or taken over); nothing written');
  }

  /**
   * Stores the result of a handler that returned. The handler never runs again
   * because of this write: a result DynamoDB cannot hold is stored as a
   * stand-in object, a failing write is tried again, and if it still fails the job
   * ends dead with OutcomeNotRecordedError.
   */
  async function recordSuccess(
    message: SQSRecord,
    record: JobRecord,
    attempt: number,
    result: unknown,
    logger: JobLog,
    times: { startedAt: number; lambdaDeadline: number },
    flows?: AttemptFlows,
  ): Promise<void> {
    const stored = storableResult(result);
    const followUps = flows?.followUps ?? [];
    const batches = deps.batches;
    // With follow-ups, the success and their records are one transaction; without, the plain conditional update.
    const write =
      followUps.length > 0 && batches
        ? () => batches.succeedWithFollowUps(record.id, attempt, stored.value, followUps)
        : deps.successes
          ? () => (deps.successes as SuccessBatch).succeed(record.id, attempt, stored.value)
          : () => deps.store.succeed(record.id, attempt, stored.value);
    if (stored.note)
      logger.warn('Job result cannot be stored as it is; storing a stand-in object that says why', { reason: stored.reason });
    let owned: boolean;
    try {
      owned = await writeOutcome(write, {
        until: times.lambdaDeadline - LAST_WRITE_MARGIN_MS,
        clock,
        ...(deps.timers ? { timers: deps.timers } : {}),
        onRetry: (error, delayMs) => logger.warn('Could not record the job success; trying again', { error, delayMs }),
      });
    } catch (writeError) {
      logger.error('Job returned but its success could not be recorded; ending it dead so it does not run again', {
        error: writeError as Error,
      });
      const error = toErrorInfo(new OutcomeNotRecordedError(record.id, record.type, attempt, writeError), false);
      // Should this write fail as well, the error below lets SQS deliver the message again. The redelivery finds the
      // job `running` under this attempt's lease and waits; only a DynamoDB outage longer than the lease (the job
      // timeout plus LEASE_SLACK_MS) lets a later delivery take the job over and run the handler again.
      await killJob(message, record, attempt, error, logger);
      return;
    }
    const durationMs = clock() - times.startedAt;
    if (owned) {
      observer.succeeded({ jobType: record.type, queue: deps.queueName, attempt }, durationMs);
      logger.info('Job succeeded', { durationMs, ...(followUps.length > 0 ? { followUps: followUps.length } : {}) });
    } else logger.warn('Job finished but no longer owned this attempt (cancelled or taken over); result not stored');
  }

  async function handleFailure(
    message: SQSRecord,
    record: JobRecord,
    attempt: number,
    thrown: unknown,
    definition: AnyJobDefinition,
    logger: JobLog,
    durationMs: number,
  ): Promise<void> {
    const observed = { jobType: record.type, queue: deps.queueName, attempt };
    const decision = classifyFailure(thrown, { attempt, maxAttempts: record.maxAttempts, retry: definition.retry, random });
    switch (decision.kind) {
      case 'cancelled':
        if (await deps.store.markCancelledByRun(record.id, attempt)) {
          observer.cancelled(observed);
          logger.info('Job stopped on a cancel request and is cancelled', { durationMs });
        }
        return;
      case 'lease-lost':
        // Another delivery owns the job now; keep the message so it is not lost if that run dies too.
        logger.warn('Attempt lost ownership of the job; leaving the message to the current owner', { durationMs });
        throw new RedeliveryRequestedError(decision.error.message, {
          jobId: record.id,
          jobType: record.type,
          cause: decision.error,
        });
      case 'dead':
        logger.error('Job failed for good', { error: thrown as Error, durationMs });
        await killJob(message, record, attempt, decision.error, logger);
        return;
      case 'retry': {
        const { delayMs, error } = decision;
        const owned = await deps.store.scheduleRetry(record.id, attempt, error, clock() + delayMs);
        if (!owned) {
          logger.warn('Attempt failed but no longer owns the job (cancelled or taken over); dropping this delivery');
          return;
        }
        await sourceQueue(message).delayRedelivery(message.receiptHandle, delayMs / 1_000);
        observer.retried(observed, delayMs);
        // The stack is logged once, when the job dies; a retry line carries its first frames only (log bytes cost).
        logger.warn('Job attempt failed; retrying after backoff', {
          error: { name: error.name, message: error.message, stack: firstFrames((thrown as Error | undefined)?.stack) },
          delayMs,
          durationMs,
        });
        throw new RedeliveryRequestedError(`attempt ${attempt} failed; retry in ${delayMs} ms`, {
          jobId: record.id,
          jobType: record.type,
          cause: thrown,
        });
      }
    }
  }

  /**
   * Ends the job `dead` with a copy of its message in the dead-letter queue.
   * The copy goes first. If it fails, the job is marked dead anyway, with the
   * copy owed (`deadLetterPending`), and the message comes back: a job left
   * `running` would be run again by a later delivery once its lease ran out.
   * The redelivery finds the job dead with the copy owed and sends it.
   */
  async function killJob(message: SQSRecord, record: JobRecord, attempt: number, error: JobErrorInfo, logger: JobLog) {
    const observed = { jobType: record.type, queue: deps.queueName, attempt };
    try {
      await deps.queue.sendToDeadLetter(message.body, { jobId: record.id, errorName: error.name, errorMessage: error.message });
    } catch (copyError) {
      const marked = await deps.store.markDead(record.id, error, { attempt, deadLetterPending: true });
      if (marked) observer.dead(observed, error.name);
      logger.error('Job is dead; its dead-letter copy failed and is sent when the message comes back', {
        reason: error.message,
        copyError: copyError as Error,
        recordMarkedDead: marked,
      });
      throw new RedeliveryRequestedError(`job ${record.id} is dead but its dead-letter copy failed`, {
        jobId: record.id,
        jobType: record.type,
        cause: copyError,
      });
    }
    // If this write fails, the redelivery finds the job still owned and, after the lease, handles it again.
    const marked = await deps.store.markDead(record.id, error, { attempt });
    if (marked) {
      observer.dead(observed, error.name);
      logger.error('Job is dead', { reason: error.message });
    } else logger.warn('Job could not be marked dead: it is no longer owned by this attempt');
  }

  /** A delivery of a job that died with its dead-letter copy owed: sends the copy and clears the debt. */
  async function sendOwedDeadLetter(message: SQSRecord, record: JobRecord, logger: JobLog): Promise<void> {
    await deps.queue.sendToDeadLetter(message.body, {
      jobId: record.id,
      errorName: record.error?.name ?? 'UnknownError',
      errorMessage: record.error?.message ?? 'the job is dead',
    });
    await deps.store.confirmDeadLetter(record.id);
    logger.info('Sent the dead-letter copy a previous delivery could not send');
  }

  async function rejectPoison(
    message: SQSRecord,
    error: JobstackError,
    context: { jobId: string | undefined; jobType: string | undefined; definition?: AnyJobDefinition },
  ): Promise<void> {
    const errorInfo = toErrorInfo(error, false);
    const deadOptions = {
      type: context.jobType ?? 'unknown',
      queue: deps.queueName,
      maxAttempts: context.definition?.retry.maxAttempts ?? 1,
    };
    try {
      await deps.queue.sendToDeadLetter(message.body, {
        ...(context.jobId === undefined ? {} : { jobId: context.jobId }),
        errorName: errorInfo.name,
        errorMessage: errorInfo.message,
      });
    } catch (copyError) {
      // Without an id there is no record to keep: the message comes back and the copy is tried again.
      if (context.jobId === undefined) throw copyError;
      const marked = await deps.store.markDead(context.jobId, errorInfo, { ...deadOptions, deadLetterPending: true });
      if (marked) observer.dead({ jobType: deadOptions.type, queue: deps.queueName, attempt: 0 }, errorInfo.name);
      deps.logger.error('Job rejected: its message is invalid; the dead-letter copy failed and is sent when it comes back', {
        jobId: context.jobId,
        reason: error.message,
        copyError: copyError as Error,
      });
      throw new RedeliveryRequestedError(`job ${context.jobId} is dead but its dead-letter copy failed`, {
        jobId: context.jobId,
        jobType: deadOptions.type,
        cause: copyError,
      });
    }
    if (context.jobId === undefined) {
      deps.logger.error('Unreadable message moved to the dead-letter queue', {
        messageId: message.messageId,
        reason: error.message,
      });
      return;
    }
    const marked = await deps.store.markDead(context.jobId, errorInfo, deadOptions);
    if (marked) observer.dead({ jobType: deadOptions.type, queue: deps.queueName, attempt: 0 }, errorInfo.name);
    // Already dead: perhaps by an earlier delivery whose copy failed; this copy pays that debt.
    else await deps.store.confirmDeadLetter(context.jobId);
    deps.logger.error('Job rejected: its message is invalid', {
      jobId: context.jobId,
      jobType: context.jobType,
      reason: error.message,
      recordMarkedDead: marked,
    });
  }
}

function firstFrames(stack: string | undefined, frames = 3): string | undefined {
  return stack
    ?.split('\n')
    .slice(0, frames + 1)
    .join('\n');
}
