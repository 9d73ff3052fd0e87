import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { parseEnvelope } from '../envelope.js';
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
  urls: { readonly url: string; readonly deadLetterUrl: string },
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
    const toSend: Message[] = [];
    const toDelete: Message[] = [];
    for (const message of messages) {
      seen.add(message.MessageId as string);
      const errorName = message.MessageAttributes?.[DeadLetterAttribute.errorName]?.StringValue;
      if (options.errorName !== undefined && errorName !== options.errorName) {
        leftInPlace++;
        continue;
      }
      const decision = await decide(deps, message);
      if (decision === 'send') toSend.push(message);
      else if (decision === 'discard') toDelete.push(message);
      else leftInPlace++;
    }
    const sent = await sendBack(deps.sqs, urls.url, toSend, fifo);
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
async function decide(deps: RedriveDeps, message: Message): Promise<'send' | 'discard' | 'keep'> {
  const parsed = parseEnvelope(message.Body ?? '');
  const jobId = parsed.ok ? parsed.envelope.id : parsed.jobId;
  if (jobId === undefined) return 'send';
  const jobType = parsed.ok ? parsed.envelope.type : parsed.jobType;
  const extraAttempts = (jobType !== undefined ? findJobDefinition(deps.registry, jobType)?.retry.maxAttempts : undefined) ?? 1;
  const outcome = await deps.store.requeueDead(jobId, { extraAttempts, reason: 'redrive' });
  if (outcome.requeued || outcome.record === undefined) return 'send';
  switch (outcome.record.state) {
    case 'queued':
    case 'scheduled':
      return 'send';
    case 'succeeded':
    case 'cancelled':
    case 'running':
    case 'retrying':
      return 'discard';
    case 'dead':
      // Changed between read and write (a concurrent retry): leave it for the next redrive.
      return 'keep';
  }
}

async function sendBack(sqs: SQSClient, queueUrl: string, messages: readonly Message[], fifo: boolean): Promise<Message[]> {
  if (messages.length === 0) return [];
  const output = await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: messages.map((message, index) => ({
        Id: String(index),
        MessageBody: message.Body ?? '',
        ...(fifo
          ? {
              MessageGroupId: message.Attributes?.MessageGroupId ?? 'redrive',
              MessageDeduplicationId: `redrive-${message.MessageId}`,
            }
          : {}),
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
