import { Logger } from '@aws-lambda-powertools/logger';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { sweep } from '../../functions/sweeper/sweep.js';
import { processFifoBatch } from '../../functions/worker/fifo-batch.js';
import {
  ConfigurationError,
  configFromOutputs,
  createJobClient,
  defineJobContract,
  defineLongJobContract,
  defineRegistry,
  IdempotencyStore,
  implementJob,
  JobMaintenance,
  JobQueue,
  planQueues,
} from '../../shared/index.js';
import { InvalidOrderingKeyError } from '../../shared/ordering/errors.js';
import { orderingKeyOf } from '../../shared/ordering/ordering.js';
import { planSchedules } from '../../shared/scheduling/declared.js';
import { claimedRecord, envelopeBody, sqsRecord } from '../helpers/events.js';
import { workerHarness } from '../helpers/worker-harness.js';

const FIFO_URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/jobstack-Ordered.fifo';
const FIFO_DLQ_URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/jobstack-OrderedDlq.fifo';
const FIFO_ARN = 'arn:aws:sqs:us-east-1:000000000000:jobstack-Ordered.fifo';

const ledgerEntry = defineJobContract({
  name: 'ledger.apply',
  schema: z.object({ account: z.string(), amount: z.number() }),
  queue: 'ordered',
  ordering: { key: (payload) => `acct-${payload.account}` },
});
const audit = defineJobContract({ name: 'ledger.audit', schema: z.object({ account: z.string() }), queue: 'ordered' });
const registry = defineRegistry(ledgerEntry, audit);

const config = configFromOutputs('test', {
  JobsTableName: 'jobs',
  IdempotencyTableName: 'idem',
  QueueNames: 'ordered',
  QueueUrlOrdered: FIFO_URL,
  DeadLetterQueueUrlOrdered: FIFO_DLQ_URL,
  QueueArnOrdered: FIFO_ARN,
  ScheduleGroupName: 'jobstack',
  SchedulerRoleArn: 'arn:aws:iam::000000000000:role/scheduler',
  SchedulerDeadLetterQueueArn: 'arn:aws:sqs:us-east-1:000000000000:scheduler-dlq',
});

function setup(clientConfig = config) {
  const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  const sqs = new SQSClient({ region: 'us-east-1' });
  const scheduler = new SchedulerClient({ region: 'us-east-1' });
  const dynamo = mockClient(documentClient);
  const sqsMock = mockClient(sqs);
  const schedulerMock = mockClient(scheduler);
  dynamo.onAnyCommand().resolves({});
  sqsMock.onAnyCommand().resolves({});
  schedulerMock.onAnyCommand().resolves({});
  const jobs = createJobClient({
    registry,
    config: clientConfig,
    clients: { documentClient, sqs, scheduler, cloudFormation: new CloudFormationClient({ region: 'us-east-1' }) },
  });
  return { jobs, dynamo, sqs: sqsMock, scheduler: schedulerMock, sqsClient: sqs, documentClient };
}

