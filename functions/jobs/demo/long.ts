import { setTimeout as sleep } from 'node:timers/promises';
import { implementLongJob, type LongJobStep } from 'jobstack';
import type { z } from 'zod';
import { long, longExpress } from '../contracts.js';

/** One step of demo.long: `stepMs` of sleep, a failure on purpose at `failAtStep`, a checkpoint of steps done. */
const demoStep: LongJobStep<z.output<typeof long.schema>, { done: number }, { steps: number }> = async (
  { steps, stepMs, failAtStep, failAttempts },
  { checkpoint, attempt, signal },
) => {
  const done = checkpoint?.done ?? 0;
  if (failAtStep === done + 1 && attempt <= (failAttempts ?? 1)) {
    throw new Error(`demo.long failing on purpose at step ${done + 1} (attempt ${attempt})`);
  }
  await sleep(stepMs, undefined, { signal });
  const next = done + 1;
  if (next >= steps) return { done: true, result: { steps: next } };
  return { checkpoint: { done: next }, progress: { percent: (100 * next) / steps, message: `step ${next} of ${steps}` } };
};

export const longJob = implementLongJob(long, demoStep);
export const longExpressJob = implementLongJob(longExpress, demoStep);
