import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ChangeMessageVisibilityCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { registry } from '../../functions/jobs/handlers.js';
import { createPauseGate, PAUSE_CACHE_MS, PAUSED_HAND_BACK_DELAY_SECONDS } from '../../functions/worker/pause-gate.js';
import { RedeliveryRequestedError } from '../../functions/worker/process-record.js';
import { PauseStore } from '../../shared/pause/pause-store.js';
import { envelopeBody, QUEUE_URL, sqsRecord } from '../helpers/events.js';
import { workerHarness } from '../helpers/worker-harness.js';

const PAUSE_ITEM = {
  id: 'queue#default',
  kind: 'queue-pause',
  queue: 'default',
  pausedAt: '2026-12-01T00:00:00.000Z',
  keepOnDeploy: false,
  stackUpdatedAt: '2026-11-30T00:00:00.000Z',
};

function pauseStoreWith(item: () => Record<string, unknown> | undefined | Error) {
  const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  const dynamo = mockClient(documentClient);
  dynamo.on(GetCommand).callsFake(() => {
    const value = item();
    if (value instanceof Error) throw value;
    return value ? { Item: value } : {};
  });
  return { store: new PauseStore(documentClient, 'jobs'), dynamo };
}

describe('worker pause gate', () => {
  it('reads the pause item at most once per 5 seconds per container, eventually consistent, one read for concurrent records', async () => {
    // GIVEN a queue that is not paused and a clock under the test's control
    let now = 1_000_000;
    const { store, dynamo } = pauseStoreWith(() => undefined);
    const gate = createPauseGate({ store, queueName: 'default', clock: () => now });

    // WHEN ten records of a batch ask at once, then again within the window
    const answers = await Promise.all(Array.from({ length: 10 }, () => gate.isPaused()));
    now += PAUSE_CACHE_MS - 1;
    await gate.isPaused();

    // THEN one GetItem served them all, and it was eventually consistent on the queue's control item
    expect(answers).toEqual(Array(10).fill(false));
    expect(dynamo).toHaveReceivedCommandTimes(GetCommand, 1);
    expect(dynamo).toHaveReceivedCommandWith(GetCommand, { Key: { id: 'queue#default' }, ConsistentRead: false });

    // WHEN the window has passed THEN it reads again
    now += 1;
    await gate.isPaused();
    expect(dynamo).toHaveReceivedCommandTimes(GetCommand, 2);
  });

  it('sees a pause written after its last read once the 5-second cache expires', async () => {
    let now = 0;
    let item: Record<string, unknown> | undefined;
    const { store } = pauseStoreWith(() => item);
    const gate = createPauseGate({ store, queueName: 'default', clock: () => now });
    expect(await gate.isPaused()).toBe(false);
    item = PAUSE_ITEM;
    now += PAUSE_CACHE_MS;
    expect(await gate.isPaused()).toBe(true);
  });

  it('keeps the last value read when a read fails, and throws when it has none', async () => {
    let now = 0;
    let answer: Record<string, unknown> | Error | undefined = PAUSE_ITEM;
    const { store } = pauseStoreWith(() => answer);
    const gate = createPauseGate({ store, queueName: 'default', clock: () => now });
    expect(await gate.isPaused()).toBe(true);
    answer = new Error('throttled');
    now += PAUSE_CACHE_MS;
    expect(await gate.isPaused()).toBe(true);

    const fresh = createPauseGate({ store, queueName: 'default', clock: () => now });
    await expect(fresh.isPaused()).rejects.toThrow('throttled');
  });
});

describe('record processor while the queue is paused', () => {
  const paused = { isPaused: async () => true };

  it('hands every delivery back unrun (a delayed copy, no claim, no attempt) and lets the original be deleted', async () => {
    // GIVEN a paused queue and a delivery carrying a flow-limit wait counter
    const harness = workerHarness(registry, { pause: paused });
    const message = sqsRecord(envelopeBody('demo.echo', { message: 'held' }, 'held-1'), {
      messageAttributes: { 'jobstack-concurrency-waits': { dataType: 'String', stringValue: '3' } },
    });

    // WHEN it arrives THEN the processor returns normally (the event source deletes the original)
    await expect(harness.processRecord(message)).resolves.toBeUndefined();

    // AND a copy went back to the queue, delayed, with the message's attributes; the job was never claimed
    expect(harness.sqs).toHaveReceivedCommandWith(SendMessageCommand, {
      QueueUrl: QUEUE_URL,
      MessageBody: message.body,
      DelaySeconds: PAUSED_HAND_BACK_DELAY_SECONDS,
      MessageAttributes: { 'jobstack-concurrency-waits': { DataType: 'String', StringValue: '3' } },
    });
    expect(harness.dynamo).toHaveReceivedCommandTimes(UpdateCommand, 0);
  });

  it('hands back even poison while paused: nothing is decided about any message until resume', async () => {
    const harness = workerHarness(registry, { pause: paused });
    await harness.processRecord(sqsRecord('{not json'));
    expect(harness.sqs).toHaveReceivedCommandTimes(SendMessageCommand, 1);
    expect(harness.sqs).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: QUEUE_URL, MessageBody: '{not json' });
  });

  it('leaves the message for redelivery when the hand-back fails (never lost)', async () => {
    const harness = workerHarness(registry, { pause: paused });
    harness.sqs.on(SendMessageCommand).rejects(new Error('SQS unavailable'));
    await expect(harness.processRecord(sqsRecord(envelopeBody('demo.echo', { message: 'x' })))).rejects.toThrow(
      'SQS unavailable',
    );
  });

  it('on a FIFO queue leaves the message itself waiting (no delayed copy, which FIFO refuses and which would leave its group)', async () => {
    const harness = workerHarness(registry, { pause: paused, queueUrl: `${QUEUE_URL}.fifo` });
    const message = sqsRecord(envelopeBody('demo.ordered', { key: 'k', seq: 1 }, 'ordered-1'));
    await expect(harness.processRecord(message)).rejects.toThrow(RedeliveryRequestedError);
    expect(harness.sqs).toHaveReceivedCommandTimes(SendMessageCommand, 0);
    expect(harness.sqs).toHaveReceivedCommandWith(ChangeMessageVisibilityCommand, {
      ReceiptHandle: message.receiptHandle,
      VisibilityTimeout: PAUSED_HAND_BACK_DELAY_SECONDS,
    });
    expect(harness.dynamo).toHaveReceivedCommandTimes(UpdateCommand, 0);
  });

  it('runs the job as usual when the queue is not paused', async () => {
    const harness = workerHarness(registry, { pause: { isPaused: async () => false } });
    await harness.processRecord(sqsRecord(envelopeBody('demo.echo', { message: 'run' }, 'run-1')));
    expect(harness.sqs).toHaveReceivedCommandTimes(SendMessageCommand, 0);
    expect(harness.dynamo).toHaveReceivedCommandWith(UpdateCommand, { Key: { id: 'run-1' } });
  });
});
