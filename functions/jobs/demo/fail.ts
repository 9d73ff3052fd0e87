import { implementJob, NonRetryableError } from 'jobstack';
import { fail, fatal } from '../contracts.js';

export const failJob = implementJob(fail, async (_payload, { attempt }): Promise<never> => {
  throw new Error(`demo.fail failing on purpose (attempt ${attempt})`);
});

export const fatalJob = implementJob(fatal, async ({ message }): Promise<never> => {
  throw new NonRetryableError(message ?? 'demo.fatal failing on purpose; retrying cannot help');
});
