import { describe, expect, it } from 'vitest';
import { classifyFailure } from '../../functions/attempt/failure.js';
import { MAX_STORED_RESULT_BYTES, storableCheckpoint, storableResult, writeOutcome } from '../../functions/attempt/outcome.js';
import { CANCEL_WATCH_INTERVAL_MS, CANCEL_WATCH_START_MS, runAttempt, type Timers } from '../../functions/attempt/run-attempt.js';
import {
  InvalidPayloadError,
  JobCancelledError,
  JobTimeoutError,
  LeaseLostError,
  NonRetryableError,
  resolveRetryPolicy,
} from '../../shared/index.js';

/** Timers driven by hand: `advance(ms)` fires what is due, in order, and lets promises settle between. */
function manualTimers() {
  let now = 0;
  let nextId = 0;
  const pending = new Map<number, { at: number; callback: () => void }>();
  const timers: Timers = {
    setTimeout: (callback, ms) => {
      nextId++;
      pending.set(nextId, { at: now + ms, callback });
      return nextId;
    },
    clearTimeout: (handle) => {
      pending.delete(handle as number);
    },
  };
  async function advance(ms: number): Promise<void> {
    const until = now + ms;
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      const due = [...pending.entries()].filter(([, timer]) => timer.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      pending.delete(due[0]);
      now = due[1].at;
      due[1].callback();
    }
    now = until;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { timers, clock: () => now, advance, pendingCount: () => pending.size };
}

describe('storableResult', () => {
  it('stores a plain result as its JSON value, and undefined as null', () => {
    expect(storableResult({ at: new Date(0), n: 1 })).toEqual({ value: { at: '1970-01-01T00:00:00.000Z', n: 1 } });
    expect(storableResult(undefined)).toEqual({ value: null });
  });

  it('stores placeholders, never throwing, for results that are too large, not exact in DynamoDB, or not JSON', () => {
    expect(storableResult('x'.repeat(MAX_STORED_RESULT_BYTES + 1)).value).toMatchObject({ resultTooLarge: true });
    expect(storableResult({ id: -(2 ** 60) }).value).toMatchObject({ resultNotStorable: true, json: `{"id":${-(2 ** 60)}}` });
    expect(storableResult({ tiny: 1e-200 }).value).toMatchObject({ resultNotStorable: true });
    expect(storableResult({ count: 10n }).value).toMatchObject({
      resultNotStorable: true,
      reason: expect.stringMatching(/BigInt/),
    });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(storableResult(cyclic).note).toBe('not-storable');
  });
});

describe('storableCheckpoint', () => {
  it('returns the JSON value, and refuses what cannot be stored exactly with typed non-retryable errors', () => {
    const job = { id: 'j', type: 't' };
    expect(storableCheckpoint({ page: 2 }, job)).toEqual({ page: 2 });
    expect(() => storableCheckpoint({ cursor: 2 ** 60 }, job)).toThrow(
      expect.objectContaining({ name: 'CheckpointNotStorableError', jobId: 'j' }),
    );
    expect(() => storableCheckpoint('x'.repeat(200_000), job)).toThrow(
      expect.objectContaining({ name: 'CheckpointTooLargeError' }),
    );
    expect(() => storableCheckpoint({ n: 1n }, job)).toThrow(NonRetryableError);
  });
});

describe('classifyFailure', () => {
  const retry = resolveRetryPolicy({ maxAttempts: 3, baseDelay: '2s', jitter: 'none' });
  it('retries a retryable error with the policy delay, without the stack, while attempts remain', () => {
    const decision = classifyFailure(new Error('down'), { attempt: 1, maxAttempts: 3, retry });
    expect(decision).toEqual({ kind: 'retry', delayMs: 2_000, error: { name: 'Error', message: 'down', retryable: true } });
  });
  it('ends dead on the last attempt or for an error retrying cannot fix, with the stack', () => {
    expect(classifyFailure(new Error('down'), { attempt: 3, maxAttempts: 3, retry })).toMatchObject({
      kind: 'dead',
      error: { retryable: true, stack: expect.any(String) },
    });
    expect(classifyFailure(new NonRetryableError('no'), { attempt: 1, maxAttempts: 3, retry })).toMatchObject({
      kind: 'dead',
      error: { retryable: false },
    });
    expect(classifyFailure(new InvalidPayloadError('t', ['x']), { attempt: 1, maxAttempts: 3, retry }).kind).toBe('dead');
  });
  it('tells a cancellation and a lost lease apart from failures', () => {
    expect(classifyFailure(new JobCancelledError('j'), { attempt: 1, maxAttempts: 3, retry }).kind).toBe('cancelled');
    expect(classifyFailure(new LeaseLostError('j', 1), { attempt: 1, maxAttempts: 3, retry }).kind).toBe('lease-lost');
  });
});

describe('writeOutcome', () => {
  it('tries a throwing write again with backoff and returns its answer', async () => {
    const { timers, clock, advance } = manualTimers();
    let calls = 0;
    const written = writeOutcome(
      async () => {
        calls++;
        if (calls < 3) throw new Error('throttled');
        return true;
      },
      { until: 10_000, clock, timers },
    );
    await advance(1_000);
    await expect(written).resolves.toBe(true);
    expect(calls).toBe(3);
  });

  it('gives up after its tries, or when the next try would start past `until`', async () => {
    const failing = async () => {
      throw new Error('down');
    };
    const many = manualTimers();
    const exhausted = writeOutcome(failing, { until: 100_000, clock: many.clock, timers: many.timers, tries: 3 });
    const exhaustedResult = exhausted.catch((error: unknown) => error);
    await many.advance(10_000);
    expect(await exhaustedResult).toMatchObject({ message: 'down' });

    const late = manualTimers();
    let calls = 0;
    await expect(
      writeOutcome(
        async () => {
          calls++;
          throw new Error('down');
        },
        { until: 100, clock: late.clock, timers: late.timers },
      ),
    ).rejects.toThrow('down');
    expect(calls).toBe(1);
  });
});

describe('runAttempt', () => {
  const timeout = () => new JobTimeoutError('j', 't', 1_000);

  it('returns the result and leaves no timer behind; a short run never looks at the record', async () => {
    const { timers, clock, pendingCount } = manualTimers();
    let looks = 0;
    const result = await runAttempt(async () => 42, {
      deadline: 60_000,
      timeoutError: timeout,
      clock,
      timers,
      cancelWatch: { jobId: 'j', isCancelRequested: async () => ++looks > 0 },
    });
    expect(result).toBe(42);
    expect(looks).toBe(0);
    expect(pendingCount()).toBe(0);
  });

  it('looks first after CANCEL_WATCH_START_MS, then every CANCEL_WATCH_INTERVAL_MS, and aborts with JobCancelledError', async () => {
    const { timers, clock, advance } = manualTimers();
    let looks = 0;
    let reason: unknown;
    const run = runAttempt(
      (signal) =>
        new Promise((_, reject) =>
          signal.addEventListener('abort', () => {
            reason = signal.reason;
            reject(new Error('AbortError'));
          }),
        ),
      {
        deadline: 600_000,
        timeoutError: timeout,
        clock,
        timers,
        cancelWatch: { jobId: 'j', isCancelRequested: async () => ++looks >= 3 },
      },
    );
    const settled = run.catch((error: unknown) => error);
    await advance(CANCEL_WATCH_START_MS - 1);
    expect(looks).toBe(0);
    await advance(1 + 2 * CANCEL_WATCH_INTERVAL_MS);
    expect(looks).toBe(3);
    expect(reason).toBeInstanceOf(JobCancelledError);
    expect(await settled).toBeInstanceOf(JobCancelledError);
  });

  it('keeps watching after a failed look', async () => {
    const { timers, clock, advance } = manualTimers();
    let looks = 0;
    const errors: unknown[] = [];
    const run = runAttempt(
      (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      {
        deadline: 600_000,
        timeoutError: timeout,
        clock,
        timers,
        cancelWatch: {
          jobId: 'j',
          isCancelRequested: async () => {
            looks++;
            if (looks === 1) throw new Error('throttled');
            return true;
          },
          onError: (error) => errors.push(error),
        },
      },
    );
    const settled = run.catch((error: unknown) => error);
    await advance(CANCEL_WATCH_START_MS + CANCEL_WATCH_INTERVAL_MS);
    expect(errors).toHaveLength(1);
    expect(await settled).toBeInstanceOf(JobCancelledError);
  });

  it('fails with the timeout error at the deadline when nothing cancelled the job', async () => {
    const { timers, clock, advance } = manualTimers();
    const run = runAttempt(() => new Promise(() => undefined), { deadline: 1_000, timeoutError: timeout, clock, timers });
    const settled = run.catch((error: unknown) => error);
    await advance(1_000);
    expect(await settled).toBeInstanceOf(JobTimeoutError);
  });
});
