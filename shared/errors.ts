/**
 * Every error jobstack raises on purpose. Each class sets `name`, forwards
 * `cause`, and carries the job it is about, so callers can branch with
 * `instanceof` and logs say which job failed without parsing messages.
 */

export interface JobErrorContext {
  readonly jobId?: string;
  readonly jobType?: string;
  readonly cause?: unknown;
}

/** Base class of all jobstack errors. */
export class JobstackError extends Error {
  readonly jobId?: string;
  readonly jobType?: string;

  constructor(message: string, context: JobErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.name = 'JobstackError';
    if (context.jobId !== undefined) this.jobId = context.jobId;
    if (context.jobType !== undefined) this.jobType = context.jobType;
  }
}

/**
 * Throw this from a job handler when retrying cannot help (bad input, a
 * permanent refusal from a downstream API): the job goes straight to `dead`.
 *
 * @example
 * if (!user) throw new NonRetryableError(`user ${payload.userId} does not exist`);
 */
export class NonRetryableError extends JobstackError {
  constructor(message: string, context: JobErrorContext = {}) {
    super(message, context);
    this.name = 'NonRetryableError';
  }
}

/** A duration string such as `'90s'` could not be parsed. */
export class InvalidDurationError extends JobstackError {
  constructor(readonly input: unknown) {
    super(
      `invalid duration ${JSON.stringify(input)}: use a number of milliseconds or a string like '500ms', '30s', '15m', '2h', '7d'`,
    );
    this.name = 'InvalidDurationError';
  }
}

/** The job type is not in the registry. */
export class UnknownJobTypeError extends JobstackError {
  constructor(jobType: string, known: readonly string[], context: Omit<JobErrorContext, 'jobType'> = {}) {
    super(`unknown job type '${jobType}' (known types: ${known.join(', ') || 'none'})`, { ...context, jobType });
    this.name = 'UnknownJobTypeError';
  }
}

/** The payload does not match the job type's schema. */
export class InvalidPayloadError extends JobstackError {
  constructor(
    jobType: string,
    readonly issues: readonly string[],
    context: Omit<JobErrorContext, 'jobType'> = {},
  ) {
    super(`invalid payload for job type '${jobType}': ${issues.join('; ')}`, { ...context, jobType });
    this.name = 'InvalidPayloadError';
  }
}

/** The serialized payload is larger than the queue can carry. */
export class PayloadTooLargeError extends JobstackError {
  constructor(
    jobType: string,
    readonly sizeBytes: number,
    readonly limitBytes: number,
  ) {
    super(`payload for job type '${jobType}' is ${sizeBytes} bytes, over the ${limitBytes}-byte limit`, { jobType });
    this.name = 'PayloadTooLargeError';
  }
}

/** A queue message is not a valid jobstack envelope. */
export class InvalidEnvelopeError extends JobstackError {
  constructor(reason: string, context: JobErrorContext = {}) {
    super(`invalid job message: ${reason}`, context);
    this.name = 'InvalidEnvelopeError';
  }
}

/** A state change the job state machine does not allow. */
export class IllegalTransitionError extends JobstackError {
  constructor(from: string, to: string, context: JobErrorContext = {}) {
    super(`a job cannot move from '${from}' to '${to}'`, context);
    this.name = 'IllegalTransitionError';
  }
}

/** No job with this id exists (or its record has expired). */
export class JobNotFoundError extends JobstackError {
  constructor(jobId: string) {
    super(`job '${jobId}' not found`, { jobId });
    this.name = 'JobNotFoundError';
  }
}

/** `wait()` gave up before the job reached a terminal state. */
export class WaitTimeoutError extends JobstackError {
  constructor(
    jobId: string,
    readonly timeoutMs: number,
    readonly lastState: string | undefined,
  ) {
    super(`job '${jobId}' did not finish within ${timeoutMs} ms (last state: ${lastState ?? 'unknown'})`, { jobId });
    this.name = 'WaitTimeoutError';
  }
}

/** Enqueueing failed after the job record was written; the record was rolled back where possible. */
export class EnqueueError extends JobstackError {
  constructor(message: string, context: JobErrorContext = {}) {
    super(message, context);
    this.name = 'EnqueueError';
  }
}

/** The client configuration could not be resolved (no such stack, missing outputs). */
export class ConfigurationError extends JobstackError {
  constructor(message: string, context: JobErrorContext = {}) {
    super(message, context);
    this.name = 'ConfigurationError';
  }
}

/** A job run was aborted because its timeout or the Lambda deadline was reached. */
export class JobTimeoutError extends JobstackError {
  constructor(
    jobId: string,
    jobType: string,
    readonly afterMs: number,
  ) {
    super(`job '${jobId}' (${jobType}) was aborted after ${afterMs} ms`, { jobId, jobType });
    this.name = 'JobTimeoutError';
  }
}

/** An argument to a client method is malformed (a paging cursor, a limit, an option). */
export class InvalidArgumentError extends JobstackError {
  constructor(message: string, context: JobErrorContext = {}) {
    super(message, context);
    this.name = 'InvalidArgumentError';
  }
}

/** What a lean enqueue (`enqueueMany(..., { lean: true })`) cannot carry, so refuses. */
export type LeanUnsupportedFeature =
  | 'delay-over-threshold'
  | 'payload-offload'
  | 'priority-levels'
  | 'fairness'
  | 'ordering'
  | 'concurrency'
  | 'rateLimit';

