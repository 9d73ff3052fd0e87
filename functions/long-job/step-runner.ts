import type { Logger } from '@aws-lambda-powertools/logger';
import type { ZodType } from 'zod';
import {
  InvalidPayloadError,
  type JobErrorInfo,
  type JobProgress,
  type JobRecord,
  type JobRegistry,
  JobTimeoutError,
  NonRetryableError,
  parseDuration,
  retryDelayMs,
  UnknownJobTypeError,
} from '../../shared/index.js';
import { isLongJob } from '../../shared/long-jobs/define-long-job.js';
import type { LongJobRecords } from '../../shared/long-jobs/long-job-store.js';
import type { LongJobDefinition } from '../../shared/long-jobs/types.js';
import { executionName } from '../../shared/scheduling/names.js';
import { isRetryable, toErrorInfo } from '../worker/error-info.js';
import { type JobObserver, silentObserver } from '../worker/job-observer.js';
import { runWithDeadline } from '../worker/run-with-deadline.js';
import { type FailureInput, type LongJobState, type StepInput, type StepOutput, StepStatus } from './types.js';

/** Time kept back from the Lambda deadline to record a step's outcome. */
export const STEP_SAFETY_MS = 5_000;
/**
 * Step invocations per execution before continuing as a new one. A loop turn
 * costs about 9 history events (task 5, choice 2, wait 2), so 1,000 turns stay
 * far below Step Functions' 25,000-event limit, even with task retries.
 */
export const DEFAULT_MAX_STEPS_PER_EXECUTION = 1_000;
/** Largest checkpoint stored on the record, as JSON (with a ≤ 200 KB payload, the item stays below 400 KB). */
export const MAX_CHECKPOINT_BYTES = 100_000;
/** Largest `waitFor` (a Standard execution lives at most a year). */
const MAX_WAIT_SECONDS = 30 * 86_400;

/** A step's checkpoint does not fit on the job record. */
export class CheckpointTooLargeError extends NonRetryableError {
  constructor(jobId: string, jobType: string, sizeBytes: number) {
    super(
      `checkpoint of job '${jobId}' is ${sizeBytes} bytes as JSON, over the ${MAX_CHECKPOINT_BYTES}-byte limit: store large state elsewhere (S3) and checkpoint a reference`,
      { jobId, jobType },
    );
    this.name = 'CheckpointTooLargeError';
  }
}

export interface StepRunnerDeps {
  readonly registry: JobRegistry;
  readonly records: LongJobRecords;
  readonly logger: Logger;
  /** @default Date.now */
  readonly clock?: () => number;
  /** @default Math.random */
  readonly random?: () => number;
  /** @default DEFAULT_MAX_STEPS_PER_EXECUTION */
  readonly maxStepsPerExecution?: number;
  /** Told when an attempt starts and how the job's attempts end (metrics). @default silentObserver */
  readonly observer?: JobObserver;
}

/**
 * The step Lambda's logic: runs one step of a long job and tells the state
 * machine what to do next. Every outcome of the job's own code (a result, a
 * checkpoint, an error, a timeout) comes back as a status; it throws only when
 * its own bookkeeping fails (DynamoDB unreachable), which the state machine
 * retries as an infrastructure error.
 */
