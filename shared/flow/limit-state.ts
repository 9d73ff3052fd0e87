import { InvalidArgumentError } from '../errors.js';
import type { AnyJobContract } from '../job-definition.js';
import type { FlowStore } from '../store/flow-store.js';
import { WHOLE_TYPE_KEY } from './limits.js';

/** The current state of one key's flow limits, as `jobs.limits(type, key)` reads it. */
export interface FlowLimitState {
  readonly jobType: string;
  /** The key read (`'*'` for a limit on the whole job type). */
  readonly key: string;
  /** Present when the job type has `concurrency`. */
  readonly concurrency?: {
    readonly limit: number;
    /** Jobs holding a live slot: running, or crashed with their lease not yet run out. */
    readonly holders: readonly { readonly jobId: string; readonly leaseUntil: string }[];
  };
  /** Present when the job type has `rateLimit`. */
  readonly rateLimit?: {
    readonly limit: number;
    readonly perMs: number;
    /** Recorded starts within the current window, oldest first (ISO-8601). */
    readonly startsInWindow: readonly string[];
    /** When the next start is possible, if the window is full now (ISO-8601). */
    readonly nextStartAt?: string;
  };
}

/**
 * Reads the concurrency holders and recent starts of `key` under the limits
 * `contract` declares: one strongly consistent read per limit.
 * @throws InvalidArgumentError when the limits are per key and no key is given
 */
export async function readFlowLimitState(
  flow: FlowStore,
  contract: AnyJobContract,
  key: string | undefined,
  now: number,
): Promise<FlowLimitState> {
  const { concurrency, rateLimit } = contract;
  const perKey = Boolean(concurrency?.key ?? rateLimit?.key);
  if (perKey && key === undefined) {
    throw new InvalidArgumentError(`job type '${contract.name}' has limits per key: give the key to read (given none)`);
  }
  const resolved = (limit: { key?: unknown }) => (limit.key ? (key as string) : WHOLE_TYPE_KEY);
  const state: { -readonly [K in keyof FlowLimitState]: FlowLimitState[K] } = {
    jobType: contract.name,
    key: key ?? WHOLE_TYPE_KEY,
  };
  if (concurrency) {
    const { holders } = await flow.slots(contract.name, resolved(concurrency));
    state.concurrency = {
      limit: concurrency.limit,
      holders: holders.map((holder) => ({ jobId: holder.jobId, leaseUntil: new Date(holder.leaseUntil).toISOString() })),
    };
  }
  if (rateLimit) {
    const { starts } = await flow.starts(contract.name, resolved(rateLimit));
    const inWindow = starts.filter((start) => start > now - rateLimit.perMs);
    const full = inWindow.length >= rateLimit.limit;
    const freeing = inWindow[inWindow.length - rateLimit.limit];
    state.rateLimit = {
      limit: rateLimit.limit,
      perMs: rateLimit.perMs,
      startsInWindow: inWindow.map((start) => new Date(start).toISOString()),
      ...(full && freeing !== undefined ? { nextStartAt: new Date(freeing + rateLimit.perMs).toISOString() } : {}),
    };
  }
  return state;
}
