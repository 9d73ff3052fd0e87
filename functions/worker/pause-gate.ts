import type { SQSRecord } from 'aws-lambda';
import { PAUSE_CACHE_MS, type PauseStore } from '../../shared/pause/pause-store.js';

export { PAUSE_CACHE_MS };
/** How long a delivery handed back while paused waits before it comes back (if the queue is still paused, it is handed back again). */
export const PAUSED_HAND_BACK_DELAY_SECONDS = 30;

/** Whether the worker's queue is paused, read at most once per `PAUSE_CACHE_MS` per container. */
export interface PauseGate {
  isPaused(): Promise<boolean>;
}

export interface PauseGateOptions {
  readonly store: PauseStore;
  readonly queueName: string;
  /** @default PAUSE_CACHE_MS */
  readonly cacheMs?: number;
  readonly clock?: () => number;
}

/**
 * The worker's check of its queue's pause item. Disabling an event source
 * mapping is not instant on AWS (its pollers may deliver for a while), so the
 * worker looks too, and hands back what arrives while paused.
 *
 * Cost for a queue that is not paused: one eventually consistent GetItem
 * (half a read unit) per container per 5 seconds, shared by every record of
 * the batches in that window; concurrent records wait on the same read. A
 * failed read falls back to the last value read, however old; with none, it
 * throws and the delivery comes back (the job's own claim would fail too).
 */
export function createPauseGate(options: PauseGateOptions): PauseGate {
  const clock = options.clock ?? Date.now;
  const cacheMs = options.cacheMs ?? PAUSE_CACHE_MS;
  let last: { paused: boolean; readAt: number } | undefined;
  let reading: Promise<boolean> | undefined;

  async function read(): Promise<boolean> {
    try {
      const pause = await options.store.get(options.queueName, { consistent: false });
      last = { paused: pause !== undefined, readAt: clock() };
      return last.paused;
    } catch (error) {
      if (last) return last.paused;
      throw error;
    } finally {
      reading = undefined;
    }
  }

  return {
    isPaused() {
      if (last && clock() - last.readAt < cacheMs) return Promise.resolve(last.paused);
      reading ??= read();
      return reading;
    },
  };
}

/**
 * The String message attributes of a delivery, to carry over to the copy that hands it back (the
 * flow-limit wait counters travel this way); jobstack sets no others.
 */
export function stringAttributesOf(message: SQSRecord): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.messageAttributes ?? {})) {
    if (value.stringValue !== undefined) attributes[name] = value.stringValue;
  }
  return attributes;
}
