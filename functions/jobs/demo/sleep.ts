import { setTimeout as sleep } from 'node:timers/promises';
import * as z from 'zod';
import { defineJob } from '../../../shared/index.js';
import { DEMO_RETRY } from './retry-policy.js';

/** Sleeps `ms` milliseconds; stops early (and fails the attempt) when the run's signal aborts. */
export const sleepJob = defineJob({
  name: 'demo.sleep',
  description: 'Sleeps for the given milliseconds.',
  schema: z.object({
    ms: z
      .number()
      .int()
      .min(0)
      .max(14 * 60_000),
  }),
  retry: DEMO_RETRY,
  timeout: '60s',
  handler: async ({ ms }, { signal }) => {
    await sleep(ms, undefined, { signal });
    return { sleptMs: ms };
  },
});
