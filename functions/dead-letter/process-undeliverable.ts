import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSRecord } from 'aws-lambda';
import { type JobErrorInfo, type JobQueue, type JobStore, parseEnvelope } from '../../shared/index.js';
import type { JobObserver } from '../worker/job-observer.js';

/** The error recorded on a job whose message SQS gave up on. */
export const DELIVERY_LIMIT_ERROR = 'DeliveryLimitExceeded';

export interface UndeliverableDeps {
  readonly store: JobStore;
  /** The queue whose dead-letter queue receives the forwarded message. */
  readonly queue: JobQueue;
  readonly logger: Logger;
  /** Counts the jobs this marks dead (the `JobsDead` metric the dead-jobs alarm watches). */
  readonly observer?: JobObserver;
  readonly queueName?: string;
}

/**
 * Handles one message that SQS moved off a job queue after `maxReceiveCount`
 * receives without a delete: the worker never finished it (Lambda timeouts,
 * crashes, out of memory), so it never got to record an outcome. Marks the job
 * `dead` with that reason and forwards the message to the dead-letter queue,
 * where redrive can find it. A copy whose job already finished is dropped.
 *
 * Why a separate queue and not a consumer on the dead-letter queue itself: a
 * Lambda consumer deletes what it consumes, and the dead-letter queue must keep
 * its messages for inspection and redrive.
 */
export function createUndeliverableProcessor(deps: UndeliverableDeps) {
  return async function processUndeliverable(message: SQSRecord): Promise<void> {
    const receives = message.attributes.ApproximateReceiveCount;
    const parsed = parseEnvelope(message.body);
    const jobId = parsed.ok ? parsed.envelope.id : parsed.jobId;
    const error: JobErrorInfo = {
      name: DELIVERY_LIMIT_ERROR,
      message: `the job's message was received ${receives} times without the job finishing: the worker timed out or crashed each time`,
      retryable: true,
    };
    if (jobId !== undefined) {
      const marked = await deps.store.markDead(jobId, error, {
        ...(parsed.ok ? { type: parsed.envelope.type } : parsed.jobType === undefined ? {} : { type: parsed.jobType }),
      });
      if (!marked) {
        const record = await deps.store.get(jobId);
        deps.logger.info('Undeliverable message of a job that already ended; dropping the copy', { jobId, state: record?.state });
        return;
      }
    }
    await deps.queue.sendToDeadLetter(message.body, {
      ...(jobId === undefined ? {} : { jobId }),
      errorName: error.name,
      errorMessage: error.message,
    });
    if (jobId !== undefined) {
      const jobType = parsed.ok ? parsed.envelope.type : (parsed.jobType ?? 'unknown');
      deps.observer?.dead({ jobType, queue: deps.queueName ?? 'unknown', attempt: 0 }, error.name);
    }
    deps.logger.error('Job marked dead: its message exceeded the delivery limit', { jobId, receives });
  };
}
