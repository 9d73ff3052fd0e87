import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { parseEnvelope } from '../envelope.js';
import { levelUrl, type RoutableQueue } from '../flow/routing.js';
import { findJobDefinition, type JobRegistry } from '../job-definition.js';
import { groupIdOr, isFifoQueue, messageGroupOf } from '../ordering/ordering.js';
import { DeadLetterAttribute } from '../queue.js';
import type { JobStore } from '../store/job-store.js';

export interface RedriveOptions {
  /** Logical queue whose dead-letter queue to drain. @default every queue of the stack */
  readonly queue?: string;
  /** Only messages dead-lettered with this error name (the `jobstack-error-name` attribute), e.g. `'JobTimeoutError'`. */
  readonly errorName?: string;
  /** Most messages to move. @default 1000 */
  readonly limit?: number;
}

export interface RedriveResult {
  /** Messages sent back to their queue (their jobs were requeued for a new attempt series). */
  readonly moved: number;
  /** Stale copies removed without sending: their job had already succeeded, been cancelled, or was live again. */
  readonly discarded: number;
  /** Messages left in the dead-letter queue (not matching `errorName`); they become visible again after the receive timeout. */
  readonly leftInPlace: number;
}

interface RedriveDeps {
  readonly sqs: SQSClient;
  readonly store: JobStore;
  readonly registry: JobRegistry;
}

/** How long received dead letters stay hidden while a redrive works on them. */
const RECEIVE_VISIBILITY_SECONDS = 120;

/**
 * Moves messages from a dead-letter queue back to its source queue, resetting
 * each dead job for a new attempt series. Works on AWS, on the emulator (which
 * lacks StartMessageMoveTask) and on FIFO queues; StartMessageMoveTask is not
 * used even on AWS because it cannot filter by error or requeue the job records.
 *
 * Interruption-safe: a message is deleted from the dead-letter queue only after
 * its copy was sent, so an interrupted redrive can only leave a duplicate
 * message, never lose one; the worker's claim runs a duplicate job once.
 */
export async function redriveDeadLetters(
  deps: RedriveDeps,
  urls: RoutableQueue & { readonly deadLetterUrl: string },
  options: Omit<RedriveOptions, 'queue'> = {},
): Promise<RedriveResult> {
  const limit = options.limit ?? 1_000;
  const fifo = isFifoQueue(urls.url);
  const seen = new Set<string>();
  let moved = 0;
  let discarded = 0;
  let leftInPlace = 0;
  while (moved + discarded < limit) {
    const output = await deps.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: urls.deadLetterUrl,
        MaxNumberOfMessages: Math.min(10, limit - moved - discarded),
        VisibilityTimeout: RECEIVE_VISIBILITY_SECONDS,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['MessageGroupId'],
      }),
    );
    const messages = (output.Messages ?? []).filter((message) => message.MessageId && !seen.has(message.MessageId));
    if (messages.length === 0) break;
    /** Messages to send back, by the URL of their job's priority level. */
    const toSend = new Map<string, Outgoing[]>();
    const toDelete: Message[] = [];
    for (const message of messages) {
      seen.add(message.MessageId as string);
      const errorName = message.MessageAttributes?.[DeadLetterAttribute.errorName]?.StringValue;
      if (options.errorName !== undefined && errorName !== options.errorName) {
        leftInPlace++;
        continue;
      }
      const { decision, group, record } = await decide(deps, message);
      if (decision === 'send') {
        // Back to the level the job was sent to; on a standard queue in its tenant's group (fairness).
        const url = levelUrl(urls, record?.priority);
        const fairnessGroup = fifo ? undefined : record?.fairnessKey;
        const entry: Outgoing = { message, group, ...(fairnessGroup === undefined ? {} : { fairnessGroup }) };
        toSend.set(url, [...(toSend.get(url) ?? []), entry]);
      } else if (decision === 'discard') toDelete.push(message);
      else leftInPlace++;
    }
    const sent: Message[] = [];
    for (const [url, entries] of toSend) sent.push(...(await sendBack(deps.sqs, url, entries, fifo)));
    moved += sent.length;
    discarded += toDelete.length;
    await deleteFromDeadLetterQueue(deps.sqs, urls.deadLetterUrl, [...sent, ...toDelete]);
  }
  return { moved, discarded, leftInPlace };
}

