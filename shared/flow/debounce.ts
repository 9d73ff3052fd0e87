import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type DurationInput, parseDuration } from '../duration.js';
import { InvalidArgumentError, InvalidDurationError, type JobErrorContext } from '../errors.js';
import type { JobErrorInfo, JobRecord } from '../record.js';
import { isTerminal } from '../states.js';
import { controlItemId } from '../store/control-items.js';
import { conditionFailureItem } from '../store/dynamo.js';
import type { JobStore } from '../store/job-store.js';

/**
 * Debounce and throttle per key (issue 11, item 8): the contract options, their
 * validation, the reasons recorded on the jobs they cancel, and the control
 * items in the job table that hold their state.
 *
 * - Debounce (trailing edge): every enqueue waits `period` and marks itself the
 *   latest job of its key; the job it displaced is cancelled if it has not
 *   started. Only the last job enqueued within the period runs.
 * - Throttle (leading edge): the first enqueue of a key opens a window of
 *   `period`; enqueues inside the window are recorded `cancelled` at once and
 *   never sent.
 */

/** `debounce` or `throttle` on a job contract. */
export interface KeyedPeriodInput<Payload> {
  /**
   * The key jobs are grouped by, from the payload as the schema outputs it
   * (e.g. `(p) => p.userId`). Must return 1..128 characters.
   */
  readonly key: (payload: Payload) => string;
  /** Length of the debounce wait or the throttle window: 1s..24h, e.g. `'30s'`. */
  readonly period: DurationInput;
}

/** A validated `debounce` or `throttle` option, as the contract holds it. */
export interface KeyedPeriod {
  // biome-ignore lint/suspicious/noExplicitAny: the contract's payload type is erased in registries.
  readonly key: (payload: any) => string;
  readonly periodMs: number;
}

/** Shortest and longest `period` of debounce and throttle. */
export const MIN_FLOW_PERIOD_MS = 1_000;
export const MAX_FLOW_PERIOD_MS = 24 * 3_600_000;
/** Longest key a key function may return. */
export const MAX_FLOW_KEY_LENGTH = 128;
/** Control items outlive their period by this much before DynamoDB's TTL removes them. */
const CONTROL_ITEM_GRACE_SECONDS = 86_400;

/**
 * Names of the `error` recorded on a job that debounce or throttle cancelled
 * (its `message` says which job took its place): filter on them in `list`
 * results or the dashboard.
 */
export const FlowCancelReason = {
  /** A later enqueue of the same key superseded the job before it started. */
  debounced: 'DebouncedError',
  /** Another job of the same key held the throttle window when it was enqueued. */
  throttled: 'ThrottledError',
} as const;

/** A `debounce` or `throttle` option of a job contract is malformed. */
export class InvalidFlowOptionError extends InvalidArgumentError {
  constructor(message: string, context: JobErrorContext = {}) {
    super(message, context);
    this.name = 'InvalidFlowOptionError';
  }
}

/** A debounce or throttle key function threw or returned something that is not a 1..128-character string. */
export class InvalidFlowKeyError extends InvalidArgumentError {
  constructor(
    jobType: string,
    readonly option: 'debounce' | 'throttle',
    reason: string,
    context: Omit<JobErrorContext, 'jobType'> = {},
  ) {
    super(`job type '${jobType}': the ${option} key ${reason}`, { ...context, jobType });
    this.name = 'InvalidFlowKeyError';
  }
}

/**
 * Validates a contract's `debounce` or `throttle` option.
 * @throws InvalidFlowOptionError naming the job and quoting the value
 */
export function resolveKeyedPeriod(
  jobName: string,
  option: 'debounce' | 'throttle',
  input: KeyedPeriodInput<never> | undefined,
): KeyedPeriod | undefined {
  if (input === undefined) return undefined;
  if (typeof input !== 'object' || input === null) {
    throw new InvalidFlowOptionError(`job '${jobName}': ${option} must be { key, period } (given ${describe(input)})`, {
      jobType: jobName,
    });
  }
  if (typeof input.key !== 'function') {
    throw new InvalidFlowOptionError(
      `job '${jobName}': ${option}.key must be a function of the payload (given ${describe(input.key)})`,
      { jobType: jobName },
    );
  }
  let periodMs: number;
  try {
    periodMs = parseDuration(input.period);
  } catch (error) {
    if (!(error instanceof InvalidDurationError)) throw error;
    throw new InvalidFlowOptionError(`job '${jobName}': ${option}.period is not a duration (given ${describe(input.period)})`, {
      jobType: jobName,
      cause: error,
    });
  }
  if (periodMs < MIN_FLOW_PERIOD_MS || periodMs > MAX_FLOW_PERIOD_MS) {
    throw new InvalidFlowOptionError(`job '${jobName}': ${option}.period must be 1s..24h (given ${describe(input.period)})`, {
      jobType: jobName,
    });
  }
  return { key: input.key as KeyedPeriod['key'], periodMs };
}

