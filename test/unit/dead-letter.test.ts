import { Logger } from '@aws-lambda-powertools/logger';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createUndeliverableProcessor, decideUndeliverable } from '../../functions/dead-letter/process-undeliverable.js';
import { JobQueue, type JobRecord, JobStore } from '../../shared/index.js';
import { claimedRecord, DLQ_URL, envelopeBody, QUEUE_URL, sqsRecord } from '../helpers/events.js';

// Mocked DynamoDB and SQS: these prove the wiring (which write carries which condition, what is
// forwarded when); the real-DynamoDB layer proves the conditions themselves.
const NOW = Date.parse('2026-11-23T12:00:00Z');
const UNDELIVERABLE_URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/jobs-undeliverable';
const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const sqsClient = new SQSClient({ region: 'us-east-1' });
const dynamo = mockClient(documentClient);
const sqs = mockClient(sqsClient);
const dead: unknown[] = [];
const process = createUndeliverableProcessor({
  store: new JobStore(documentClient, 'jobs', { clock: () => NOW }),
  queue: new JobQueue(sqsClient, QUEUE_URL, DLQ_URL),
  undeliverable: new JobQueue(sqsClient, UNDELIVERABLE_URL),
  logger: new Logger({ logLevel: 'SILENT' }),
  queueName: 'default',
  clock: () => NOW,
  observer: {
    started: () => undefined,
    succeeded: () => undefined,
    retried: () => undefined,
    cancelled: () => undefined,
    dead: (job, reason) => dead.push({ ...job, reason }),
  },
});

function job(overrides: Partial<JobRecord>): JobRecord {
  return claimedRecord({ id: 'crashy', type: 'demo.sleep', updatedAt: new Date(NOW - 60_000).toISOString(), ...overrides });
}

/** What a worker killed on the job's last allowed attempt leaves: `running`, attempts used up, lease expired. */
function lastAttemptDied(): JobRecord {
  return job({ state: 'running', attempts: 3, maxAttempts: 3, leaseUntil: NOW - 1 });
}

function undeliverable(id = 'crashy') {
  const body = envelopeBody('demo.sleep', { ms: 1 }, id);
  return { body, message: sqsRecord(body, { attributes: { ...sqsRecord('').attributes, ApproximateReceiveCount: '5' } }) };
}

beforeEach(() => {
  dynamo.reset();
  sqs.reset();
  dead.length = 0;
  dynamo.onAnyCommand().resolves({});
  sqs.onAnyCommand().resolves({});
});

describe('decideUndeliverable (fault 6)', () => {
  const later = new Date(NOW + 60_000).toISOString();
  const earlier = new Date(NOW - 60_000).toISOString();
  it.each([
    ['no record', undefined, { action: 'kill' }],
    // This copy may be an old duplicate while the job's own message is alive in the job queue: only the
    // sweeper, which sees the queue's counts, may conclude that nothing can move the job.
    ['queued', job({ state: 'queued' }), { action: 'drop', reason: 'left-to-sweeper' }],
    ['scheduled', job({ state: 'scheduled' }), { action: 'drop', reason: 'left-to-sweeper' }],
    ['retrying, due', job({ state: 'retrying', nextAttemptAt: earlier }), { action: 'drop', reason: 'left-to-sweeper' }],
    [
      'running, lease expired, attempts left',
      job({ state: 'running', attempts: 1, maxAttempts: 3, leaseUntil: NOW - 1 }),
      { action: 'drop', reason: 'left-to-sweeper' },
    ],
    [
      'running, lease expired on the last attempt',
      job({ state: 'running', attempts: 3, maxAttempts: 3, leaseUntil: NOW - 1 }),
      { action: 'kill' },
    ],
    ['running, lease live', job({ state: 'running', leaseUntil: NOW + 90_000 }), { action: 'redeliver', afterMs: 90_001 }],
    // The claim takes over only once leaseUntil < now: at its last ms the lease is still held.
    ['running, lease in its last ms', job({ state: 'running', leaseUntil: NOW }), { action: 'redeliver', afterMs: 1 }],
    ['retrying, backoff not passed', job({ state: 'retrying', nextAttemptAt: later }), { action: 'drop', reason: 'duplicate' }],
    ['succeeded', job({ state: 'succeeded' }), { action: 'drop', reason: 'finished' }],
    ['dead, copy sent', job({ state: 'dead' }), { action: 'drop', reason: 'finished' }],
    ['dead, copy pending', job({ state: 'dead', deadLetterPending: true }), { action: 'forward-pending' }],
    [
      'long job running in its execution',
      { ...job({ state: 'running', executionArn: 'arn:aws:states:x:1:execution:m:e' }), leaseUntil: undefined },
      { action: 'drop', reason: 'held-by-execution' },
    ],
  ])('%s', (_label, record, expected) => {
    expect(decideUndeliverable(record as JobRecord | undefined, NOW)).toEqual(expected);
  });
});

