import { JobCancelledError, type JobErrorInfo, LeaseLostError, type RetryPolicy, retryDelayMs } from '../../shared/index.js';
import { isRetryable, toErrorInfo } from '../worker/error-info.js';

/** What becomes of a job whose attempt threw. */
export type FailureDecision =
  /** The job was cancelled while it ran: it ends `cancelled`, never retried. */
  | { readonly kind: 'cancelled' }
  /** Another run owns the job now: record nothing, leave the job to it. */
  | { readonly kind: 'lease-lost'; readonly error: LeaseLostError }
  /** Try again after `delayMs`. `error` has no stack: a retrying record stays under 1 KB (one write unit). */
  | { readonly kind: 'retry'; readonly delayMs: number; readonly error: JobErrorInfo }
  /** Out of attempts, or retrying cannot help: the job ends `dead` with `error` (stack included). */
  | { readonly kind: 'dead'; readonly error: JobErrorInfo };

export interface FailedAttempt {
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly retry: RetryPolicy;
  /** @default Math.random */
  readonly random?: () => number;
}

/** Decides, from what an attempt threw, whether the job is retried (and when), dead, cancelled or no longer ours. */
export function classifyFailure(thrown: unknown, failed: FailedAttempt): FailureDecision {
  if (thrown instanceof JobCancelledError) return { kind: 'cancelled' };
  if (thrown instanceof LeaseLostError) return { kind: 'lease-lost', error: thrown };
  const retryable = isRetryable(thrown);
  const error = toErrorInfo(thrown, retryable);
  if (!retryable || failed.attempt >= failed.maxAttempts) return { kind: 'dead', error };
  const { stack: _stack, ...errorWithoutStack } = error;
  return {
    kind: 'retry',
    delayMs: retryDelayMs(failed.retry, failed.attempt, failed.random ?? Math.random),
    error: errorWithoutStack,
  };
}
