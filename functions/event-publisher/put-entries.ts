import { type EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { EventEntryTooLargeError } from './errors.js';

/** Entries one PutEvents request may carry. */
export const PUT_EVENTS_MAX_ENTRIES = 10;
/** Total size of one PutEvents request's entries, as EventBridge counts it. */
export const PUT_EVENTS_MAX_BYTES = 256 * 1024;

/**
 * The size EventBridge counts for an entry: 14 bytes for `Time` when given, plus the UTF-8
 * bytes of `Source`, `DetailType`, `Detail` and each of `Resources`
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html).
 */
export function entrySizeBytes(entry: PutEventsRequestEntry): number {
  const bytes = (value: string | undefined): number => (value === undefined ? 0 : Buffer.byteLength(value, 'utf8'));
  let size = entry.Time === undefined ? 0 : 14;
  size += bytes(entry.Source) + bytes(entry.DetailType) + bytes(entry.Detail);
  for (const resource of entry.Resources ?? []) size += bytes(resource);
  return size;
}

/**
 * Splits entries, in order, into requests of at most 10 entries and 256 KB.
 *
 * @throws EventEntryTooLargeError when one entry alone exceeds 256 KB
 */
export function chunkEntries<T extends PutEventsRequestEntry>(entries: readonly T[]): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let currentBytes = 0;
  for (const entry of entries) {
    const size = entrySizeBytes(entry);
    if (size > PUT_EVENTS_MAX_BYTES) throw new EventEntryTooLargeError(size);
    if (current.length === PUT_EVENTS_MAX_ENTRIES || currentBytes + size > PUT_EVENTS_MAX_BYTES) {
      chunks.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(entry);
    currentBytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** An entry EventBridge still refused after the last attempt. */
export interface FailedEntry {
  /** Its index in the entries given to {@link putEntries}. */
  readonly index: number;
  readonly errorCode: string;
  readonly errorMessage?: string;
}

export interface PutEntriesOptions {
  /** PutEvents attempts per entry. @default 3 */
  readonly maxAttempts?: number;
  /** Delay before the second attempt, doubled for each later one. @default 100 */
  readonly retryDelayMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface PutEntriesResult {
  readonly failed: readonly FailedEntry[];
  /** PutEvents requests sent, retries included. */
  readonly requests: number;
}

/**
 * Puts entries in requests of up to 10 entries / 256 KB. A partial failure (`FailedEntryCount > 0`)
 * re-sends only the entries that failed; a request that fails as a whole (after the SDK's own
 * retries) re-sends all of its entries. What still fails after `maxAttempts` is returned, never thrown.
 *
 * @throws EventEntryTooLargeError when one entry alone exceeds 256 KB (nothing is sent then)
 */
export async function putEntries(
  client: Pick<EventBridgeClient, 'send'>,
  entries: readonly PutEventsRequestEntry[],
  options: PutEntriesOptions = {},
): Promise<PutEntriesResult> {
  const maxAttempts = options.maxAttempts ?? 3;
  const retryDelayMs = options.retryDelayMs ?? 100;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const indexed = entries.map((entry, index) => ({ ...entry, index }));
  const failed: FailedEntry[] = [];
  let requests = 0;
  for (const chunk of chunkEntries(indexed)) {
    let pending = chunk;
    let lastErrors = new Map<number, { errorCode: string; errorMessage?: string }>();
    for (let attempt = 1; attempt <= maxAttempts && pending.length > 0; attempt++) {
      if (attempt > 1) await sleep(retryDelayMs * 2 ** (attempt - 2));
      requests++;
      const errors = new Map<number, { errorCode: string; errorMessage?: string }>();
      try {
        const output = await client.send(new PutEventsCommand({ Entries: pending.map(({ index: _index, ...entry }) => entry) }));
        const results = output.Entries ?? [];
        pending.forEach((entry, position) => {
          const result = results[position];
          // A response without a result for the entry proves nothing about it: count it as failed.
          if (result === undefined || result.ErrorCode !== undefined || result.EventId === undefined) {
            errors.set(entry.index, {
              errorCode: result?.ErrorCode ?? 'MissingResult',
              ...(result?.ErrorMessage === undefined ? {} : { errorMessage: result.ErrorMessage }),
            });
          }
        });
      } catch (error) {
        const name = error instanceof Error ? error.name : 'Error';
        const message = error instanceof Error ? error.message : String(error);
        for (const entry of pending) errors.set(entry.index, { errorCode: name, errorMessage: message });
      }
      pending = pending.filter((entry) => errors.has(entry.index));
      lastErrors = errors;
    }
    for (const entry of pending) {
      const error = lastErrors.get(entry.index) ?? { errorCode: 'Unknown' };
      failed.push({ index: entry.index, ...error });
    }
  }
  return { failed, requests };
}
