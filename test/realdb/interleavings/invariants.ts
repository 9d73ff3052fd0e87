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
    name: "a succeeded job's handler completed (in the attempt that recorded it), its ctx.once step included",
    check(_world, job, record) {
      if (record?.state !== 'succeeded') return undefined;
      if (!job.completedAttempts.has(record.attempts))
        return `succeeded as attempt ${record.attempts}, whose handler never returned`;
      if (job.kind !== 'plain' && !job.stepCompleted) return 'succeeded without its ctx.once step completed';
      return undefined;
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
      // A retry or a redrive requeues it (and it may run on before the next read).
      if (before === 'dead' && job.retriedSinceLastRead) return undefined;
      return `moved from ${before} to ${record.state}`;
    },
  },
  {
    name: 'every dead job has a dead-letter copy from its current life (or is marked as still owing one)',
    check(world, job, record) {
      if (record?.state !== 'dead' || record.deadLetterPending) return undefined;
      return hasCopy(world, job) ? undefined : 'dead without a dead-letter copy made since its last retry or redrive';
    },
  },
  {
    name: 'only a dead job owes a dead-letter copy (deadLetterPending)',
    check(_world, _job, record) {
      return record?.deadLetterPending === undefined || record.state === 'dead'
        ? undefined
        : `${record.state} with deadLetterPending ${record.deadLetterPending}`;
    },
  },
  {
    name: 'an unfinished job keeps a message that can move it, in its queue or the undeliverable queue (nothing is lost)',
    check(world, job, record) {
      // A record whose send was lost is the sweeper's to recover: the drain proves it does.
      if (record === undefined || isTerminal(record.state) || job.unsent) return undefined;
      const alive = world.live('main', job.id).length + world.live('undeliverable', job.id).length > 0;
      return alive ? undefined : `${record.state} (attempt ${record.attempts}) with every message of it deleted`;
    },
  },
  {
    // Precisely: when the sweeper or the undeliverable consumer marked the job dead, (a) the record it acted on was
    // not `running` under a lease still live at that moment (a run may be alive: it must be waited for), and (b)
    // the job queue held no message of the job (visible, in flight or delayed) that could still move it, unless
    // the job was at fault: it was running its last attempt (attempts = maxAttempts) and that run died, so any
    // such message would end it dead anyway.
    name: 'no job with a live message or a live run is killed by the sweeper or the undeliverable consumer',
    check(_world, job) {
      const wrong = job.maintenanceKills.flatMap((kill) => {
        const seen = `it was ${kill.before?.state}, attempt ${kill.before?.attempts} of ${kill.before?.maxAttempts}`;
        if (kill.before?.state === 'running' && (kill.before.leaseUntil ?? 0) >= kill.at)
          return [`killed by the ${kill.by} while a run held a live lease (${seen})`];
        if (kill.liveMessages > 0 && !atFault(kill.before))
          return [`killed by the ${kill.by} while ${kill.liveMessages} message(s) of it were live in the job queue (${seen})`];
        return [];
      });
      return wrong.length === 0 ? undefined : wrong.join('; ');
    },
  },
  {
    name: "a ctx.once step's side effect runs at most once, unless the handler asked for 'rerun' or a person said it did not happen",
    check(_world, job) {
      return job.onceViolations.length === 0 ? undefined : job.onceViolations.join('; ');
    },
  },
];

/** A run of the job's last attempt died: a remaining message would find its attempts used up. */
function atFault(before: JobRecord | undefined): boolean {
  return before?.state === 'running' && before.attempts >= before.maxAttempts;
}

/** The job has a dead-letter copy made since it was last requeued, still in the dead-letter queue. */
export function hasCopy(world: World, job: JobObservations): boolean {
  return world.queue.deadLetters.some(
    (copy, index) => index >= job.copiesFrom && !world.consumedCopies.has(index) && copy.reason.jobId === job.id,
  );
}

/** Reads every job's record and checks every invariant; throws with all violations found. */
export async function checkInvariants(world: World, afterStep: string): Promise<void> {
  const problems: string[] = [];
  const records = await Promise.all(world.jobs.map((job) => world.store.get(job.id)));
  for (const [index, job] of world.jobs.entries()) {
    const record = records[index];
    for (const invariant of invariants) {
      const problem = invariant.check(world, job, record);
      if (problem !== undefined) problems.push(`job ${job.id}: ${invariant.name}: ${problem}`);
    }
    job.lastRecord = record;
    job.retriedSinceLastRead = false;
  }
  if (problems.length > 0) throw new Error(`after ${afterStep}:\n${problems.join('\n')}`);
}
