import { type JobErrorContext, JobstackError, NonRetryableError } from '../errors.js';

/** Error names of flows, for filters (`redrive({ errorName })`) and logs. */
export const FlowErrorName = {
  tooManyFlowJobs: 'TooManyFlowJobsError',
  flowJobsTooLarge: 'FlowJobsTooLargeError',
  childJobsFailed: 'ChildJobsFailedError',
  invalidFlowJob: 'InvalidFlowJobError',
} as const;

/**
 * A handler asked for more follow-up and child jobs than one attempt can create
 * atomically: they are written in one DynamoDB transaction with the parent
 * (at most 100 items, two of which the parent and a children batch use).
 * Thrown from `ctx.enqueue`/`ctx.spawnAndWait`; not retryable, since the next
 * attempt would ask for the same. Start a batch (`jobs.batch`) from the handler instead.
 */
export class TooManyFlowJobsError extends NonRetryableError {
  constructor(given: number, limit: number, context: JobErrorContext = {}) {
    super(`a job attempt may create at most ${limit} follow-up and child jobs (given ${given})`, context);
    this.name = FlowErrorName.tooManyFlowJobs;
  }
}

/** The follow-up and child jobs of one attempt are larger together than one DynamoDB transaction (4 MB) takes. */
export class FlowJobsTooLargeError extends NonRetryableError {
  constructor(sizeBytes: number, limitBytes: number, context: JobErrorContext = {}) {
    super(
      `the follow-up and child jobs of one attempt may hold at most ${limitBytes} bytes of payload together (given ${sizeBytes})`,
      context,
    );
    this.name = FlowErrorName.flowJobsTooLarge;
  }
}

/** A follow-up, child or batch member was refused: an unknown type, a payload its schema rejects, a type flows cannot start. */
export class InvalidFlowJobError extends NonRetryableError {
  constructor(message: string, context: JobErrorContext = {}) {
    super(message, context);
    this.name = FlowErrorName.invalidFlowJob;
  }
}

/**
 * A parent waiting with `onChildDead: 'fail'` (the default) had a child that
 * did not succeed (dead or cancelled): the parent ends `dead` without running
 * again. Its `children` list names them.
 */
export class ChildJobsFailedError extends NonRetryableError {
  constructor(
    readonly failed: readonly { readonly jobId: string; readonly state: string }[],
    context: JobErrorContext = {},
  ) {
    super(
      `${failed.length} child job${failed.length === 1 ? '' : 's'} did not succeed: ${failed
        .slice(0, 5)
        .map(({ jobId, state }) => `${jobId} (${state})`)
        .join(', ')}${failed.length > 5 ? ', …' : ''}`,
      context,
    );
    this.name = FlowErrorName.childJobsFailed;
  }
}

/** A batch could not be created or read as asked (bad options, an id already used by a different batch). */
export class BatchError extends JobstackError {
  constructor(message: string, context: JobErrorContext & { readonly batchId?: string } = {}) {
    super(message, context);
    this.name = 'BatchError';
  }
}
