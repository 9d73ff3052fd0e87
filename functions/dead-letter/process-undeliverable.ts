import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSRecord } from 'aws-lambda';
import {
  isTerminal,
  type JobErrorInfo,
  JobErrorName,
  type JobQueue,
  type JobRecord,
  type JobStore,
  MessageDeferredError,
  parseEnvelope,
} from '../../shared/index.js';
import type { JobObserver } from '../worker/job-observer.js';

/** The error recorded on a job whose message SQS gave up on. */
export const DELIVERY_LIMIT_ERROR = JobErrorName.deliveryLimitExceeded;

export interface UndeliverableDeps {
  readonly store: JobStore;
  /** The queue whose dead-letter queue receives the forwarded message. */
  readonly queue: JobQueue;
  /**
   * The undeliverable queue itself, to hold a message back until a live lease
   * ends. Without it a deferred message comes back after the queue's own
   * visibility timeout.
   */
  readonly undeliverable?: JobQueue;
  readonly logger: Logger;
  /** Counts the jobs this marks dead (the `JobsDead` metric the dead-jobs alarm watches). */
  readonly observer?: JobObserver;
  readonly queueName?: string;
  readonly clock?: () => number;
}

export type UndeliverableDecision =
  /** No message can move the job any more: mark it dead (on the version read) and forward the copy. */
  | { readonly action: 'kill' }
  /** The job is dead but its dead-letter copy was never confirmed: forward this one. */
  | { readonly action: 'forward-pending' }
  /** A run holds a live lease: look again when it ends. */
  | { readonly action: 'redeliver'; readonly afterMs: number }
  /**
   * `left-to-sweeper`: the job has attempts left and nothing here says whether
   * another message of it is alive; the sweeper, which can prove that no
   * message exists, re-sends it (and after `maxSweeps` fruitless re-sends
   * marks it dead with its dead-letter copy).
   */
  | { readonly action: 'drop'; readonly reason: 'finished' | 'duplicate' | 'held-by-execution' | 'left-to-sweeper' };

/**
 * What to do with an undeliverable message, from the job's record (read
 * strongly consistent). Pure, so each case can be tested on its own.
 *
 * A message lands here after too many receives without a delete. That proves
 * only that *this* message did not finish the job: a duplicate that used up its
 * receives says nothing about a job alive under its own message, and this
 * consumer cannot see the job queue. So it kills only where no other message
 * could change the outcome: no record (nothing to move), or a `running` job
 * whose lease expired on its last allowed attempt (the run died, and any other
 * delivery would find the attempts exhausted and end it `dead` too). A job with
 * attempts left (`queued`, `scheduled`, `retrying`, or `running` with an expired
 * lease) is left to the sweeper, which acts only with evidence that no message
 * for it exists. The interleaving model (test/realdb) found the earlier rule,
 * which killed `queued` and due `retrying` jobs, killing a job alive under its
 * own retry message when an old duplicate used up its receives.
 */
export function decideUndeliverable(record: JobRecord | undefined, now: number): UndeliverableDecision {
  if (record === undefined) return { action: 'kill' };
  if (isTerminal(record.state)) {
    return record.state === 'dead' && record.deadLetterPending === true
      ? { action: 'forward-pending' }
      : { action: 'drop', reason: 'finished' };
  }
  if (record.state === 'running') {
    // Held while leaseUntil >= now, as the claim counts it (a takeover needs leaseUntil < now): look again at the
    // first ms a takeover could happen.
    if (record.leaseUntil !== undefined && record.leaseUntil >= now)
      return { action: 'redeliver', afterMs: record.leaseUntil - now + 1 };
    // A long job runs in its Step Functions execution without a lease; this copy only started it.
    if (record.leaseUntil === undefined && record.executionArn !== undefined)
      return { action: 'drop', reason: 'held-by-execution' };
    // The run that held the lease died on its last attempt: no delivery can run it again.
    if (record.attempts >= record.maxAttempts) return { action: 'kill' };
  }
  if (record.state === 'retrying') {
    if (record.executionArn !== undefined) return { action: 'drop', reason: 'held-by-execution' };
    // SQS moves a message here only when it is received, and the job's own message stays hidden until
    // nextAttemptAt: a copy arriving before then is another message, a duplicate.
    if (record.nextAttemptAt !== undefined && Date.parse(record.nextAttemptAt) > now)
      return { action: 'drop', reason: 'duplicate' };
  }
  return { action: 'drop', reason: 'left-to-sweeper' };
}

