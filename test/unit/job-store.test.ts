import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { type ClaimRequest, IllegalTransitionError, type JobRecord, JobStore } from '../../shared/index.js';
import { claimedRecord } from '../helpers/events.js';

// Mocked document client: these tests prove which expressions the store sends (wiring), not that
// DynamoDB evaluates them as intended; the real-DynamoDB layer proves that.
const NOW = Date.parse('2026-11-23T12:00:00Z');
const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const dynamo = mockClient(documentClient);
const store = new JobStore(documentClient, 'jobs', { clock: () => NOW });

const request: ClaimRequest = {
  id: 'job-1',
  type: 'demo.echo',
  queue: 'default',
  maxAttempts: 3,
  payload: { message: 'x' },
  correlationId: 'job-1',
  enqueuedAt: new Date(NOW - 1_000).toISOString(),
  leaseUntil: NOW + 60_000,
};

function conditionFailed(item: JobRecord): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    Item: marshall(item, { removeUndefinedValues: true }),
  });
}

function lastUpdate() {
  const input = dynamo.commandCalls(UpdateCommand).at(-1)?.args[0].input;
  if (!input) throw new Error('no UpdateCommand was sent');
  return input;
}

beforeEach(() => {
  dynamo.reset();
  dynamo.onAnyCommand().resolves({});
});

describe('claim', () => {
  it('takes a retrying job only once its backoff has passed (fault 12)', async () => {
    dynamo.on(UpdateCommand).resolves({ Attributes: claimedRecord({ id: 'job-1', type: 'demo.echo' }) });
    await store.claim(request);
    const input = lastUpdate();
    expect(input.ConditionExpression).toContain('(#state = :retrying AND nextAttemptAt <= :now)');
    expect(input.ExpressionAttributeValues).toMatchObject({ ':retrying': 'retrying', ':now': new Date(NOW).toISOString() });
    // A plain source list must not let `retrying` in without its time condition.
    expect(input.ConditionExpression).not.toMatch(/IN \([^)]*:retrying/);
  });

  it('answers busy until nextAttemptAt when a duplicate message arrives during the backoff (fault 12)', async () => {
    const nextAttemptAt = new Date(NOW + 30_000).toISOString();
    const current = claimedRecord({ id: 'job-1', type: 'demo.echo', state: 'retrying', nextAttemptAt });
    delete (current as { leaseUntil?: number }).leaseUntil;
    dynamo.on(UpdateCommand).rejects(conditionFailed(current));
    expect(await store.claim(request)).toEqual({ outcome: 'busy', record: current, retryAt: NOW + 30_000 });
  });

  it('starts the sweeper count afresh: a claimed job has no re-sends against it (fault 9)', async () => {
    dynamo.on(UpdateCommand).resolves({ Attributes: claimedRecord({ id: 'job-1', type: 'demo.echo' }) });
    await store.claim(request);
    expect(lastUpdate().UpdateExpression).toMatch(/REMOVE [^=]*\bsweeps\b/);
    expect(lastUpdate().UpdateExpression).toMatch(/REMOVE [^=]*\bsweptAt\b/);
  });
});

describe('requeueDead', () => {
  it('starts the sweeper count afresh for the new attempt series (fault 9)', async () => {
    const dead = claimedRecord({
      id: 'job-1',
      type: 'demo.echo',
      state: 'dead',
      sweeps: 3,
      sweptAt: new Date(NOW).toISOString(),
    });
    dynamo.on(GetCommand).resolves({ Item: dead });
    dynamo.on(UpdateCommand).resolves({ Attributes: { ...dead, state: 'queued' } });
    await store.requeueDead('job-1', { extraAttempts: 3, reason: 'retry' });
    expect(lastUpdate().UpdateExpression).toMatch(/REMOVE [^=]*\bsweeps\b/);
    expect(lastUpdate().UpdateExpression).toMatch(/REMOVE [^=]*\bsweptAt\b/);
  });
});

describe('markDeadIfUnchanged', () => {
  const error = { name: 'StuckJobError', message: 'stuck', retryable: true };

  it('kills only the version it read, leaving deadLetterPending', async () => {
    const seen = claimedRecord({ id: 'job-1', type: 'demo.echo', state: 'retrying', attempts: 2, sweeps: 3 });
    expect(await store.markDeadIfUnchanged(seen, 'job-1', error, { deadLetterPending: true })).toBe(true);
    expect(lastUpdate()).toMatchObject({
      ConditionExpression:
        '#state = :retrying AND updatedAt = :seenUpdatedAt AND attempts = :seenAttempts AND sweeps = :seenSweeps',
      ExpressionAttributeValues: expect.objectContaining({
        ':dead': 'dead',
        ':pending': true,
        ':seenAttempts': 2,
        ':seenSweeps': 3,
      }),
    });
  });

  it('creates the dead record only while there still is none', async () => {
    await store.markDeadIfUnchanged(undefined, 'job-1', error, { type: 'demo.echo', queue: 'default' });
    expect(lastUpdate()).toMatchObject({
      ConditionExpression: 'attribute_not_exists(id)',
      ExpressionAttributeValues: expect.objectContaining({ ':type': 'demo.echo', ':queue': 'default' }),
    });
  });

  it('reports false when the job moved, and refuses a version that cannot become dead', async () => {
    dynamo.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'moved', $metadata: {} }));
    expect(await store.markDeadIfUnchanged(claimedRecord({ id: 'job-1', type: 'demo.echo' }), 'job-1', error)).toBe(false);
    await expect(
      store.markDeadIfUnchanged(claimedRecord({ id: 'job-1', type: 'demo.echo', state: 'succeeded' }), 'job-1', error),
    ).rejects.toThrow(IllegalTransitionError);
  });
});
