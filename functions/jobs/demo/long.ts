import { setTimeout as sleep } from 'node:timers/promises';
import * as z from 'zod';
import { defineLongJob } from '../../../shared/long-jobs/define-long-job.js';
import { DEMO_RETRY } from './retry-policy.js';

/**
 * Processes `steps` steps of `stepMs` each on Step Functions, checkpointing
 * after every step. `failAtStep` makes the first attempt at that step fail
 * (a transient error), to show a retry resuming from the last checkpoint.
 */
export const longJob = defineLongJob({
  name: 'demo.long',
  description: 'Runs steps of stepMs each on Step Functions, with a checkpoint and progress after each.',
  schema: z.object({
    steps: z.number().int().min(1).max(10_000),
    stepMs: z
      .number()
      .int()
      .min(0)
      .max(10 * 60_000),
    failAtStep: z.number().int().min(1).optional(),
  }),
  retry: DEMO_RETRY,
  stepTimeout: '11m',
  step: async ({ steps, stepMs, failAtStep }, { checkpoint, attempt, signal }) => {
    const done = (checkpoint as { done?: number } | undefined)?.done ?? 0;
    if (failAtStep === done + 1 && attempt === 1) {
      throw new Error(`demo.long failing on purpose at step ${done + 1} (attempt ${attempt})`);
    }
    await sleep(stepMs, undefined, { signal });
    const next = done + 1;
    if (next >= steps) return { done: true, result: { steps: next } };
    return { checkpoint: { done: next }, progress: { percent: (100 * next) / steps, message: `step ${next} of ${steps}` } };
  },
});
