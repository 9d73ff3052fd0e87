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

/**
 * Fails with a non-retryable error: ends `dead` after one attempt. `message`
 * replaces the error message (the soak sends control characters through it,
 * which SQS refuses in the dead-letter copy's attributes unless they are cleaned).
 */
export const fatalJob = defineJob({
  name: 'demo.fatal',
  description: 'Throws a non-retryable error.',
  schema: z.object({ message: z.string().max(2_000).optional() }),
  retry: DEMO_RETRY,
  handler: async ({ message }): Promise<never> => {
    throw new NonRetryableError(message ?? 'demo.fatal failing on purpose; retrying cannot help');
  },
});
