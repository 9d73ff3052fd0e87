import { setTimeout as sleep } from 'node:timers/promises';
import { implementLongJob } from 'jobstack';
import { long } from '../contracts.js';

export const longJob = implementLongJob(
  long,
  async ({ steps, stepMs, failAtStep, failAttempts }, { checkpoint, attempt, signal }) => {
    const done = (checkpoint as { done?: number } | undefined)?.done ?? 0;
    if (failAtStep === done + 1 && attempt <= (failAttempts ?? 1)) {
      throw new Error(`demo.long failing on purpose at step ${done + 1} (attempt ${attempt})`);
    }
    await sleep(stepMs, undefined, { signal });
    const next = done + 1;
    if (next >= steps) return { done: true, result: { steps: next } };
    return { checkpoint: { done: next }, progress: { percent: (100 * next) / steps, message: `step ${next} of ${steps}` } };
  },
);
