import { type DurationInput, parseDuration } from './duration.js';

/** How a job type is retried after a retryable failure. */
export interface RetryPolicyInput {
  /** Attempts in all, the first included. @default 5 */
  readonly maxAttempts?: number;
  /** @default 'exponential' */
  readonly backoff?: 'exponential' | 'fixed';
  /** Delay before the second attempt (and every attempt, with `fixed`). @default '5s' */
  readonly baseDelay?: DurationInput;
  /** Upper bound of any one delay. SQS visibility caps it at 12 h. @default '15m' */
  readonly maxDelay?: DurationInput;
  /**
   * `full`: uniform in [0, delay] (spreads retries of a failed dependency best);
   * `equal`: uniform in [delay/2, delay]; `none`: exactly the delay.
   * @default 'full'
   */
  readonly jitter?: 'full' | 'equal' | 'none';
}

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly backoff: 'exponential' | 'fixed';
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly jitter: 'full' | 'equal' | 'none';
}

/** SQS `ChangeMessageVisibility` accepts at most 12 hours. */
export const MAX_RETRY_DELAY_MS = 12 * 3_600_000;

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  backoff: 'exponential',
  baseDelayMs: 5_000,
  maxDelayMs: 15 * 60_000,
  jitter: 'full',
};

/** Fills defaults and checks bounds. @throws RangeError with the given value. */
export function resolveRetryPolicy(input: RetryPolicyInput = {}): RetryPolicy {
  const policy: RetryPolicy = {
    maxAttempts: input.maxAttempts ?? DEFAULT_RETRY_POLICY.maxAttempts,
    backoff: input.backoff ?? DEFAULT_RETRY_POLICY.backoff,
    baseDelayMs: input.baseDelay === undefined ? DEFAULT_RETRY_POLICY.baseDelayMs : parseDuration(input.baseDelay),
    maxDelayMs: input.maxDelay === undefined ? DEFAULT_RETRY_POLICY.maxDelayMs : parseDuration(input.maxDelay),
    jitter: input.jitter ?? DEFAULT_RETRY_POLICY.jitter,
  };
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1 || policy.maxAttempts > 100) {
    throw new RangeError(`retry.maxAttempts must be an integer 1..100 (given ${policy.maxAttempts})`);
  }
  if (policy.maxDelayMs > MAX_RETRY_DELAY_MS) {
    throw new RangeError(`retry.maxDelay must be at most 12h, the SQS visibility limit (given ${policy.maxDelayMs} ms)`);
  }
  if (policy.baseDelayMs > policy.maxDelayMs) {
    throw new RangeError(
      `retry.baseDelay must not exceed retry.maxDelay (given ${policy.baseDelayMs} ms > ${policy.maxDelayMs} ms)`,
    );
  }
  return policy;
}

/**
 * Delay before the attempt after `failedAttempt` (1-based), in milliseconds.
 * `random` is injectable so tests can pin the jitter.
 */
export function retryDelayMs(policy: RetryPolicy, failedAttempt: number, random: () => number = Math.random): number {
  const exponent = Math.max(0, failedAttempt - 1);
  const ceiling =
    policy.backoff === 'fixed'
      ? policy.baseDelayMs
      : Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(exponent, 40));
  const capped = Math.min(ceiling, policy.maxDelayMs);
  switch (policy.jitter) {
    case 'none':
      return capped;
    case 'equal':
      return Math.round(capped / 2 + random() * (capped / 2));
    case 'full':
      return Math.round(random() * capped);
  }
}
