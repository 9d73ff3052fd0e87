import type { ChildJob } from '../../shared/flows/types.js';
import {
  ConfigurationError,
  type IdempotencyStore,
  type InterruptedStep,
  InvalidArgumentError,
  JobCancelledError,
  type JobContext,
  type JobRecord,
  type JobStore,
  LeaseLostError,
  NonRetryableError,
  type OnceOptions,
  StepOutcomeUnknownError,
} from '../../shared/index.js';
import { MAX_STEP_RESULT_BYTES, stepResultJson } from '../../shared/store/idempotency-store.js';
import type { AttemptFlows } from './attempt-flows.js';
import type { JobLog } from './job-log.js';

/** A `ctx.once` result must fit in one DynamoDB item with room to spare. */
export const MAX_ONCE_RESULT_BYTES = MAX_STEP_RESULT_BYTES;

export interface JobContextDeps {
  readonly store: JobStore;
  /** Needed only by jobs that call `ctx.once`. */
  readonly idempotency?: IdempotencyStore;
  /** How long a completed step's result is kept. */
  readonly stepRetentionMs: number;
}

export interface AttemptInfo {
  readonly record: JobRecord;
  /** Keeps what `ctx.enqueue` and `ctx.spawnAndWait` ask for until the outcome is written. */
  readonly flows: AttemptFlows;
  /** A resumed parent's children (see `ctx.children`). */
  readonly children?: readonly ChildJob[];
  readonly attempt: number;
  readonly correlationId: string;
  readonly logger: JobLog;
  readonly signal: AbortSignal;
  readonly deadline: number;
}

/** Builds what a handler gets besides its payload, bound to one attempt of one job. */
export function createJobContext(deps: JobContextDeps, info: AttemptInfo): JobContext {
  const { record, attempt } = info;
  return {
    jobId: record.id,
    jobType: record.type,
    attempt,
    correlationId: info.correlationId,
    get logger() {
      return info.logger.child;
    },
    signal: info.signal,
    deadline: info.deadline,
    ...(info.children === undefined ? {} : { children: info.children }),

    enqueue: (type, payload, options) => info.flows.enqueue(type, payload, options),

    spawnAndWait: (children, options) => info.flows.spawnAndWait(children, options),

    async once<T>(name: string, step: () => Promise<T>, options: OnceOptions<T> = {}): Promise<T> {
      const idempotency = deps.idempotency;
      if (!idempotency) throw new ConfigurationError('ctx.once needs the idempotency table; the worker has none configured');
      if (name.length === 0 || name.length > 200)
        throw new InvalidArgumentError(`ctx.once name must be 1..200 characters (given ${name.length})`);
      const onInterrupted = options.onInterrupted ?? 'fail';
      const lost = () => new LeaseLostError(record.id, attempt);

      // Two reads at most: a marker that appears between the read and our conditional write is read again once.
      let state = await idempotency.readStep(record.id, name);
      let resolveInterrupted: (() => Promise<T>) | undefined;
      for (let round = 0; ; round++) {
        if (state?.status === 'completed') {
          info.logger.info('Step already completed in an earlier attempt; using its stored result', { step: name });
          return state.result as T;
        }
        if (state === undefined) {
          if (await idempotency.beginStep(record.id, name, attempt, deps.stepRetentionMs)) break;
        } else if (state.attempt >= attempt) {
          // A later attempt owns the job (this run's lease is gone), or this attempt already runs the step.
          if (state.attempt === attempt) {
            throw new NonRetryableError(`ctx.once('${name}') was called again while it runs in this attempt`, {
              jobId: record.id,
              jobType: record.type,
            });
          }
          throw lost();
        } else {
          const interrupted: InterruptedStep = { jobId: record.id, step: name, startedByAttempt: state.attempt };
          if (onInterrupted === 'fail') {
            throw new StepOutcomeUnknownError(name, state.attempt, { jobId: record.id, jobType: record.type });
          }
          if (await idempotency.takeOverStep(record.id, name, state.attempt, attempt, deps.stepRetentionMs)) {
            info.logger.warn('Step was interrupted in an earlier attempt; resolving it as the handler asked', {
              step: name,
              startedByAttempt: state.attempt,
              onInterrupted: typeof onInterrupted === 'function' ? 'function' : onInterrupted,
            });
            if (typeof onInterrupted === 'function') resolveInterrupted = () => onInterrupted(interrupted);
            break;
          }
        }
        if (round >= 1) throw lost();
        state = await idempotency.readStep(record.id, name);
      }

      let result: T;
      if (resolveInterrupted) {
        // A resolver that throws leaves the marker in place: the outcome is still unknown, the next attempt asks again.
        result = await resolveInterrupted();
      } else {
        try {
          result = await step();
        } catch (error) {
          await idempotency.abandonStep(record.id, name, attempt).catch((abandonError: unknown) => {
            // The marker stays, so the next attempt treats the step as interrupted: the safe side. The step's own
            // error is the one that explains the failure.
            info.logger.warn('Could not forget a failed step; the next attempt will see it as interrupted', {
              step: name,
              error: abandonError as Error,
            });
          });
          throw error;
        }
      }
      const json = resultJson(name, result, record);
      if (!(await idempotency.completeStep(record.id, name, attempt, json))) throw lost();
      return JSON.parse(json) as T;
    },

    async progress(percent: number, message?: string): Promise<void> {
      if (!Number.isFinite(percent) || percent < 0 || percent > 100) {
        throw new InvalidArgumentError(`progress percent must be 0..100 (given ${percent})`);
      }
      const outcome = await deps.store.reportProgress(record.id, attempt, {
        percent,
        ...(message === undefined ? {} : { message: message.slice(0, 500) }),
      });
      if (outcome === 'cancel-requested') throw new JobCancelledError(record.id);
      if (outcome === 'lost') throw new LeaseLostError(record.id, attempt);
    },
  };
}

/**
 * The text a step's result is stored as. Failing here is non-retryable and
 * leaves the step's marker in place: the step did run, so a retry must not run it
 * again unasked.
 */
function resultJson(name: string, result: unknown, record: JobRecord): string {
  try {
    return stepResultJson(result);
  } catch (error) {
    throw new NonRetryableError(`ctx.once('${name}'): ${(error as Error).message}`, {
      jobId: record.id,
      jobType: record.type,
      cause: error,
    });
  }
}
