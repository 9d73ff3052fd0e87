import { type JobStore, MAX_SUCCESSES_PER_BATCH, type SuccessEntry } from './job-store.js';

/** The longest a success waits for batch mates before it is written anyway. */
export const SUCCESS_LINGER_MS = 10;

/** The timer functions the batch uses; tests pass fakes. */
export interface LingerTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: LingerTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

interface Waiting {
  readonly entry: SuccessEntry;
  resolve(owned: boolean): void;
  reject(error: unknown): void;
}

/**
 * Writes the successes of the records a worker runs together in one request
 * (`JobStore.succeedMany`, up to 25) instead of one UpdateItem each: a batch
 * of 10 plain jobs then costs 10 claims and 1 completion request, not 20
 * requests. Each success keeps its own condition and its own write unit.
 *
 * When to write: the worker tells it when a record starts and ends
 * (`enter`/`leave`). The waiting successes are written as soon as every
 * record in flight is waiting for its success write (nothing else would join
 * the batch), or 25 are waiting, or the first has waited SUCCESS_LINGER_MS
 * (a slow batch mate never holds a finished job's write back longer). A
 * single waiting success goes as the plain UpdateItem (`succeed`), so a batch
 * of one costs and behaves as before (`batchFrom` 2).
 *
 * `succeed` answers as `JobStore.succeed` does: true when written, false when
 * the attempt no longer owns the job; it rejects when the write failed (the
 * whole request, or this statement), for the caller's retry.
 */
export class SuccessBatch {
  private readonly lingerMs: number;
  private readonly batchFrom: number;
  private readonly timers: LingerTimers;
  private waiting: Waiting[] = [];
  private inFlight = 0;
  private timer: unknown;

  constructor(
    private readonly store: JobStore,
    options: {
      /** @default SUCCESS_LINGER_MS */
      lingerMs?: number;
      /** Fewest successes written as a BatchExecuteStatement; fewer go as UpdateItem each. @default 2 */
      batchFrom?: number;
      timers?: LingerTimers;
    } = {},
  ) {
    this.lingerMs = options.lingerMs ?? SUCCESS_LINGER_MS;
    this.batchFrom = options.batchFrom ?? 2;
    this.timers = options.timers ?? realTimers;
  }

  /** A record started: its success, if any, may be worth waiting for. */
  enter(): void {
    this.inFlight++;
  }

  /** A record ended (with or without a success write). */
  leave(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (this.waiting.length > 0 && this.waiting.length >= this.inFlight) this.flush();
  }

  /** Records the success of `attempt`; written with its batch mates'. @returns false if the attempt no longer owns the job */
  succeed(id: string, attempt: number, result: unknown): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.waiting.push({ entry: { id, attempt, result }, resolve, reject });
      if (this.waiting.length >= MAX_SUCCESSES_PER_BATCH || this.waiting.length >= this.inFlight) this.flush();
      else if (this.timer === undefined) this.timer = this.timers.setTimeout(() => this.flush(), this.lingerMs);
    });
  }

  private flush(): void {
    if (this.timer !== undefined) {
      this.timers.clearTimeout(this.timer);
      this.timer = undefined;
    }
    const waiting = this.waiting;
    this.waiting = [];
    for (let start = 0; start < waiting.length; start += MAX_SUCCESSES_PER_BATCH) {
      void this.write(waiting.slice(start, start + MAX_SUCCESSES_PER_BATCH));
    }
  }

  private async write(batch: Waiting[]): Promise<void> {
    // DynamoDB refuses a batch that names one item twice; a second success of a job goes in a request of its own.
    const seen = new Set<string>();
    const first: Waiting[] = [];
    const repeats: Waiting[] = [];
    for (const waiting of batch) {
      if (seen.has(waiting.entry.id)) repeats.push(waiting);
      else {
        seen.add(waiting.entry.id);
        first.push(waiting);
      }
    }
    await this.writeDistinct(first);
    // After the first, so the job's writes meet DynamoDB in the order they were asked for.
    if (repeats.length > 0) await this.write(repeats);
  }

  private async writeDistinct(batch: Waiting[]): Promise<void> {
    if (batch.length < this.batchFrom) {
      await Promise.all(
        batch.map(async (waiting) => {
          try {
            waiting.resolve(await this.store.succeed(waiting.entry.id, waiting.entry.attempt, waiting.entry.result));
          } catch (error) {
            waiting.reject(error);
          }
        }),
      );
      return;
    }
    let outcomes: (boolean | Error)[];
    try {
      outcomes = await this.store.succeedMany(batch.map((waiting) => waiting.entry));
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
      return;
    }
    batch.forEach((waiting, index) => {
      const outcome = outcomes[index];
      if (outcome instanceof Error) waiting.reject(outcome);
      else waiting.resolve(outcome === true);
    });
  }
}
