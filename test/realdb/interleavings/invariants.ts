import { attentionKey, isJobState, isTerminal, type JobRecord } from '../../../shared/index.js';
import { needsAttention } from '../../../shared/states.js';
import type { JobObservations, World } from './world.js';

/** One guarantee, checked after every step; returns what is wrong, or undefined. */
export interface Invariant {
  readonly name: string;
  check(world: World, job: JobObservations, record: JobRecord | undefined): string | undefined;
}

/**
 * The guarantees the interleaving test holds the system to. Add one here and
 * every command sequence is checked against it.
 */
export const invariants: readonly Invariant[] = [
  {
    name: 'each job is in exactly one known state, and in the attention index exactly when that state needs it',
    check(_world, _job, record) {
      if (!record) return 'the record is gone';
      if (!isJobState(record.state)) return `unknown state ${JSON.stringify(record.state)}`;
      const expected = needsAttention(record.state) ? attentionKey(record.state, record.id) : undefined;
      if (record.attentionState !== expected)
        return `state ${record.state} with attentionState ${record.attentionState}, expected ${expected}`;
      return undefined;
    },
  },
  {
    name: "a succeeded job's handler completed (in the attempt that recorded it)",
    check(_world, job, record) {
      if (record?.state !== 'succeeded') return undefined;
      return job.completedAttempts.has(record.attempts)
        ? undefined
        : `succeeded as attempt ${record.attempts}, whose handler never returned`;
    },
  },
  {
    name: 'a handler runs at most once per attempt (fencing)',
    check(_world, job) {
      const twice = [...job.handlerStarts].filter(([, starts]) => starts > 1).map(([attempt]) => attempt);
      return twice.length === 0 ? undefined : `attempts ${twice.join(', ')} ran the handler more than once`;
    },
  },
  {
    name: 'no two runs of a job hold a live lease at once',
    check(world, job) {
      const now = world.clock.now();
      const live = world.running().filter((invocation) => invocation.jobId === job.id && invocation.leaseUntil >= now);
      return live.length <= 1
        ? undefined
        : `attempts ${live.map((invocation) => invocation.attempt).join(', ')} all hold a live lease`;
    },
  },
  {
    name: 'a handler that returned while its attempt owned the job never runs again (its outcome is recorded)',
    check(_world, job) {
      return job.startsAfterOwnedReturn === 0
        ? undefined
        : `the handler started ${job.startsAfterOwnedReturn} more time(s) after a run returned as the owner`;
    },
  },
  {
    name: 'a terminal state is final (only a manual retry brings a dead job back)',
    check(_world, job, record) {
      const before = job.lastRecord?.state;
      if (before === undefined || record === undefined || !isTerminal(before) || record.state === before) return undefined;
      if (before === 'dead' && record.state === 'queued' && job.retriedSinceLastRead) return undefined;
      return `moved from ${before} to ${record.state}`;
    },
  },
  {
    name: 'every dead job has a dead-letter copy (or is marked as still owing one)',
    check(world, job, record) {
      if (record?.state !== 'dead' || record.deadLetterPending) return undefined;
      return world.queue.deadLetters.some((copy) => copy.reason.jobId === job.id) ? undefined : 'dead without a dead-letter copy';
    },
  },
  {
    name: 'an unfinished job keeps a message that can move it (nothing is lost)',
    check(world, job, record) {
      if (record === undefined || isTerminal(record.state)) return undefined;
      const alive = world.messages.some((message) => message.jobId === job.id && !message.deleted);
      return alive ? undefined : `${record.state} (attempt ${record.attempts}) with every message of it deleted`;
    },
  },
];

/** Reads every job's record and checks every invariant; throws with all violations found. */
export async function checkInvariants(world: World, afterStep: string): Promise<void> {
  const problems: string[] = [];
  for (const job of world.jobs) {
    const record = await world.store.get(job.id);
    for (const invariant of invariants) {
      const problem = invariant.check(world, job, record);
      if (problem !== undefined) problems.push(`job ${job.id}: ${invariant.name}: ${problem}`);
    }
    job.lastRecord = record;
    job.retriedSinceLastRead = false;
  }
  if (problems.length > 0) throw new Error(`after ${afterStep}:\n${problems.join('\n')}`);
}
