import type { Logger } from '@aws-lambda-powertools/logger';
import {
  type HandlerRegistry,
  type JobErrorInfo,
  type JobProgress,
  type JobRecord,
  JobTimeoutError,
  NonRetryableError,
  OutcomeNotRecordedError,
  parseDuration,
  UnknownJobTypeError,
} from '../../shared/index.js';
import { findJobDefinition } from '../../shared/job-definition.js';
import { EXPRESS_END_MARGIN_MS, EXPRESS_MAX_DURATION_MS, isLongJob } from '../../shared/long-jobs/define-long-job.js';
import type { LongJobRecords } from '../../shared/long-jobs/long-job-store.js';
import type { LongJobDefinition } from '../../shared/long-jobs/types.js';
import { continuedExecutionName, sameExecutionChain } from '../../shared/scheduling/names.js';
import { classifyFailure } from '../attempt/failure.js';
import { storableCheckpoint, storableResult, writeOutcome } from '../attempt/outcome.js';
import { type PayloadReader, resolvePayload, validatePayload } from '../attempt/payload.js';
import { recordCancelWatch, runAttempt, type Timers } from '../attempt/run-attempt.js';
import { toErrorInfo } from '../worker/error-info.js';
import { type JobObserver, silentObserver } from '../worker/job-observer.js';
import { type FailureInput, type LongJobState, type StepInput, type StepOutput, StepStatus } from './types.js';

export { MAX_CHECKPOINT_BYTES } from '../attempt/outcome.js';

/** Time kept back from the Lambda deadline to record a step's outcome. */
export const STEP_SAFETY_MS = 5_000;
/** The last outcome write starts at least this long before the Lambda ends, so it can finish. */
const LAST_WRITE_MARGIN_MS = 1_000;
/**
 * Step invocations per execution before continuing as a new one. A loop turn
 * costs about 9 history events (task 5, choice 2, wait 2), so 1,000 turns stay
 * far below Step Functions' 25,000-event limit, even with task retries.
 */
export const DEFAULT_MAX_STEPS_PER_EXECUTION = 1_000;
/** Largest `waitFor` (a Standard execution lives at most a year). */
const MAX_WAIT_SECONDS = 30 * 86_400;
/**
 * How long one invocation keeps starting steps, by default. Past it the
 * invocation returns and the state machine calls the next one: one Task and one
 * Choice transition per invocation instead of per step, so on Standard ten
 * short steps cost 3 transitions instead of 21.
 */
export const DEFAULT_INVOCATION_BUDGET_MS = 60_000;

export interface StepRunnerDeps {
  readonly registry: HandlerRegistry;
  readonly records: LongJobRecords;
  readonly logger: Logger;
  /** Reads payloads that travel by reference (over the inline limit). */
  readonly payloads?: PayloadReader;
  /** @default Date.now */
  readonly clock?: () => number;
  /** Timers of the step's deadline, cancellation watch and outcome-write backoff. @default the real ones */
  readonly timers?: Timers;
  /** @default Math.random */
  readonly random?: () => number;
  /** @default DEFAULT_MAX_STEPS_PER_EXECUTION */
  readonly maxStepsPerExecution?: number;
  /**
   * How long an invocation keeps starting steps (another step starts only while
   * less than this has passed and its whole stepTimeout still fits in the
   * Lambda's remaining time). 0: one step per invocation.
   * @default DEFAULT_INVOCATION_BUDGET_MS
   */
  readonly invocationBudgetMs?: number;
  /** Told when an attempt starts and how the job's attempts end (metrics). @default silentObserver */
  readonly observer?: JobObserver;
}

/** What one step ended in: the invocation's final answer, or a stored checkpoint after which another step may follow. */
type StepEnd = { readonly output: StepOutput } | { readonly saved: JobRecord };