describe('undeliverable message handler', () => {
  it('marks a stuck job dead on the version it read, forwards the message to the DLQ, then confirms the copy', async () => {
    const record = lastAttemptDied();
    dynamo.on(GetCommand).resolves({ Item: record });
    const { body, message } = undeliverable();
    await process(message);

    expect(dynamo).toHaveReceivedCommandWith(GetCommand, { Key: { id: 'crashy' }, ConsistentRead: true });
    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { id: 'crashy' },
      ConditionExpression:
        '#state = :running AND updatedAt = :seenUpdatedAt AND attempts = :seenAttempts AND attribute_not_exists(sweeps)',
      ExpressionAttributeValues: expect.objectContaining({
        ':dead': 'dead',
        ':pending': true,
        ':seenUpdatedAt': record.updatedAt,
        ':error': expect.objectContaining({ name: 'DeliveryLimitExceeded', message: expect.stringMatching(/received 5 times/) }),
      }),
    });
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
      QueueUrl: DLQ_URL,
      MessageBody: body,
      MessageAttributes: expect.objectContaining({
        'jobstack-error-name': { DataType: 'String', StringValue: 'DeliveryLimitExceeded' },
      }),
    });
    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { id: 'crashy' },
      UpdateExpression: 'REMOVE deadLetterPending',
    });
    expect(dead).toEqual([{ jobType: 'demo.sleep', queue: 'default', attempt: 0, reason: 'DeliveryLimitExceeded' }]);
  });

  it('creates the dead record only if there still is none', async () => {
    await process(undeliverable().message);
    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { id: 'crashy' },
      ConditionExpression: 'attribute_not_exists(id)',
    });
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: DLQ_URL });
  });

  it('never kills a job running under a live lease: asks for the message again when the lease ends', async () => {
    dynamo.on(GetCommand).resolves({ Item: job({ state: 'running', leaseUntil: NOW + 90_000 }) });
    const { message } = undeliverable();
    await expect(process(message)).rejects.toThrow(/live/);
    expect(dynamo).not.toHaveReceivedCommand(UpdateCommand);
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
    expect(sqs).toHaveReceivedCommandWith(ChangeMessageVisibilityCommand, {
      QueueUrl: UNDELIVERABLE_URL,
      ReceiptHandle: message.receiptHandle,
      // 90 s and 1 ms (the first ms a takeover could happen), rounded up to SQS's whole seconds.
      VisibilityTimeout: 91,
    });
  });

  it('drops a duplicate while the job waits out its backoff under its own message', async () => {
    dynamo.on(GetCommand).resolves({ Item: job({ state: 'retrying', nextAttemptAt: new Date(NOW + 60_000).toISOString() }) });
    await process(undeliverable().message);
    expect(dynamo).not.toHaveReceivedCommand(UpdateCommand);
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it('leaves a job with attempts left to the sweeper: this copy may be an old duplicate of a job alive under its own message', async () => {
    dynamo.on(GetCommand).resolves({ Item: job({ state: 'queued', attempts: 0 }) });
    await process(undeliverable().message);
    expect(dynamo).not.toHaveReceivedCommand(UpdateCommand);
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
    expect(dead).toEqual([]);
  });

  it('decides again on redelivery when the job moved after the read', async () => {
    dynamo.on(GetCommand).resolves({ Item: lastAttemptDied() });
    dynamo.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'claimed', $metadata: {} }));
    await expect(process(undeliverable().message)).rejects.toThrow(/moved/);
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
    expect(dead).toEqual([]);
  });

  it('leaves the job dead with deadLetterPending and throws when the DLQ copy fails, so the message comes back', async () => {
    dynamo.on(GetCommand).resolves({ Item: lastAttemptDied() });
    sqs.on(SendMessageCommand).rejects(new Error('SQS unavailable'));
    await expect(process(undeliverable().message)).rejects.toThrow(/SQS unavailable/);
    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
      ExpressionAttributeValues: expect.objectContaining({ ':pending': true }),
    });
    expect(dynamo).not.toHaveReceivedCommandWith(UpdateCommand, { UpdateExpression: 'REMOVE deadLetterPending' });
  });

  it('forwards and confirms the copy of a dead job whose copy is pending, without marking it again or counting it twice', async () => {
    const error = { name: 'DeliveryLimitExceeded', message: 'received 5 times', retryable: true };
    dynamo.on(GetCommand).resolves({ Item: job({ state: 'dead', deadLetterPending: true, error }) });
    const { body, message } = undeliverable();
    await process(message);
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: DLQ_URL, MessageBody: body });
    expect(dynamo).toHaveReceivedCommandTimes(UpdateCommand, 1);
    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, { UpdateExpression: 'REMOVE deadLetterPending' });
    expect(dead).toEqual([]);
  });

  it('drops the copy of a job that already finished', async () => {
    dynamo.on(GetCommand).resolves({ Item: job({ state: 'succeeded' }) });
    await process(undeliverable().message);
    expect(dynamo).not.toHaveReceivedCommand(UpdateCommand);
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it('forwards an unreadable message as it is', async () => {
    await process(sqsRecord('garbage'));
    expect(dynamo.calls()).toHaveLength(0);
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: DLQ_URL, MessageBody: 'garbage' });
  });
});
