import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { registry as demoRegistry } from '../../functions/jobs/contracts.js';
import { sweep } from '../../functions/sweeper/sweep.js';
import { readWorkerEnvironment } from '../../functions/worker/environment.js';
import { PAUSED_HAND_BACK_DELAY_SECONDS } from '../../functions/worker/pause-gate.js';
import { RedeliveryRequestedError } from '../../functions/worker/process-record.js';
import {
  defineJob,
  defineRegistry,
  FunctionEnv,
  IdempotencyStore,
  JobMaintenance,
  JobQueue,
  JobStore,
  redriveDeadLetters,
} from '../../shared/index.js';
import { collectStats } from '../../shared/stats.js';
import { claimedRecord, DLQ_URL, envelopeBody, lambdaContext, QUEUE_URL, sqsRecord } from '../helpers/events.js';
import { workerHarness } from '../helpers/worker-harness.js';

// Every path that sends a job's message again goes to the job's priority level and keeps its message group.
const HIGH_URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/jobs-high';
const HIGH_ARN = 'arn:aws:sqs:us-east-1:000000000000:jobs-high';
const levels = [
  { name: 'high', url: HIGH_URL },
  { name: 'low', url: QUEUE_URL },
];

describe('redrive with priority levels and fairness', () => {
  const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  const sqsClient = new SQSClient({ region: 'us-east-1' });
  const dynamo = mockClient(documentClient);
  const sqs = mockClient(sqsClient);

  beforeEach(() => {
    dynamo.reset();
    sqs.reset();
    dynamo.onAnyCommand().resolves({});
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    sqs.on(DeleteMessageBatchCommand).resolves({});
  });

  it("sends each dead letter back to its job's level, in its job's group", async () => {
    const dead = (id: string, extra: object) => claimedRecord({ id, type: 'demo.fail', state: 'dead', attempts: 3, ...extra });
    const records: Record<string, ReturnType<typeof dead>> = {
      a: dead('a', { priority: 'high', fairnessKey: 'tenant-a' }),
      b: dead('b', { priority: 'low' }),
      c: dead('c', {}),
    };
    dynamo.on(GetCommand).callsFake((input: { Key: { id: string } }) => ({ Item: records[input.Key.id] }));
    dynamo.on(UpdateCommand).callsFake((input: { Key: { id: string } }) => ({
      Attributes: { ...records[input.Key.id], state: 'queued' },
    }));
    const letter = (id: string) => ({ MessageId: `m-${id}`, ReceiptHandle: `r-${id}`, Body: envelopeBody('demo.fail', {}, id) });
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [letter('a'), letter('b'), letter('c')] })
      .resolves({ Messages: [] });

    const result = await redriveDeadLetters(
      { sqs: sqsClient, store: new JobStore(documentClient, 'jobs'), registry: demoRegistry },
      { url: QUEUE_URL, deadLetterUrl: DLQ_URL, levels },
    );

    expect(result).toEqual({ moved: 3, discarded: 0, leftInPlace: 0 });
    const sends = sqs.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input);
    expect(sends.map((send) => [send.QueueUrl, send.Entries?.map((entry) => entry.MessageGroupId ?? null)])).toEqual([
      [HIGH_URL, ['tenant-a']],
      [QUEUE_URL, [null, null]],
    ]);
  });
});

