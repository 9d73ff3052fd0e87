export { EventSourceUpdateError, UnknownQueueError } from './errors.js';
export { eventSourceStates, setEventSourcesEnabled } from './event-sources.js';
export { PAUSE_CACHE_MS, PAUSE_SETTLE_MS, PauseStore, pauseItemId } from './pause-store.js';
export { createQueuePauses, MAX_PAUSE_REASON_CHARS } from './queue-pauses.js';
export { stackUpdatedAt } from './stack-time.js';
export type { EventSourceState, PauseOptions, PauseResult, QueuePause, QueueStatus, ResumeResult } from './types.js';