/** A dead letter to send back, with the FIFO message group it goes to, or on a standard queue its fairness group. */
interface Outgoing {
  readonly message: Message;
  readonly group: string;
  /** A standard queue's `MessageGroupId`: the job's fairness key. */
  readonly fairnessGroup?: string;
}

/**
 * What to do with one dead letter, by the state of its job: requeue a dead job
 * and send it; send again if a previous redrive requeued it but may not have
 * sent (the worker runs it once either way); discard a copy whose job finished
 * or is live with its own message; send back an unreadable message as it is.
 *
 * `group` is the message group a FIFO source queue gets it in: the ordering
 * key on the job's record (else its id), for an unreadable message the group
 * it had in the dead-letter queue. `record` says which priority level and
 * fairness group the job was sent with.
 */
async function decide(
  deps: RedriveDeps,
  message: Message,
): Promise<{ decision: 'send' | 'discard' | 'keep'; group: string; record?: { priority?: string; fairnessKey?: string } }> {
  const parsed = parseEnvelope(message.Body ?? '');
  const jobId = parsed.ok ? parsed.envelope.id : parsed.jobId;
  const fallbackGroup = groupIdOr(message.Attributes?.MessageGroupId, 'jobstack-redrive');
  if (jobId === undefined) return { decision: 'send', group: fallbackGroup };
  const jobType = parsed.ok ? parsed.envelope.type : parsed.jobType;
  const extraAttempts = (jobType !== undefined ? findJobDefinition(deps.registry, jobType)?.retry.maxAttempts : undefined) ?? 1;
  const outcome = await deps.store.requeueDead(jobId, { extraAttempts, reason: 'redrive' });
  const record = outcome.record;
  const group = record === undefined ? groupIdOr(jobId, fallbackGroup) : messageGroupOf(record);
  if (outcome.requeued || record === undefined) return { decision: 'send', group, ...(record === undefined ? {} : { record }) };
  switch (record.state) {
    case 'queued':
    case 'scheduled':
      return { decision: 'send', group, record };
    case 'succeeded':
    case 'cancelled':
    case 'running':
    case 'retrying':
    // A parent waiting for its children is queued again by the flow coordinator, not by a message.
    case 'waiting':
      return { decision: 'discard', group };
    case 'dead':
      // Changed between read and write (a concurrent retry): leave it for the next redrive.
      return { decision: 'keep', group };
  }
}

/**
 * Sends dead letters back to their queue (one priority level's). On a FIFO queue each goes to its
 * job's group with a deduplication id per dead letter (`redrive-<message id>`):
 * never the job id the first send used, which SQS may still hold in its
 * 5-minute deduplication window, and the same for a repeated send of one
 * dead letter by an interrupted redrive, which SQS then drops. On a standard
 * queue a job with a fairness key goes back in its tenant's group.
 */
async function sendBack(sqs: SQSClient, queueUrl: string, outgoing: readonly Outgoing[], fifo: boolean): Promise<Message[]> {
  if (outgoing.length === 0) return [];
  const output = await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: outgoing.map(({ message, group, fairnessGroup }, index) => ({
        Id: String(index),
        MessageBody: message.Body ?? '',
        ...(fifo
          ? { MessageGroupId: group, MessageDeduplicationId: `redrive-${message.MessageId}` }
          : fairnessGroup === undefined
            ? {}
            : { MessageGroupId: fairnessGroup }),
      })),
    }),
  );
  const failed = new Set((output.Failed ?? []).map((entry) => entry.Id));
  // A failed entry stays in the dead-letter queue and becomes visible again: nothing is lost.
  return outgoing.filter((_, index) => !failed.has(String(index))).map(({ message }) => message);
}

async function deleteFromDeadLetterQueue(sqs: SQSClient, deadLetterUrl: string, messages: readonly Message[]): Promise<void> {
  if (messages.length === 0) return;
  await sqs.send(
    new DeleteMessageBatchCommand({
      QueueUrl: deadLetterUrl,
      Entries: messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle ?? '' })),
    }),
  );
}
