import * as z from 'zod';
import { defineJob } from '../../../shared/index.js';
import { DEMO_RETRY } from './retry-policy.js';

/** Returns its message: the smallest possible job, used for overhead and throughput figures. */
export const echoJob = defineJob({
  name: 'demo.echo',
  description: 'Returns its message.',
  schema: z.object({ message: z.string() }),
  retry: DEMO_RETRY,
  handler: async ({ message }) => ({ message }),
});
