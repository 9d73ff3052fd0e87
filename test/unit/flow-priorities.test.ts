import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { BatchWriteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InvalidFairnessKeyError } from '../../shared/flow/fairness.js';
import { InvalidPriorityError, orderedLevels, priorityLevelsProblem, splitConcurrency } from '../../shared/flow/priorities.js';
import { levelUrl, resendOf } from '../../shared/flow/routing.js';
import { configFromOutputs, createJobClient, defineJobContract, defineRegistry } from '../../shared/index.js';
import { mockedJobClient } from '../helpers/client-harness.js';

const REPORTS_LOW = 'https://sqs.us-east-1.amazonaws.com/1/reports-low';
const REPORTS_HIGH = 'https://sqs.us-east-1.amazonaws.com/1/reports-high';
const REPORTS_NORMAL = 'https://sqs.us-east-1.amazonaws.com/1/reports-normal';
const DEFAULT_URL = 'https://sqs.us-east-1.amazonaws.com/1/default';

const registry = defineRegistry(
  defineJobContract({ name: 'report.build', schema: z.object({ tenant: z.string() }), queue: 'reports' }),
  defineJobContract({
    name: 'report.urgent',
    schema: z.object({ tenant: z.string() }),
    queue: 'reports',
    priority: 'high',
  }),
  defineJobContract({
    name: 'mail.send',
    schema: z.object({ tenant: z.string().transform((tenant) => tenant.toLowerCase()) }),
    fairness: { key: (payload) => payload.tenant },
  }),
  defineJobContract({
    name: 'mail.bad-key',
    schema: z.object({ tenant: z.string() }),
    fairness: { key: (payload) => payload.tenant },
  }),
);

/** A stack whose 'reports' queue has levels high, normal, low (outputs as the construct writes them). */
const config = configFromOutputs('test', {
  JobsTableName: 'jobs',
  IdempotencyTableName: 'idem',
  QueueNames: 'default,reports',
  QueueUrlDefault: DEFAULT_URL,
  DeadLetterQueueUrlDefault: `${DEFAULT_URL}-dlq`,
  QueueUrlReports: REPORTS_LOW,
  DeadLetterQueueUrlReports: `${REPORTS_LOW}-dlq`,
  QueueLevelsReports: 'high,normal,low',
  QueueLevelUrlReportsLevelHigh: REPORTS_HIGH,
  QueueLevelUrlReportsLevelNormal: REPORTS_NORMAL,
  QueueLevelUrlReportsLevelLow: REPORTS_LOW,
});

function setup() {
  return mockedJobClient(registry, config);
}