describe('ordering option', () => {
  it('fails if ordering has no key function, quoting what was given', () => {
    expect(() => defineJobContract({ name: 'x', schema: z.object({}), ordering: { key: 'account' } as never })).toThrow(
      /job 'x': ordering must be \{ key: \(payload\) => string \} \(given key of type string\)/,
    );
  });

  it('fails if a long job asks for ordering: its steps run outside the FIFO group', () => {
    expect(() =>
      defineLongJobContract({
        name: 'long.ordered',
        schema: z.object({ k: z.string() }),
        ordering: { key: (p: { k: string }) => p.k },
      } as never),
    ).toThrow(/long job 'long.ordered': ordering cannot be kept for long jobs/);
  });

  it.each([
    ['an empty string', () => '', /ordering key "" is not a valid key/],
    ['a string over 128 characters', () => 'k'.repeat(129), /ordering key "k{129}" is not a valid key/],
    ['a string with a space', () => 'acct 1', /ordering key "acct 1" is not a valid key/],
    ['a number', () => 42 as never, /ordering key \(given number\) is not a valid key/],
    [
      'a throw',
      () => {
        throw new Error('no account');
      },
      /ordering key \(given undefined\) could not be computed: no account/,
    ],
  ])('refuses %s as a key with InvalidOrderingKeyError naming the job type', (_label, key, message) => {
    const act = () => orderingKeyOf('ledger.apply', { key }, {});
    expect(act).toThrow(InvalidOrderingKeyError);
    expect(act).toThrow(message);
    expect(act).toThrow(/job type 'ledger.apply'/);
  });

  it('makes the queue of an ordered job type FIFO in the plan', () => {
    expect(planQueues(registry)).toEqual([expect.objectContaining({ name: 'ordered', fifo: true })]);
  });

  it("plans a declared schedule of an ordered job type in its payload's group", () => {
    const scheduled = defineJobContract({
      name: 'ledger.close',
      schema: z.object({ account: z.string() }),
      queue: 'ordered',
      ordering: { key: (payload) => payload.account },
      schedule: { rate: '1 day', payload: { account: 'a-1' } },
    });
    expect(planSchedules(defineRegistry(scheduled))).toEqual([expect.objectContaining({ messageGroupId: 'a-1' })]);
  });
});

