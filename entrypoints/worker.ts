// The `jobstack/worker` entry: what a handler module needs at run time. Re-exports only.
export { type JobContext, type LongJobStepContext, NonRetryableError } from '../shared/index.js';
