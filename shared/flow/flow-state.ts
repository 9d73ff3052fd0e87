import { InvalidArgumentError } from '../errors.js';
import type { AnyJobContract } from '../job-definition.js';
import type { FlowStore } from '../store/flow-store.js';
import type { KeyedFlowStore } from './debounce.js';
import { WHOLE_TYPE_KEY } from './limits.js';

/**
 * The flow control of one job type for one key, as `jobs.flowState(type, key)`
 * reads it: one entry per option the contract declares, each with its current
 * state. Absent entries are options the job type does not have.
 */
export interface FlowState {
  readonly jobType: string;
  /** The key read (`'*'` for limits on the whole job type). */
  readonly key: string;
  /** `concurrency`: the jobs holding a live slot (running, or crashed with their lease not yet run out). */
  readonly concurrency?: {
    readonly limit: number;
    readonly holders: readonly { readonly jobId: string; readonly leaseUntil: string }[];
  };
  /** `rateLimit`: the recorded starts within the current window, oldest first (ISO-8601). */
  readonly rateLimit?: {
    readonly limit: number;
    readonly perMs: number;
    readonly startsInWindow: readonly string[];
    /** When the next start is possible, if the window is full now (ISO-8601). */
    readonly nextStartAt?: string;
  };
  /** `debounce`: the latest job marked for the key; it runs unless a later enqueue supersedes it (it may have run). */
  readonly debounce?: {
    readonly periodMs: number;
    readonly latest?: { readonly jobId: string; readonly enqueuedAt: string };
  };
  /** `throttle`: the job holding the key's open window and when the window ends; absent when no window is open. */
  readonly throttle?: {
    readonly periodMs: number;
    readonly window?: { readonly jobId: string; readonly until: string };
  };
}

/** The stores the flow state is read from (all control items of the job table). */
export interface FlowStateStores {
  readonly limits: FlowStore;
  readonly keyed: KeyedFlowStore;
}

/**
 * Reads the state of every flow-control option `contract` declares, for `key`:
 * one strongly consistent read per option.
 * @throws InvalidArgumentError when an option is per key and no key is given
 */
export async function readFlowState(
  stores: FlowStateStores,
  contract: AnyJobContract,
  key: string | undefined,
  now: number,
): Promise<FlowState> {
  const { concurrency, rateLimit, debounce, throttle } = contract;
  const perKey = Boolean(concurrency?.key ?? rateLimit?.key ?? debounce ?? throttle);
  if (perKey && key === undefined) {
    throw new InvalidArgumentError(`job type '${contract.name}' has flow control per key: give the key to read (given none)`);
  }
  const limitKey = (limit: { key?: unknown }) => (limit.key ? (key as string) : WHOLE_TYPE_KEY);
  const state: { -readonly [K in keyof FlowState]: FlowState[K] } = { jobType: contract.name, key: key ?? WHOLE_TYPE_KEY };
  if (concurrency) {
    const { holders } = await stores.limits.slots(contract.name, limitKey(concurrency));
    state.concurrency = {
      limit: concurrency.limit,
      holders: holders.map((holder) => ({ jobId: holder.jobId, leaseUntil: new Date(holder.leaseUntil).toISOString() })),
    };
  }
  if (rateLimit) {
    const { starts } = await stores.limits.starts(contract.name, limitKey(rateLimit));
    const inWindow = starts.filter((start) => start > now - rateLimit.perMs);
    const freeing = inWindow[inWindow.length - rateLimit.limit];
    state.rateLimit = {
      limit: rateLimit.limit,
      perMs: rateLimit.perMs,
      startsInWindow: inWindow.map((start) => new Date(start).toISOString()),
      ...(inWindow.length >= rateLimit.limit && freeing !== undefined
        ? { nextStartAt: new Date(freeing + rateLimit.perMs).toISOString() }
        : {}),
    };
  }
  if (debounce) {
    const mark = await stores.keyed.readLatest(contract.name, key as string);
    state.debounce = {
      periodMs: debounce.periodMs,
      ...(mark ? { latest: { jobId: mark.jobId, enqueuedAt: mark.enqueuedAt } } : {}),
    };
  }
  if (throttle) {
    const window = await stores.keyed.readWindow(contract.name, key as string);
    state.throttle = {
      periodMs: throttle.periodMs,
      ...(window && window.untilMs > now
        ? { window: { jobId: window.holder, until: new Date(window.untilMs).toISOString() } }
        : {}),
    };
  }
  return state;
}