/**
 * Refuses a contract with both options: a job cannot both wait for the last
 * enqueue and keep the first.
 */
export function assertOneFlowMode(jobName: string, debounce: unknown, throttle: unknown): void {
  if (debounce !== undefined && throttle !== undefined) {
    throw new InvalidFlowOptionError(`job '${jobName}': give debounce or throttle, not both`, { jobType: jobName });
  }
}

/**
 * The key of `payload` under `option`.
 * @throws InvalidFlowKeyError when the key function throws or returns anything but 1..128 characters
 */
export function keyedFlowKeyOf(jobType: string, option: 'debounce' | 'throttle', flow: KeyedPeriod, payload: unknown): string {
  let key: unknown;
  try {
    key = flow.key(payload);
  } catch (error) {
    throw new InvalidFlowKeyError(jobType, option, `function threw: ${(error as Error)?.message ?? String(error)}`, {
      cause: error,
    });
  }
  if (typeof key !== 'string') throw new InvalidFlowKeyError(jobType, option, `must be a string (given ${describe(key)})`);
  if (key.length < 1 || key.length > MAX_FLOW_KEY_LENGTH) {
    throw new InvalidFlowKeyError(
      jobType,
      option,
      `must be 1..${MAX_FLOW_KEY_LENGTH} characters (given ${describe(key)}, ${key.length} characters)`,
    );
  }
  return key;
}

/** The error recorded on a job a later enqueue of its key superseded. */
export function debouncedReason(supersededBy: string): JobErrorInfo {
  return { name: FlowCancelReason.debounced, message: `debounced: superseded by job ${supersededBy}`, retryable: false };
}

/** The error recorded on a job enqueued while another job held its key's throttle window. */
export function throttledReason(holder: string, key: string, untilMs: number): JobErrorInfo {
  return {
    name: FlowCancelReason.throttled,
    message: `throttled: job ${holder} holds key ${key} until ${new Date(untilMs).toISOString()}`,
    retryable: false,
  };
}

/** A job as the debounce mark orders it: by enqueue time, then by id. */
export interface DebounceMark {
  readonly jobId: string;
  /** ISO-8601 time of the enqueue (the envelope's `enqueuedAt`). */
  readonly enqueuedAt: string;
}

/** True when `latest` was enqueued after `mine` (ties broken by job id): `mine` is superseded. */
export function isSupersededBy(mine: DebounceMark, latest: DebounceMark): boolean {
  if (latest.enqueuedAt !== mine.enqueuedAt) return latest.enqueuedAt > mine.enqueuedAt;
  return latest.jobId > mine.jobId;
}

export type MarkResult =
  /** This job is now the latest of its key; `previous` is the job it displaced, if any. */
  | { readonly outcome: 'latest'; readonly previous?: DebounceMark }
  /** A job enqueued after this one is already marked: this one is superseded by it. */
  | { readonly outcome: 'superseded'; readonly by: DebounceMark };

export type ThrottleResult =
  | { readonly outcome: 'kept'; readonly untilMs: number }
  | { readonly outcome: 'throttled'; readonly holder: string; readonly untilMs: number };

/**
 * The control items of debounce and throttle in the job table, one per job
 * type and key (`debounce#<type>#<key>`, `throttle#<type>#<key>`). Each write
 * is one conditional UpdateItem, so concurrent enqueues of a key agree on one
 * latest job (debounce) or one window holder (throttle) without a lock.
 */
