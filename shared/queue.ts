import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  GetQueueAttributesCommand,
  type MessageAttributeValue,
  type QueueAttributeName,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { type JobEnvelope, serializeEnvelope } from './envelope.js';
import { groupIdOr, isFifoQueue, messageGroupOf, resendDeduplicationId } from './ordering/ordering.js';

/**
 * The SQS client a jobstack function uses. It sends every call to the client's own endpoint rather
 * than to the host in the queue URL: on AWS they are the same regional endpoint, and on an emulator
 * (queue URLs on `localhost`, the endpoint on `127.0.0.1`) the SDK would otherwise log a warning on
 * every call, burying the job's own log lines.
 */
export function functionSqsClient(): SQSClient {
  return new SQSClient({ useQueueUrlAsEndpoint: false });
}

/** SQS caps `DelaySeconds` at 15 minutes. */
export const MAX_SQS_DELAY_SECONDS = 900;
/** SQS caps a message's visibility timeout at 12 hours. */
export const MAX_VISIBILITY_SECONDS = 43_200;

/** Message attributes the worker puts on a message it moves to a dead-letter queue. */
export const DeadLetterAttribute = {
  jobId: 'jobstack-job-id',
  errorName: 'jobstack-error-name',
  errorMessage: 'jobstack-error-message',
} as const;

/** Longest error message kept in a dead-letter attribute, in characters (the record keeps up to 2,000). */
const MAX_ERROR_MESSAGE_ATTRIBUTE_CHARS = 1_000;
/** Longest job id or error name kept in a dead-letter attribute, in characters. */
const MAX_SHORT_ATTRIBUTE_CHARS = 256;
/** Stands in for every character SQS refuses in an attribute. */
const REPLACEMENT_CHARACTER = '\uFFFD';

/**
 * `value` as SQS accepts it in a String message attribute: characters outside
 * #x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF (control
 * characters, unpaired surrogates, U+FFFE/U+FFFF) become U+FFFD, the value is
 * cut to `maxChars` characters (never inside a surrogate pair), and an empty
 * value, which SQS also refuses, becomes `-`.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
 */
export function sqsAttributeValue(value: string, maxChars: number): string {
  let result = '';
  let count = 0;
  // Iterating a string yields code points, and an unpaired surrogate as itself.
  for (const character of value) {
    if (count >= maxChars) break;
    const code = character.codePointAt(0) ?? 0;
    const allowed =
      code === 0x9 ||
      code === 0xa ||
      code === 0xd ||
      (code >= 0x20 && code <= 0xd7ff) ||
      (code >= 0xe000 && code <= 0xfffd) ||
      (code >= 0x10000 && code <= 0x10ffff);
    result += allowed ? character : REPLACEMENT_CHARACTER;
    count++;
  }
  return result.length > 0 ? result : '-';
}

/** How many messages a queue holds, by where they are (SQS's approximate counts). */
export interface QueueMessageCounts {
  /** Waiting to be received. */
  readonly visible: number;
  /** Received and not yet deleted, or hidden by a changed visibility (a job waiting out its retry backoff). */
  readonly inFlight: number;
  /** Sent with a delay that has not passed yet. */
  readonly delayed: number;
}

export interface OutgoingJob {
  readonly envelope: JobEnvelope;
  /** Not on a FIFO queue (SQS refuses per-message delays there): delayed jobs of such queues go through the scheduler. */
  readonly delaySeconds?: number;
  /** SQS `MessageGroupId` on a standard queue: the job's tenant for fair queues (`fairness.key`). Not used on a FIFO queue. */
  readonly messageGroupId?: string | undefined;
  /** FIFO queues: the job's ordering key, its message group. @default - the job id (a group of one) */
  readonly orderingKey?: string | undefined;
  /**
   * FIFO queues: the message deduplication id. Only the first send of a job gives its id (a double enqueue
   * is then dropped by SQS too); every re-send leaves it out and gets a fresh one, so SQS's 5-minute
   * deduplication window cannot swallow it. @default - unique per send
   */
  readonly deduplicationId?: string;
}

/** One queue (and its dead-letter queue) as the client and the worker use it. */
export class JobQueue {
  /** True for an SQS FIFO queue (its URL ends in `.fifo`): the queue of job types with `ordering`. */
  readonly fifo: boolean;

  constructor(
    private readonly sqs: SQSClient,
    readonly url: string,
    readonly deadLetterUrl?: string,
  ) {
    this.fifo = isFifoQueue(url);
  }

