import {
  ConfigurationError,
  type IdempotencyStore,
  InvalidArgumentError,
  JobCancelledError,
  type JobContext,
  type JobRecord,
  type JobStore,
  LeaseLostError,
  NonRetryableError,
} from '../../shared/index.js';
import type { JobLog } from './job-log.js';

/** A `ctx.once` result must fit in one DynamoDB item with room to spare. */
export const MAX_ONCE_RESULT_BYTES = 300_000;

export interface JobContextDeps {
  readonly store: JobStore;
  /** Needed only by jobs that call `ctx.once`. */
  readonly idempotency?: IdempotencyStore;
  /** How long a completed step's result is kept. */
  readonly stepRetentionMs: number;
}

export interface AttemptInfo {
  readonly record: JobRecord;
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

    async once<T>(name: string, step: () => Promise<T>): Promise<T> {
      if (!deps.idempotency) throw new ConfigurationError('ctx.once needs the idempotency table; the worker has none configured');
      if (name.length === 0 || name.length > 200)
        throw new InvalidArgumentError(`ctx.once name must be 1..200 characters (given ${name.length})`);
      const done = await deps.idempotency.completedStep(record.id, name);
      if (done) {
        info.logger.info('Step already completed in an earlier attempt; using its stored result', { step: name });
        return done.result as T;
      }
      if (!(await deps.idempotency.beginStep(record.id, name, attempt, deps.stepRetentionMs))) {
        throw new LeaseLostError(record.id, attempt);
      }
      let result: T;
      try {
        result = await step();
      } catch (error) {
        await deps.idempotency.abandonStep(record.id, name, attempt);
        throw error;
      }
      const json = JSON.stringify(result ?? null);
      if (Buffer.byteLength(json) > MAX_ONCE_RESULT_BYTES) {
        throw new NonRetryableError(
          `ctx.once('${name}') result is ${Buffer.byteLength(json)} bytes, over ${MAX_ONCE_RESULT_BYTES}`,
          {
            jobId: record.id,
            jobType: record.type,
          },
        );
      }
      await deps.idempotency.completeStep(record.id, name, attempt, JSON.parse(json));
      return result;
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
