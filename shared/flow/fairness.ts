import { InvalidArgumentError } from '../errors.js';

/**
 * Fairness between tenants of one queue (`defineJobContract({ fairness })`): the client sends every job with
 * `MessageGroupId` = `key(payload)`, and SQS fair queues deliver the messages of a quiet tenant ahead of the
 * backlog of a noisy one on the same standard queue.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-fair-queues.html
 *
 * @example { key: (payload) => payload.tenantId }
 */
export interface FairnessOption<Payload> {
  /** The tenant of a job, from its payload as the schema outputs it: 1..128 printable ASCII characters. */
  readonly key: (payload: Payload) => string;
}

/** SQS's rule for `MessageGroupId`: 1..128 characters of alphanumerics and punctuation (printable ASCII, no space). */
const MESSAGE_GROUP_ID_PATTERN = /^[\x21-\x7E]{1,128}$/;

/** A fairness key function returned something SQS cannot take as a message group. Nothing was sent. */
export class InvalidFairnessKeyError extends InvalidArgumentError {
  constructor(
    jobType: string,
    readonly value: unknown,
  ) {
    super(
      `fairness key of job type '${jobType}' must be 1..128 printable ASCII characters without spaces ` +
        `(SQS MessageGroupId) (given ${describe(value)})`,
      { jobType },
    );
    this.name = 'InvalidFairnessKeyError';
  }
}

/** Checks the contract option at definition time. @throws RangeError naming the job and the value */
export function checkFairnessOption(jobName: string, fairness: unknown): void {
  if (typeof fairness !== 'object' || fairness === null || typeof (fairness as { key?: unknown }).key !== 'function') {
    throw new RangeError(`job '${jobName}': fairness must be { key: (payload) => string } (given ${describe(fairness)})`);
  }
}

/**
 * The job's tenant key, or undefined for a job type without fairness.
 * @throws InvalidFairnessKeyError when the key function throws or returns no usable group id
 */
export function fairnessKeyOf(
  jobType: string,
  fairness: FairnessOption<never> | undefined,
  payload: unknown,
): string | undefined {
  if (fairness === undefined) return undefined;
  let value: unknown;
  try {
    value = (fairness.key as (payload: unknown) => unknown)(payload);
  } catch (error) {
    throw Object.assign(
      new InvalidFairnessKeyError(
        jobType,
        `a thrown ${(error as Error)?.name ?? 'error'}: ${(error as Error)?.message ?? String(error)}`,
      ),
      { cause: error },
    );
  }
  if (typeof value !== 'string' || !MESSAGE_GROUP_ID_PATTERN.test(value)) throw new InvalidFairnessKeyError(jobType, value);
  return value;
}

function describe(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'string') return JSON.stringify(value.length > 140 ? `${value.slice(0, 140)}…` : value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
