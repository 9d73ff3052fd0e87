import { randomUUID } from 'node:crypto';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { afterAll, describe, expect, it } from 'vitest';
import { startSqsPoller } from '../../cli/dev/sqs-poller.js';
import { realSqsClient } from './tables.js';

// The in-process poller stands in for Lambda's event source mapping in the flow-control proofs; these
// tests hold it to the mapping's rules against a real SQS (MiniStack's), so those proofs rest on it.

const sqs = realSqsClient();
const created: string[] = [];

afterAll(async () => {
  for (const queueUrl of created) await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
});

async function createQueue(fifo: boolean): Promise<string> {
  const name = `poller-${randomUUID().slice(0, 8)}${fifo ? '.fifo' : ''}`;
  const output = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: { VisibilityTimeout: '30', ...(fifo ? { FifoQueue: 'true' } : {}) },
    }),
  );
  const url = output.QueueUrl as string;
  created.push(url);
  return url;
}

async function until(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('in-process SQS poller (an event source mapping in a test)', () => {
  it('deletes the records that returned and leaves the ones that threw in flight, running batches concurrently', async () => {
    const queueUrl = await createQueue(false);
    for (let i = 0; i < 20; i++) await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: `m${i}` }));
    let running = 0;
    let mostRunning = 0;
    const seen: string[] = [];
    const poller = startSqsPoller({
      sqs,
      queueUrl,
      concurrency: 3,
      batchSize: 2,
      processRecord: async (record) => {
        running++;
        mostRunning = Math.max(mostRunning, running);
        await new Promise((resolve) => setTimeout(resolve, 30));
        running--;
        seen.push(record.body);
        if (record.body === 'm3' || record.body === 'm7') throw new Error('asked for redelivery');
      },
    });
    await until(() => seen.length >= 20);
    await poller.stop();
    expect(poller.stats()).toEqual({ received: 20, deleted: 18, failed: 2 });
    expect([...seen].sort()).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`).sort());
    expect(mostRunning).toBeGreaterThan(2);
    const attributes = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    expect(attributes.Attributes?.ApproximateNumberOfMessages).toBe('0');
    expect(attributes.Attributes?.ApproximateNumberOfMessagesNotVisible).toBe('2');
  });

  it('on a FIFO queue runs each group in order and holds a group back after a failure until its message returns', async () => {
    const queueUrl = await createQueue(true);
    for (let i = 0; i < 5; i++) {
      for (const group of ['a', 'b']) {
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: queueUrl,
            MessageBody: `${group}${i}`,
            MessageGroupId: group,
            MessageDeduplicationId: `${group}${i}`,
          }),
        );
      }
    }
    const order: string[] = [];
    let failedOnce = false;
    const poller = startSqsPoller({
      sqs,
      queueUrl,
      concurrency: 2,
      batchSize: 10,
      processRecord: async (record: SQSRecord) => {
        order.push(record.body);
        if (record.body === 'a2' && !failedOnce) {
          failedOnce = true;
          // What the worker does on a retry: the message comes back after its backoff.
          await sqs.send(
            new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: record.receiptHandle, VisibilityTimeout: 1 }),
          );
          throw new Error('retry later');
        }
      },
    });
    await until(
      () => order.filter((body) => body.startsWith('a')).length >= 6 && order.filter((b) => b.startsWith('b')).length >= 5,
    );
    await poller.stop();
    expect(order.filter((body) => body.startsWith('a'))).toEqual(['a0', 'a1', 'a2', 'a2', 'a3', 'a4']);
    expect(order.filter((body) => body.startsWith('b'))).toEqual(['b0', 'b1', 'b2', 'b3', 'b4']);
  });
});
