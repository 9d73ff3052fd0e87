import { IllegalTransitionError } from './errors.js';

/**
 * The states of a job. `succeeded`, `dead` and `cancelled` are terminal: every
 * job ends in exactly one of them (a dead job may be brought back by `retry`).
 */
export const JobState = {
  scheduled: 'scheduled',
  queued: 'queued',
  running: 'running',
  retrying: 'retrying',
  /** The run ended by starting child jobs it waits for (`ctx.spawnAndWait`); it is queued again when the last child ends. */
  waiting: 'waiting',
  succeeded: 'succeeded',
  dead: 'dead',
  cancelled: 'cancelled',
} as const;

export type JobState = (typeof JobState)[keyof typeof JobState];

export const JOB_STATES = Object.values(JobState) as readonly JobState[];

/**
 * Allowed transitions, target → sources. Stored this way round because every
 * write in the job store is a DynamoDB condition "current state is one of the
 * sources of the target", which is how two workers can never both move a job.
 *
 * `running → running` is a takeover: a run whose lease expired (the Lambda was
 * killed) is claimed again by the next delivery. `dead → queued` is a manual retry.
 * `running → waiting → queued` is a parent waiting for its children: no claim takes
 * a `waiting` job (it is no source of `running`), and the flow coordinator queues it
 * again when its last child is terminal.
 */
const SOURCES: Record<JobState, readonly JobState[]> = {
  scheduled: [],
  queued: ['scheduled', 'dead', 'waiting'],
  running: ['scheduled', 'queued', 'retrying', 'running'],
  retrying: ['running'],
  waiting: ['running'],
  succeeded: ['running'],
  dead: ['queued', 'scheduled', 'running', 'retrying'],
  cancelled: ['scheduled', 'queued', 'retrying', 'running', 'waiting'],
};

const TERMINAL: ReadonlySet<JobState> = new Set(['succeeded', 'dead', 'cancelled']);

/**
 * States that enter the sparse attention index. A plain job (`queued → running →
 * succeeded`) never enters it, so it costs no index writes; see `JobStore`.
 */
const NEEDS_ATTENTION: ReadonlySet<JobState> = new Set(['scheduled', 'retrying', 'waiting', 'dead', 'cancelled']);

export function isJobState(value: unknown): value is JobState {
  return typeof value === 'string' && (JOB_STATES as readonly string[]).includes(value);
}

export function isTerminal(state: JobState): boolean {
  return TERMINAL.has(state);
}

export function needsAttention(state: JobState): boolean {
  return NEEDS_ATTENTION.has(state);
}

/** The states a job may be in right before it moves to `target`. */
export function sourcesOf(target: JobState): readonly JobState[] {
  return SOURCES[target];
}

export function canTransition(from: JobState, to: JobState): boolean {
  return SOURCES[to].includes(from);
}

/** @throws IllegalTransitionError when the state machine forbids `from → to`. */
export function assertTransition(from: JobState, to: JobState, jobId?: string): void {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to, jobId === undefined ? {} : { jobId });
}
