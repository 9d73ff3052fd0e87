import { defineJobContract, defineRegistry } from 'jobstack';
import { z } from 'zod';

/**
 * The contract of the app's one job type: what may be enqueued and what the
 * handler returns. Enqueueing code imports this module only, never the
 * handlers, so it carries none of the worker's code or dependencies.
 */
export const archiveInvoice = defineJobContract({
  name: 'invoice.archive',
  description: 'Works out the object key an invoice PDF is archived under.',
  schema: z.object({
    customerId: z.string().min(1),
    month: z.string().regex(/^\d{4}-\d{2}$/),
    /** Folder as the caller spells it; Windows separators are allowed. */
    folder: z.string().min(1),
  }),
  result: z.object({ key: z.string(), segments: z.number().int() }),
  retry: { maxAttempts: 2 },
  timeout: '30s',
});

export const contracts = defineRegistry(archiveInvoice);
export default contracts;
