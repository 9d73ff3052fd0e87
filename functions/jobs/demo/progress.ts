import { setTimeout as sleep } from 'node:timers/promises';
import * as z from 'zod';
import { defineJob } from '../../../shared/index.js';
import { DEMO_RETRY } from './retry-policy.js';

/** Works in `steps` steps of `stepMs`, reporting progress after each; `cancel()` stops it at the next report. */
export const progressJob = defineJob({
  name: 'demo.progress',
  description: 'Reports progress step by step and stops when cancelled.',
  schema: z.object({ steps: z.number().int().min(1).max(1_000), stepMs: z.number().int().min(0).max(60_000) }),
  retry: DEMO_RETRY,
  timeout: '5m',
  handler: async ({ steps, stepMs }, ctx) => {
    for (let step = 1; step <= steps; step++) {
      await sleep(stepMs, undefined, { signal: ctx.signal });
      await ctx.progress((step / steps) * 100, `step ${step} of ${steps}`);
    }
    return { steps };
  },
});
