import { InvalidArgumentError, type JobErrorContext } from '../errors.js';

/**
 * Priority levels of one logical queue: level name → weight (a positive integer). The construct creates one
 * SQS queue per level, consumed by the queue's worker with the queue's `maxConcurrency` split by weight.
 *
 * @example { high: 6, normal: 3, low: 1 }
 */
export type PriorityLevels = { readonly [level: string]: number };

/** One level of a prioritized queue as the client reaches it (`JobstackConfig.queues[name].levels`). */
export interface PriorityLevelConfig {
  readonly name: string;
  readonly url: string;
  /** The target of schedules (delayed jobs) of this level. */
  readonly arn?: string;
}

/** Fewest and most levels a queue may have: one level is no priority, more than five is a ranking nobody tunes. */
export const MIN_PRIORITY_LEVELS = 2;
export const MAX_PRIORITY_LEVELS = 5;
/** AWS's floor on an SQS event source's `ScalingConfig.MaximumConcurrency` (2..1000). */
export const MIN_LEVEL_CONCURRENCY = 2;
const LEVEL_NAME_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;

/** A priority that cannot be used: the queue has no levels, or none of that name. Nothing was sent. */
export class InvalidPriorityError extends InvalidArgumentError {
  constructor(
    message: string,
    readonly queue: string,
    readonly levels: readonly string[],
    context: JobErrorContext = {},
  ) {
    super(message, context);
    this.name = 'InvalidPriorityError';
  }
}

/**
 * Checks a queue's `priorities` setting: 2..5 levels, names like queue names, weights positive integers.
 * @returns the problem, quoting the value, or undefined when the setting is valid
 */
export function priorityLevelsProblem(levels: unknown): string | undefined {
  if (typeof levels !== 'object' || levels === null || Array.isArray(levels)) {
    return `must be an object of level name → weight, e.g. { high: 6, normal: 3, low: 1 } (given ${JSON.stringify(levels)})`;
  }
  const entries = Object.entries(levels);
  if (entries.length < MIN_PRIORITY_LEVELS || entries.length > MAX_PRIORITY_LEVELS) {
    return (
      `must have ${MIN_PRIORITY_LEVELS}..${MAX_PRIORITY_LEVELS} levels ` +
      `(given ${entries.length}: ${entries.map(([name]) => `'${name}'`).join(', ') || 'none'})`
    );
  }
  for (const [name, weight] of entries) {
    if (!LEVEL_NAME_PATTERN.test(name)) return `level name must match ${LEVEL_NAME_PATTERN} (given '${name}')`;
    if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 1) {
      return `level '${name}': weight must be a positive integer (given ${JSON.stringify(weight)})`;
    }
  }
  return undefined;
}

/** Level names, highest weight first (ties keep the order given). The last one is the queue's default level. */
export function orderedLevels(levels: PriorityLevels): string[] {
  return Object.entries(levels)
    .map(([name, weight], index) => ({ name, weight, index }))
    .sort((a, b) => b.weight - a.weight || a.index - b.index)
    .map(({ name }) => name);
}

/** The level a job with no priority goes to: the lowest (last of `orderedLevels`). */
export function defaultLevel(levels: PriorityLevels): string {
  const ordered = orderedLevels(levels);
  return ordered[ordered.length - 1] as string;
}

/** Least `maxConcurrency` a queue with these levels needs: `MIN_LEVEL_CONCURRENCY` per level. */
export function minConcurrencyFor(levels: PriorityLevels): number {
  return Object.keys(levels).length * MIN_LEVEL_CONCURRENCY;
}

/**
 * Splits a queue's `maxConcurrency` between its levels by weight: each level gets at least
 * `MIN_LEVEL_CONCURRENCY` (AWS's minimum, so the lowest level always runs), the rest is shared in
 * proportion to the weights (largest remainder, ties to the higher level). The shares sum to `maxConcurrency`.
 * @throws RangeError when `maxConcurrency` is below `minConcurrencyFor(levels)`
 */
export function splitConcurrency(levels: PriorityLevels, maxConcurrency: number): Map<string, number> {
  const names = orderedLevels(levels);
  const needed = minConcurrencyFor(levels);
  if (maxConcurrency < needed) {
    throw new RangeError(
      `maxConcurrency ${maxConcurrency} is too small for ${names.length} priority levels (each needs at least ${MIN_LEVEL_CONCURRENCY}, so at least ${needed})`,
    );
  }
  const spare = maxConcurrency - needed;
  const totalWeight = names.reduce((sum, name) => sum + (levels[name] ?? 0), 0);
  // Integer arithmetic: a float remainder (2.4 - 2) would break ties by rounding error, not by level.
  const scaled = names.map((name) => spare * (levels[name] ?? 0));
  const shares = scaled.map((value) => Math.floor(value / totalWeight));
  let left = spare - shares.reduce((sum, share) => sum + share, 0);
  const byRemainder = scaled
    .map((value, index) => ({ index, remainder: value % totalWeight }))
    .sort((a, b) => b.remainder - a.remainder || a.index - b.index);
  for (const { index } of byRemainder) {
    if (left <= 0) break;
    shares[index] = (shares[index] ?? 0) + 1;
    left--;
  }
  return new Map(names.map((name, index) => [name, MIN_LEVEL_CONCURRENCY + (shares[index] ?? 0)]));
}

/**
 * The level a job goes to: the one asked for at enqueue, else the contract's `priority`, else (on a queue
 * with levels) the lowest level; undefined on a queue without levels when none is asked for.
 * @throws InvalidPriorityError when a priority is asked for on a queue without levels, or names no level of it
 */
export function resolvePriority(
  queue: string,
  levels: readonly PriorityLevelConfig[] | undefined,
  requested: string | undefined,
  context: { readonly jobType: string; readonly jobId?: string },
): PriorityLevelConfig | undefined {
  const names = (levels ?? []).map(({ name }) => name);
  if (levels === undefined || levels.length === 0) {
    if (requested === undefined) return undefined;
    throw new InvalidPriorityError(
      `priority ${JSON.stringify(requested)} for job type '${context.jobType}': queue '${queue}' has no priority levels ` +
        `(give it some with the construct's queues: { '${queue}': { priorities: { ... } } })`,
      queue,
      [],
      context,
    );
  }
  if (requested === undefined) return levels[levels.length - 1];
  const level = levels.find(({ name }) => name === requested);
  if (level === undefined) {
    throw new InvalidPriorityError(
      `unknown priority ${JSON.stringify(requested)} for job type '${context.jobType}': queue '${queue}' has levels ` +
        `${names.map((name) => `'${name}'`).join(', ')}`,
      queue,
      names,
      context,
    );
  }
  return level;
}

/** Checks a contract's `priority` at definition time (whether the queue has that level is checked by the construct). */
export function checkPriorityOption(jobName: string, priority: unknown): void {
  if (typeof priority !== 'string' || !LEVEL_NAME_PATTERN.test(priority)) {
    throw new RangeError(
      `job '${jobName}': priority must be a level name matching ${LEVEL_NAME_PATTERN} (given ${JSON.stringify(priority)})`,
    );
  }
}
