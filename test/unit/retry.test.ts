import { describe, expect, it } from 'vitest';
import { resolveRetryPolicy, retryDelayMs } from '../../shared/index.js';

describe('retry policy', () => {
  it('fills defaults', () => {
    expect(resolveRetryPolicy()).toEqual({
      maxAttempts: 5,
      backoff: 'exponential',
      baseDelayMs: 5_000,
      maxDelayMs: 900_000,
      jitter: 'full',
    });
  });

  it('doubles the delay per attempt up to the maximum without jitter', () => {
    const policy = resolveRetryPolicy({ baseDelay: '1s', maxDelay: '5s', jitter: 'none' });
    expect([1, 2, 3, 4, 5].map((attempt) => retryDelayMs(policy, attempt))).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
  });

  it('keeps a fixed delay with fixed backoff', () => {
    const policy = resolveRetryPolicy({ backoff: 'fixed', baseDelay: '2s', jitter: 'none' });
    expect(retryDelayMs(policy, 7)).toBe(2_000);
  });

  it('spreads full jitter over [0, delay] and equal jitter over [delay/2, delay]', () => {
    const full = resolveRetryPolicy({ baseDelay: '1s', maxDelay: '5s', jitter: 'full' });
    const equal = resolveRetryPolicy({ baseDelay: '1s', maxDelay: '5s', jitter: 'equal' });
    expect(retryDelayMs(full, 2, () => 0)).toBe(0);
    expect(retryDelayMs(full, 2, () => 0.999_999)).toBe(2_000);
    expect(retryDelayMs(equal, 2, () => 0)).toBe(1_000);
    expect(retryDelayMs(equal, 2, () => 0.999_999)).toBe(2_000);
  });

  it('stays within bounds for huge attempt numbers', () => {
    const policy = resolveRetryPolicy({ baseDelay: '1s', maxDelay: '12h', jitter: 'none' });
    expect(retryDelayMs(policy, 10_000)).toBe(43_200_000);
  });

  it('fails if maxAttempts is out of range', () => {
    expect(() => resolveRetryPolicy({ maxAttempts: 0 })).toThrow(/maxAttempts must be an integer 1..100 \(given 0\)/);
  });

  it('fails if maxDelay exceeds the SQS visibility limit', () => {
    expect(() => resolveRetryPolicy({ maxDelay: '13h' })).toThrow(/at most 12h/);
  });

  it('fails if baseDelay exceeds maxDelay', () => {
    expect(() => resolveRetryPolicy({ baseDelay: '10m', maxDelay: '1m' })).toThrow(/baseDelay must not exceed/);
  });
});
