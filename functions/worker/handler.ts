// The demo's worker entry: the factory with the demo's handlers.
import { createWorkerHandler } from 'jobstack/worker';
import { registry } from '../jobs/handlers.js';

export const handler = createWorkerHandler({ registry });