describe('priority levels (construct setting)', () => {
  it('accepts 2..5 named levels with positive integer weights', () => {
    expect(priorityLevelsProblem({ high: 6, normal: 3, low: 1 })).toBeUndefined();
    expect(priorityLevelsProblem({ a: 1, b: 1 })).toBeUndefined();
  });

  it.each([
    [{ only: 1 }, /2\.\.5 levels \(given 1: 'only'\)/],
    [{ a: 1, b: 1, c: 1, d: 1, e: 1, f: 1 }, /2\.\.5 levels \(given 6/],
    [{ High: 2, low: 1 }, /level name must match .* \(given 'High'\)/],
    [{ high: 2.5, low: 1 }, /level 'high': weight must be a positive integer \(given 2\.5\)/],
    [{ high: 0, low: 1 }, /level 'high': weight must be a positive integer \(given 0\)/],
    [{ high: '3', low: 1 }, /weight must be a positive integer \(given "3"\)/],
    [['high', 'low'], /must be an object of level name → weight/],
  ])('fails for %j, quoting the value', (levels, message) => {
    expect(priorityLevelsProblem(levels)).toMatch(message);
  });

  it('orders levels by weight, highest first (ties keep the given order)', () => {
    expect(orderedLevels({ low: 1, high: 6, normal: 3 })).toEqual(['high', 'normal', 'low']);
    expect(orderedLevels({ a: 2, b: 2, c: 1 })).toEqual(['a', 'b', 'c']);
  });

  it('splits maxConcurrency by weight, at least 2 per level, summing to maxConcurrency', () => {
    expect(Object.fromEntries(splitConcurrency({ high: 6, normal: 3, low: 1 }, 10))).toEqual({ high: 5, normal: 3, low: 2 });
    expect(Object.fromEntries(splitConcurrency({ high: 6, normal: 3, low: 1 }, 100))).toEqual({
      high: 59,
      normal: 30,
      low: 11,
    });
    expect(Object.fromEntries(splitConcurrency({ high: 100, low: 1 }, 4))).toEqual({ high: 2, low: 2 });
    for (const max of [6, 7, 13, 50, 999, 1000]) {
      const shares = [...splitConcurrency({ high: 5, normal: 2, low: 1 }, max).values()];
      expect(shares.reduce((sum, share) => sum + share, 0)).toBe(max);
      expect(Math.min(...shares)).toBeGreaterThanOrEqual(2);
    }
  });

  it('fails to split a maxConcurrency below 2 per level', () => {
    expect(() => splitConcurrency({ high: 2, normal: 1, low: 1 }, 5)).toThrow(/too small for 3 priority levels .* at least 6/);
  });
});

describe('contract options', () => {
  it('fails for a priority that is not a level name, quoting it', () => {
    expect(() => defineJobContract({ name: 'x', schema: z.object({}), priority: 'Very High' })).toThrow(
      /job 'x': priority must be a level name .* \(given "Very High"\)/,
    );
  });

  it('fails for a fairness option without a key function', () => {
    expect(() =>
      defineJobContract({ name: 'x', schema: z.object({}), fairness: { key: 'tenant' } as unknown as { key: () => string } }),
    ).toThrow(/job 'x': fairness must be \{ key: \(payload\) => string \} \(given \{"key":"tenant"\}\)/);
  });

  it('fails for fairness with ordering on one job type (a FIFO queue groups by the ordering key)', () => {
    expect(() =>
      defineJobContract({
        name: 'x',
        schema: z.object({ tenant: z.string() }),
        ordering: { key: (payload) => payload.tenant },
        fairness: { key: (payload) => payload.tenant },
      }),
    ).toThrow(/job 'x': ordering cannot be combined with fairness \(given both\)/);
  });
});

describe('client routing by priority', () => {
  let harness: ReturnType<typeof setup>;
  beforeEach(() => {
    harness = setup();
  });

  it('reads the level URLs from the stack outputs, highest first', () => {
    expect(config.queues.reports?.levels).toEqual([
      { name: 'high', url: REPORTS_HIGH },
      { name: 'normal', url: REPORTS_NORMAL },
      { name: 'low', url: REPORTS_LOW },
    ]);
    expect(config.queues.default?.levels).toBeUndefined();
  });

  it('sends to the level enqueue names and records it', async () => {
    const { jobId } = await harness.jobs.enqueue('report.build', { tenant: 'a' }, { priority: 'normal' });
    expect(harness.sqs).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: REPORTS_NORMAL });
    expect(harness.dynamo).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ id: jobId, queue: 'reports', priority: 'normal' }),
    });
  });

  it("uses the contract's priority when enqueue names none, and enqueue's over it", async () => {
    await harness.jobs.enqueue('report.urgent', { tenant: 'a' });
    await harness.jobs.enqueue('report.urgent', { tenant: 'a' }, { priority: 'low' });
    const urls = harness.sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input.QueueUrl);
    expect(urls).toEqual([REPORTS_HIGH, REPORTS_LOW]);
  });

  it('sends a job with no priority to the lowest level', async () => {
    await harness.jobs.enqueue('report.build', { tenant: 'a' });
    expect(harness.sqs).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: REPORTS_LOW });
    expect(harness.dynamo).toHaveReceivedCommandWith(PutCommand, { Item: expect.objectContaining({ priority: 'low' }) });
  });

  it('fails for an unknown level, naming the queue and its levels, and sends and writes nothing', async () => {
    const attempt = harness.jobs.enqueue('report.build', { tenant: 'a' }, { priority: 'urgent' });
    await expect(attempt).rejects.toThrow(InvalidPriorityError);
    await expect(attempt).rejects.toThrow(
      /unknown priority "urgent" for job type 'report.build': queue 'reports' has levels 'high', 'normal', 'low'/,
    );
    const error = (await attempt.catch((caught: unknown) => caught)) as InvalidPriorityError;
    expect(error.queue).toBe('reports');
    expect(error.levels).toEqual(['high', 'normal', 'low']);
    expect(harness.sqs.calls()).toHaveLength(0);
    expect(harness.dynamo.calls()).toHaveLength(0);
  });

  it('fails for a priority on a queue without levels, and sends and writes nothing', async () => {
    await expect(harness.jobs.enqueue('mail.send', { tenant: 'A' }, { priority: 'high' })).rejects.toThrow(
      /priority "high" for job type 'mail.send': queue 'default' has no priority levels/,
    );
    expect(harness.sqs.calls()).toHaveLength(0);
    expect(harness.dynamo.calls()).toHaveLength(0);
  });

  it('enqueueMany sends each job to its level in one batch per level queue', async () => {
    const result = await harness.jobs.enqueueMany([
      { type: 'report.build', payload: { tenant: 'a' }, options: { priority: 'high' } },
      { type: 'report.build', payload: { tenant: 'b' } },
      { type: 'report.urgent', payload: { tenant: 'c' } },
    ]);
    expect(result.failed).toEqual([]);
    const batches = harness.sqs.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input);
    expect(batches.map((batch) => [batch.QueueUrl, batch.Entries?.length])).toEqual([
      [REPORTS_HIGH, 2],
      [REPORTS_LOW, 1],
    ]);
    const items = harness.dynamo.commandCalls(BatchWriteCommand)[0]?.args[0].input.RequestItems?.jobs ?? [];
    expect(items.map((request) => request.PutRequest?.Item?.priority)).toEqual(['high', 'low', 'high']);
  });

  it('enqueueMany with one unknown level enqueues nothing', async () => {
    await expect(
      harness.jobs.enqueueMany([
        { type: 'report.build', payload: { tenant: 'a' } },
        { type: 'report.build', payload: { tenant: 'b' }, options: { priority: 'nope' } },
      ]),
    ).rejects.toThrow(/request 1: unknown priority "nope"/);
    expect(harness.sqs.calls()).toHaveLength(0);
    expect(harness.dynamo.calls()).toHaveLength(0);
  });

  it('retry re-sends a dead job to its recorded level, in its group', async () => {
    const dead = {
      id: 'job-1',
      type: 'report.build',
      state: 'dead',
      queue: 'reports',
      attempts: 5,
      maxAttempts: 5,
      payload: { tenant: 'a' },
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
      priority: 'high',
      fairnessKey: 'tenant-a',
    };
    harness.dynamo.on(GetCommand).resolves({ Item: dead });
    harness.dynamo.on(UpdateCommand).resolves({ Attributes: { ...dead, state: 'queued' } });
    const result = await harness.jobs.retry('job-1');
    expect(result.outcome).toBe('requeued');
    expect(harness.sqs).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: REPORTS_HIGH, MessageGroupId: 'tenant-a' });
  });
});