/**
 * A lean enqueue was asked for a job that needs its record before it starts: a
 * long delay (a schedule), a payload stored in S3, a queue with priority
 * levels, fairness, ordering, concurrency or a rate limit. Nothing was sent for
 * any job of the call; enqueue such jobs without `lean`.
 */
export class LeanEnqueueRefusedError extends InvalidArgumentError {
  constructor(
    readonly feature: LeanUnsupportedFeature,
    message: string,
    context: JobErrorContext = {},
  ) {
    super(`a lean enqueue cannot carry ${feature}: ${message}; enqueue this job without { lean: true }`, context);
    this.name = 'LeanEnqueueRefusedError';
  }
}

/** Thrown inside a running job (by `ctx.progress`) when `cancel()` was called; the job ends `cancelled`. */
export class JobCancelledError extends JobstackError {
  constructor(jobId: string) {
    super(`job '${jobId}' was cancelled`, { jobId });
    this.name = 'JobCancelledError';
  }
}

/** The run no longer owns its job (another delivery took it over after the lease expired). */
export class LeaseLostError extends JobstackError {
  constructor(jobId: string, attempt: number) {
    super(`attempt ${attempt} of job '${jobId}' no longer owns the job`, { jobId });
    this.name = 'LeaseLostError';
  }
}

/**
 * A queue consumer put a message back to be handled later instead of acting on
 * it now (its job is alive under a live lease, or moved between the read and
 * the write). Thrown so the batch reports the message as failed and SQS
 * delivers it again.
 */
export class MessageDeferredError extends JobstackError {
  constructor(
    jobId: string,
    readonly reason: string,
    context: Omit<JobErrorContext, 'jobId'> = {},
  ) {
    super(`message of job '${jobId}' deferred: ${reason}`, { ...context, jobId });
    this.name = 'MessageDeferredError';
  }
}

/**
 * Names of the errors jobstack records on a job that ended without its handler
 * throwing them: the `name` of the record's `error` and of the dead-letter
 * message's `jobstack-error-name` attribute. Operators filter on them
 * (`jobstack redrive --error StuckJobError`), so they are defined once here.
 */
export const JobErrorName = {
  /** The job failed on its last allowed attempt (recorded by the worker). */
  attemptsExhausted: 'AttemptsExhaustedError',
  /** The sweeper re-sent the job's message `maxSweeps` times and it still did not move. */
  stuckJob: 'StuckJobError',
  /** SQS moved the job's message off its queue after too many receives without a finish (crashes, timeouts). */
  deliveryLimitExceeded: 'DeliveryLimitExceeded',
} as const;

export type JobErrorName = (typeof JobErrorName)[keyof typeof JobErrorName];

/**
 * A `ctx.once` step was started by an earlier attempt that never recorded its
 * outcome (it timed out or crashed between the side effect and storing the
 * result), and the handler did not say how to resolve that (`onInterrupted`).
 * Whether the side effect happened is unknown, so the job fails for good rather
 * than risk doing it twice: a person checks the side effect and then either
 * retries the job with `onInterrupted` set, or leaves it dead.
 */
export class StepOutcomeUnknownError extends NonRetryableError {
  constructor(
    readonly step: string,
    readonly startedByAttempt: number,
    context: { readonly jobId: string; readonly jobType: string; readonly cause?: unknown },
  ) {
    super(
      `ctx.once('${step}') of job '${context.jobId}' (${context.jobType}) was started by attempt ${startedByAttempt}, ` +
        'which never recorded its outcome; the step is not run again without onInterrupted',
      context,
    );
    this.name = 'StepOutcomeUnknownError';
  }
}

/**
 * A handler (or a long job's last step) returned, but its outcome could not be
 * written to the job record even after retries. The job ends `dead` with this
 * error instead of running its handler again: the side effects already happened.
 */
export class OutcomeNotRecordedError extends NonRetryableError {
  constructor(jobId: string, jobType: string, attempt: number, cause: unknown) {
    super(
      `attempt ${attempt} of job '${jobId}' (${jobType}) finished, but its outcome could not be stored: ${
        cause instanceof Error ? cause.message : String(cause)
      }`.slice(0, 2_000),
      { jobId, jobType, cause },
    );
    this.name = 'OutcomeNotRecordedError';
  }
}

/** A long job's step returned a checkpoint larger than a job record can hold. */
export class CheckpointTooLargeError extends NonRetryableError {
  constructor(jobId: string, jobType: string, sizeBytes: number, limitBytes: number) {
    super(
      `checkpoint of job '${jobId}' is ${sizeBytes} bytes as JSON, over the ${limitBytes}-byte limit: store large state elsewhere (S3) and checkpoint a reference`,
      { jobId, jobType },
    );
    this.name = 'CheckpointTooLargeError';
  }
}

/**
 * A long job's step returned a checkpoint DynamoDB cannot hold exactly (a number
 * beyond ±(2^53 − 1), a BigInt, a cycle). Storing it rounded would resume the job
 * from a state it never had; the job ends `dead` instead.
 */
export class CheckpointNotStorableError extends NonRetryableError {
  constructor(jobId: string, jobType: string, reason: string) {
    super(`checkpoint of job '${jobId}' cannot be stored exactly: ${reason}; send such numbers as strings`, {
      jobId,
      jobType,
    });
    this.name = 'CheckpointNotStorableError';
  }
}
