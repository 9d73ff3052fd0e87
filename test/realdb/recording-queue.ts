import { SQSClient } from '@aws-sdk/client-sqs';
import { JobQueue, type OutgoingJob, type QueueMessageCounts } from '../../shared/index.js';

export interface DeadLetterCopy {
  readonly body: string;
  readonly reason: { jobId?: string; errorName: string; errorMessage: string };
}

/** Four days, SQS's default `MessageRetentionPeriod`. */
export const DEFAULT_RETENTION_SECONDS = 345_600;

/**
 * A JobQueue that keeps what it is asked to do in memory instead of calling
 * SQS: the messages sent, the redelivery delays asked for, the dead-letter
 * copies. The real-DynamoDB tests drive the worker and the sweeper with it, so
 * the only real service under test is DynamoDB. It extends JobQueue (whose SQS
 * client it never uses) so it is accepted wherever a JobQueue is.
 *
 * What the sweeper reads as evidence (`messageCounts`, `retentionPeriodSeconds`)
 * is whatever the test says: set `counts` (or `countMessages`, for a model that
 * knows its messages), or `failCounts` to make the read fail as SQS may.
 */
export class RecordingQueue extends JobQueue {
  readonly sent: OutgoingJob[] = [];
  readonly redeliveries: { receiptHandle: string; seconds: number }[] = [];
  readonly deadLetters: DeadLetterCopy[] = [];
  /** Set to make the next `sendToDeadLetter` calls fail, as SQS may. */
  failDeadLetters = false;
  /** The counts `messageCounts` answers; an empty queue unless set. */
  counts: QueueMessageCounts = { visible: 0, inFlight: 0, delayed: 0 };
  /** When set, `messageCounts` answers this instead of `counts` (the interleaving model counts its own messages). */
  countMessages?: () => QueueMessageCounts;
  /** Set to make `messageCounts` fail, as GetQueueAttributes may. */
  failCounts = false;
  retentionSeconds = DEFAULT_RETENTION_SECONDS;

  constructor(name = 'default') {
    super(
      new SQSClient({ region: 'us-east-1' }),
      `https://sqs.invalid/000000000000/${name}`,
      `https://sqs.invalid/000000000000/${name}-dlq`,
    );
  }

  override async send(job: OutgoingJob): Promise<void> {
    this.sent.push(job);
  }

  override async sendMany(jobs: readonly OutgoingJob[]): Promise<{ id: string; reason: string }[]> {
    this.sent.push(...jobs);
    return [];
  }

  override async delayRedelivery(receiptHandle: string, seconds: number): Promise<void> {
    this.redeliveries.push({ receiptHandle, seconds });
  }

  override async sendToDeadLetter(
    body: string,
    reason: { jobId?: string; errorName: string; errorMessage: string },
  ): Promise<void> {
    if (this.failDeadLetters) throw new Error('dead-letter send failed (RecordingQueue.failDeadLetters)');
    this.deadLetters.push({ body, reason });
  }

  override async messageCounts(): Promise<QueueMessageCounts> {
    if (this.failCounts) throw new Error('GetQueueAttributes failed (RecordingQueue.failCounts)');
    return this.countMessages ? this.countMessages() : this.counts;
  }

  override async retentionPeriodSeconds(): Promise<number> {
    return this.retentionSeconds;
  }
}
