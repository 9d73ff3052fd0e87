import * as z from 'zod';
import { defineJob, NonRetryableError } from '../../../shared/index.js';
import { DEMO_RETRY } from './retry-policy.js';

/** Always fails with a retryable error: ends `dead` after its last attempt. */
export const failJob = defineJob({
  name: 'demo.fail',
  description: 'Always throws a retryable error.',
  schema: z.object({}),
  retry: DEMO_RETRY,
  handler: async (_payload, { attempt }): Promise<never> => {
    throw new Error(`demo.fail failing on purpose (attempt ${attempt})`);
  },
});

/** Fails with a non-retryable error: ends `dead` after one attempt. */
export const fatalJob = defineJob({
  name: 'demo.fatal',
  description: 'Throws a non-retryable error.',
  schema: z.object({}),
  retry: DEMO_RETRY,
  handler: async (): Promise<never> => {
    throw new NonRetryableError('demo.fatal failing on purpose; retrying cannot help');
  },
});
