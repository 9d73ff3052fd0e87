/** A logical queue's pause, as its control item in the job table records it. */
export interface QueuePause {
  readonly queue: string;
  /** When the queue was first paused (ISO-8601); pausing a paused queue again keeps it. */
  readonly pausedAt: string;
  /** Why, as the caller said. */
  readonly reason?: string;
  /** True: the pause outlives a deploy of the stack. False: the first deploy after it resumes the queue. */
  readonly keepOnDeploy: boolean;
  /**
   * The stack's last update (its `LastUpdatedTime`, else `CreationTime`; ISO-8601) when the pause was
   * written: the sweeper resumes a pause without `keepOnDeploy` once the stack was updated after this.
   */
  readonly stackUpdatedAt: string;
}

/** What `pause` takes. */
export interface PauseOptions {
  /** Why the queue is paused, shown by `queueStatus`, the CLI and the dashboard (1..500 characters). */
  readonly reason?: string;
  /**
   * Keep the pause across deploys of the stack. Without it, the first deploy after the pause resumes the
   * queue (the sweeper notices within its schedule, 5 minutes); with it, the sweeper disables the event
   * source again if a deploy enabled it. @default false
   */
  readonly keepOnDeploy?: boolean;
}

/** Lambda's states of an event source mapping (`Enabled`, `Disabling`, `Disabled`, …). */
export type EventSourceState = string;

/** One logical queue's status. */
export interface QueueStatus {
  readonly queue: string;
  /** `paused` from the moment the pause is recorded; `active` otherwise. */
  readonly status: 'paused' | 'active';
  /** The pause, when paused. */
  readonly pause?: QueuePause;
  /**
   * The state of each of the queue's event source mappings, as Lambda reports it (`Disabling` while AWS
   * still stops its pollers), by mapping UUID; absent when the stack does not list its mappings.
   */
  readonly eventSources?: Readonly<Record<string, EventSourceState>>;
}

/** What `pause` returns. */
export interface PauseResult {
  readonly queue: string;
  readonly pause: QueuePause;
  /** False when the queue was already paused (its reason and keepOnDeploy are replaced; pausedAt is kept). */
  readonly newlyPaused: boolean;
}

/** What `resume` returns. */
export interface ResumeResult {
  readonly queue: string;
  /** False when the queue was not paused (its event sources are enabled anyway). */
  readonly wasPaused: boolean;
}