export function createStepRunner(deps: StepRunnerDeps) {
  const clock = deps.clock ?? Date.now;
  const random = deps.random ?? Math.random;
  const maxSteps = deps.maxStepsPerExecution ?? DEFAULT_MAX_STEPS_PER_EXECUTION;
  const observer = deps.observer ?? silentObserver;

  async function runStep(input: StepInput, remainingMs: number): Promise<StepOutput> {
    const state: LongJobState = {
      jobId: input.jobId,
      startAttempt: input.startAttempt,
      generation: input.generation,
      executionSteps: input.executionSteps,
    };
    const logger = deps.logger.createChild({ persistentKeys: { jobId: input.jobId, executionArn: input.executionArn } });
    if (input.executionSteps >= maxSteps) {
      const next = { ...state, generation: state.generation + 1, executionSteps: 0 };
      logger.info('Continuing as a new execution to keep the history short', { generation: next.generation });
      return {
        ...next,
        status: StepStatus.continueAsNew,
        waitSeconds: 0,
        nextExecutionName: executionName(input.jobId, input.startAttempt, next.generation),
      };
    }
    const counted = { ...state, executionSteps: state.executionSteps + 1 };
    const end = (status: StepStatus, waitSeconds = 0): StepOutput => ({ ...counted, status, waitSeconds });

    let record = await deps.records.get(input.jobId);
    if (!record) {
      logger.warn('No record for this long job (expired or deleted); ending the execution');
      return end(StepStatus.finished);
    }
    if (record.state === 'succeeded' || record.state === 'dead' || record.state === 'cancelled') {
      logger.info('Long job is already finished', { state: record.state });
      return end(record.state === 'cancelled' ? StepStatus.cancelled : StepStatus.finished);
    }
    const definition = deps.registry[record.type];
    if (!definition || !isLongJob(definition)) {
      const error = definition
        ? new NonRetryableError(`job type '${record.type}' is not a long job`, { jobId: record.id, jobType: record.type })
        : new UnknownJobTypeError(record.type, Object.keys(deps.registry), { jobId: record.id });
      await deps.records.markDead(record.id, toErrorInfo(error, false), {});
      logger.error('Long job cannot run', { reason: error.message });
      return end(StepStatus.dead);
    }
    if (record.state === 'running' && record.cancelRequested) {
      await deps.records.markCancelledByRun(record.id, record.attempts);
      observer.cancelled({ jobType: record.type, queue: record.queue, attempt: record.attempts });
      logger.info('Long job cancelled at a step boundary');
      return end(StepStatus.cancelled);
    }
    if (record.state !== 'running') {
      const begun = await deps.records.beginAttempt(record.id, input.executionArn);
      if (!begun) {
        // Cancelled (or finished) between the read and the write: look again and end accordingly.
        const latest = await deps.records.get(record.id);
        logger.info('Long job changed before its attempt began', { state: latest?.state });
        return end(latest?.state === 'cancelled' ? StepStatus.cancelled : StepStatus.finished);
      }
      record = begun;
      observer.started({ jobType: record.type, queue: record.queue, attempt: record.attempts });
    }
    return runOwnedStep(record, definition, input, remainingMs, logger, end);
  }

  async function runOwnedStep(
    record: JobRecord,
    definition: LongJobDefinition,
    input: StepInput,
    remainingMs: number,
    parentLogger: Logger,
    endState: (status: StepStatus, waitSeconds?: number) => StepOutput,
  ): Promise<StepOutput> {
    const attempt = record.attempts;
    const observed = { jobType: record.type, queue: record.queue, attempt };
    const end = (status: StepStatus, waitSeconds?: number): StepOutput => {
      // A long job's duration is its attempt's, from its first step to its last.
      if (status === StepStatus.succeeded)
        observer.succeeded(observed, clock() - Date.parse(record.startedAt ?? record.createdAt));
      else if (status === StepStatus.dead) observer.dead(observed, 'LongJobFailed');
      else if (status === StepStatus.retry) observer.retried(observed, (waitSeconds ?? 0) * 1_000);
      else if (status === StepStatus.cancelled) observer.cancelled(observed);
      return endState(status, waitSeconds);
    };
    const stepsDone = record.steps ?? 0;
    const logger = parentLogger.createChild({ persistentKeys: { jobType: record.type, attempt, step: stepsDone + 1 } });
    const fail = async (thrown: unknown): Promise<StepOutput> => {
      const retryable = isRetryable(thrown) && attempt < record.maxAttempts;
      const error = toErrorInfo(thrown, isRetryable(thrown));
      if (!retryable) {
        const marked = await deps.records.markDead(record.id, error, { attempt });
        logger.error('Long job failed for good', { error: thrown as Error, recorded: marked });
        return end(marked ? StepStatus.dead : StepStatus.finished);
      }
      const delayMs = retryDelayMs(definition.retry, attempt, random);
      // Without the stack the record stays small (fewer write units); the stack is logged below.
      const { stack: _stack, ...errorWithoutStack } = error;
      const owned = await deps.records.scheduleRetry(record.id, attempt, errorWithoutStack, clock() + delayMs);
      if (!owned) return end(StepStatus.finished);
      logger.warn('Long job step failed; retrying from the last checkpoint after backoff', { error: errorWithoutStack, delayMs });
      return end(StepStatus.retry, Math.ceil(delayMs / 1_000));
    };

    const schema: ZodType = definition.schema;
    const payload = schema.safeParse(record.payload);
    if (!payload.success) {
      const issues = payload.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
      return fail(new InvalidPayloadError(record.type, issues, { jobId: record.id }));
    }

    const startedAt = clock();
    const deadline = Math.min(startedAt + definition.stepTimeoutMs, startedAt + remainingMs - STEP_SAFETY_MS);
    let outcome: Awaited<ReturnType<LongJobDefinition['step']>>;
    try {
      outcome = await runWithDeadline(
        (signal) =>
          definition.step(payload.data, {
            jobId: record.id,
            jobType: record.type,
            attempt,
            step: stepsDone,
            checkpoint: record.checkpoint,
            correlationId: record.correlationId ?? record.id,
            logger,
            signal,
            deadline,
          }),
        deadline,
        () => new JobTimeoutError(record.id, record.type, deadline - startedAt),
        clock,
      );
      if (outcome === null || typeof outcome !== 'object') {
        throw new NonRetryableError(
          `step of '${record.type}' returned ${String(outcome)}, not { done, result } or { checkpoint }`,
          {
            jobId: record.id,
            jobType: record.type,
          },
        );
      }
    } catch (thrown) {
      return fail(thrown);
    }

    if (outcome.done === true) {
      const stored = await deps.records.succeed(record.id, attempt, storable(outcome.result), stepsDone + 1, input.executionArn);
      logger.info(stored ? 'Long job succeeded' : 'Long job finished but no longer owned its attempt', {
        steps: stepsDone + 1,
      });
      return end(stored ? StepStatus.succeeded : StepStatus.finished);
    }

    let waitSeconds = 0;
    let progress: JobProgress | undefined;
    try {
      const json = JSON.stringify(outcome.checkpoint ?? null);
      const sizeBytes = Buffer.byteLength(json);
      if (sizeBytes > MAX_CHECKPOINT_BYTES) throw new CheckpointTooLargeError(record.id, record.type, sizeBytes);
      progress = toProgress(outcome.progress);
      if (outcome.waitFor !== undefined) {
        waitSeconds = Math.ceil(parseDuration(outcome.waitFor) / 1_000);
        if (waitSeconds > MAX_WAIT_SECONDS) {
          throw new NonRetryableError(`waitFor must be at most 30 days (given ${String(outcome.waitFor)})`, {
            jobId: record.id,
            jobType: record.type,
          });
        }
      }
    } catch (thrown) {
      return fail(thrown instanceof NonRetryableError ? thrown : new NonRetryableError((thrown as Error).message));
    }

    const saved = await deps.records.saveCheckpoint(record.id, attempt, {
      checkpoint: JSON.parse(JSON.stringify(outcome.checkpoint ?? null)),
      steps: stepsDone + 1,
      executionArn: input.executionArn,
      ...(progress === undefined ? {} : { progress }),
    });
    if (!saved) {
      const latest = await deps.records.get(record.id);
      logger.info('Checkpoint not stored: the job changed during the step', { state: latest?.state });
      return end(latest?.state === 'cancelled' ? StepStatus.cancelled : StepStatus.finished);
    }
    if (saved.cancelRequested) {
      await deps.records.markCancelledByRun(record.id, attempt);
      logger.info('Long job cancelled after its step');
      return end(StepStatus.cancelled);
    }
    logger.info('Long job step done', { steps: stepsDone + 1, progress: progress?.percent, waitSeconds });
    return waitSeconds > 0 ? end(StepStatus.wait, waitSeconds) : end(StepStatus.continue);
  }

  /**
   * Records a failure the state machine caught (the step task failed even after
   * its retries: a crash, a timeout, a permission error), so the job ends
   * `dead` with the reason instead of staying `running`.
   */
  async function recordFailure(input: FailureInput): Promise<{ recorded: boolean }> {
    const record = await deps.records.get(input.jobId);
    if (!record) return { recorded: false };
    const error: JobErrorInfo = {
      name: input.error.Error ?? 'States.TaskFailed',
      message: `the long-job step failed outside the job's code: ${(input.error.Cause ?? '').slice(0, 1_500)}`,
      retryable: false,
    };
    const recorded = await deps.records.markDead(
      record.id,
      error,
      record.state === 'running' ? { attempt: record.attempts } : {},
    );
    deps.logger.error('Long job ended by an infrastructure failure', { jobId: input.jobId, error: error.name, recorded });
    return { recorded };
  }

  return { runStep, recordFailure };
}

function toProgress(progress: number | JobProgress | undefined): JobProgress | undefined {
  if (progress === undefined) return undefined;
  const value = typeof progress === 'number' ? { percent: progress } : progress;
  if (!Number.isFinite(value.percent))
    throw new NonRetryableError(`progress must be a number 0..100 (given ${String(value.percent)})`);
  const percent = Math.max(0, Math.min(100, value.percent));
  return value.message === undefined ? { percent } : { percent, message: String(value.message).slice(0, 500) };
}

function storable(result: unknown): unknown {
  if (result === undefined) return null;
  const json = JSON.stringify(result);
  if (json === undefined) return null;
  const sizeBytes = Buffer.byteLength(json);
  if (sizeBytes <= 100_000) return JSON.parse(json);
  return { resultTooLarge: true, sizeBytes, limitBytes: 100_000 };
}