/**
 * The step Lambda's logic: runs steps of a long job, as many as fit the
 * invocation's time budget, and tells the state machine what to do next.
 *
 * Each step is checkpointed as it ends, exactly as with one step per
 * invocation: the next step of the loop starts from the record that write
 * returned (no extra read), so a crash mid-loop loses nothing but the step
 * that was running, and the state machine's retry resumes at the last
 * checkpoint. Between steps the written record says whether cancel was asked.
 *
 * Express executions run at least once (AWS: "Express Workflows employ an
 * at-least-once workflow execution model"): a run may be repeated, and a
 * repeated delivery starts a second run under the same name. Checkpoints keep
 * that from showing in the job: a checkpoint is written only over the one it
 * followed (`steps` is the version; see LongJobStore.saveCheckpoint), so of
 * two runs of the same step one records its outcome and the other finds the
 * record moved on and ends. Steps are run at least once, and their outcomes
 * are recorded exactly once and in order: the same promise as a retried step
 * on Standard, where a step's side effects must already bear a repeat. Every outcome of the job's own code (a result, a
 * checkpoint, an error, a timeout) comes back as a status; it throws only when
 * its own bookkeeping fails (DynamoDB unreachable), which the state machine
 * retries as an infrastructure error.
 */
export function createStepRunner(deps: StepRunnerDeps) {
  const clock = deps.clock ?? Date.now;
  const random = deps.random ?? Math.random;
  const maxSteps = deps.maxStepsPerExecution ?? DEFAULT_MAX_STEPS_PER_EXECUTION;
  const observer = deps.observer ?? silentObserver;
  const budgetMs = deps.invocationBudgetMs ?? DEFAULT_INVOCATION_BUDGET_MS;

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
        nextExecutionName: continuedExecutionName(input.executionArn, next.generation),
        resumeAt: 0,
      };
    }
    const counted = { ...state, executionSteps: state.executionSteps + 1 };
    const end = (status: StepStatus, waitSeconds = 0, stepsRun = 0): StepOutput => ({
      ...counted,
      status,
      waitSeconds,
      ...(stepsRun > 0 ? { stepsRun } : {}),
    });
    const resumeAt = input.executionSteps === 0 ? (input.executionInput?.resumeAt ?? 0) : 0;
    if (resumeAt > clock()) {
      // Handed over from Express in the middle of a wait or a retry backoff: the rest of it is waited here.
      const waitSeconds = Math.ceil((resumeAt - clock()) / 1_000);
      logger.info('Continuing the wait the previous execution began', { waitSeconds });
      return end(StepStatus.wait, waitSeconds);
    }

    let record = await deps.records.get(input.jobId);
    if (!record) {
      logger.warn('No record for this long job (expired or deleted); ending the execution');
      return end(StepStatus.finished);
    }
    if (record.state === 'succeeded' || record.state === 'dead' || record.state === 'cancelled') {
      logger.info('Long job is already finished', { state: record.state });
      return end(record.state === 'cancelled' ? StepStatus.cancelled : StepStatus.finished);
    }
    const definition = findJobDefinition(deps.registry, record.type);
    if (!definition || !isLongJob(definition)) {
      const error = definition
        ? new NonRetryableError(`job type '${record.type}' is not a long job`, { jobId: record.id, jobType: record.type })
        : new UnknownJobTypeError(record.type, Object.keys(deps.registry), { jobId: record.id });
      await deps.records.markDead(record.id, toErrorInfo(error, false), {});
      logger.error('Long job cannot run', { reason: error.message });
      return end(StepStatus.dead);
    }
    if (record.state === 'running' && record.executionArn && !sameExecutionChain(record.executionArn, input.executionArn)) {
      // A stray second execution (started for the same series under another name): the job is not its to run.
      logger.warn('Another execution runs this long job; ending this one', { runningIn: record.executionArn });
      return end(StepStatus.finished);
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
    return runOwnedSteps(record, definition, input, remainingMs, logger, end);
  }

  /**
   * Runs steps while the invocation's budget allows: another step starts only
   * while less than `invocationBudgetMs` has passed since the invocation began
   * and the step's whole stepTimeout (plus the outcome's safety time) still
   * fits before the Lambda ends, and, on Express, before the execution does.
   * So a step's deadline is never shortened by running in a loop.
   */
  async function runOwnedSteps(
    first: JobRecord,
    definition: LongJobDefinition,
    input: StepInput,
    remainingMs: number,
    logger: Logger,
    end: (status: StepStatus, waitSeconds?: number, stepsRun?: number) => StepOutput,
  ): Promise<StepOutput> {
    const invokedAt = clock();
    const limits: StepLimits = {
      lambdaDeadline: invokedAt + remainingMs,
      executionDeadline: expressDeadline(input, invokedAt),
    };
    let payload: unknown;
    let record = first;
    for (let stepsRun = 1; ; stepsRun++) {
      const endHere = (status: StepStatus, waitSeconds?: number) => end(status, waitSeconds, stepsRun);
      const result = await runOwnedStep(record, definition, input, limits, payload, logger, endHere);
      if ('output' in result) return result.output;
      payload = result.payload;
      record = result.saved;
      const now = clock();
      if (now - invokedAt >= budgetMs || limits.lambdaDeadline - STEP_SAFETY_MS - now < definition.stepTimeoutMs) {
        return endHere(StepStatus.continue);
      }
      // On Express, a next step that would outlast the execution runs on Standard instead (the next loop turn hands over).
    }
  }

  async function runOwnedStep(
    record: JobRecord,
    definition: LongJobDefinition,
    input: StepInput,
    limits: StepLimits,
    knownPayload: unknown,
    parentLogger: Logger,
    endState: (status: StepStatus, waitSeconds?: number) => StepOutput,
  ): Promise<StepEnd & { readonly payload?: unknown }> {
    const startedAt = clock();
    const { lambdaDeadline, executionDeadline } = limits;
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
    /** Ends the invocation with `status`; on Express, a wait or backoff that leaves no room for the next step hands over to Standard. */
    const finish = (status: StepStatus, waitSeconds = 0): { output: StepOutput } => {
      const resumeAt = clock() + waitSeconds * 1_000;
      const waits = status === StepStatus.wait || status === StepStatus.retry;
      if (waits && executionDeadline !== undefined && executionDeadline - resumeAt < definition.stepTimeoutMs) {
        end(status, waitSeconds);
        return { output: handOver(input, resumeAt, parentLogger) };
      }
      return { output: end(status, waitSeconds) };
    };
    const stepsDone = record.steps ?? 0;
    const logger = parentLogger.createChild({ persistentKeys: { jobType: record.type, attempt, step: stepsDone + 1 } });
    const writeOptions = {
      until: lambdaDeadline - LAST_WRITE_MARGIN_MS,
      clock,
      ...(deps.timers ? { timers: deps.timers } : {}),
      onRetry: (error: unknown, delayMs: number) => logger.warn('Could not record the step; trying again', { error, delayMs }),
    };

    const fail = async (thrown: unknown): Promise<{ output: StepOutput }> => {
      const decision = classifyFailure(thrown, { attempt, maxAttempts: record.maxAttempts, retry: definition.retry, random });
      switch (decision.kind) {
        case 'cancelled': {
          const cancelled = await deps.records.markCancelledByRun(record.id, attempt);
          logger.info('Long job stopped on a cancel request', { recorded: cancelled });
          return finish(cancelled ? StepStatus.cancelled : StepStatus.finished);
        }
        case 'lease-lost':
          logger.warn('Long job step no longer owns the job; ending this execution');
          return finish(StepStatus.finished);
        case 'dead': {
          const marked = await deps.records.markDead(record.id, decision.error, { attempt });
          logger.error('Long job failed for good', { error: thrown as Error, recorded: marked });
          return finish(marked ? StepStatus.dead : StepStatus.finished);
        }
        case 'retry': {
          const owned = await deps.records.scheduleRetry(record.id, attempt, decision.error, clock() + decision.delayMs);
          if (!owned) return finish(StepStatus.finished);
          logger.warn('Long job step failed; retrying from the last checkpoint after backoff', {
            error: decision.error,
            delayMs: decision.delayMs,
          });
          return finish(StepStatus.retry, Math.ceil(decision.delayMs / 1_000));
        }
      }
    };

    /**
     * The step returned but what it returned could not be written: the job ends
     * dead rather than run the step again. Should that write fail too, the error
     * goes to the state machine, whose task retries run the step again: only a
     * DynamoDB outage that outlasts these writes and ends before those retries
     * (seconds later) can re-run a step that completed.
     */
    const outcomeNotRecorded = async (writeError: unknown): Promise<{ output: StepOutput }> => {
      const error = toErrorInfo(new OutcomeNotRecordedError(record.id, record.type, attempt, writeError), false);
      const marked = await deps.records.markDead(record.id, error, { attempt });
      logger.error('Long job step returned but its outcome could not be stored; the job is dead', {
        error: writeError as Error,
        recorded: marked,
      });
      return finish(marked ? StepStatus.dead : StepStatus.finished);
    };

    if (executionDeadline !== undefined && executionDeadline - startedAt < definition.stepTimeoutMs) {
      // The job overran the maxDuration it declared: Standard has no 5-minute limit, so it finishes there.
      return { output: handOver(input, 0, logger) };
    }

    let payload: { ok: true; payload: unknown };
    if (knownPayload === undefined) {
      let rawPayload: unknown;
      try {
        // A payload in S3 is read once per invocation (one GET): the step Lambda keeps no state between invocations.
        rawPayload = await resolvePayload(record, deps.payloads);
      } catch (thrown) {
        // Anything else (S3 throttled, no bucket configured) is an infrastructure failure: the state machine retries it.
        if (!(thrown instanceof NonRetryableError)) throw thrown;
        return fail(thrown);
      }
      const validated = validatePayload(definition, rawPayload, record.id);
      if (!validated.ok) return fail(validated.error);
      payload = validated;
    } else payload = { ok: true, payload: knownPayload };

    const deadline = Math.min(
      startedAt + definition.stepTimeoutMs,
      lambdaDeadline - STEP_SAFETY_MS,
      executionDeadline ?? Number.POSITIVE_INFINITY,
    );
    let outcome: Awaited<ReturnType<LongJobDefinition['step']>>;
    try {
      outcome = await runAttempt(
        (signal) =>
          definition.step(payload.payload, {
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
        {
          deadline,
          timeoutError: () => new JobTimeoutError(record.id, record.type, deadline - startedAt),
          clock,
          ...(deps.timers ? { timers: deps.timers } : {}),
          cancelWatch: recordCancelWatch(record.id, (id, options) => deps.records.get(id, options), logger),
        },
      );
      if (outcome === null || typeof outcome !== 'object') {
        throw new NonRetryableError(
          `step of '${record.type}' returned ${String(outcome)}, not { done, result } or { checkpoint }`,
          { jobId: record.id, jobType: record.type },
        );
      }
    } catch (thrown) {
      return fail(thrown);
    }

    // From here the step has returned: its outcome is recorded, or the job ends dead; the step never runs again for it.
    if (outcome.done === true) {
      const stored = storableResult(outcome.result);
      if (stored.note)
        logger.warn('Long job result cannot be stored as it is; storing a stand-in object that says why', {
          reason: stored.reason,
        });
      let owned: boolean;
      try {
        owned = await writeOutcome(
          () => deps.records.succeed(record.id, attempt, stored.value, stepsDone + 1, input.executionArn),
          writeOptions,
        );
      } catch (writeError) {
        return outcomeNotRecorded(writeError);
      }
      logger.info(owned ? 'Long job succeeded' : 'Long job finished but no longer owned its attempt', { steps: stepsDone + 1 });
      return finish(owned ? StepStatus.succeeded : StepStatus.finished);
    }

    let checkpoint: unknown;
    let waitSeconds = 0;
    let progress: JobProgress | undefined;
    try {
      checkpoint = storableCheckpoint(outcome.checkpoint, record);
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
      // What the step returned cannot be kept: retrying would run the step again for the same answer.
      return fail(
        thrown instanceof NonRetryableError
          ? thrown
          : new NonRetryableError((thrown as Error).message, { jobId: record.id, jobType: record.type, cause: thrown }),
      );
    }

    let saved: JobRecord | undefined;
    try {
      saved = await writeOutcome(
        () =>
          deps.records.saveCheckpoint(record.id, attempt, {
            checkpoint,
            steps: stepsDone + 1,
            executionArn: input.executionArn,
            ...(progress === undefined ? {} : { progress }),
          }),
        writeOptions,
      );
    } catch (writeError) {
      return outcomeNotRecorded(writeError);
    }
    if (!saved) {
      const latest = await deps.records.get(record.id);
      logger.info('Checkpoint not stored: the job changed during the step', { state: latest?.state });
      return finish(latest?.state === 'cancelled' ? StepStatus.cancelled : StepStatus.finished);
    }
    if (saved.cancelRequested) {
      await deps.records.markCancelledByRun(record.id, attempt);
      logger.info('Long job cancelled after its step');
      return finish(StepStatus.cancelled);
    }
    logger.info('Long job step done', { steps: stepsDone + 1, progress: progress?.percent, waitSeconds });
    return waitSeconds > 0 ? finish(StepStatus.wait, waitSeconds) : { saved, payload: payload.payload };
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

  /** Continues in a new execution of the Standard state machine (the Express one's ContinueAsNew targets it). */
  function handOver(input: StepInput, resumeAt: number, logger: Logger): StepOutput {
    const next = {
      jobId: input.jobId,
      startAttempt: input.startAttempt,
      generation: input.generation + 1,
      executionSteps: 0,
    };
    logger.warn('Long job outlasts its Express execution (it overran its maxDuration); handing over to Standard', {
      generation: next.generation,
      resumeAt: resumeAt > 0 ? new Date(resumeAt).toISOString() : undefined,
    });
    return {
      ...next,
      status: StepStatus.continueAsNew,
      waitSeconds: 0,
      nextExecutionName: continuedExecutionName(input.executionArn, next.generation),
      resumeAt,
    };
  }

  return { runStep, recordFailure };
}

interface StepLimits {
  /** Epoch ms at which Lambda ends the invocation. */
  readonly lambdaDeadline: number;
  /** On Express: epoch ms by which the execution must have handed over or ended (its 5 minutes less a margin). */
  readonly executionDeadline: number | undefined;
}

function expressDeadline(input: StepInput, now: number): number | undefined {
  if (input.workflow !== 'express') return undefined;
  const startedAt = Date.parse(input.executionStartedAt ?? '');
  // No start time (not from the state machine): count from now, which is later than the real start, so only a margin is lost.
  const from = Number.isFinite(startedAt) ? startedAt : now;
  return from + EXPRESS_MAX_DURATION_MS - EXPRESS_END_MARGIN_MS;
}

function toProgress(progress: number | JobProgress | undefined): JobProgress | undefined {
  if (progress === undefined) return undefined;
  const value = typeof progress === 'number' ? { percent: progress } : progress;
  if (!Number.isFinite(value.percent))
    throw new NonRetryableError(`progress must be a number 0..100 (given ${String(value.percent)})`);
  const percent = Math.max(0, Math.min(100, value.percent));
  return value.message === undefined ? { percent } : { percent, message: String(value.message).slice(0, 500) };
}
