import { implementJob } from 'jobstack';
import { debounced, throttled } from '../contracts.js';
import { addToLedger } from './effect.js';

export const debouncedJob = implementJob(debounced, async ({ ledgerKey, n }, { signal }) => ({
  n,
  count: await addToLedger(ledgerKey, signal),
}));

export const throttledJob = implementJob(throttled, async ({ ledgerKey, n }, { signal }) => ({
  n,
  count: await addToLedger(ledgerKey, signal),
}));
