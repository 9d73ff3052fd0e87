import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { isStuck, type StaleThresholds, sweep } from '../../functions/sweeper/sweep.js';
import { IdempotencyStore, JobMaintenance, JobQueue, type JobRecord } from '../../shared/index.js';
import { claimedRecord, DLQ_URL, QUEUE_URL } from '../helpers/events.js';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const minutes = (n: number) => n * 60_000;
const ago = (ms: number) => new Date(NOW - ms).toISOString();
const thresholds: StaleThresholds = {
  queuedMs: minutes(20),
  runningGraceMs: minutes(10),
  retryingGraceMs: minutes(5),
  scheduledGraceMs: minutes(5),
};

function record(overrides: Partial<JobRecord>): JobRecord {
  return claimedRecord({ id: 'job-1', type: 'demo.echo', payload: { message: 'x' }, ...overrides });
}

describe('isStuck', () => {
  it.each([
    ['queued, untouched for 21 min', record({ state: 'queued', updatedAt: ago(minutes(21)) }), true],
    ['queued 5 min ago', record({ state: 'queued', updatedAt: ago(minutes(5)) }), false],
    ['running, lease expired 11 min ago', record({ state: 'running', leaseUntil: NOW - minutes(11) }), true],
    ['running, lease expired 2 min ago', record({ state: 'running', leaseUntil: NOW - minutes(2) }), false],
    ['retrying, 6 min past its attempt time', record({ state: 'retrying', nextAttemptAt: ago(minutes(6)) }), true],
    ['retrying, due in a minute', record({ state: 'retrying', nextAttemptAt: new Date(NOW + minutes(1)).toISOString() }), false],
    ['scheduled, 6 min past its run time', record({ state: 'scheduled', runAt: ago(minutes(6)) }), true],
    ['queued but re-sent 1 min ago', record({ state: 'queued', updatedAt: ago(minutes(60)), sweptAt: ago(minutes(1)) }), false],
    ['succeeded long ago', record({ state: 'succeeded', updatedAt: ago(minutes(600)) }), false],
  ])('%s → %s', (_label, job, expected) => {
    expect(isStuck(job, thresholds, NOW)).toBe(expected);
  });
});

describe('sweep', () => {
  const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  const sqsClient = new SQSClient({ region: 'us-east-1' });
  const dynamo = mockClient(documentClient);
  const sqs = mockClient(sqsClient);
  const deps = () => ({
    store: new JobMaintenance(documentClient, 'jobs', { clock: () => NOW }),
    cursors: new IdempotencyStore(documentClient, 'idem', { clock: () => NOW }),
    queues: new Map([['default', new JobQueue(sqsClient, QUEUE_URL, DLQ_URL)]]),
    logger: new Logger({ logLevel: 'SILENT' }),
    thresholds,
    clock: () => NOW,
  });

  beforeEach(() => {
    dynamo.reset();
    sqs.reset();
    dynamo.onAnyCommand().resolves({});
    sqs.onAnyCommand().resolves({});
  });

  it('re-sends the message of a stuck job and counts the sweep, leaving fresh jobs alone', async () => {
    const stuck = record({ id: 'stuck', state: 'queued', updatedAt: ago(minutes(30)) });
    const fresh = record({ id: 'fresh', state: 'queued', updatedAt: ago(minutes(1)) });
    dynamo.on(ScanCommand).resolves({ Items: [stuck, fresh] });

    expect(await sweep(deps())).toEqual({ scanned: 2, resent: 1, killed: 0, passComplete: true });
    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { id: 'stuck' },
      ConditionExpression:
        '#state = :queued AND updatedAt = :seenUpdatedAt AND attempts = :seenAttempts AND attribute_not_exists(sweeps)',
    });
    expect(sqs).toHaveReceivedCommandTimes(SendMessageCommand, 1);
    const body = JSON.parse(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input.MessageBody ?? '{}');
    expect(body).toMatchObject({ v: 1, id: 'stuck', type: 'demo.echo', payload: { message: 'x' } });
    // A full pass resets the cursor.
    expect(dynamo).toHaveReceivedCommandWith(DeleteCommand, { Key: { id: 'cursor#sweeper' } });
  });

  it('does not re-send when the job moved since it was read', async () => {
    dynamo.on(ScanCommand).resolves({ Items: [record({ state: 'queued', updatedAt: ago(minutes(30)) })] });
    const { ConditionalCheckFailedException } = await import('@aws-sdk/client-dynamodb');
    dynamo.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'moved', $metadata: {} }));
    expect((await sweep(deps())).resent).toBe(0);
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it('marks dead and dead-letters a job still stuck after three re-sends', async () => {
    dynamo
      .on(ScanCommand)
      .resolves({ Items: [record({ state: 'queued', updatedAt: ago(minutes(90)), sweeps: 3, sweptAt: ago(minutes(25)) })] });
    expect((await sweep(deps())).killed).toBe(1);
    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
      ExpressionAttributeValues: expect.objectContaining({
        ':dead': 'dead',
        ':error': expect.objectContaining({ name: 'StuckJobError' }),
      }),
    });
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: DLQ_URL });
  });

  it('resumes from the saved cursor and saves where it stopped when the budget runs out', async () => {
    dynamo.on(GetCommand).resolves({ Item: { id: 'cursor#sweeper', cursor: { id: 'job-500' } } });
    dynamo.on(ScanCommand).resolves({ Items: [], LastEvaluatedKey: { id: 'job-900' } });
    const result = await sweep({ ...deps(), maxRecordsPerRun: 1 });
    expect(result.passComplete).toBe(false);
    expect(dynamo).toHaveReceivedCommandWith(ScanCommand, { ExclusiveStartKey: { id: 'job-500' } });
    expect(dynamo).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ id: 'cursor#sweeper', cursor: { id: 'job-900' } }),
    });
  });
});