/**
 * Handles one message that SQS moved off a job queue after `maxReceiveCount`
 * receives without a delete: usually the worker never finished it (Lambda
 * timeouts, crashes, out of memory), so it never got to record an outcome.
 * Reads the job and acts as `decideUndeliverable` says. A kill is
 * `markDeadIfUnchanged` on the version read, with `deadLetterPending` until the
 * copy is in the dead-letter queue, where redrive can find it; if forwarding
 * fails this throws, the message comes back, and the next try forwards it.
 * A job that moved between the read and the write is decided again on
 * redelivery.
 *
 * Why a separate queue and not a consumer on the dead-letter queue itself: a
 * Lambda consumer deletes what it consumes, and the dead-letter queue must keep
 * its messages for inspection and redrive.
 */
export function createUndeliverableProcessor(deps: UndeliverableDeps) {
  const clock = deps.clock ?? Date.now;
  return async function processUndeliverable(message: SQSRecord): Promise<void> {
    const receives = message.attributes.ApproximateReceiveCount;
    const parsed = parseEnvelope(message.body);
    const jobId = parsed.ok ? parsed.envelope.id : parsed.jobId;
    const jobType = parsed.ok ? parsed.envelope.type : parsed.jobType;
    const error: JobErrorInfo = {
      name: DELIVERY_LIMIT_ERROR,
      message: `the job's message was received ${receives} times without the job finishing: the worker timed out or crashed each time`,
      retryable: true,
    };
    const forward = (reason: { name: string; message: string }) =>
      deps.queue.sendToDeadLetter(message.body, {
        ...(jobId === undefined ? {} : { jobId }),
        errorName: reason.name,
        errorMessage: reason.message,
      });

    if (jobId === undefined) {
      await forward(error);
      deps.logger.error('Unreadable message exceeded the delivery limit; forwarded to the dead-letter queue', { receives });
      return;
    }
    const record = await deps.store.get(jobId, { consistent: true });
    const decision = decideUndeliverable(record, clock());
    switch (decision.action) {
      case 'drop':
        deps.logger.info('Undeliverable copy of a job that does not need it; dropping it', {
          jobId,
          state: record?.state,
          reason: decision.reason,
        });
        return;
      case 'redeliver':
        await deps.undeliverable?.delayRedelivery(message.receiptHandle, decision.afterMs / 1_000);
        throw new MessageDeferredError(jobId, `the job is running under a live lease for ${decision.afterMs} ms more`);
      case 'forward-pending':
        await forward(record?.error ?? error);
        await deps.store.confirmDeadLetter(jobId);
        deps.logger.info('Forwarded the pending dead-letter copy of a dead job', { jobId });
        return;
      case 'kill': {
        const marked = await deps.store.markDeadIfUnchanged(record, jobId, error, {
          ...(jobType === undefined ? {} : { type: jobType }),
          ...(deps.queueName === undefined ? {} : { queue: deps.queueName }),
          deadLetterPending: true,
        });
        if (!marked) throw new MessageDeferredError(jobId, 'the job moved since it was read; deciding again on redelivery');
        deps.observer?.dead({ jobType: jobType ?? 'unknown', queue: deps.queueName ?? 'unknown', attempt: 0 }, error.name);
        deps.logger.error('Job marked dead: its message exceeded the delivery limit', { jobId, receives, state: record?.state });
        // A failure here throws: the record keeps deadLetterPending and the redelivered message forwards it.
        await forward(error);
        await deps.store.confirmDeadLetter(jobId);
        return;
      }
    }
  };
}
