import { defineRegistry, implementJob } from 'jobstack';
import { join } from 'pathe';
import { archiveInvoice } from './contracts.js';

/**
 * The worker side: the handler of every contract. `pathe` is this app's own
 * dependency (jobstack does not use it); it normalizes Windows separators,
 * which `node:path` on Linux leaves alone, so the result shows it ran.
 */
export const archiveInvoiceJob = implementJob(archiveInvoice, async ({ customerId, month, folder }, { logger }) => {
  const key = join(folder, customerId, `${month}.pdf`);
  logger.info('invoice key worked out', { key });
  return { key, segments: key.split('/').length };
});

export default defineRegistry(archiveInvoiceJob);