describe('client fairness', () => {
  let harness: ReturnType<typeof setup>;
  beforeEach(() => {
    harness = setup();
  });

  it('sends MessageGroupId = key(payload as the schema outputs it) and records it', async () => {
    const { jobId } = await harness.jobs.enqueue('mail.send', { tenant: 'ACME' });
    expect(harness.sqs).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: DEFAULT_URL, MessageGroupId: 'acme' });
    expect(harness.dynamo).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ id: jobId, fairnessKey: 'acme' }),
    });
  });

  it('sends no MessageGroupId for a job type without fairness', async () => {
    await harness.jobs.enqueue('report.build', { tenant: 'a' });
    expect(harness.sqs.commandCalls(SendMessageCommand)[0]?.args[0].input.MessageGroupId).toBeUndefined();
  });

  it('enqueueMany sends each entry with its own group', async () => {
    await harness.jobs.enqueueMany([
      { type: 'mail.send', payload: { tenant: 'Noisy' } },
      { type: 'mail.send', payload: { tenant: 'quiet' } },
    ]);
    const entries = harness.sqs.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.Entries ?? [];
    expect(entries.map((entry) => entry.MessageGroupId)).toEqual(['noisy', 'quiet']);
  });

  it.each([
    ['', /\(given ""\)/],
    ['has space', /\(given "has space"\)/],
    ['x'.repeat(129), /\(given "x{129}"\)/],
  ])('fails for the key %j, naming the job type and the value, and sends and writes nothing', async (tenant, message) => {
    const attempt = harness.jobs.enqueue('mail.bad-key', { tenant });
    await expect(attempt).rejects.toThrow(InvalidFairnessKeyError);
    await expect(attempt).rejects.toThrow(/fairness key of job type 'mail.bad-key' must be 1\.\.128 printable ASCII/);
    await expect(attempt).rejects.toThrow(message);
    expect(harness.sqs.calls()).toHaveLength(0);
    expect(harness.dynamo.calls()).toHaveLength(0);
  });

  it('fails with the thrown error named when the key function throws', async () => {
    const throwing = defineRegistry(
      defineJobContract({
        name: 'mail.throws',
        schema: z.object({}),
        fairness: {
          key: () => {
            throw new TypeError('no tenant');
          },
        },
      }),
    );
    const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
    const sqs = new SQSClient({ region: 'us-east-1' });
    mockClient(documentClient).onAnyCommand().resolves({});
    mockClient(sqs).onAnyCommand().resolves({});
    const jobs = createJobClient({
      registry: throwing,
      config,
      clients: { documentClient, sqs, cloudFormation: new CloudFormationClient({ region: 'us-east-1' }) },
    });
    await expect(jobs.enqueue('mail.throws', {})).rejects.toThrow(/mail.throws.*TypeError: no tenant/);
  });
});

describe('re-send routing', () => {
  const queue = {
    url: REPORTS_LOW,
    levels: [
      { name: 'high', url: REPORTS_HIGH },
      { name: 'low', url: REPORTS_LOW },
    ],
  };

  it("goes to the record's level, and to the default queue for a level the queue no longer has", () => {
    expect(levelUrl(queue, 'high')).toBe(REPORTS_HIGH);
    expect(levelUrl(queue, undefined)).toBe(REPORTS_LOW);
    expect(levelUrl(queue, 'removed')).toBe(REPORTS_LOW);
    expect(levelUrl({ url: DEFAULT_URL }, 'high')).toBe(DEFAULT_URL);
  });

  it("carries the record's fairness key as the message group", () => {
    const record = { id: 'j', type: 't', payload: {}, createdAt: '2026-01-01T00:00:00.000Z', fairnessKey: 'acme' };
    expect(resendOf(record)).toMatchObject({ messageGroupId: 'acme', envelope: { id: 'j' } });
    expect(resendOf({ ...record, fairnessKey: undefined })).not.toHaveProperty('messageGroupId');
  });
});
