import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { registry } from '../../functions/jobs/contracts.js';
import { defineJob, defineRegistry, planQueues } from '../../shared/index.js';

const noop = async () => null;

describe('defineJob', () => {
  it('fills defaults for retry, timeout and queue', () => {
    const job = defineJob({ name: 'x.job', schema: z.object({}), handler: noop });
    expect(job).toMatchObject({ name: 'x.job', queue: 'default', timeoutMs: 60_000, retry: { maxAttempts: 5 } });
  });

  it('fails if the name has characters unsafe for ids and names', () => {
    expect(() => defineJob({ name: 'bad name', schema: z.object({}), handler: noop })).toThrow(/job name must match/);
  });

  it('fails if the timeout is beyond Lambda', () => {
    expect(() => defineJob({ name: 'x', schema: z.object({}), handler: noop, timeout: '16m' })).toThrow(
      /timeout must be 1s..15m \(given 960000 ms\)/,
    );
  });

  it('fails if the queue name is not a lowercase identifier', () => {
    expect(() => defineJob({ name: 'x', schema: z.object({}), handler: noop, queue: 'Big Queue' })).toThrow(/queue must match/);
  });
});

describe('defineRegistry', () => {
  it('fails if a name is defined twice', () => {
    const a = defineJob({ name: 'dup', schema: z.object({}), handler: noop });
    expect(() => defineRegistry(a, a)).toThrow(/defined twice/);
  });
});

describe('planQueues', () => {
  it('groups job types per queue with the largest attempts and timeout', () => {
    const plans = planQueues(
      defineRegistry(
        defineJob({ name: 'a', schema: z.object({}), handler: noop, retry: { maxAttempts: 2 }, timeout: '10s' }),
        defineJob({ name: 'b', schema: z.object({}), handler: noop, retry: { maxAttempts: 7 }, timeout: '5s' }),
        defineJob({ name: 'c', schema: z.object({}), handler: noop, queue: 'reports', timeout: '14m' }),
      ),
    );
    expect(plans).toEqual([
      { name: 'default', maxAttempts: 7, longestJobTimeoutMs: 10_000, jobTypes: ['a', 'b'], fifo: false },
      { name: 'reports', maxAttempts: 5, longestJobTimeoutMs: 840_000, jobTypes: ['c'], fifo: false },
    ]);
  });

  it('puts the demo jobs on the default queue with three attempts, demo.ordered on its own FIFO queue, and the priority and fairness demos on their own queues', () => {
    expect(planQueues(registry)).toEqual([
      {
        name: 'default',
        maxAttempts: 3,
        longestJobTimeoutMs: 300_000,
        jobTypes: [
          'demo.batch-done',
          'demo.debounced',
          'demo.echo',
          'demo.effect',
          'demo.fail',
          'demo.fanout',
          'demo.fatal',
          'demo.flaky',
          'demo.greet',
          'demo.large-numbers',
          'demo.long',
          'demo.long-express',
          'demo.once',
          'demo.progress',
          'demo.sleep',
          'demo.square',
          'demo.tenant-report',
          'demo.throttled',
        ],
        fifo: false,
      },
      { name: 'ordered', maxAttempts: 3, longestJobTimeoutMs: 60_000, jobTypes: ['demo.ordered'], fifo: true },
      { name: 'ranked', maxAttempts: 3, longestJobTimeoutMs: 90_000, jobTypes: ['demo.ranked'], fifo: false },
      {
        name: 'tenants',
        maxAttempts: 3,
        longestJobTimeoutMs: 90_000,
        jobTypes: ['demo.tenant', 'demo.tenant-unfair'],
        fifo: false,
      },
    ]);
  });
});