export class KeyedFlowStore {
  private readonly clock: () => number;

  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: { clock?: () => number } = {},
  ) {
    this.clock = options.clock ?? Date.now;
  }

  /**
   * Marks `mine` the latest job of the key, unless a job enqueued after it is
   * already marked (a slow caller never moves the mark backwards). One write,
   * returning the previous mark (`ALL_OLD`) either way.
   */
  async markLatest(jobType: string, key: string, mine: DebounceMark, periodMs: number): Promise<MarkResult> {
    try {
      const output = await this.documentClient.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: controlItemId('debounce', jobType, key) },
          UpdateExpression: 'SET latestJobId = :id, latestEnqueuedAt = :at, expiresAt = :expiresAt',
          ConditionExpression:
            'attribute_not_exists(id) OR latestEnqueuedAt < :at OR (latestEnqueuedAt = :at AND latestJobId < :id)',
          ExpressionAttributeValues: {
            ':id': mine.jobId,
            ':at': mine.enqueuedAt,
            ':expiresAt': this.expiresAt(Date.parse(mine.enqueuedAt) + periodMs),
          },
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const previous = markOf(output.Attributes);
      return previous === undefined ? { outcome: 'latest' } : { outcome: 'latest', previous };
    } catch (error) {
      const current = markOf(conditionFailureItem(error) as Record<string, unknown> | undefined);
      if (!current) throw error;
      // The same job marked twice (a repeated call) is still the latest.
      if (current.jobId === mine.jobId) return { outcome: 'latest' };
      return { outcome: 'superseded', by: current };
    }
  }

  /** The latest job marked for the key (strongly consistent: one read unit), or undefined. */
  async readLatest(jobType: string, key: string): Promise<DebounceMark | undefined> {
    const output = await this.documentClient.send(
      new GetCommand({ TableName: this.tableName, Key: { id: controlItemId('debounce', jobType, key) }, ConsistentRead: true }),
    );
    return markOf(output.Item);
  }

  /**
   * Opens the key's throttle window for `jobId` if no window is open. One
   * conditional write; a refused one returns the holder (`ALL_OLD`).
   */
  async claimWindow(jobType: string, key: string, jobId: string, periodMs: number): Promise<ThrottleResult> {
    const now = this.clock();
    const untilMs = now + periodMs;
    try {
      await this.documentClient.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: controlItemId('throttle', jobType, key) },
          UpdateExpression: 'SET holderJobId = :id, windowEndsAt = :until, expiresAt = :expiresAt',
          ConditionExpression: 'attribute_not_exists(id) OR windowEndsAt <= :now',
          ExpressionAttributeValues: { ':id': jobId, ':until': untilMs, ':now': now, ':expiresAt': this.expiresAt(untilMs) },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { outcome: 'kept', untilMs };
    } catch (error) {
      const current = conditionFailureItem(error) as Record<string, unknown> | undefined;
      if (!current || typeof current.holderJobId !== 'string' || typeof current.windowEndsAt !== 'number') throw error;
      return { outcome: 'throttled', holder: current.holderJobId, untilMs: current.windowEndsAt };
    }
  }

  /**
   * Closes the window `jobId` opened, when its job could not be created or sent
   * (so the key is not held by a job that never runs). Only while `jobId` holds it.
   */
  async releaseWindow(jobType: string, key: string, jobId: string): Promise<void> {
    await this.documentClient
      .send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { id: controlItemId('throttle', jobType, key) },
          ConditionExpression: 'holderJobId = :id',
          ExpressionAttributeValues: { ':id': jobId },
        }),
      )
      .catch((error: unknown) => {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      });
  }

  /** The open throttle window of the key, or undefined when none is open. */
  async readWindow(jobType: string, key: string): Promise<{ holder: string; untilMs: number } | undefined> {
    const output = await this.documentClient.send(
      new GetCommand({ TableName: this.tableName, Key: { id: controlItemId('throttle', jobType, key) }, ConsistentRead: true }),
    );
    const item = output.Item;
    if (!item || typeof item.holderJobId !== 'string' || typeof item.windowEndsAt !== 'number') return undefined;
    if (item.windowEndsAt <= this.clock()) return undefined;
    return { holder: item.holderJobId, untilMs: item.windowEndsAt };
  }

  private expiresAt(untilMs: number): number {
    return Math.floor(untilMs / 1_000) + CONTROL_ITEM_GRACE_SECONDS;
  }
}

function markOf(item: Record<string, unknown> | undefined): DebounceMark | undefined {
  if (!item || typeof item.latestJobId !== 'string' || typeof item.latestEnqueuedAt !== 'string') return undefined;
  return { jobId: item.latestJobId, enqueuedAt: item.latestEnqueuedAt };
}

