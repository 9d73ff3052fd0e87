import { setTimeout as sleep } from 'node:timers/promises';
import { implementJob } from 'jobstack';
import * as contracts from '../contracts.js';

export const sleepJob = implementJob(contracts.sleep, async ({ ms }, { signal }) => {
  await sleep(ms, undefined, { signal });
  return { sleptMs: ms };
});
