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
  const fifo = urls.url.endsWith('.fifo');
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
    /** Messages to send back, by the URL of their job's priority level, each with its job's message group. */
    const toSend = new Map<string, { message: Message; groupId?: string }[]>();
    const toDelete: Message[] = [];
    for (const message of messages) {
      seen.add(message.MessageId as string);
      const errorName = message.MessageAttributes?.[DeadLetterAttribute.errorName]?.StringValue;
      if (options.errorName !== undefined && errorName !== options.errorName) {
        leftInPlace++;
        continue;
      }
      const { decision, record } = await decide(deps, message);
      if (decision === 'send') {
        // Back to the level the job was sent to, in its tenant's group (a FIFO queue keeps the message's own group).
        const url = levelUrl(urls, record?.priority);
        const groupId = fifo ? undefined : record?.fairnessKey;
        toSend.set(url, [...(toSend.get(url) ?? []), { message, ...(groupId === undefined ? {} : { groupId }) }]);
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

/**
 * What to do with one dead letter, by the state of its job: requeue a dead job
 * and send it; send again if a previous redrive requeued it but may not have
 * sent (the worker runs it once either way); discard a copy whose job finished
 * or is live with its own message; send back an unreadable message as it is.
 */
async function decide(
  deps: RedriveDeps,
  message: Message,
): Promise<{ decision: 'send' | 'discard' | 'keep'; record?: { priority?: string; fairnessKey?: string } }> {
  const parsed = parseEnvelope(message.Body ?? '');
  const jobId = parsed.ok ? parsed.envelope.id : parsed.jobId;
  if (jobId === undefined) return { decision: 'send' };
  const jobType = parsed.ok ? parsed.envelope.type : parsed.jobType;
  const extraAttempts = (jobType !== undefined ? findJobDefinition(deps.registry, jobType)?.retry.maxAttempts : undefined) ?? 1;
  const outcome = await deps.store.requeueDead(jobId, { extraAttempts, reason: 'redrive' });
  const record = outcome.record;
  if (outcome.requeued || record === undefined) return { decision: 'send', ...(record === undefined ? {} : { record }) };
  switch (record.state) {
    case 'queued':
    case 'scheduled':
      return { decision: 'send', record };
    case 'succeeded':
    case 'cancelled':
    case 'running':
    case 'retrying':
      return { decision: 'discard' };
    case 'dead':
      // Changed between read and write (a concurrent retry): leave it for the next redrive.
      return { decision: 'keep' };
  }
}

async function sendBack(
  sqs: SQSClient,
  queueUrl: string,
  entries: readonly { message: Message; groupId?: string }[],
  fifo: boolean,
): Promise<Message[]> {
  if (entries.length === 0) return [];
  const messages = entries.map(({ message }) => message);
  const output = await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: entries.map(({ message, groupId }, index) => ({
        Id: String(index),
        MessageBody: message.Body ?? '',
        ...(fifo
          ? {
              MessageGroupId: message.Attributes?.MessageGroupId ?? 'redrive',
              MessageDeduplicationId: `redrive-${message.MessageId}`,
            }
          : groupId === undefined
            ? {}
            : { MessageGroupId: groupId }),
      })),
    }),
  );
  const failed = new Set((output.Failed ?? []).map((entry) => entry.Id));
  // A failed entry stays in the dead-letter queue and becomes visible again: nothing is lost.
  return messages.filter((_, index) => !failed.has(String(index)));
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