describe('sweeper re-send with priority levels and fairness', () => {
  const NOW = Date.parse('2026-11-23T12:00:00Z');
  const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  const sqsClient = new SQSClient({ region: 'us-east-1' });
  const dynamo = mockClient(documentClient);
  const sqs = mockClient(sqsClient);
  const attributes = (visible: number) => ({
    Attributes: {
      ApproximateNumberOfMessages: String(visible),
      ApproximateNumberOfMessagesNotVisible: '0',
      ApproximateNumberOfMessagesDelayed: '0',
      MessageRetentionPeriod: '1209600',
    },
  });
  const deps = () => ({
    store: new JobMaintenance(documentClient, 'jobs', { clock: () => NOW }),
    cursors: new IdempotencyStore(documentClient, 'idem', { clock: () => NOW }),
    queues: new Map([
      [
        'default',
        {
          queue: new JobQueue(sqsClient, QUEUE_URL, DLQ_URL),
          undeliverable: new JobQueue(sqsClient, 'https://sqs/undeliverable'),
          levels: new Map(levels.map((level) => [level.name, new JobQueue(sqsClient, level.url, DLQ_URL)])),
        },
      ],
    ]),
    logger: new Logger({ logLevel: 'SILENT' }),
    thresholds: { queuedMs: 20 * 60_000, runningGraceMs: 600_000, retryingGraceMs: 300_000, scheduledGraceMs: 300_000 },
    clock: () => NOW,
  });
  const stuck = claimedRecord({
    id: 'stuck',
    type: 'demo.echo',
    payload: { message: 'x' },
    state: 'queued',
    attempts: 0,
    updatedAt: new Date(NOW - 30 * 60_000).toISOString(),
    priority: 'high',
    fairnessKey: 'tenant-a',
  });

  beforeEach(() => {
    dynamo.reset();
    sqs.reset();
    dynamo.onAnyCommand().resolves({});
    sqs.onAnyCommand().resolves({});
    sqs.on(GetQueueAttributesCommand).resolves(attributes(0));
    dynamo.on(ScanCommand).resolves({ Items: [stuck] });
  });

  it("re-sends a stuck job to its level's queue with its group", async () => {
    expect((await sweep(deps())).resent).toBe(1);
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: HIGH_URL, MessageGroupId: 'tenant-a' });
    expect(sqs).not.toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: QUEUE_URL });
  });

  it('counts a message waiting on any level as one that may still move the job', async () => {
    sqs.on(GetQueueAttributesCommand, { QueueUrl: HIGH_URL }).resolves(attributes(1));
    expect((await sweep(deps())).resent).toBe(0);
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });
});

