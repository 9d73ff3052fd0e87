import type { RetryPolicyInput } from '../../../shared/index.js';

/** Short delays so the demo and the integration tests see retries within seconds. */
export const DEMO_RETRY: RetryPolicyInput = {
  maxAttempts: 3,
  backoff: 'exponential',
  baseDelay: '1s',
  maxDelay: '5s',
  jitter: 'full',
};
