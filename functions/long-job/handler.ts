// The demo's long-job step entry: the factory with the demo's handlers.
import { createLongJobStepHandler } from 'jobstack/worker';
import { registry } from '../jobs/handlers.js';

export const handler = createLongJobStepHandler({ registry });