describe('worker on a queue with priority levels', () => {
  const registry = defineRegistry(
    defineJob({
      name: 'test.boom',
      schema: z.object({}),
      retry: { maxAttempts: 3, baseDelay: '2s', maxDelay: '5s', jitter: 'none' },
      handler: async () => {
        throw new Error('downstream unavailable');
      },
    }),
  );

  it('delays the retry of a message on the level queue it came from', async () => {
    const { processRecord, sqs } = workerHarness(registry, { levelQueueUrls: { [HIGH_ARN]: HIGH_URL } });
    const message = sqsRecord(envelopeBody('test.boom', {}, 'job-h'), { eventSourceARN: HIGH_ARN });
    await expect(processRecord(message, lambdaContext())).rejects.toBeInstanceOf(RedeliveryRequestedError);
    expect(sqs).toHaveReceivedCommandWith(ChangeMessageVisibilityCommand, {
      QueueUrl: HIGH_URL,
      ReceiptHandle: message.receiptHandle,
      VisibilityTimeout: 2,
    });
  });

  // A delayed copy (a flow-limit wait, a pause hand-back) goes to the queue the message came from, in its group.
  const limited = defineRegistry(
    defineJob({
      name: 'test.limited',
      schema: z.object({ tenant: z.string() }),
      concurrency: { key: (payload) => payload.tenant, limit: 1 },
      handler: async () => undefined,
    }),
  );
  const groupedRecord = (body: string) => {
    const message = sqsRecord(body, { eventSourceARN: HIGH_ARN });
    return { ...message, attributes: { ...message.attributes, MessageGroupId: 'tenant-a' } };
  };

  it("sends a job waiting for its flow limit back to its level's queue, in its group", async () => {
    // GIVEN a high-level delivery in tenant-a's group whose key's only slot another job holds
    const { processRecord, sqs } = workerHarness(limited, {
      levelQueueUrls: { [HIGH_ARN]: HIGH_URL },
      get: (id) =>
        id === 'concurrency#test.limited#tenant-a'
          ? { id, holders: { 'other-job': Date.now() + 600_000 }, version: 3 }
          : undefined,
    });
    const message = groupedRecord(envelopeBody('test.limited', { tenant: 'tenant-a' }, 'job-w'));

    // WHEN it is processed THEN it waits: the original may be deleted
    await expect(processRecord(message, lambdaContext())).resolves.toBeUndefined();

    // AND its delayed copy went to the high level's queue with its group, not to the queue's default level
    expect(sqs).toHaveReceivedCommandTimes(SendMessageCommand, 1);
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
      QueueUrl: HIGH_URL,
      MessageBody: message.body,
      MessageGroupId: 'tenant-a',
    });
  });

  it("hands a delivery back while paused to its level's queue, in its group", async () => {
    const { processRecord, sqs } = workerHarness(limited, {
      levelQueueUrls: { [HIGH_ARN]: HIGH_URL },
      pause: { isPaused: async () => true },
    });
    const message = groupedRecord(envelopeBody('test.limited', { tenant: 'tenant-a' }, 'job-p'));
    await expect(processRecord(message, lambdaContext())).resolves.toBeUndefined();
    expect(sqs).toHaveReceivedCommandTimes(SendMessageCommand, 1);
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
      QueueUrl: HIGH_URL,
      MessageBody: message.body,
      DelaySeconds: PAUSED_HAND_BACK_DELAY_SECONDS,
      MessageGroupId: 'tenant-a',
    });
  });

  it('reads the level queues from JOBSTACK_LEVEL_QUEUES and refuses a malformed value, quoting it', () => {
    const base = {
      [FunctionEnv.jobsTable]: 'jobs',
      [FunctionEnv.idempotencyTable]: 'idem',
      [FunctionEnv.queueUrl]: QUEUE_URL,
      [FunctionEnv.deadLetterQueueUrl]: DLQ_URL,
      [FunctionEnv.queueName]: 'default',
    };
    expect(
      readWorkerEnvironment({ ...base, [FunctionEnv.levelQueues]: JSON.stringify({ [HIGH_ARN]: HIGH_URL }) }).levelQueues,
    ).toEqual({
      [HIGH_ARN]: HIGH_URL,
    });
    expect(() => readWorkerEnvironment({ ...base, [FunctionEnv.levelQueues]: '[1]' })).toThrow(
      /JOBSTACK_LEVEL_QUEUES must map queue ARNs to URLs \(given \[1\]\)/,
    );
    expect(() => readWorkerEnvironment({ ...base, [FunctionEnv.levelQueues]: '{' })).toThrow(/JOBSTACK_LEVEL_QUEUES is not JSON/);
  });
});

describe('stats with priority levels', () => {
  it('reads each level and sums them into the queue', async () => {
    const sqsClient = new SQSClient({ region: 'us-east-1' });
    const sqs = mockClient(sqsClient);
    const depth = (visible: number, inFlight: number) => ({
      Attributes: {
        ApproximateNumberOfMessages: String(visible),
        ApproximateNumberOfMessagesNotVisible: String(inFlight),
        ApproximateNumberOfMessagesDelayed: '0',
      },
    });
    sqs.on(GetQueueAttributesCommand, { QueueUrl: HIGH_URL }).resolves(depth(3, 1));
    sqs.on(GetQueueAttributesCommand, { QueueUrl: QUEUE_URL }).resolves(depth(40, 2));
    sqs.on(GetQueueAttributesCommand, { QueueUrl: DLQ_URL }).resolves(depth(0, 0));
    const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
    mockClient(documentClient).onAnyCommand().resolves({ Count: 0 });
    const stats = await collectStats(
      { sqs: sqsClient, documentClient },
      {
        stackName: 's',
        jobsTable: 'jobs',
        idempotencyTable: 'idem',
        queues: { default: { url: QUEUE_URL, deadLetterUrl: DLQ_URL, levels } },
      },
    );
    expect(stats.queues[0]).toEqual({
      name: 'default',
      visible: 43,
      inFlight: 3,
      delayed: 0,
      deadLetter: 0,
      levels: [
        { name: 'high', visible: 3, inFlight: 1, delayed: 0 },
        { name: 'low', visible: 40, inFlight: 2, delayed: 0 },
      ],
    });
  });
});