describe('client sends to a FIFO queue', () => {
  let harness: ReturnType<typeof setup>;
  beforeEach(() => {
    harness = setup();
  });

  it('enqueue: group = ordering key, deduplication id = job id, the key stored on the record', async () => {
    const { jobId } = await harness.jobs.enqueue('ledger.apply', { account: '7', amount: 5 });
    const sent = harness.sqs.commandCalls(SendMessageCommand)[0]?.args[0].input;
    expect(sent).toMatchObject({ QueueUrl: FIFO_URL, MessageGroupId: 'acct-7', MessageDeduplicationId: jobId });
    expect(sent?.DelaySeconds).toBeUndefined();
    expect(harness.dynamo).toHaveReceivedCommandWith(PutCommand, { Item: expect.objectContaining({ orderingKey: 'acct-7' }) });
  });

  it('enqueue of a job type without ordering on the FIFO queue: a group of its own (the job id), so it runs in parallel', async () => {
    const { jobId } = await harness.jobs.enqueue('ledger.audit', { account: '7' });
    expect(harness.sqs).toHaveReceivedCommandWith(SendMessageCommand, { MessageGroupId: jobId, MessageDeduplicationId: jobId });
  });

  it('refuses a bad key before writing anything', async () => {
    await expect(harness.jobs.enqueue('ledger.apply', { account: 'a b', amount: 1 })).rejects.toThrow(InvalidOrderingKeyError);
    expect(harness.dynamo).not.toHaveReceivedCommand(PutCommand);
    expect(harness.sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it('enqueueMany: every entry with its group and the job id as deduplication id', async () => {
    const { jobIds } = await harness.jobs.enqueueMany([
      { type: 'ledger.apply', payload: { account: '1', amount: 1 } },
      { type: 'ledger.apply', payload: { account: '2', amount: 1 } },
      { type: 'ledger.audit', payload: { account: '1' } },
    ]);
    const entries = harness.sqs.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.Entries ?? [];
    expect(entries.map((entry) => [entry.MessageGroupId, entry.MessageDeduplicationId])).toEqual([
      ['acct-1', jobIds[0]],
      ['acct-2', jobIds[1]],
      [jobIds[2], jobIds[2]],
    ]);
  });

  it('a delay of an ordered job goes through a one-time schedule in its group (FIFO queues take no DelaySeconds)', async () => {
    const { jobId, state } = await harness.jobs.enqueue('ledger.apply', { account: '7', amount: 5 }, { delay: '30s' });
    expect(state).toBe('scheduled');
    expect(harness.sqs).not.toHaveReceivedCommand(SendMessageCommand);
    expect(harness.scheduler).toHaveReceivedCommandWith(CreateScheduleCommand, {
      Target: expect.objectContaining({ Arn: FIFO_ARN, SqsParameters: { MessageGroupId: 'acct-7' } }),
    });
    const input = harness.scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input;
    expect(JSON.parse(input?.Target?.Input ?? '{}')).toMatchObject({ id: jobId });
  });

  it('a runtime recurring schedule of an ordered job type targets its payload group', async () => {
    await harness.jobs.schedule('nightly-7', { rate: '1 day' }, 'ledger.apply', { account: '7', amount: 0 });
    expect(harness.scheduler).toHaveReceivedCommandWith(CreateScheduleCommand, {
      Target: expect.objectContaining({ SqsParameters: { MessageGroupId: 'acct-7' } }),
    });
  });

  it("retry re-sends in the record's group with a fresh deduplication id every time", async () => {
    const dead = claimedRecord({ id: 'job-9', type: 'ledger.apply', queue: 'ordered', state: 'dead', orderingKey: 'acct-7' });
    harness.dynamo.on(GetCommand).resolves({ Item: dead });
    harness.dynamo.on(UpdateCommand).resolves({ Attributes: { ...dead, state: 'queued' } });
    await harness.jobs.retry('job-9');
    await harness.jobs.retry('job-9');
    const sends = harness.sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input);
    expect(sends.map((input) => input.MessageGroupId)).toEqual(['acct-7', 'acct-7']);
    const dedup = sends.map((input) => input.MessageDeduplicationId);
    expect(dedup[0]).not.toBe('job-9');
    expect(dedup[0]).not.toBe(dedup[1]);
  });

  it('fails with ConfigurationError when the deployed queue of an ordered job type is not FIFO', async () => {
    const standard = setup({
      ...config,
      queues: { ordered: { url: 'https://sqs/jobstack-Ordered', deadLetterUrl: 'https://sqs/dlq', arn: 'arn:q' } },
    });
    await expect(standard.jobs.enqueue('ledger.apply', { account: '7', amount: 1 })).rejects.toThrow(ConfigurationError);
    await expect(standard.jobs.enqueue('ledger.apply', { account: '7', amount: 1 })).rejects.toThrow(/is not a FIFO queue/);
  });
});

describe('other senders on FIFO queues', () => {
  it("sweeper re-send: the record's group and a fresh deduplication id", async () => {
    const { dynamo, sqs, sqsClient, documentClient } = setup();
    const now = Date.parse('2026-11-23T12:00:00Z');
    sqs.on(GetQueueAttributesCommand).resolves({
      Attributes: {
        ApproximateNumberOfMessages: '0',
        ApproximateNumberOfMessagesNotVisible: '0',
        ApproximateNumberOfMessagesDelayed: '0',
        MessageRetentionPeriod: '1209600',
      },
    });
    const stuck = claimedRecord({
      id: 'stuck',
      type: 'ledger.apply',
      queue: 'ordered',
      state: 'queued',
      attempts: 0,
      updatedAt: new Date(now - 30 * 60_000).toISOString(),
      orderingKey: 'acct-7',
    });
    dynamo.on(ScanCommand).resolves({ Items: [stuck] });
    const result = await sweep({
      store: new JobMaintenance(documentClient, 'jobs', { clock: () => now }),
      cursors: new IdempotencyStore(documentClient, 'idem', { clock: () => now }),
      queues: new Map([
        ['ordered', { queue: new JobQueue(sqsClient, FIFO_URL, FIFO_DLQ_URL), undeliverable: new JobQueue(sqsClient, FIFO_URL) }],
      ]),
      logger: new Logger({ logLevel: 'SILENT' }),
      thresholds: { queuedMs: 20 * 60_000, runningGraceMs: 600_000, retryingGraceMs: 300_000, scheduledGraceMs: 300_000 },
      clock: () => now,
    });
    expect(result.resent).toBe(1);
    const sent = sqs.commandCalls(SendMessageCommand)[0]?.args[0].input;
    expect(sent?.MessageGroupId).toBe('acct-7');
    expect(sent?.MessageDeduplicationId).toMatch(/^resend-/);
  });

  it('dead-letter copy to a FIFO dead-letter queue: the job id as group, a unique deduplication id', async () => {
    const sqsClient = new SQSClient({ region: 'us-east-1' });
    const sqs = mockClient(sqsClient);
    sqs.onAnyCommand().resolves({});
    const queue = new JobQueue(sqsClient, FIFO_URL, FIFO_DLQ_URL);
    await queue.sendToDeadLetter('{}', { jobId: 'job-1', errorName: 'Error', errorMessage: 'x' });
    await queue.sendToDeadLetter('{}', { jobId: 'job-1', errorName: 'Error', errorMessage: 'x' });
    await queue.sendToDeadLetter('not json', { errorName: 'InvalidEnvelopeError', errorMessage: 'x' });
    const sends = sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input);
    expect(sends.map((input) => input.MessageGroupId)).toEqual(['job-1', 'job-1', 'jobstack-unreadable']);
    expect(new Set(sends.map((input) => input.MessageDeduplicationId)).size).toBe(3);
  });

  it('sendMany on FIFO: never re-sends an entry after SQS took a later job of its group; retries the others', async () => {
    const sqsClient = new SQSClient({ region: 'us-east-1' });
    const sqs = mockClient(sqsClient);
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Successful: [{ Id: '1', MessageId: 'm1', MD5OfMessageBody: '' }],
        Failed: [
          { Id: '0', Code: 'ThrottlingException', SenderFault: false },
          { Id: '2', Code: 'ThrottlingException', SenderFault: false },
        ],
      })
      .resolves({ Successful: [], Failed: [] });
    const job = (id: string, orderingKey: string) => ({
      envelope: { v: 1 as const, id, type: 'ledger.apply', payload: {}, enqueuedAt: '2026-11-23T12:00:00Z' },
      orderingKey,
      deduplicationId: id,
    });
    const failed = await new JobQueue(sqsClient, FIFO_URL).sendMany([job('k0', 'k'), job('k1', 'k'), job('j0', 'j')]);
    // k0 would now run after k1: reported, not re-sent. j0's group has nothing later: re-sent, same deduplication id.
    expect(failed).toEqual([
      { id: 'k0', reason: expect.stringMatching(/not re-sent: SQS accepted a later job of its ordering key/) },
    ]);
    const retry = sqs.commandCalls(SendMessageBatchCommand)[1]?.args[0].input.Entries;
    expect(retry).toEqual([expect.objectContaining({ MessageGroupId: 'j', MessageDeduplicationId: 'j0' })]);
  });

  it('refuses a per-message delay on a FIFO queue', async () => {
    const queue = new JobQueue(new SQSClient({ region: 'us-east-1' }), FIFO_URL);
    await expect(
      queue.send({ envelope: { v: 1, id: 'j', type: 't', payload: {}, enqueuedAt: '2026-01-01T00:00:00Z' }, delaySeconds: 5 }),
    ).rejects.toThrow(/FIFO queue .* takes no per-message delay \(given 5 s\)/);
  });
});

