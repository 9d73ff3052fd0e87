import { setTimeout as sleep } from 'node:timers/promises';
import { implementJob } from 'jobstack';
import * as contracts from '../contracts.js';
import { addToLedger } from './effect.js';

export const debouncedJob = implementJob(contracts.debounced, async ({ ledgerKey, n }, { signal }) => ({
  n,
  count: await addToLedger(ledgerKey, signal),
}));

export const throttledJob = implementJob(contracts.throttled, async ({ ledgerKey, n }, { signal }) => ({
  n,
  count: await addToLedger(ledgerKey, signal),
}));

/** The priority and fairness demo jobs: each sleeps `ms` (the tests read their recorded start and end times). */
export const rankedJob = implementJob(contracts.ranked, async ({ ms }, { signal }) => {
  await sleep(ms, undefined, { signal });
  return { sleptMs: ms };
});

export const tenantWorkJob = implementJob(contracts.tenantWork, async ({ ms }, { signal }) => {
  await sleep(ms, undefined, { signal });
  return { sleptMs: ms };
});

export const tenantWorkUnfairJob = implementJob(contracts.tenantWorkUnfair, async ({ ms }, { signal }) => {
  await sleep(ms, undefined, { signal });
  return { sleptMs: ms };
});
