import { SQSClient } from '@aws-sdk/client-sqs';
import { JobQueue, type OutgoingJob } from '../../shared/index.js';

export interface DeadLetterCopy {
  readonly body: string;
  readonly reason: { jobId?: string; errorName: string; errorMessage: string };
}

/**
 * A JobQueue that keeps what it is asked to do in memory instead of calling
 * SQS: the messages sent, the redelivery delays asked for, the dead-letter
 * copies. The real-DynamoDB tests drive the worker and the sweeper with it, so
 * the only real service under test is DynamoDB. It extends JobQueue (whose SQS
 * client it never uses) so it is accepted wherever a JobQueue is.
 */
export class RecordingQueue extends JobQueue {
  readonly sent: OutgoingJob[] = [];
  readonly redeliveries: { receiptHandle: string; seconds: number }[] = [];
  readonly deadLetters: DeadLetterCopy[] = [];
  /** Set to make the next `sendToDeadLetter` calls fail, as SQS may. */
  failDeadLetters = false;

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
}
