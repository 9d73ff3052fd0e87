/**
 * What enqueue promises about job ids, idempotency keys and payloads (faults 3, 7,
 * 11 and 14 of issue 9). Mocked clients: these prove which requests are sent and
 * with which conditions; the conditions themselves are evaluated by the
 * real-DynamoDB layer.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { BatchWriteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  configFromOutputs,
  createJobClient,
  defineJob,
  defineRegistry,
  IdempotencyStore,
  InvalidArgumentError,
  InvalidDurationError,
  InvalidPayloadError,
  JobstackError,
  parseDuration,
  planDelay,
  UnknownJobTypeError,
} from '../../shared/index.js';
import { DLQ_URL, QUEUE_URL } from '../helpers/events.js';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const HOUR = 3_600_000;
const registry = defineRegistry(
  defineJob({ name: 'mail.send', schema: z.object({ to: z.string(), body: z.string().optional() }), handler: async () => null }),
  defineJob({ name: 'ledger.add', schema: z.object({ amount: z.number() }), handler: async () => null }),
);
const config = configFromOutputs('test', {
  JobsTableName: 'jobs',
  IdempotencyTableName: 'idem',
  PayloadBucketName: 'payloads-bucket',
  QueueNames: 'default',
  QueueUrlDefault: QUEUE_URL,
  QueueArnDefault: 'arn:aws:sqs:us-east-1:111111111111:default',
  DeadLetterQueueUrlDefault: DLQ_URL,
  ScheduleGroupName: 'jobstack',
  SchedulerRoleArn: 'arn:aws:iam::111111111111:role/scheduler',
  SchedulerDeadLetterQueueArn: 'arn:aws:sqs:us-east-1:111111111111:scheduler-dlq',
});

const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const sqsClient = new SQSClient({ region: 'us-east-1' });
const s3Client = new S3Client({ region: 'us-east-1' });
const schedulerClient = new SchedulerClient({ region: 'us-east-1' });
const dynamo = mockClient(documentClient);
const sqs = mockClient(sqsClient);
const s3 = mockClient(s3Client);
const scheduler = mockClient(schedulerClient);

function client(options: { inlinePayloadLimitBytes?: number } = {}) {
  return createJobClient({
    registry,
    config,
    clients: {
      documentClient,
      sqs: sqsClient,
      s3: s3Client,
      scheduler: schedulerClient,
      cloudFormation: new CloudFormationClient({ region: 'us-east-1' }),
    },
    ...options,
  });
}

const conditionFailed = (item?: Record<string, unknown>) =>
  new ConditionalCheckFailedException({ message: 'taken', $metadata: {}, ...(item ? { Item: marshall(item) } : {}) });

beforeEach(() => {
  dynamo.reset();
  dynamo.onAnyCommand().resolves({});
  sqs.reset();
  sqs.onAnyCommand().resolves({});
  s3.reset();
  s3.onAnyCommand().resolves({});
  scheduler.reset();
  scheduler.onAnyCommand().resolves({});
});

describe('the first payload wins (fault 7)', () => {
  it('a second enqueue with the same job id and a large payload never overwrites the first payload object', async () => {
    const jobs = client({ inlinePayloadLimitBytes: 100 });
    await jobs.enqueue('mail.send', { to: 'a', body: 'first'.repeat(50) }, { jobId: 'order-1' });
    dynamo.on(PutCommand, { TableName: 'jobs' }).rejects(conditionFailed());
    dynamo.on(GetCommand, { TableName: 'jobs' }).resolves({ Item: { id: 'order-1', state: 'queued' } });
    const second = await jobs.enqueue('mail.send', { to: 'a', body: 'second'.repeat(50) }, { jobId: 'order-1' });

    expect(second.created).toBe(false);
    const keys = s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input.Key);
    expect(keys).toHaveLength(2);
    expect(new Set(keys).size).toBe(2);
    expect(keys.every((key) => key?.startsWith('payloads/order-1/'))).toBe(true);
    expect(sqs).toHaveReceivedCommandTimes(SendMessageCommand, 1);
  });

  it('a second enqueue with the same idempotency key sends no message and keeps the first payload', async () => {
    const jobs = client();
    dynamo.on(PutCommand, { TableName: 'idem' }).rejects(conditionFailed({ jobId: 'job-first', expiresAt: NOW / 1_000 + 3_600 }));
    dynamo.on(PutCommand, { TableName: 'jobs' }).rejects(conditionFailed());
    dynamo.on(GetCommand, { TableName: 'jobs' }).resolves({ Item: { id: 'job-first', state: 'queued' } });
    const result = await jobs.enqueue('mail.send', { to: 'second' }, { idempotencyKey: 'k' });
    expect(result).toMatchObject({ jobId: 'job-first', created: false });
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it('enqueueMany refuses job ids and idempotency keys it cannot honour (its batch write has no condition)', async () => {
    const jobs = client();
    const requests = [{ type: 'mail.send', payload: { to: 'a' }, options: { jobId: 'order-1' } }] as never;
    await expect(jobs.enqueueMany(requests)).rejects.toBeInstanceOf(InvalidArgumentError);
    const keyed = [{ type: 'mail.send', payload: { to: 'a' }, options: { idempotencyKey: 'k' } }] as never;
    await expect(jobs.enqueueMany(keyed)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(dynamo).not.toHaveReceivedCommand(BatchWriteCommand);
  });
});

describe('job types named like Object methods (fault 11)', () => {
  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])('%s is an unknown job type', async (type) => {
    const jobs = client();
    await expect(jobs.enqueue(type as never, {} as never)).rejects.toBeInstanceOf(UnknownJobTypeError);
    await expect(jobs.enqueueMany([{ type, payload: {} }] as never)).rejects.toBeInstanceOf(UnknownJobTypeError);
    await expect(jobs.schedule('nightly', { rate: '1 day' }, type as never, {} as never)).rejects.toBeInstanceOf(
      UnknownJobTypeError,
    );
    expect(dynamo.calls()).toHaveLength(0);
  });
});

describe('absurd durations (fault 11)', () => {
  it('a delay of 99999999999d is refused with a typed error naming it, before anything is written', async () => {
    const jobs = client();
    const failure = await jobs.enqueue('mail.send', { to: 'a' }, { delay: '99999999999d' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(JobstackError);
    expect((failure as Error).message).toContain('99999999999d');
    expect(dynamo.calls()).toHaveLength(0);
  });

  it('a runAt past the last time a schedule can name is refused with InvalidArgumentError', () => {
    expect(() => planDelay({ runAt: new Date('+010000-01-01T00:00:00Z') }, NOW)).toThrow(InvalidArgumentError);
  });

  it('parseDuration returns a finite non-negative number or throws a JobstackError, for any string or number', () => {
    const inputs = fc.oneof(
      fc.string(),
      fc.double(),
      fc.integer(),
      fc
        .tuple(fc.stringMatching(/^\d{1,30}(\.\d{1,5})?$/), fc.constantFrom('ms', 's', 'm', 'h', 'd'))
        .map(([amount, unit]) => `${amount}${unit}`),
    );
    fc.assert(
      fc.property(inputs, (input) => {
        try {
          const ms = parseDuration(input);
          expect(Number.isFinite(ms) && ms >= 0).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(JobstackError);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('planDelay returns a plan or throws a JobstackError for any delay string or number', () => {
    const delays = fc.oneof(
      fc.double(),
      fc.stringMatching(/^\d{1,25}(ms|s|m|h|d)$/),
      fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    );
    fc.assert(
      fc.property(delays, (delay) => {
        try {
          const plan = planDelay({ delay: delay as never }, NOW);
          if (plan.route !== 'now') expect(Number.isFinite(plan.runAt.getTime())).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(JobstackError);
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it('a huge duration is an InvalidDurationError that carries the given value', () => {
    expect(() => parseDuration(1e300)).toThrow(InvalidDurationError);
    expect(() => parseDuration('99999999999999999999d')).toThrow(/99999999999999999999d/);
  });
});

describe('payloads that cannot round-trip through DynamoDB (fault 3)', () => {
  it('are refused at enqueue with InvalidPayloadError naming the paths, before anything is written', async () => {
    const jobs = client();
    const failure = await jobs.enqueue('ledger.add', { amount: 2 ** 60 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(InvalidPayloadError);
    expect((failure as InvalidPayloadError).issues.join(' ')).toMatch(/amount/);
    expect(dynamo.calls()).toHaveLength(0);
    await expect(jobs.enqueueMany([{ type: 'ledger.add', payload: { amount: 1e-200 } }])).rejects.toBeInstanceOf(
      InvalidPayloadError,
    );
    await expect(jobs.schedule('nightly', { rate: '1 day' }, 'ledger.add', { amount: 2 ** 60 })).rejects.toBeInstanceOf(
      InvalidPayloadError,
    );
    expect(dynamo.calls()).toHaveLength(0);
    expect(scheduler.calls()).toHaveLength(0);
  });
});

describe('declared schedules whose payload cannot round-trip (fault 3)', () => {
  it('fail when the job is defined, naming the schedule and the path', () => {
    expect(() =>
      defineJob({
        name: 'ledger.nightly',
        schema: z.object({ amount: z.number() }),
        schedule: { rate: '1 day', payload: { amount: 2 ** 60 } },
        handler: async () => null,
      }),
    ).toThrow(/schedule 1 \(ledger\.nightly\): payload cannot be stored exactly: amount/);
  });
});

describe('an idempotency key holds while its job is pending (fault 14)', () => {
  const store = new IdempotencyStore(documentClient, 'idem', { clock: () => NOW });
  const key = { id: 'enqueue#mail.send#k' };

  it('binds the key until the job runs plus the window, not from now', async () => {
    const runAt = NOW + 48 * HOUR;
    await store.bindEnqueueKey('mail.send', 'k', 'job-a', 24 * HOUR, { runAt, jobFinished: async () => true });
    expect(dynamo).toHaveReceivedCommandWith(PutCommand, {
      TableName: 'idem',
      Item: expect.objectContaining({ ...key, jobId: 'job-a', expiresAt: (runAt + 24 * HOUR) / 1_000 }),
      ConditionExpression: 'attribute_not_exists(id)',
    });
  });

  it('honours an expired binding whose job has not finished', async () => {
    dynamo.on(PutCommand).rejectsOnce(conditionFailed({ ...key, jobId: 'job-old', expiresAt: NOW / 1_000 - 60 }));
    const outcome = await store.bindEnqueueKey('mail.send', 'k', 'job-new', HOUR, { jobFinished: async () => false });
    expect(outcome).toEqual({ jobId: 'job-old', bound: false });
    expect(dynamo).toHaveReceivedCommandTimes(PutCommand, 1);
  });

  it('takes over an expired binding whose job finished, conditionally on the binding it read', async () => {
    dynamo.on(PutCommand).rejectsOnce(conditionFailed({ ...key, jobId: 'job-old', expiresAt: NOW / 1_000 - 60 }));
    const outcome = await store.bindEnqueueKey('mail.send', 'k', 'job-new', HOUR, { jobFinished: async () => true });
    expect(outcome).toEqual({ jobId: 'job-new', bound: true });
    const takeover = dynamo.commandCalls(PutCommand)[1]?.args[0].input;
    expect(takeover).toMatchObject({
      Item: expect.objectContaining({ jobId: 'job-new' }),
      ConditionExpression: 'jobId = :seenJobId AND expiresAt = :seenExpiresAt',
      ExpressionAttributeValues: { ':seenJobId': 'job-old', ':seenExpiresAt': NOW / 1_000 - 60 },
    });
  });

  it('honours a live binding without reading the job', async () => {
    dynamo.on(PutCommand).rejects(conditionFailed({ ...key, jobId: 'job-old', expiresAt: NOW / 1_000 + 60 }));
    let asked = false;
    const outcome = await store.bindEnqueueKey('mail.send', 'k', 'job-new', HOUR, {
      jobFinished: async () => {
        asked = true;
        return true;
      },
    });
    expect(outcome).toEqual({ jobId: 'job-old', bound: false });
    expect(asked).toBe(false);
  });

  it("the client keeps a delayed job's key beyond the default window: a second enqueue 25 h later gets the same job", async () => {
    const jobs = client();
    await jobs.enqueue('mail.send', { to: 'a' }, { idempotencyKey: 'k', delay: '48h' });
    const [bind] = dynamo.commandCalls(PutCommand, { TableName: 'idem' });
    const expiresAt = bind?.args[0].input.Item?.expiresAt as number;
    expect(expiresAt * 1_000).toBeGreaterThanOrEqual(Date.now() + 72 * HOUR - 60_000);
  });
});
