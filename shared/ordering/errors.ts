import { JobstackError } from '../errors.js';

/**
 * A job type's `ordering.key` returned something SQS cannot use as a message
 * group id (not a string, empty, longer than 128 characters, or holding a
 * character outside printable ASCII), or threw. Raised at enqueue, before
 * anything is written.
 */
export class InvalidOrderingKeyError extends JobstackError {
  /** What the key function returned (undefined when it threw). */
  readonly key: unknown;

  constructor(jobType: string, key: unknown, reason: string, context: { jobId?: string; cause?: unknown } = {}) {
    super(`job type '${jobType}': ordering key ${describe(key)} ${reason}`, { ...context, jobType });
    this.name = 'InvalidOrderingKeyError';
    this.key = key;
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value);
  return `(given ${value === null ? 'null' : typeof value})`;
}
