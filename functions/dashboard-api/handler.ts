// The demo's dashboard API entry: the factory with the demo's contracts.
import { createDashboardApiHandler } from 'jobstack/worker';
import { registry } from '../jobs/contracts.js';

export const handler = createDashboardApiHandler({ registry });
