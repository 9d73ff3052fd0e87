import { implementJob } from 'jobstack';
import { once } from '../contracts.js';
import { effectJob } from './effect.js';

export const onceJob = implementJob(once, async ({ key, failTimes }, ctx) => {
  const { count } = await ctx.once('ledger-increment', () => effectJob.handler({ key }, ctx));
  if (ctx.attempt <= failTimes) throw new Error(`demo.once failing on purpose after its side effect (attempt ${ctx.attempt})`);
  return { count, attempts: ctx.attempt };
});
