/** What the worker reports about each job it handles; metrics and tests plug in here. */
export interface JobObserver {
  started(job: ObservedJob): void;
  succeeded(job: ObservedJob, durationMs: number): void;
  retried(job: ObservedJob, delayMs: number): void;
  dead(job: ObservedJob, reason: string): void;
  cancelled(job: ObservedJob): void;
}

export interface ObservedJob {
  readonly jobType: string;
  readonly queue: string;
  readonly attempt: number;
}

/** Reports nothing: the default when no observer is wired. */
export const silentObserver: JobObserver = {
  started: () => undefined,
  succeeded: () => undefined,
  retried: () => undefined,
  dead: () => undefined,
  cancelled: () => undefined,
};
