import type { LogEvent } from './mapping.js';

/** How far back each read of a log group starts before the newest event already read: covers late appends. */
export const LOG_LOOKBACK_MS = 30_000;

/**
 * Where reading one log group stopped, per stream, so each event is handed out once.
 *
 * Each read asks FilterLogEvents for the events from `startTime()` on (the newest timestamp read, less
 * {@link LOG_LOOKBACK_MS}); {@link take} then drops, stream by stream, what it already handed out: the events
 * before the stream's cursor timestamp, and the first `count` at it. A stream's events are in timestamp order
 * (CloudWatch Logs requires it of PutLogEvents), so that is exact. A cursor older than the read window is
 * forgotten: its stream's next events are all newer than the window's start, hence all new.
 */
export class LogGroupCursor {
  private newest: number;
  private readonly streams = new Map<string, { timestamp: number; count: number }>();

  /** @param sinceMs events before this time are never handed out (the bridge counts from its start) */
  constructor(private readonly sinceMs: number) {
    this.newest = sinceMs;
  }

  /** The startTime of the next read. */
  startTime(): number {
    return Math.max(this.sinceMs, this.newest - LOG_LOOKBACK_MS);
  }

  /** The events of one read not handed out before, in the read's order; moves the cursors past them. */
  take(events: readonly LogEvent[]): LogEvent[] {
    const start = this.startTime();
    const fresh: LogEvent[] = [];
    const atTimestamp = new Map<string, { timestamp: number; count: number }>();
    for (const event of events) {
      if (event.timestamp < start) continue;
      const cursor = this.streams.get(event.logStreamName);
      let position = atTimestamp.get(event.logStreamName);
      if (!position || position.timestamp !== event.timestamp) {
        position = { timestamp: event.timestamp, count: 0 };
        atTimestamp.set(event.logStreamName, position);
      }
      position.count += 1;
      const alreadyTaken =
        cursor !== undefined &&
        (event.timestamp < cursor.timestamp || (event.timestamp === cursor.timestamp && position.count <= cursor.count));
      if (!alreadyTaken) fresh.push(event);
    }
    for (const [stream, position] of atTimestamp) {
      const cursor = this.streams.get(stream);
      if (!cursor || position.timestamp > cursor.timestamp || position.count > cursor.count) {
        this.streams.set(stream, { ...position });
      }
      this.newest = Math.max(this.newest, position.timestamp);
    }
    const oldest = this.startTime();
    for (const [stream, cursor] of this.streams) if (cursor.timestamp < oldest) this.streams.delete(stream);
    return fresh;
  }

  /** How many streams have a cursor (for tests and the bridge's status line). */
  get streamCount(): number {
    return this.streams.size;
  }
}
