import { connectJobClient, implementJob } from 'jobstack';
import { archiveInvoice, contracts } from './contracts.js';

/**
 * Compile-time checks of the typing an adopter relies on; never run. Each
 * `@ts-expect-error` must meet an error on the next line, or `tsc` fails, and
 * the adoption test also compiles this file without the directives to see that
 * every one of those lines is an error on its own.
 */
function accept<T>(_value: T): void {}

export async function typeTests(): Promise<void> {
  const jobs = await connectJobClient({ registry: contracts, stackName: 'AdoptionApp' });

  const handle = await jobs.enqueue('invoice.archive', { customerId: 'c-1', month: '2026-01', folder: 'archive' });
  // @ts-expect-error customerId is a string
  await jobs.enqueue('invoice.archive', { customerId: 42, month: '2026-01', folder: 'archive' });
  // @ts-expect-error month is required
  await jobs.enqueue('invoice.archive', { customerId: 'c-1', folder: 'archive' });
  // @ts-expect-error no job type of that name
  await jobs.enqueue('invoice.delete', { customerId: 'c-1' });

  const record = await jobs.wait(handle);
  const result = record.result;
  if (result === undefined) return;
  accept<string>(result.key);
  accept<number>(result.segments);
  // @ts-expect-error key is a string, not a number
  accept<number>(result.key);
  // @ts-expect-error the result has no such field
  accept<string>(result.bucket);

  // A bare job id says nothing about the job type, so its result is unknown.
  const byId = await jobs.wait(handle.jobId);
  // @ts-expect-error unknown has no fields
  accept<string>(byId.result.key);

  // @ts-expect-error a handler must return the contract's result
  implementJob(archiveInvoice, async ({ customerId }) => ({ key: customerId, segments: '1' }));
  // @ts-expect-error the payload has no such field
  implementJob(archiveInvoice, async ({ invoiceId }) => ({ key: invoiceId, segments: 1 }));
}