describe('processFifoBatch', () => {
  const record = (id: string, group: string): SQSRecord =>
    ({ messageId: id, receiptHandle: `rh-${id}`, body: id, attributes: { MessageGroupId: group } }) as unknown as SQSRecord;

  it('runs groups concurrently, each group in order; a failure holds back and releases the rest of its group only', async () => {
    const events: string[] = [];
    let releasedHandles: readonly string[] = [];
    const gate: { open?: () => void } = {};
    const aStarted = new Promise<void>((resolve) => {
      gate.open = resolve;
    });
    const response = await processFifoBatch(
      [record('a1', 'A'), record('b1', 'B'), record('a2', 'A'), record('b2', 'B'), record('b3', 'B'), record('c1', 'C')],
      async (message) => {
        events.push(`start ${message.messageId}`);
        if (message.messageId === 'a1') {
          gate.open?.();
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        if (message.messageId === 'b1') await aStarted;
        if (message.messageId === 'b2') throw new Error('retry later');
        events.push(`end ${message.messageId}`);
      },
      {
        release: async (handles) => {
          releasedHandles = handles;
        },
        logger: { warn: () => undefined },
      },
    );
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(['b2', 'b3']);
    expect(releasedHandles).toEqual(['rh-b3']);
    expect(events).not.toContain('start b3');
    // Within a group, each job starts after the one before ended; groups overlap.
    expect(events.indexOf('start a2')).toBeGreaterThan(events.indexOf('end a1'));
    expect(events.indexOf('start b1')).toBeLessThan(events.indexOf('end a1'));
  });

  it('hands back the later jobs of a group when the invocation has less time left than a job may need', async () => {
    let remaining = 100_000;
    const started: string[] = [];
    let released: readonly string[] = [];
    const response = await processFifoBatch(
      [record('a1', 'A'), record('a2', 'A'), record('a3', 'A'), record('b1', 'B')],
      async (message) => {
        started.push(message.messageId);
        remaining -= 50_000;
      },
      {
        release: async (handles) => {
          released = handles;
        },
        logger: { warn: () => undefined },
        context: { getRemainingTimeInMillis: () => remaining } as never,
        startBudgetMs: 63_000,
      },
    );
    // a1 and b1 start (first of their groups); a2 would start with 0 s left of the 63 s a job may need.
    expect(started.sort()).toEqual(['a1', 'b1']);
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual(['a2', 'a3']);
    expect(released).toEqual(['rh-a2', 'rh-a3']);
  });

  it('answers the batch even when releasing the held-back messages fails', async () => {
    const warnings: string[] = [];
    const response = await processFifoBatch(
      [record('a1', 'A'), record('a2', 'A')],
      async () => {
        throw new Error('retry later');
      },
      {
        release: async () => {
          throw new Error('throttled');
        },
        logger: { warn: (message: string) => warnings.push(message) },
      },
    );
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'a1' }, { itemIdentifier: 'a2' }]);
    expect(warnings).toHaveLength(1);
  });
});

