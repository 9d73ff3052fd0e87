import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { formatStats } from '../../cli/commands/stats.js';
import { ATTENTION_SHARDS, configFromOutputs } from '../../shared/index.js';
import { collectStats, computeStats, INDEXED_STATES, StatsError } from '../../shared/stats.js';

const config = configFromOutputs('test', {
  JobsTableName: 'jobs',
  IdempotencyTableName: 'idem',
  QueueNames: 'default,reports',
  QueueUrlDefault: 'https://sqs/q-default',
  DeadLetterQueueUrlDefault: 'https://sqs/dlq-default',
  QueueUrlReports: 'https://sqs/q-reports',
  DeadLetterQueueUrlReports: 'https://sqs/dlq-reports',
});

const AT = new Date('2026-01-02T03:04:05.000Z');

function setup() {
  const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  const sqs = new SQSClient({ region: 'us-east-1' });
  return { documentClient, sqs, dynamo: mockClient(documentClient), sqsMock: mockClient(sqs) };
}

describe('computeStats', () => {
  it('derives queued from waiting messages and running from in-flight ones less those waiting to retry', () => {
    const stats = computeStats({
      stackName: 's',
      at: AT,
      queues: [
        { name: 'a', visible: 4, inFlight: 5, delayed: 2, deadLetter: 1 },
        { name: 'b', visible: 1, inFlight: 3, delayed: 0, deadLetter: 0 },
      ],
      indexed: { scheduled: 7, retrying: 6, waiting: 3, dead: 2, cancelled: 1 },
    });
    expect(stats.states).toEqual({
      scheduled: 7,
      queued: 7,
      running: 2,
      retrying: 6,
      waiting: 3,
      succeeded: null,
      dead: 2,
      cancelled: 1,
    });
    expect(stats.approximate).toEqual(['queued', 'running']);
    expect(stats.at).toBe('2026-01-02T03:04:05.000Z');
  });

  it('never reports negative running jobs when retries outnumber in-flight messages read a moment earlier', () => {
    const stats = computeStats({
      stackName: 's',
      at: AT,
      queues: [{ name: 'a', visible: 0, inFlight: 1, delayed: 0, deadLetter: 0 }],
      indexed: { scheduled: 0, retrying: 3, waiting: 0, dead: 0, cancelled: 0 },
    });
    expect(stats.states.running).toBe(0);
  });
});

describe('collectStats', () => {
  it('reads every queue and dead-letter queue and counts indexed states with Select COUNT, following pages', async () => {
    // GIVEN queue attributes per URL and an index whose 'dead' count spans two pages
    const { documentClient, sqs, dynamo, sqsMock } = setup();
    const attributes: Record<string, Record<string, string>> = {
      'https://sqs/q-default': {
        ApproximateNumberOfMessages: '3',
        ApproximateNumberOfMessagesNotVisible: '2',
        ApproximateNumberOfMessagesDelayed: '1',
      },
      'https://sqs/dlq-default': { ApproximateNumberOfMessages: '4', ApproximateNumberOfMessagesNotVisible: '1' },
      'https://sqs/q-reports': { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '1' },
      'https://sqs/dlq-reports': {},
    };
    sqsMock
      .on(GetQueueAttributesCommand)
      .callsFake((input: { QueueUrl: string }) => ({ Attributes: attributes[input.QueueUrl] }));
    dynamo
      .on(QueryCommand)
      .callsFake((input: { ExpressionAttributeValues: { ':state': string }; ExclusiveStartKey?: unknown }) => {
        // Each state is spread over ATTENTION_SHARDS index keys `<state>#<shard>`; these counts sit in shard 0.
        const [state, shard] = input.ExpressionAttributeValues[':state'].split('#');
        if (shard !== '0') return { Count: 0 };
        if (state === 'dead' && input.ExclusiveStartKey === undefined) return { Count: 1000, LastEvaluatedKey: { id: 'x' } };
        return { Count: { scheduled: 2, retrying: 1, dead: 5, cancelled: 0 }[state ?? ''] ?? 0 };
      });

    // WHEN
    const stats = await collectStats({ documentClient, sqs }, config, () => AT);

    // THEN
    expect(stats.queues).toEqual([
      { name: 'default', visible: 3, inFlight: 2, delayed: 1, deadLetter: 5 },
      { name: 'reports', visible: 0, inFlight: 1, delayed: 0, deadLetter: 0 },
    ]);
    expect(stats.states).toMatchObject({ scheduled: 2, retrying: 1, dead: 1005, cancelled: 0, queued: 4, running: 2 });
    expect(sqsMock).toHaveReceivedCommandTimes(GetQueueAttributesCommand, 4);
    expect(dynamo).toHaveReceivedCommandWith(QueryCommand, {
      TableName: 'jobs',
      IndexName: 'byAttentionState',
      KeyConditionExpression: 'attentionState = :state',
      ExpressionAttributeValues: { ':state': 'dead#0' },
      Select: 'COUNT',
      ExclusiveStartKey: { id: 'x' },
    });
    // One query per shard of each indexed state plus the second 'dead' page; never a scan.
    expect(dynamo).toHaveReceivedCommandTimes(QueryCommand, INDEXED_STATES.length * ATTENTION_SHARDS + 1);
    expect(dynamo.commandCalls(QueryCommand).every((call) => call.args[0].input.Select === 'COUNT')).toBe(true);
  });

  it('fails with a StatsError naming the queue whose attributes could not be read', async () => {
    const { documentClient, sqs, dynamo, sqsMock } = setup();
    dynamo.on(QueryCommand).resolves({ Count: 0 });
    sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: {} });
    sqsMock.on(GetQueueAttributesCommand, { QueueUrl: 'https://sqs/dlq-reports' }).rejects(new Error('AccessDenied'));
    const failure = collectStats({ documentClient, sqs }, config);
    await expect(failure).rejects.toBeInstanceOf(StatsError);
    await expect(failure).rejects.toThrow(/dead-letter queue of queue 'reports' \(https:\/\/sqs\/dlq-reports\): AccessDenied/);
  });

  it('fails with a StatsError naming the state whose count failed', async () => {
    const { documentClient, sqs, dynamo, sqsMock } = setup();
    sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: {} });
    dynamo.on(QueryCommand).resolves({ Count: 0 });
    dynamo.on(QueryCommand, { ExpressionAttributeValues: { ':state': 'retrying#1' } }).rejects(new Error('throttled'));
    await expect(collectStats({ documentClient, sqs }, config)).rejects.toThrow(
      /cannot count 'retrying' jobs in table jobs: throttled/,
    );
  });
});

describe('formatStats', () => {
  it('prints queues and states, marking approximate counts with ~ and the uncounted state with -', () => {
    const text = formatStats(
      computeStats({
        stackName: 'jobstack',
        at: AT,
        queues: [{ name: 'default', visible: 3, inFlight: 1, delayed: 2, deadLetter: 4 }],
        indexed: { scheduled: 1, retrying: 0, waiting: 0, dead: 4, cancelled: 2 },
      }),
    );
    expect(text).toContain('stack jobstack at 2026-01-02T03:04:05.000Z');
    expect(text).toMatch(/^default\s+active\s+3\s+1\s+2\s+4$/m);
    expect(text).toMatch(/^queued\s+~5$/m);
    expect(text).toMatch(/^running\s+~1$/m);
    expect(text).toMatch(/^dead\s+4$/m);
    expect(text).toMatch(/^succeeded\s+- \(not counted/m);
  });
});
