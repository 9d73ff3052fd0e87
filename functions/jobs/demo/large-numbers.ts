import * as z from 'zod';
import { defineJob } from '../../../shared/index.js';
import { effectJob } from './effect.js';
import { DEMO_RETRY } from './retry-policy.js';

/**
 * A side effect inside `ctx.once` whose stored result, and the job's result,
 * hold numbers beyond 2^53 — which the DynamoDB document client refuses. The
 * soak checks that such a job succeeds once and its side effect runs once:
 * recording an outcome must never be what re-runs a handler.
 */
export const largeNumbersJob = defineJob({
  name: 'demo.large-numbers',
  description: 'Returns numbers beyond 2^53 from ctx.once and from the handler.',
  schema: z.object({ key: z.string().min(1).max(512) }),
  retry: DEMO_RETRY,
  handler: async ({ key }, ctx) => {
    const charged = await ctx.once('ledger-increment', async () => ({
      ...(await effectJob.handler({ key }, ctx)),
      reference: 2 ** 60 + 2 ** 12,
    }));
    return { count: charged.count, reference: charged.reference, total: 2 ** 64 };
  },
});
