import { type DurationInput, parseDuration } from '../duration.js';
import { FlowKeyError } from './errors.js';

/**
 * `concurrency` on a job contract: at most `limit` jobs with the same key run
 * at any moment, across all workers.
 *
 * @example
 * concurrency: { key: (payload) => payload.tenantId, limit: 2 }
 */
export interface ConcurrencyLimitInput<Payload = unknown> {
  /** The key a job counts against (its payload as the schema outputs it in, 1..128 characters out). @default - one limit for the whole job type */
  readonly key?: (payload: Payload) => string;
  /** Jobs of one key running at once: 1..1000. */
  readonly limit: number;
}

/**
 * `rateLimit` on a job contract: at most `limit` jobs with the same key start
 * within any window of length `per`, across all workers.
 *
 * @example
 * rateLimit: { key: (payload) => payload.apiAccount, limit: 100, per: '1m' }
 */
export interface RateLimitInput<Payload = unknown> {
  /** The key a job counts against (1..128 characters). @default - one limit for the whole job type */
  readonly key?: (payload: Payload) => string;
  /** Starts of one key per window: 1..1000. */
  readonly limit: number;
  /** Length of the window: 1s..24h. */
  readonly per: DurationInput;
}

/** A resolved concurrency limit, as the worker applies it. */
export interface ConcurrencyLimit<Payload = unknown> {
  readonly key?: (payload: Payload) => string;
  readonly limit: number;
}

/** A resolved rate limit, as the worker applies it. */
export interface RateLimit<Payload = unknown> {
  readonly key?: (payload: Payload) => string;
  readonly limit: number;
  /** Window length in milliseconds. */
  readonly perMs: number;
}

/** The key of a job type without a `key` function: one limit for the whole type. */
export const WHOLE_TYPE_KEY = '*';
export const MAX_CONCURRENCY_LIMIT = 1_000;
export const MAX_RATE_LIMIT = 1_000;
const MIN_RATE_PERIOD_MS = 1_000;
const MAX_RATE_PERIOD_MS = 86_400_000;
const MAX_KEY_CHARS = 128;

/**
 * Checks and resolves a contract's `concurrency` and `rateLimit` options.
 * @throws RangeError naming the job type and quoting the value
 */
export function resolveFlowLimits<Payload>(
  jobType: string,
  input: { readonly concurrency?: ConcurrencyLimitInput<Payload>; readonly rateLimit?: RateLimitInput<Payload> },
): { concurrency?: ConcurrencyLimit<Payload>; rateLimit?: RateLimit<Payload> } {
  const resolved: { concurrency?: ConcurrencyLimit<Payload>; rateLimit?: RateLimit<Payload> } = {};
  if (input.concurrency !== undefined) {
    const { key, limit } = checkObject(jobType, 'concurrency', input.concurrency);
    checkLimit(jobType, 'concurrency', limit, MAX_CONCURRENCY_LIMIT);
    resolved.concurrency = {
      limit: limit as number,
      ...(key === undefined ? {} : { key: checkKey<Payload>(jobType, 'concurrency', key) }),
    };
  }
  if (input.rateLimit !== undefined) {
    const { key, limit, per } = checkObject(jobType, 'rateLimit', input.rateLimit);
    checkLimit(jobType, 'rateLimit', limit, MAX_RATE_LIMIT);
    let perMs: number;
    try {
      perMs = parseDuration(per);
    } catch (error) {
      throw new RangeError(`job '${jobType}': rateLimit.per must be a duration of 1s..24h (given ${JSON.stringify(per)})`, {
        cause: error,
      });
    }
    if (perMs < MIN_RATE_PERIOD_MS || perMs > MAX_RATE_PERIOD_MS) {
      throw new RangeError(`job '${jobType}': rateLimit.per must be 1s..24h (given ${JSON.stringify(per)}, ${perMs} ms)`);
    }
    resolved.rateLimit = {
      limit: limit as number,
      perMs,
      ...(key === undefined ? {} : { key: checkKey<Payload>(jobType, 'rateLimit', key) }),
    };
  }
  return resolved;
}

function checkObject(jobType: string, option: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RangeError(`job '${jobType}': ${option} must be an object such as { limit: 2 } (given ${JSON.stringify(value)})`);
  }
  return value as Record<string, unknown>;
}

function checkLimit(jobType: string, option: string, limit: unknown, max: number): void {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > max) {
    throw new RangeError(`job '${jobType}': ${option}.limit must be an integer 1..${max} (given ${JSON.stringify(limit)})`);
  }
}

function checkKey<Payload>(jobType: string, option: string, key: unknown): (payload: Payload) => string {
  if (typeof key !== 'function') {
    throw new RangeError(`job '${jobType}': ${option}.key must be a function of the payload (given ${typeof key})`);
  }
  return key as (payload: Payload) => string;
}

/**
 * The key `payload` counts against under `limit`: the key function's answer,
 * or WHOLE_TYPE_KEY without one.
 * @throws FlowKeyError when the key function throws or returns anything but a string of 1..128 characters
 */
export function flowKeyOf(
  option: 'concurrency' | 'rateLimit',
  limit: { readonly key?: (payload: never) => string },
  payload: unknown,
  context: { readonly jobId?: string; readonly jobType: string },
): string {
  if (!limit.key) return WHOLE_TYPE_KEY;
  let key: unknown;
  try {
    key = (limit.key as (payload: unknown) => unknown)(payload);
  } catch (error) {
    throw new FlowKeyError(option, { threw: error }, context);
  }
  if (typeof key !== 'string' || key.length < 1 || key.length > MAX_KEY_CHARS)
    throw new FlowKeyError(option, { returned: key }, context);
  return key;
}
