import { CheckpointNotStorableError, CheckpointTooLargeError } from '../../shared/index.js';
import { unstorableNumbers } from '../../shared/storable.js';
import { realTimers, type Timers } from './run-attempt.js';

/** Results larger than this are not stored on the record (DynamoDB items stop at 400 KB, and the payload may be 200 KB). */
export const MAX_STORED_RESULT_BYTES = 100_000;
/** Largest checkpoint stored on a long job's record, as JSON (with a ≤ 200 KB payload, the item stays below 400 KB). */
export const MAX_CHECKPOINT_BYTES = 100_000;

/** Tries of an outcome write that fails with something other than its condition (throttling, an outage). */
export const OUTCOME_WRITE_TRIES = 4;
const OUTCOME_WRITE_FIRST_DELAY_MS = 200;

/** Why a result is stored as a stand-in object instead of as itself. */
export type StoredResultNote = 'too-large' | 'not-storable';

export interface StorableResult {
  /** What the record holds as `result`: the result itself (as JSON), or a stand-in object saying why not. */
  readonly value: unknown;
  readonly note?: StoredResultNote;
  /** With `note`: the details, for the log line. */
  readonly reason?: string;
}

/**
 * Turns what a handler returned into what the record stores. A result is
 * stored as its JSON value when it fits and DynamoDB can hold it exactly;
 * otherwise as a stand-in object that says why (strings are always
 * storable, so the stand-in always is):
 *
 * - `{ resultTooLarge: true, sizeBytes, limitBytes }` over MAX_STORED_RESULT_BYTES;
 * - `{ resultNotStorable: true, reason, json }` when it holds numbers DynamoDB or
 *   its document client cannot hold exactly (beyond ±(2^53 − 1), below 1E-130):
 *   `json` is the exact JSON text, to parse with a big-number-aware parser;
 * - `{ resultNotStorable: true, reason }` when it is not JSON at all (a BigInt, a cycle).
 *
 * Never throws: once a handler has returned, its outcome must be recordable.
 */
export function storableResult(result: unknown): StorableResult {
  let json: string | undefined;
  try {
    json = JSON.stringify(result);
  } catch (error) {
    const reason = `the result is not JSON: ${(error as Error).message}`;
    return { value: { resultNotStorable: true, reason }, note: 'not-storable', reason };
  }
  if (json === undefined) return { value: null };
  const sizeBytes = Buffer.byteLength(json);
  if (sizeBytes > MAX_STORED_RESULT_BYTES) {
    return {
      value: { resultTooLarge: true, sizeBytes, limitBytes: MAX_STORED_RESULT_BYTES },
      note: 'too-large',
      reason: `${sizeBytes} bytes as JSON`,
    };
  }
  const value: unknown = JSON.parse(json);
  const problems = unstorableNumbers(value);
  if (problems.length === 0) return { value };
  const reason = `numbers DynamoDB cannot store exactly: ${problems.join('; ')}`;
  return { value: { resultNotStorable: true, reason, json }, note: 'not-storable', reason };
}

/**
 * The JSON value of a long job's checkpoint, as it will be stored.
 * @throws CheckpointNotStorableError when it is not JSON or holds numbers DynamoDB cannot store exactly
 * @throws CheckpointTooLargeError over MAX_CHECKPOINT_BYTES
 */
export function storableCheckpoint(checkpoint: unknown, job: { readonly id: string; readonly type: string }): unknown {
  let json: string;
  try {
    json = JSON.stringify(checkpoint ?? null);
  } catch (error) {
    throw new CheckpointNotStorableError(job.id, job.type, `it is not JSON (${(error as Error).message})`);
  }
  const sizeBytes = Buffer.byteLength(json);
  if (sizeBytes > MAX_CHECKPOINT_BYTES) throw new CheckpointTooLargeError(job.id, job.type, sizeBytes, MAX_CHECKPOINT_BYTES);
  const value: unknown = JSON.parse(json);
  const problems = unstorableNumbers(value);
  if (problems.length > 0) throw new CheckpointNotStorableError(job.id, job.type, problems.join('; '));
  return value;
}

export interface OutcomeWriteOptions {
  /** Epoch ms by which the last try must have started (the time left in the Lambda, less a margin). */
  readonly until: number;
  readonly clock?: () => number;
  readonly timers?: Timers;
  /** Told about each failed try that will be tried again. */
  readonly onRetry?: (error: unknown, nextDelayMs: number) => void;
  /** @default OUTCOME_WRITE_TRIES */
  readonly tries?: number;
}

/**
 * Runs an outcome write (its condition is part of `write`, which answers a
 * condition failure as a value, not an error) and tries it again with backoff
 * when it throws, as long as there are tries and time left. The write is made
 * after the handler's try/catch: a write that fails is never mistaken for a
 * failure of the handler.
 *
 * @throws the last error when every try failed
 */
export async function writeOutcome<T>(write: () => Promise<T>, options: OutcomeWriteOptions): Promise<T> {
  const clock = options.clock ?? Date.now;
  const timers = options.timers ?? realTimers;
  const tries = options.tries ?? OUTCOME_WRITE_TRIES;
  let delayMs = OUTCOME_WRITE_FIRST_DELAY_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (attempt >= tries || clock() + delayMs > options.until) throw error;
      options.onRetry?.(error, delayMs);
      await new Promise<void>((resolve) => timers.setTimeout(resolve, delayMs));
      delayMs *= 2;
    }
  }
}
