import { JobstackError, NonRetryableError } from '../errors.js';

/** A job type's `trigger` option is malformed (found when the job type is defined). */
export class InvalidTriggerError extends JobstackError {
  constructor(jobType: string, problem: string) {
    super(`job '${jobType}': trigger ${problem}`, { jobType });
    this.name = 'InvalidTriggerError';
  }
}

/**
 * A triggered job type's `trigger.payload` function threw on an event, or
 * returned something that is not JSON. The job (its id derived from the event)
 * is recorded `dead` with this error: retrying the same event cannot help.
 */
export class TriggerMappingError extends NonRetryableError {
  constructor(
    jobId: string,
    jobType: string,
    readonly eventId: string,
    cause: unknown,
  ) {
    super(
      `trigger.payload of job type '${jobType}' failed on event ${eventId}: ${
        cause instanceof Error ? cause.message : String(cause)
      }`.slice(0, 2_000),
      { jobId, jobType, cause },
    );
    this.name = 'TriggerMappingError';
  }
}

/**
 * The detail of a `jobstack.enqueue` event does not have the documented shape
 * (`{ type, payload, idempotencyKey?, delay?, jobId? }`, see `EnqueueEventDetailSchema`).
 */
export class InvalidEnqueueEventError extends NonRetryableError {
  constructor(
    readonly eventId: string,
    readonly issues: readonly string[],
    context: { readonly jobId?: string; readonly jobType?: string } = {},
  ) {
    super(`jobstack.enqueue event ${eventId} has an invalid detail: ${issues.join('; ')}`.slice(0, 2_000), context);
    this.name = 'InvalidEnqueueEventError';
  }
}