function describe(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * The `debounce`/`throttle` fields of a contract, validated: what
 * `defineJobContract` spreads into the contract.
 * @throws InvalidFlowOptionError for a malformed option or both at once
 */
export function resolveKeyedFlow(
  jobName: string,
  input: { readonly debounce?: KeyedPeriodInput<never> | undefined; readonly throttle?: KeyedPeriodInput<never> | undefined },
): { readonly debounce?: KeyedPeriod; readonly throttle?: KeyedPeriod } {
  assertOneFlowMode(jobName, input.debounce, input.throttle);
  const debounce = resolveKeyedPeriod(jobName, 'debounce', input.debounce);
  const throttle = resolveKeyedPeriod(jobName, 'throttle', input.throttle);
  return { ...(debounce ? { debounce } : {}), ...(throttle ? { throttle } : {}) };
}

/** How one enqueue is debounced or throttled: the option, its key for this payload and its period. */
export interface KeyedFlowPlan {
  readonly mode: 'debounce' | 'throttle';
  readonly key: string;
  readonly periodMs: number;
}

/**
 * The debounce or throttle plan of an enqueue of `definition` (undefined when
 * it has neither). A debounced job starts `period` after its enqueue, so an
 * explicit `delay` or `runAt` is refused rather than silently replaced.
 * @throws InvalidFlowKeyError for a bad key; InvalidArgumentError for `delay`/`runAt` on a debounced type
 */
export function keyedFlowFor(
  definition: { readonly name: string; readonly debounce?: KeyedPeriod; readonly throttle?: KeyedPeriod },
  payload: unknown,
  request: { readonly delay?: unknown; readonly runAt?: unknown },
): KeyedFlowPlan | undefined {
  if (definition.debounce) {
    const given = (['delay', 'runAt'] as const).filter((name) => request[name] !== undefined);
    if (given.length > 0) {
      throw new InvalidArgumentError(
        `job type '${definition.name}' is debounced: each job starts its debounce period after its enqueue, so ${given.join(' and ')} cannot be given (given ${given.map((name) => `${name} ${describe(request[name] instanceof Date ? (request[name] as Date).toISOString() : request[name])}`).join(', ')})`,
        { jobType: definition.name },
      );
    }
    return {
      mode: 'debounce',
      key: keyedFlowKeyOf(definition.name, 'debounce', definition.debounce, payload),
      periodMs: definition.debounce.periodMs,
    };
  }
  if (definition.throttle) {
    return {
      mode: 'throttle',
      key: keyedFlowKeyOf(definition.name, 'throttle', definition.throttle, payload),
      periodMs: definition.throttle.periodMs,
    };
  }
  return undefined;
}

/**
 * The worker's check before claiming a debounced job: one read of the key's
 * mark. When a job enqueued after `mine` is marked, `mine` is cancelled with
 * the reason (if it has not started). This covers an enqueuing caller that
 * died between marking its job and cancelling the one it displaced.
 */
export async function cancelIfSuperseded(
  deps: { readonly flows: KeyedFlowStore; readonly store: JobStore },
  jobType: string,
  key: string,
  mine: DebounceMark,
): Promise<
  | { readonly cancelled: true; readonly by: string }
  /** `finished`: superseded and already in a terminal state (the enqueuing caller cancelled it): nothing to claim. */
  | { readonly cancelled: false; readonly finished?: JobRecord }
> {
  const latest = await deps.flows.readLatest(jobType, key);
  if (!latest || !isSupersededBy(mine, latest)) return { cancelled: false };
  const result = await deps.store.cancelWaiting(mine.jobId, debouncedReason(latest.jobId));
  if (result.cancelled) return { cancelled: true, by: latest.jobId };
  return result.record && isTerminal(result.record.state) ? { cancelled: false, finished: result.record } : { cancelled: false };
}

/**
 * After `markLatest`: cancels the job that lost, if it has not started — the
 * job this one displaced, or this one when a later job was already marked.
 * @returns the loser's id and, when it was cancelled now, its cancelled record
 */
export async function cancelDisplaced(
  store: JobStore,
  mine: DebounceMark,
  mark: MarkResult,
): Promise<{ readonly loser?: string; readonly cancelled?: JobRecord }> {
  const [loser, winner] = mark.outcome === 'superseded' ? [mine.jobId, mark.by.jobId] : [mark.previous?.jobId, mine.jobId];
  if (loser === undefined || loser === winner) return {};
  const result = await store.cancelWaiting(loser, debouncedReason(winner));
  return result.cancelled ? { loser, cancelled: result.record } : { loser };
}
