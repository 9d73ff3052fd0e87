import { type DurationInput, parseDuration } from '../duration.js';
import { InvalidArgumentError } from '../errors.js';
import { MAX_SQS_DELAY_SECONDS } from '../queue.js';

/** Default longest delay sent through SQS `DelaySeconds` (its 15-minute limit); longer ones use a one-time schedule. */
export const DEFAULT_SCHEDULER_THRESHOLD_MS = MAX_SQS_DELAY_SECONDS * 1_000;

/**
 * Latest start a delayed job may have: the end of year 9999, the last time a
 * Scheduler `at(yyyy-mm-ddThh:mm:ss)` expression can name.
 */
export const LATEST_RUN_AT_MS = Date.UTC(9999, 11, 31, 23, 59, 59);

/** How a job starts: now, after an SQS delay, or by a one-time Scheduler schedule. */
export type DelayPlan =
  | { readonly route: 'now' }
  | { readonly route: 'sqs'; readonly delaySeconds: number; readonly runAt: Date }
  | { readonly route: 'scheduler'; readonly runAt: Date };

export interface DelayRequest {
  readonly delay?: DurationInput | undefined;
  readonly runAt?: Date | undefined;
}

/**
 * Picks the route for a delayed job. Delays up to `thresholdMs` (at most SQS's
 * 15 minutes) ride on the message itself; longer ones become a one-time
 * schedule, which has no upper bound. A `runAt` in the past starts now.
 *
 * @example
 * planDelay({ delay: '90s' }, Date.now());  // { route: 'sqs', delaySeconds: 90, ... }
 * planDelay({ delay: '3h' }, Date.now());   // { route: 'scheduler', runAt: ... }
 * @throws InvalidDurationError for a malformed delay; InvalidArgumentError for both `delay` and `runAt`, an
 * invalid date, a start after 9999, or a threshold over 15 minutes
 */
export function planDelay(request: DelayRequest, now: number, thresholdMs: number = DEFAULT_SCHEDULER_THRESHOLD_MS): DelayPlan {
  if (!Number.isFinite(thresholdMs) || thresholdMs < 0 || thresholdMs > DEFAULT_SCHEDULER_THRESHOLD_MS) {
    throw new InvalidArgumentError(`schedulerThreshold must be 0..15 minutes, the SQS delay limit (given ${thresholdMs} ms)`);
  }
  if (request.delay !== undefined && request.runAt !== undefined) {
    throw new InvalidArgumentError(
      `give either delay or runAt, not both (given delay ${JSON.stringify(request.delay)} and runAt ${String(request.runAt)})`,
    );
  }
  let delayMs = 0;
  if (request.delay !== undefined) {
    delayMs = parseDuration(request.delay);
    if (now + delayMs > LATEST_RUN_AT_MS) {
      throw new InvalidArgumentError(
        `delay ${JSON.stringify(request.delay)} would start the job after 9999-12-31, the latest time a schedule can name`,
      );
    }
  } else if (request.runAt !== undefined) {
    const at = request.runAt instanceof Date ? request.runAt.getTime() : Number.NaN;
    if (!Number.isFinite(at)) {
      throw new InvalidArgumentError(`runAt must be a valid Date (given ${String(request.runAt)})`);
    }
    if (at > LATEST_RUN_AT_MS) {
      throw new InvalidArgumentError(
        `runAt must be at most 9999-12-31T23:59:59Z, the latest time a schedule can name (given ${request.runAt.toISOString()})`,
      );
    }
    delayMs = Math.max(0, at - now);
  }
  if (delayMs <= 0) return { route: 'now' };
  const runAt = new Date(now + delayMs);
  if (delayMs <= thresholdMs) return { route: 'sqs', delaySeconds: Math.ceil(delayMs / 1_000), runAt };
  return { route: 'scheduler', runAt };
}
