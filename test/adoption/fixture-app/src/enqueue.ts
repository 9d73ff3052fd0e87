import { connectJobClient, localConnection } from 'jobstack';
import { contracts } from './contracts.js';

/**
 * What an API server of this app does: enqueue with the contracts alone, wait,
 * and use the typed result. LOCAL_JOBS_ENDPOINT points it at an emulator;
 * without it the standard AWS environment is used.
 */
const endpoint = process.env.LOCAL_JOBS_ENDPOINT;
const jobs = await connectJobClient({
  registry: contracts,
  stackName: 'AdoptionApp',
  ...(endpoint === undefined ? {} : { aws: localConnection(endpoint) }),
});

const handle = await jobs.enqueue('invoice.archive', { customerId: 'c-42', month: '2026-11', folder: 'archive\\invoices' });
const record = await jobs.wait(handle, { timeout: '120s' });
const result = record.result;
console.log(
  JSON.stringify({
    jobId: handle.jobId,
    state: record.state,
    key: result?.key,
    segments: result?.segments,
  }),
);
