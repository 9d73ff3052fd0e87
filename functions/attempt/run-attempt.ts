import { JobCancelledError, type JobTimeoutError } from '../../shared/index.js';

/** The timer functions an attempt uses; tests pass fakes so time is deterministic. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * A running attempt starts looking for a cancel request only after this long,
 * so short jobs (most of them) pay nothing for it.
 */
export const CANCEL_WATCH_START_MS = 5_000;
/**
 * Time between two looks at the record while the attempt runs on. Each look is
 * one eventually consistent GetItem: 0.5 read units per 4 KB of the item, so a
 * ≤ 4 KB record costs 12 × 0.5 = 6 read units per running minute
 * (≈ $0.00000075 at $0.125 per million); a record carrying a 200 KB inline
 * payload costs 25 units a look, 300 a minute. A cancel is seen within this
 * interval (plus the read's eventual consistency, typically under a second).
 */
export const CANCEL_WATCH_INTERVAL_MS = 5_000;

/** How a running attempt learns that `cancel()` was called. */
export interface CancelWatch {
  readonly jobId: string;
  /** One look at the record; true when cancellation was requested. */
  readonly isCancelRequested: () => Promise<boolean>;
  /** A failed look (throttled, network): the watch goes on at the next interval. */
  readonly onError?: (error: unknown) => void;
}

/**
 * The cancel watch of a job whose record `read` returns: one eventually
 * consistent GetItem a look (half the read cost; a cancel seen a second late
 * is still seen), cancelled when a cancel was requested or already recorded.
 */
export function recordCancelWatch(
  jobId: string,
  read: (id: string, options: { consistent: boolean }) => Promise<{ cancelRequested?: boolean; state: string } | undefined>,
  logger: { warn(message: string, extra: { error: unknown }): void },
): CancelWatch {
  return {
    jobId,
    isCancelRequested: async () => {
      const latest = await read(jobId, { consistent: false });
      return latest?.cancelRequested === true || latest?.state === 'cancelled';
    },
    onError: (error) => logger.warn('Could not check the job for a cancel request; checking again later', { error }),
  };
}

export interface AttemptRunOptions {
  /** Epoch ms at which the signal aborts and the attempt fails with `timeoutError()`. */
  readonly deadline: number;
  readonly timeoutError: () => JobTimeoutError;
  readonly clock?: () => number;
  readonly timers?: Timers;
  /** Without it, only the deadline aborts the signal. */
  readonly cancelWatch?: CancelWatch;
}

/**
 * Runs `work` (the handler, or a long job's step) with an AbortSignal that fires
 * at the deadline or when the job is cancelled.
 *
 * - At the deadline the attempt fails with JobTimeoutError even if `work`
 *   ignores the signal: it must end before the Lambda does, or its outcome
 *   would never be recorded.
 * - On cancel the signal aborts with JobCancelledError as its reason, so a
 *   cooperative handler (fetch with the signal) stops at once. If `work` then
 *   rejects, with whatever error, the attempt rejects with that
 *   JobCancelledError and the job ends `cancelled`, never retried. A handler
 *   that ignores the signal runs on as without the watch: a result it returns
 *   is stored; if it runs into its deadline instead, the attempt rejects with
 *   the JobCancelledError too (a cancelled job must not be retried, nor end
 *   `dead` for a timeout on its last attempt).
 */
export async function runAttempt<T>(work: (signal: AbortSignal) => Promise<T>, options: AttemptRunOptions): Promise<T> {
  const clock = options.clock ?? Date.now;
  const timers = options.timers ?? realTimers;
  const controller = new AbortController();
  let settled = false;
  let deadlineTimer: unknown;
  let watchTimer: unknown;
  const expired = new Promise<never>((_, reject) => {
    deadlineTimer = timers.setTimeout(
      () => {
        const error = options.timeoutError();
        controller.abort(error);
        reject(error);
      },
      Math.max(0, options.deadline - clock()),
    );
  });
  const watch = options.cancelWatch;
  if (watch) {
    const look = async (): Promise<void> => {
      let requested = false;
      try {
        requested = await watch.isCancelRequested();
      } catch (error) {
        watch.onError?.(error);
      }
      if (settled || controller.signal.aborted) return;
      if (requested) controller.abort(new JobCancelledError(watch.jobId));
      else watchTimer = timers.setTimeout(() => void look(), CANCEL_WATCH_INTERVAL_MS);
    };
    watchTimer = timers.setTimeout(() => void look(), CANCEL_WATCH_START_MS);
  }
  try {
    return await Promise.race([work(controller.signal), expired]);
  } catch (thrown) {
    const reason: unknown = controller.signal.reason;
    if (reason instanceof JobCancelledError) throw reason;
    throw thrown;
  } finally {
    settled = true;
    timers.clearTimeout(deadlineTimer);
    timers.clearTimeout(watchTimer);
  }
}