describe('JobQueue.release', () => {
  it('makes messages visible at once, 10 a request', async () => {
    const sqsClient = new SQSClient({ region: 'us-east-1' });
    const sqs = mockClient(sqsClient);
    sqs.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
    await new JobQueue(sqsClient, FIFO_URL).release(Array.from({ length: 12 }, (_, i) => `rh-${i}`));
    expect(sqs).toHaveReceivedCommandTimes(ChangeMessageVisibilityBatchCommand, 2);
    expect(sqs.commandCalls(ChangeMessageVisibilityBatchCommand)[0]?.args[0].input.Entries?.[0]).toEqual({
      Id: '0',
      ReceiptHandle: 'rh-0',
      VisibilityTimeout: 0,
    });
  });
});

describe('worker claim of an ordered job', () => {
  it('keeps the group the message arrived in as the ordering key (a recurring fire creates its record here)', async () => {
    const harness = workerHarness(defineRegistry(implementJob(ledgerEntry, async () => null)));
    const body = envelopeBody('ledger.apply', { account: '7', amount: 1 }, 'sched:close:2026-11-23T03:00:00Z');
    const base = sqsRecord(body);
    await harness.processRecord({ ...base, attributes: { ...base.attributes, MessageGroupId: 'acct-7' } });
    const claim = harness.dynamo
      .commandCalls(UpdateCommand)
      .map((call) => call.args[0].input)
      .find((input) => input.UpdateExpression?.includes('ADD attempts'));
    expect(claim?.UpdateExpression).toContain('orderingKey = if_not_exists(orderingKey, :orderingKey)');
    expect(claim?.ExpressionAttributeValues?.[':orderingKey']).toBe('acct-7');
  });

  it('claims a job of a type without ordering with no ordering key', async () => {
    const harness = workerHarness(defineRegistry(implementJob(audit, async () => null)));
    const base = sqsRecord(envelopeBody('ledger.audit', { account: '7' }, 'job-1'));
    await harness.processRecord({ ...base, attributes: { ...base.attributes, MessageGroupId: 'job-1' } });
    const claim = harness.dynamo
      .commandCalls(UpdateCommand)
      .map((call) => call.args[0].input)
      .find((input) => input.UpdateExpression?.includes('ADD attempts'));
    expect(claim?.UpdateExpression).not.toContain('orderingKey');
  });
});
