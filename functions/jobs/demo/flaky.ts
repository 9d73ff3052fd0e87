import * as z from 'zod';
import { defineJob } from '../../../shared/index.js';
import { DEMO_RETRY } from './retry-policy.js';

/** Fails (retryably) on attempts 1..failTimes, then succeeds: shows retries with backoff. */
export const flakyJob = defineJob({
  name: 'demo.flaky',
  description: 'Throws a retryable error on the first failTimes attempts, then succeeds.',
  schema: z.object({ failTimes: z.number().int().min(0).max(100) }),
  retry: DEMO_RETRY,
  handler: async ({ failTimes }, { attempt }) => {
    if (attempt <= failTimes)
      throw new Error(`demo.flaky failing on purpose (attempt ${attempt} of ${failTimes} planned failures)`);
    return { attempts: attempt };
  },
});