  async send(job: OutgoingJob): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({ QueueUrl: this.url, MessageBody: serializeEnvelope(job.envelope), ...this.sendOptions(job) }),
    );
  }

  private groupOf(job: OutgoingJob | undefined): string | undefined {
    return job && messageGroupOf({ id: job.envelope.id, orderingKey: job.orderingKey });
  }

  /**
   * `DelaySeconds` and the fairness group (`messageGroupId`) on a standard queue; the ordering group and
   * deduplication id on a FIFO queue (FIFO already groups by the ordering key, so `messageGroupId` is not used there).
   */
  private sendOptions(job: OutgoingJob): { DelaySeconds?: number; MessageGroupId?: string; MessageDeduplicationId?: string } {
    if (!this.fifo) {
      return {
        ...(job.delaySeconds ? { DelaySeconds: job.delaySeconds } : {}),
        ...(job.messageGroupId === undefined ? {} : { MessageGroupId: job.messageGroupId }),
      };
    }
    if (job.delaySeconds) {
      // The client routes delayed jobs of FIFO queues through the scheduler; reaching here is a caller's bug.
      throw new RangeError(
        `job ${job.envelope.id}: FIFO queue ${this.url} takes no per-message delay (given ${job.delaySeconds} s)`,
      );
    }
    return {
      MessageGroupId: messageGroupOf({ id: job.envelope.id, orderingKey: job.orderingKey }),
      MessageDeduplicationId: job.deduplicationId ?? resendDeduplicationId(),
    };
  }

  /**
   * Sends in SendMessageBatch requests of 10, retrying entries SQS reports as
   * failed (throttling, internal errors) with backoff. On a FIFO queue an entry
   * is not retried once SQS took a later entry of its group (it would run after
   * it): it is reported failed instead, so what is enqueued keeps its order.
   * @returns the job ids that still failed after the retries, with the reason.
   */
  async sendMany(jobs: readonly OutgoingJob[]): Promise<{ id: string; reason: string }[]> {
    const failed: { id: string; reason: string }[] = [];
    for (let start = 0; start < jobs.length; start += 10) {
      let pending = jobs.slice(start, start + 10);
      let lastReasons = new Map<string, string>();
      for (let round = 0; pending.length > 0 && round < 5; round++) {
        if (round > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** round));
        const output = await this.sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: this.url,
            Entries: pending.map((job, index) => ({
              Id: String(index),
              MessageBody: serializeEnvelope(job.envelope),
              ...this.sendOptions(job),
            })),
          }),
        );
        const failedEntries = output.Failed ?? [];
        lastReasons = new Map(failedEntries.map((entry) => [entry.Id ?? '', `${entry.Code}: ${entry.Message ?? ''}`]));
        // Sender faults (a malformed entry) do not improve with retrying.
        const retryable = failedEntries.filter((entry) => !entry.SenderFault);
        for (const entry of failedEntries.filter((e) => e.SenderFault)) {
          const job = pending[Number(entry.Id)];
          if (job) failed.push({ id: job.envelope.id, reason: lastReasons.get(entry.Id ?? '') ?? 'sender fault' });
        }
        const batch = pending;
        const refused = new Set(failedEntries.map((entry) => Number(entry.Id)));
        // FIFO: re-sending an entry after SQS took a later job of its group would run the two out of order.
        const overtaken = (index: number): boolean =>
          this.fifo &&
          batch.some((job, later) => later > index && !refused.has(later) && this.groupOf(job) === this.groupOf(batch[index]));
        for (const entry of retryable.filter((e) => overtaken(Number(e.Id)))) {
          const job = batch[Number(entry.Id)];
          if (job) {
            failed.push({
              id: job.envelope.id,
              reason: `${lastReasons.get(entry.Id ?? '')}; not re-sent: SQS accepted a later job of its ordering key in the same batch`,
            });
          }
        }
        pending = retryable
          .filter((entry) => !overtaken(Number(entry.Id)))
          .map((entry) => batch[Number(entry.Id)])
          .filter((job) => job !== undefined);
      }
      for (const job of pending) failed.push({ id: job.envelope.id, reason: 'SQS kept failing the entry after 5 tries' });
    }
    return failed;
  }

  /**
   * The queue's approximate message counts (GetQueueAttributes). SQS says they
   * are eventually consistent: a send shows in them after about a minute, so
   * a reader must not take "empty" as proof about sends made just before.
   */
  async messageCounts(): Promise<QueueMessageCounts> {
    const attributes = await this.attributes([
      'ApproximateNumberOfMessages',
      'ApproximateNumberOfMessagesNotVisible',
      'ApproximateNumberOfMessagesDelayed',
    ]);
    return {
      visible: count(attributes, 'ApproximateNumberOfMessages'),
      inFlight: count(attributes, 'ApproximateNumberOfMessagesNotVisible'),
      delayed: count(attributes, 'ApproximateNumberOfMessagesDelayed'),
    };
  }

  /** How long SQS keeps a message before deleting it (`MessageRetentionPeriod`), in seconds. */
  async retentionPeriodSeconds(): Promise<number> {
    return count(await this.attributes(['MessageRetentionPeriod']), 'MessageRetentionPeriod');
  }

  /**
   * Sends `body` again as a new message, visible after `delaySeconds` (0..900),
   * with String message `attributes`: a job that waits for its flow limit goes
   * back this way, so its waiting counts no receive toward the redrive limit. `messageGroupId` is the
   * received message's group on a standard queue (its fairness tenant), so the copy keeps its tenant.
   */
  async sendAgain(
    body: string,
    delaySeconds: number,
    attributes: Readonly<Record<string, string>> = {},
    messageGroupId?: string,
  ): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.url,
        MessageBody: body,
        DelaySeconds: Math.max(0, Math.min(MAX_SQS_DELAY_SECONDS, Math.ceil(delaySeconds))),
        ...(messageGroupId === undefined ? {} : { MessageGroupId: messageGroupId }),
        MessageAttributes: Object.fromEntries(
          Object.entries(attributes).map(([name, value]) => [name, { DataType: 'String', StringValue: value }]),
        ),
      }),
    );
  }

  /** Makes a received message visible again after `seconds` (the retry delay). */
  async delayRedelivery(receiptHandle: string, seconds: number): Promise<void> {
    await this.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.url,
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: Math.max(0, Math.min(MAX_VISIBILITY_SECONDS, Math.ceil(seconds))),
      }),
    );
  }

  /**
   * Makes received messages visible again at once (ChangeMessageVisibilityBatch, 10 a request).
   * @throws Error naming the entries SQS refused
   */
  async release(receiptHandles: readonly string[]): Promise<void> {
    const refused: string[] = [];
    for (let start = 0; start < receiptHandles.length; start += 10) {
      const output = await this.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.url,
          Entries: receiptHandles
            .slice(start, start + 10)
            .map((handle, index) => ({ Id: String(index), ReceiptHandle: handle, VisibilityTimeout: 0 })),
        }),
      );
      refused.push(...(output.Failed ?? []).map((entry) => `${entry.Code}: ${entry.Message ?? ''}`));
    }
    if (refused.length > 0) throw new Error(`SQS refused to release ${refused.length} message(s): ${refused.join('; ')}`);
  }

  /**
   * Copies a message body to the dead-letter queue with the reason as message
   * attributes. Every value is made acceptable to SQS first (see
   * `sqsAttributeValue`): an error message is whatever a handler threw, and a
   * refused copy must not be what keeps a job from ending. On a FIFO
   * dead-letter queue the copy's group is the job id (order there does not
   * matter; redrive sends back with the record's ordering key) and its
   * deduplication id is unique, so a copy is never swallowed.
   */
  async sendToDeadLetter(body: string, reason: { jobId?: string; errorName: string; errorMessage: string }): Promise<void> {
    if (!this.deadLetterUrl) throw new Error(`queue ${this.url} has no dead-letter queue configured`);
    const attribute = (value: string, maxChars: number): MessageAttributeValue => ({
      DataType: 'String',
      StringValue: sqsAttributeValue(value, maxChars),
    });
    const attributes: Record<string, MessageAttributeValue> = {
      [DeadLetterAttribute.errorName]: attribute(reason.errorName, MAX_SHORT_ATTRIBUTE_CHARS),
      [DeadLetterAttribute.errorMessage]: attribute(reason.errorMessage, MAX_ERROR_MESSAGE_ATTRIBUTE_CHARS),
    };
    if (reason.jobId) attributes[DeadLetterAttribute.jobId] = attribute(reason.jobId, MAX_SHORT_ATTRIBUTE_CHARS);
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.deadLetterUrl,
        MessageBody: body,
        MessageAttributes: attributes,
        ...(isFifoQueue(this.deadLetterUrl)
          ? { MessageGroupId: groupIdOr(reason.jobId, 'jobstack-unreadable'), MessageDeduplicationId: resendDeduplicationId() }
          : {}),
      }),
    );
  }

  private async attributes(names: QueueAttributeName[]): Promise<Partial<Record<string, string>>> {
    const output = await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: this.url, AttributeNames: names }));
    return output.Attributes ?? {};
  }
}

function count(attributes: Partial<Record<string, string>>, name: string): number {
  const value = Number(attributes[name]);
  // A missing or malformed count must not read as "empty".
  if (attributes[name] === undefined || !Number.isFinite(value) || value < 0) {
    throw new Error(`SQS returned no usable ${name} (given ${JSON.stringify(attributes[name])})`);
  }
  return value;
}
