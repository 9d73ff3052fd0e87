import { setTimeout as sleep } from 'node:timers/promises';
import { implementJob } from 'jobstack';
import { ordered } from '../contracts.js';

export const orderedJob = implementJob(ordered, async ({ key, seq, sleepMs, failTimes }, { attempt, signal }) => {
  if (sleepMs > 0) await sleep(sleepMs, undefined, { signal });
  if (attempt <= failTimes) {
    throw new Error(`demo.ordered ${key}#${seq} failing on purpose (attempt ${attempt} of ${failTimes} planned failures)`);
  }
  return { key, seq, attempt };
});
