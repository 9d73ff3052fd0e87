import { SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { BatchWriteCommand, DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ConfigurationError,
  configFromOutputs,
  defineJob,
  defineRegistry,
  EnqueueError,
  InvalidArgumentError,
  InvalidPayloadError,
  PayloadTooLargeError,
  UnknownJobTypeError,
} from '../../shared/index.js';
import { mockedJobClient } from '../helpers/client-harness.js';
import { DLQ_URL, QUEUE_URL } from '../helpers/events.js';

const registry = defineRegistry(
  defineJob({ name: 'mail.send', schema: z.object({ to: z.string(), at: z.string().optional() }), handler: async () => null }),
);
const config = configFromOutputs('test', {
  JobsTableName: 'jobs',
  IdempotencyTableName: 'idem',
  QueueNames: 'default',
  QueueUrlDefault: QUEUE_URL,
  DeadLetterQueueUrlDefault: DLQ_URL,
});

function setup() {
  return mockedJobClient(registry, config);
}

describe('job client enqueue', () => {
  let harness: ReturnType<typeof setup>;
  beforeEach(() => {
    harness = setup();
  });

  it('writes the queued record with a create-only condition, then sends the envelope', async () => {
    const { jobId, created } = await harness.jobs.enqueue('mail.send', { to: 'a@example.com' }, { delay: '30s' });

    expect(created).toBe(true);
    expect(harness.dynamo).toHaveReceivedCommandWith(PutCommand, {
      TableName: 'jobs',
      ConditionExpression: 'attribute_not_exists(id)',
      Item: expect.objectContaining({
        id: jobId,
        state: 'queued',
        attempts: 0,
        maxAttempts: 5,
        payload: { to: 'a@example.com' },
      }),
    });
    const sent = harness.sqs.commandCalls(SendMessageCommand)[0]?.args[0].input;
    expect(sent?.DelaySeconds).toBe(30);
    expect(JSON.parse(sent?.MessageBody ?? '')).toMatchObject({
      v: 1,
      id: jobId,
      type: 'mail.send',
      payload: { to: 'a@example.com' },
    });
  });

  it('fails with InvalidPayloadError and writes nothing when the payload does not match the schema', async () => {
    await expect(harness.jobs.enqueue('mail.send', { to: 42 } as never)).rejects.toThrow(InvalidPayloadError);
    await expect(harness.jobs.enqueue('mail.send', { to: 42 } as never)).rejects.toThrow(/to: .*string/);
    expect(harness.dynamo.calls()).toHaveLength(0);
    expect(harness.sqs.calls()).toHaveLength(0);
  });

  it('validates the payload as it will travel: a Date becomes a string', async () => {
    await harness.jobs.enqueue('mail.send', { to: 'x', at: new Date('2026-01-01T00:00:00Z') as never });
    expect(harness.dynamo).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ payload: { to: 'x', at: '2026-01-01T00:00:00.000Z' } }),
    });
  });

  it('fails with UnknownJobTypeError naming the known types', async () => {
    await expect(harness.jobs.enqueue('mail.nope' as never, {} as never)).rejects.toThrow(UnknownJobTypeError);
    await expect(harness.jobs.enqueue('mail.nope' as never, {} as never)).rejects.toThrow(/known types: mail.send/);
  });

  it('fails with PayloadTooLargeError over the inline limit', async () => {
    await expect(harness.jobs.enqueue('mail.send', { to: 'x'.repeat(300_000) })).rejects.toThrow(PayloadTooLargeError);
    expect(harness.dynamo.calls()).toHaveLength(0);
  });

  it('fails with InvalidArgumentError for both delay and runAt or a malformed job id', async () => {
    await expect(
      harness.jobs.enqueue('mail.send', { to: 'x' }, { delay: '16m', runAt: new Date(Date.now() + 60_000) }),
    ).rejects.toThrow(InvalidArgumentError);
    await expect(harness.jobs.enqueue('mail.send', { to: 'x' }, { jobId: 'a b' })).rejects.toThrow(InvalidArgumentError);
    expect(harness.dynamo.calls()).toHaveLength(0);
  });

  it('rolls the record back and throws EnqueueError when the send fails', async () => {
    harness.sqs.on(SendMessageCommand).rejects(new Error('throttled'));
    await expect(harness.jobs.enqueue('mail.send', { to: 'x' }, { jobId: 'job-1' })).rejects.toThrow(EnqueueError);
    expect(harness.dynamo).toHaveReceivedCommandWith(DeleteCommand, { Key: { id: 'job-1' } });
  });

  it('batches enqueueMany into 25-record writes and 10-message sends', async () => {
    const requests = Array.from({ length: 30 }, (_, i) => ({ type: 'mail.send' as const, payload: { to: `u${i}` } }));
    const result = await harness.jobs.enqueueMany(requests);

    expect(result.failed).toEqual([]);
    expect(new Set(result.jobIds).size).toBe(30);
    expect(harness.dynamo).toHaveReceivedCommandTimes(BatchWriteCommand, 2);
    expect(harness.sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 3);
  });

  it('writes nothing in enqueueMany when any payload is invalid, naming its index', async () => {
    const requests = [
      { type: 'mail.send' as const, payload: { to: 'ok' } },
      { type: 'mail.send' as const, payload: { to: 1 } as never },
    ];
    await expect(harness.jobs.enqueueMany(requests)).rejects.toThrow(/request 1: invalid payload/);
    expect(harness.dynamo.calls()).toHaveLength(0);
  });

  it('reports entries SQS refuses for good and rolls their records back', async () => {
    harness.sqs.on(SendMessageBatchCommand).resolves({
      Successful: [],
      Failed: [{ Id: '0', Code: 'InvalidMessageContents', SenderFault: true, Message: 'bad' }],
    });
    const result = await harness.jobs.enqueueMany([{ type: 'mail.send', payload: { to: 'x' } }]);
    expect(result.failed).toEqual([{ index: 0, jobId: expect.any(String), reason: 'InvalidMessageContents: bad' }]);
    expect(result.jobIds).toEqual([undefined]);
    expect(harness.dynamo).toHaveReceivedCommand(DeleteCommand);
  });
});

describe('stack configuration', () => {
  it('fails if an output is missing, naming it', () => {
    expect(() => configFromOutputs('s', { QueueNames: 'default' })).toThrow(ConfigurationError);
    expect(() => configFromOutputs('s', { QueueNames: 'default' })).toThrow(/no output 'QueueUrlDefault'/);
  });
});
