import { setTimeout as sleep } from 'node:timers/promises';
import { implementJob } from 'jobstack';
import { progress } from '../contracts.js';

export const progressJob = implementJob(progress, async ({ steps, stepMs }, ctx) => {
  for (let step = 1; step <= steps; step++) {
    await sleep(stepMs, undefined, { signal: ctx.signal });
    await ctx.progress((step / steps) * 100, `step ${step} of ${steps}`);
  }
  return { steps };
});
