import * as z from 'zod';
import { defineJob } from '../../../shared/index.js';
import { effectJob } from './effect.js';
import { DEMO_RETRY } from './retry-policy.js';

/**
 * Increments the ledger key inside `ctx.once`, then fails on attempts
 * 1..failTimes: the retries get the stored count, so the key counts 1.
 */
export const onceJob = defineJob({
  name: 'demo.once',
  description: 'A side effect inside ctx.once followed by retryable failures.',
  schema: z.object({ key: z.string().min(1).max(512), failTimes: z.number().int().min(0).max(10) }),
  retry: DEMO_RETRY,
  handler: async ({ key, failTimes }, ctx) => {
    const { count } = await ctx.once('ledger-increment', () => effectJob.handler({ key }, ctx));
    if (ctx.attempt <= failTimes) throw new Error(`demo.once failing on purpose after its side effect (attempt ${ctx.attempt})`);
    return { count, attempts: ctx.attempt };
  },
});
