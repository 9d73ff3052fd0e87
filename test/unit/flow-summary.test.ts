import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formatFlowControl, formatFlowState } from '../../cli/commands/flow.js';
import { defineJobContract, defineRegistry, summarizeFlowControl } from '../../shared/index.js';

const schema = z.object({ tenant: z.string() });
const key = (payload: { tenant: string }) => payload.tenant;
const registry = defineRegistry(
  defineJobContract({ name: 'plain', schema }),
  defineJobContract({ name: 'limited', schema, concurrency: { key, limit: 2 }, rateLimit: { limit: 100, per: '1m' } }),
  defineJobContract({ name: 'in-order', schema, queue: 'ordered', ordering: { key } }),
  defineJobContract({ name: 'debounced', schema, debounce: { key, period: '30s' } }),
  defineJobContract({ name: 'throttled', schema, throttle: { key, period: '5s' } }),
  defineJobContract({ name: 'fair', schema, queue: 'tenants', fairness: { key }, priority: 'high' }),
);

describe('the flow control job types declare (jobs.flowControl, jobstack flow, GET /api/flow)', () => {
  it('lists every job type with flow control as data, by name, and leaves plain ones out', () => {
    expect(summarizeFlowControl(registry)).toEqual([
      { jobType: 'debounced', queue: 'default', debounce: { periodMs: 30_000 } },
      { jobType: 'fair', queue: 'tenants', priority: 'high', fairness: true },
      { jobType: 'in-order', queue: 'ordered', ordering: true },
      {
        jobType: 'limited',
        queue: 'default',
        concurrency: { limit: 2, perKey: true },
        rateLimit: { limit: 100, perMs: 60_000, perKey: false },
      },
      { jobType: 'throttled', queue: 'default', throttle: { periodMs: 5_000 } },
    ]);
  });

  it('prints one line per job type, and says so when none has any', () => {
    const text = formatFlowControl(summarizeFlowControl(registry));
    expect(text).toMatch(/limited\s+default\s+concurrency 2 per key, rate 100\/60 s whole type/);
    expect(text).toMatch(/in-order\s+ordered\s+ordered per key/);
    expect(text).toMatch(/debounced\s+default\s+debounce 30 s/);
    expect(text).toMatch(/fair\s+tenants\s+priority high, fair per key/);
    expect(formatFlowControl([])).toBe('no job type declares flow control');
  });

  it("prints a key's state: holders, the rate window, the debounce mark and the throttle window", () => {
    const text = formatFlowState({
      jobType: 'limited',
      key: 't1',
      concurrency: { limit: 2, holders: [{ jobId: 'job-a', leaseUntil: '2026-12-01T04:00:00.000Z' }] },
      rateLimit: {
        limit: 1,
        perMs: 60_000,
        startsInWindow: ['2026-12-01T03:59:30.000Z'],
        nextStartAt: '2026-12-01T04:00:30.000Z',
      },
      debounce: { periodMs: 30_000 },
      throttle: { periodMs: 5_000, window: { jobId: 'job-b', until: '2026-12-01T04:00:05.000Z' } },
    });
    expect(text).toContain('concurrency: 1 of 2 slots held');
    expect(text).toContain('job-a');
    expect(text).toContain('rate limit: 1 of 1 starts in the last 60 s; next start possible at 2026-12-01T04:00:30.000Z');
    expect(text).toContain('debounce (30 s): nothing pending');
    expect(text).toContain('throttle (5 s): throttled until 2026-12-01T04:00:05.000Z, window held by job job-b');
  });
});
