import { type MessageAttributeValue, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';

/** Hands a delivery back to its queue unrun: the caller then lets the original be deleted. */
export type HandBack = (message: SQSRecord, delaySeconds: number) => Promise<void>;

/**
 * Hands deliveries back to `queueUrl` without running them and without
 * counting towards the queue's `maxReceiveCount`: it sends a copy of the
 * message (body, message attributes and, on a fair queue, its
 * `MessageGroupId`) with `DelaySeconds`, and the caller returns normally so
 * the event source deletes the original. Changing the original's visibility
 * instead would keep its receive count, and enough hand-backs would push a
 * job that never ran into the undeliverable queue.
 *
 * If the send fails it throws, and the original comes back after its
 * visibility timeout (one receive counted): never lost. If the event source
 * fails to delete the original after the copy was sent, the job has two
 * messages; the worker's conditional claim runs it once.
 *
 * Standard queues only: a FIFO queue refuses a per-message delay.
 */
export function createHandBack(sqs: SQSClient, queueUrl: string): HandBack {
  return async function handBack(message, delaySeconds) {
    const attributes = messageAttributesOf(message);
    const groupId = message.attributes.MessageGroupId;
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: message.body,
        DelaySeconds: Math.max(0, Math.min(900, Math.ceil(delaySeconds))),
        ...(Object.keys(attributes).length > 0 ? { MessageAttributes: attributes } : {}),
        ...(groupId ? { MessageGroupId: groupId } : {}),
      }),
    );
  };
}

/** The record's message attributes as SendMessage takes them (Lambda's event spells them in camelCase, binary in base64). */
function messageAttributesOf(message: SQSRecord): Record<string, MessageAttributeValue> {
  const result: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(message.messageAttributes ?? {})) {
    if (value.stringValue !== undefined) result[name] = { DataType: value.dataType, StringValue: value.stringValue };
    else if (value.binaryValue !== undefined) {
      result[name] = { DataType: value.dataType, BinaryValue: Buffer.from(value.binaryValue, 'base64') };
    }
  }
  return result;
}
