import { implementJob } from 'jobstack';
import { largeNumbers } from '../contracts.js';
import { effectJob } from './effect.js';

export const largeNumbersJob = implementJob(largeNumbers, async ({ key }, ctx) => {
  const charged = await ctx.once('ledger-increment', async () => ({
    ...(await effectJob.handler({ key }, ctx)),
    reference: 2 ** 60 + 2 ** 12,
  }));
  return { count: charged.count, reference: charged.reference, total: 2 ** 64 };
});
