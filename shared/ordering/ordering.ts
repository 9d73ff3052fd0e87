import { randomUUID } from 'node:crypto';
import { InvalidOrderingKeyError } from './errors.js';

/**
 * Ordering per key, as a job contract declares it: jobs whose `key` is equal
 * run strictly one after another, in enqueue order; jobs of different keys run
 * in parallel. The job type's logical queue becomes an SQS FIFO queue and the
 * key its message group id.
 *
 * @example
 * ordering: { key: (payload) => payload.accountId }
 */
export interface OrderingOptions<Payload> {
  /**
   * The key of a job, from its payload as the schema outputs it: 1..128
   * printable ASCII characters (SQS's rule for a message group id). Anything
   * else fails the enqueue with `InvalidOrderingKeyError`.
   */
  readonly key: (payload: Payload) => string;
}

/** A contract's checked `ordering`. */
export interface JobOrdering {
  /** The contract's key function; call it through `orderingKeyOf`, which checks what it returns. */
  readonly key: (payload: unknown) => string;
}

/** SQS's rule for a message group id: 1..128 of alphanumerics and punctuation (`!"#$%&'()*+,-./:;<=>?@[\]^_\`{|}~`). */
const GROUP_ID_PATTERN = /^[\x21-\x7e]{1,128}$/;

/** FIFO queues take at most 10 messages per event-source batch (Lambda's limit for FIFO sources). */
export const FIFO_MAX_BATCH_SIZE = 10;

/**
 * Checks a contract's `ordering` option.
 * @throws RangeError naming the job and what was given
 */
export function resolveOrdering(jobName: string, input: unknown): JobOrdering | undefined {
  if (input === undefined) return undefined;
  const key = (input as { key?: unknown } | null)?.key;
  if (typeof input !== 'object' || input === null || typeof key !== 'function') {
    throw new RangeError(
      `job '${jobName}': ordering must be { key: (payload) => string } (given ${input === null ? 'null' : typeof input === 'object' ? `key of type ${typeof key}` : typeof input})`,
    );
  }
  return { key: key as (payload: unknown) => string };
}

/**
 * The ordering key of one job: `ordering.key(payload)`, checked.
 * @throws InvalidOrderingKeyError when the function throws or returns something SQS refuses as a group id
 */
export function orderingKeyOf(jobType: string, ordering: JobOrdering, payload: unknown, jobId?: string): string {
  let key: unknown;
  try {
    key = ordering.key(payload);
  } catch (error) {
    throw new InvalidOrderingKeyError(
      jobType,
      undefined,
      `could not be computed: ${(error as Error)?.message ?? String(error)}`,
      {
        ...(jobId === undefined ? {} : { jobId }),
        cause: error,
      },
    );
  }
  if (typeof key !== 'string' || !GROUP_ID_PATTERN.test(key)) {
    throw new InvalidOrderingKeyError(
      jobType,
      key,
      "is not a valid key: it must be a string of 1..128 printable ASCII characters (no spaces), SQS's rule for a message group id",
      jobId === undefined ? {} : { jobId },
    );
  }
  return key;
}

/** SQS names every FIFO queue `<name>.fifo`; its URL and ARN end so too. */
export function isFifoQueue(urlOrArn: string): boolean {
  return urlOrArn.endsWith('.fifo');
}

/**
 * The message group of a job on a FIFO queue: its ordering key, or for a job
 * type without ordering its own id (each such job is a group of one, so they
 * run in parallel).
 */
export function messageGroupOf(job: { readonly id: string; readonly orderingKey?: string | undefined }): string {
  return job.orderingKey ?? job.id;
}

/** `value` when SQS accepts it as a message group id, else `fallback` (a dead-letter copy of an unreadable message). */
export function groupIdOr(value: string | undefined, fallback: string): string {
  return value !== undefined && GROUP_ID_PATTERN.test(value) ? value : fallback;
}

/**
 * A deduplication id for a message that re-sends a job (retry, sweeper,
 * redrive, dead-letter copy): unique per send, so SQS's 5-minute deduplication
 * window (keyed by the job id for the first send) never swallows it.
 */
export function resendDeduplicationId(): string {
  return `resend-${randomUUID()}`;
}
