import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSRecord } from 'aws-lambda';
import type { ZodType } from 'zod';
import {
  type AnyJobDefinition,
  ConfigurationError,
  type IdempotencyStore,
  InvalidPayloadError,
  JobCancelledError,
  type JobEnvelope,
  type JobErrorInfo,
  type JobQueue,
  type JobRecord,
  type JobRegistry,
  type JobStore,
  JobstackError,
  JobTimeoutError,
  LeaseLostError,
  NonRetryableError,
  type PayloadRef,
  parseEnvelope,
  retryDelayMs,
  UnknownJobTypeError,
} from '../../shared/index.js';
import type { LongJobStarter } from '../long-job/start-long-job.js';
import { isRetryable, toErrorInfo } from './error-info.js';
import { createJobContext } from './job-context.js';
import { type JobLog, jobLog } from './job-log.js';
import { type JobObserver, silentObserver } from './job-observer.js';
import { runWithDeadline } from './run-with-deadline.js';

/** Time kept back from the Lambda deadline to record the outcome of an attempt. */
export const DEADLINE_SAFETY_MS = 3_000;
/** Slack added to a lease beyond the attempt's own deadline before another delivery may take over. */
export const LEASE_SLACK_MS = 10_000;
/** `ctx.once` results outlive any retry series: 30 days. */
export const DEFAULT_STEP_RETENTION_MS = 30 * 86_400_000;
/** Results larger than this are not stored on the record (DynamoDB items stop at 400 KB). */
export const MAX_STORED_RESULT_BYTES = 100_000;

export interface RecordProcessorDeps {
  readonly registry: JobRegistry;
  readonly store: JobStore;
  readonly queue: JobQueue;
  readonly queueName: string;
  readonly logger: Logger;
  readonly clock?: () => number;
  readonly random?: () => number;
  /** Reads payloads that travel by reference (over the inline limit). */
  readonly payloads?: { get(ref: PayloadRef): Promise<unknown> };
  /** Stores `ctx.once` step results; jobs calling `ctx.once` fail without it. */
  readonly idempotency?: IdempotencyStore;
  /** How long `ctx.once` results are kept. @default DEFAULT_STEP_RETENTION_MS */
  readonly stepRetentionMs?: number;
  /** Told about every start, success, retry, death and cancellation (metrics). @default silentObserver */
  readonly observer?: JobObserver;
  /** Starts the Step Functions execution of a long job (`defineLongJob`); long jobs are never run here. */
  readonly startLongJob?: LongJobStarter;
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
 * the backoff delay, or another delivery still holds the job).
 *
 * Poison input never throws: it is recorded and moved to the dead-letter queue,
 * so it can neither fail its batch mates nor be retried forever.
 */
