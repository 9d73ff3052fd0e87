import { implementJob } from 'jobstack';
import { flaky } from '../contracts.js';

export const flakyJob = implementJob(flaky, async ({ failTimes }, { attempt }) => {
  if (attempt <= failTimes)
    throw new Error(`demo.flaky failing on purpose (attempt ${attempt} of ${failTimes} planned failures)`);
  return { attempts: attempt };
});
