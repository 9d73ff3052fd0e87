import type { Logger } from '@aws-lambda-powertools/logger';
import type { BatchStore } from '../../shared/flows/batch-store.js';
import type { BatchOutcome } from '../../shared/flows/types.js';
import type { JobRecord } from '../../shared/record.js';
import { isTerminal } from '../../shared/states.js';
import type { JobStore } from '../../shared/store/job-store.js';
import type { StateTransition } from '../../shared/store/stream-changes.js';

export interface CoordinatorDeps {
  readonly batches: BatchStore;
  readonly store: JobStore;
  /**
   * Sends the message that starts `record` (to its queue, at its priority level, in its message group).
   * @returns false when the stack has no such queue
   */
  readonly send: (record: JobRecord) => Promise<boolean>;
  readonly logger: Logger;
}

/** What the coordinator did with one transition (for logs and tests). */
export interface CoordinationResult {
  readonly sent?: boolean;
  readonly counted?: string;
  readonly completed?: string;
}

/**
 * True for a job a flow created, whose message the coordinator sends: a
 * follow-up, a child, a batch callback. Jobs made by `jobs.batch` are sent by
 * the SDK that created them.
 */
export function startedByFlow(job: JobRecord): boolean {
  return job.enqueuedBy !== undefined || job.parentId !== undefined || job.callbackOf !== undefined;
}

/**
 * Handles one state transition read from the job table's stream. Every step is
 * idempotent, so a stream record delivered twice, or a batch replayed after a
 * failure, changes nothing more:
 *
 * 1. A job a flow created `queued` (follow-up, child, callback), or a parent
 *    queued again when its children ended (`waiting → queued`), gets its message.
 *    Sending twice is harmless: the claim lets one delivery run the job.
 * 2. A batch member's terminal transition is counted (BatchStore.countMember:
 *    once per outcome, by a conditional transaction), and
 * 3. the batch completes when nothing is pending (BatchStore.completeIfDone:
 *    its callbacks created, or its parent queued, once). Completion is checked
 *    after every member transition, counted or not, so a run that crashed
 *    between counting and completing is finished by the replay.
 */
export async function coordinate(deps: CoordinatorDeps, transition: StateTransition): Promise<CoordinationResult> {
  const { job, from, to } = transition;
  let sent: boolean | undefined;
  if (to === 'queued' && ((from === undefined && startedByFlow(job)) || from === 'waiting')) {
    sent = await deps.send(job);
    if (!sent) {
      // The job names a queue this stack does not have: it can never run, so it ends dead with the reason.
      await deps.store.markDead(job.id, {
        name: 'ConfigurationError',
        message: `job ${job.id} belongs to queue '${job.queue}', which this stack does not have`,
        retryable: false,
      });
      deps.logger.error('A job started by a flow names a queue this stack does not have; marked dead', {
        jobId: job.id,
        queue: job.queue,
      });
    }
  }
  if (job.batchId === undefined || !isTerminal(to)) return sent === undefined ? {} : { sent };
  const counted = await deps.batches.countMember(job.batchId, job.id, to as BatchOutcome);
  const completion = await deps.batches.completeIfDone(job.batchId);
  if (completion.outcome === 'completed') {
    deps.logger.info('Batch complete', {
      batchId: job.batchId,
      callbacks: completion.callbacks,
      ...(completion.resumedParent === undefined ? {} : { resumedParent: completion.resumedParent }),
    });
  }
  return { ...(sent === undefined ? {} : { sent }), counted, completed: completion.outcome };
}