export function createRecordProcessor(deps: RecordProcessorDeps) {
  const clock = deps.clock ?? Date.now;
  const random = deps.random ?? Math.random;
  const observer = deps.observer ?? silentObserver;

  return async function processRecord(message: SQSRecord, lambdaContext?: Context): Promise<void> {
    const parsed = parseEnvelope(message.body);
    if (!parsed.ok) {
      await rejectPoison(message, parsed.error, { jobId: parsed.jobId, jobType: parsed.jobType });
      return;
    }
    const envelope = parsed.envelope;
    const definition = deps.registry[envelope.type];
    if (!definition) {
      const error = new UnknownJobTypeError(envelope.type, Object.keys(deps.registry), { jobId: envelope.id });
      await rejectPoison(message, error, { jobId: envelope.id, jobType: envelope.type });
      return;
    }
    let rawPayload = envelope.payload;
    if (envelope.payloadRef) {
      if (!deps.payloads)
        throw new ConfigurationError(`job ${envelope.id} carries its payload in S3 but this worker has no payload bucket`);
      try {
        rawPayload = await deps.payloads.get(envelope.payloadRef);
      } catch (error) {
        if (!(error instanceof NonRetryableError)) throw error;
        await rejectPoison(message, error, { jobId: envelope.id, jobType: envelope.type, definition });
        return;
      }
    }
    const schema: ZodType = definition.schema;
    const payload = schema.safeParse(rawPayload);
    if (!payload.success) {
      const issues = payload.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
      const error = new InvalidPayloadError(envelope.type, issues, { jobId: envelope.id });
      await rejectPoison(message, error, { jobId: envelope.id, jobType: envelope.type, definition });
      return;
    }
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
    await runJob(message, envelope, definition, payload.data, lambdaContext);
  };

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
    const claim = await deps.store.claim({
      id: envelope.id,
      type: envelope.type,
      queue: deps.queueName,
      maxAttempts: definition.retry.maxAttempts,
      payload: envelope.payload,
      correlationId,
      enqueuedAt: envelope.enqueuedAt,
      leaseUntil: deadline + LEASE_SLACK_MS,
    });
    const logger = jobLog(deps.logger, {
      jobId: envelope.id,
      jobType: envelope.type,
      correlation_id: correlationId,
      attempt: claim.record.attempts,
    });

    if (claim.outcome === 'finished') {
      logger.info('Skipping delivery: the job is already finished', { state: claim.record.state });
      return;
    }
    if (claim.outcome === 'busy') {
      const waitMs = Math.max(1_000, claim.retryAt - clock());
      await deps.queue.delayRedelivery(message.receiptHandle, waitMs / 1_000);
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
        name: 'AttemptsExhaustedError',
        message: `attempt ${attempt - 1} of ${record.maxAttempts} did not finish (the function timed out or crashed)`,
        retryable: false,
      };
      await killJob(message, record, attempt, error, logger);
      return;
    }

    logger.debug('Job started');
    observer.started(observed);
    try {
      const result = await runWithDeadline(
        (signal) =>
          definition.handler(
            payload,
            createJobContext(
              {
                store: deps.store,
                stepRetentionMs: deps.stepRetentionMs ?? DEFAULT_STEP_RETENTION_MS,
                ...(deps.idempotency ? { idempotency: deps.idempotency } : {}),
              },
              { record, attempt, correlationId, logger, signal, deadline },
            ),
          ),
        deadline,
        () => new JobTimeoutError(record.id, record.type, deadline - startedAt),
        clock,
      );
      const stored = await deps.store.succeed(record.id, attempt, storableResult(result, logger));
      if (stored) {
        observer.succeeded(observed, clock() - startedAt);
        logger.info('Job succeeded', { durationMs: clock() - startedAt });
      } else logger.warn('Job finished but no longer owned this attempt (cancelled or taken over); result not stored');
    } catch (thrown) {
      await handleFailure(message, record, attempt, thrown, definition, logger, clock() - startedAt);
    }
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
    if (thrown instanceof JobCancelledError) {
      if (await deps.store.markCancelledByRun(record.id, attempt)) {
        observer.cancelled({ jobType: record.type, queue: deps.queueName, attempt });
        logger.info('Job stopped at a cancellation check and is cancelled', { durationMs });
      }
      return;
    }
    if (thrown instanceof LeaseLostError) {
      // Another delivery owns the job now; keep the message so it is not lost if that run dies too.
      logger.warn('Attempt lost ownership of the job; leaving the message to the current owner', { durationMs });
      throw new RedeliveryRequestedError(thrown.message, { jobId: record.id, jobType: record.type, cause: thrown });
    }
    const retryable = isRetryable(thrown) && attempt < record.maxAttempts;
    const error = toErrorInfo(thrown, isRetryable(thrown));
    if (!retryable) {
      logger.error('Job failed for good', { error: thrown as Error, durationMs });
      await killJob(message, record, attempt, error, logger);
      return;
    }
    const delayMs = retryDelayMs(definition.retry, attempt, random);
    // Without the stack, a retrying record stays under 1 KB: one write unit instead of two or more.
    // The stack is in this attempt's log line, and stored with the error when the job dies.
    const { stack: _stack, ...errorWithoutStack } = error;
    const owned = await deps.store.scheduleRetry(record.id, attempt, errorWithoutStack, clock() + delayMs);
    if (!owned) {
      logger.warn('Attempt failed but no longer owns the job (cancelled or taken over); dropping this delivery');
      return;
    }
    await deps.queue.delayRedelivery(message.receiptHandle, delayMs / 1_000);
    observer.retried({ jobType: record.type, queue: deps.queueName, attempt }, delayMs);
    // The stack is logged once, when the job dies; a retry line carries its first frames only (log bytes cost).
    logger.warn('Job attempt failed; retrying after backoff', {
      error: { name: error.name, message: error.message, stack: firstFrames(error.stack) },
      delayMs,
      durationMs,
    });
    throw new RedeliveryRequestedError(`attempt ${attempt} failed; retry in ${delayMs} ms`, {
      jobId: record.id,
      jobType: record.type,
      cause: thrown,
    });
  }

  /** Dead-letters the message first, then the record: if the second write fails, the redelivery finds the job still owned and retries the whole step. */
  async function killJob(message: SQSRecord, record: JobRecord, attempt: number, error: JobErrorInfo, logger: JobLog) {
    await deps.queue.sendToDeadLetter(message.body, { jobId: record.id, errorName: error.name, errorMessage: error.message });
    const marked = await deps.store.markDead(record.id, error, { attempt });
    if (marked) {
      observer.dead({ jobType: record.type, queue: deps.queueName, attempt }, error.name);
      logger.error('Job is dead', { reason: error.message });
    } else logger.warn('Job could not be marked dead: it is no longer owned by this attempt');
  }

  async function rejectPoison(
    message: SQSRecord,
    error: JobstackError,
    context: { jobId: string | undefined; jobType: string | undefined; definition?: AnyJobDefinition },
  ): Promise<void> {
    const errorInfo = toErrorInfo(error, false);
    await deps.queue.sendToDeadLetter(message.body, {
      ...(context.jobId === undefined ? {} : { jobId: context.jobId }),
      errorName: errorInfo.name,
      errorMessage: errorInfo.message,
    });
    if (context.jobId === undefined) {
      deps.logger.error('Unreadable message moved to the dead-letter queue', {
        messageId: message.messageId,
        reason: error.message,
      });
      return;
    }
    const marked = await deps.store.markDead(context.jobId, errorInfo, {
      type: context.jobType ?? 'unknown',
      queue: deps.queueName,
      maxAttempts: context.definition?.retry.maxAttempts ?? 1,
    });
    if (marked) observer.dead({ jobType: context.jobType ?? 'unknown', queue: deps.queueName, attempt: 0 }, errorInfo.name);
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

function storableResult(result: unknown, logger: JobLog): unknown {
  if (result === undefined) return null;
  const json = JSON.stringify(result);
  if (json === undefined) return null;
  const sizeBytes = Buffer.byteLength(json);
  if (sizeBytes <= MAX_STORED_RESULT_BYTES) return JSON.parse(json);
  logger.warn('Job result too large to store on the record; storing its size only', { sizeBytes });
  return { resultTooLarge: true, sizeBytes, limitBytes: MAX_STORED_RESULT_BYTES };
}
