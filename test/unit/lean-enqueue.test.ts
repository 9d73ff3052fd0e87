import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  configFromOutputs,
  createJobClient,
  defineJobContract,
  defineRegistry,
  EnqueueError,
  InvalidArgumentError,
  isLeanJobId,
  LeanEnqueueRefusedError,
} from '../../shared/index.js';
import { mockedJobClient } from '../helpers/client-harness.js';
import { DLQ_URL, QUEUE_URL } from '../helpers/events.js';

const schema = z.object({ to: z.string() });
const registry = defineRegistry(
  defineJobContract({ name: 'mail.send', schema }),
  defineJobContract({ name: 'mail.fair', schema, fairness: { key: (payload) => payload.to } }),
  defineJobContract({ name: 'mail.limited', schema, concurrency: { limit: 2 } }),
  defineJobContract({ name: 'mail.rated', schema, rateLimit: { limit: 5, per: '1s' } }),
  defineJobContract({ name: 'mail.ordered', schema, ordering: { key: (payload) => payload.to } }),
  defineJobContract({ name: 'mail.levelled', schema, queue: 'reports' }),
);
const config = configFromOutputs('test', {
  JobsTableName: 'jobs',
  IdempotencyTableName: 'idem',
  QueueNames: 'default,reports',
  QueueUrlDefault: QUEUE_URL,
  DeadLetterQueueUrlDefault: DLQ_URL,
  QueueUrlReports: `${QUEUE_URL}-low`,
  DeadLetterQueueUrlReports: `${QUEUE_URL}-low-dlq`,
  QueueLevelsReports: 'high,low',
  QueueLevelUrlReportsLevelHigh: `${QUEUE_URL}-high`,
  QueueLevelUrlReportsLevelLow: `${QUEUE_URL}-low`,
});

describe('enqueueMany with { lean: true }', () => {
  let harness: ReturnType<typeof mockedJobClient<typeof registry>>;
  beforeEach(() => {
    harness = mockedJobClient(registry, config);
  });

  it('sends the messages (10 a request) and writes no record: the claim creates it', async () => {
    const requests = Array.from({ length: 12 }, (_, i) => ({ type: 'mail.send' as const, payload: { to: `u${i}` } }));
    const result = await harness.jobs.enqueueMany(requests, { lean: true });

    expect(result.failed).toEqual([]);
    expect(new Set(result.jobIds).size).toBe(12);
    expect(result.jobIds.every((id) => id !== undefined && isLeanJobId(id))).toBe(true);
    expect(harness.dynamo.calls()).toHaveLength(0);
    expect(harness.sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 2);
    const bodies = harness.sqs
      .commandCalls(SendMessageBatchCommand)
      .flatMap((call) => call.args[0].input.Entries ?? [])
      .map((entry) => JSON.parse(entry.MessageBody ?? '') as { id: string; payload: unknown });
    expect(bodies.map((body) => body.id)).toEqual(result.jobIds);
    expect(bodies[3]?.payload).toEqual({ to: 'u3' });
  });

  it('keeps a short delay (SQS DelaySeconds)', async () => {
    await harness.jobs.enqueueMany([{ type: 'mail.send', payload: { to: 'x' }, options: { delay: '30s' } }], { lean: true });
    expect(harness.sqs.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.Entries?.[0]?.DelaySeconds).toBe(30);
  });

  it('reports a message SQS refused in failed, with nothing to roll back', async () => {
    harness.sqs.on(SendMessageBatchCommand).resolves({
      Successful: [],
      Failed: [{ Id: '0', Code: 'InvalidMessageContents', SenderFault: true, Message: 'bad' }],
    });
    const result = await harness.jobs.enqueueMany([{ type: 'mail.send', payload: { to: 'x' } }], { lean: true });
    expect(result.failed).toEqual([{ index: 0, jobId: expect.stringMatching(/^lean:/), reason: 'InvalidMessageContents: bad' }]);
    expect(result.jobIds).toEqual([undefined]);
    expect(harness.dynamo.calls()).toHaveLength(0);
  });

  it('throws EnqueueError saying which jobs exist cannot be told when a send fails part-way', async () => {
    harness.sqs.on(SendMessageBatchCommand).rejects(new Error('throttled'));
    await expect(harness.jobs.enqueueMany([{ type: 'mail.send', payload: { to: 'x' } }], { lean: true })).rejects.toThrow(
      EnqueueError,
    );
  });

  it.each([
    ['mail.fair', 'fairness'],
    ['mail.limited', 'concurrency'],
    ['mail.rated', 'rateLimit'],
    ['mail.levelled', 'priority-levels'],
  ] as const)('refuses %s (%s) with LeanEnqueueRefusedError and sends nothing for any job', async (type, feature) => {
    const call = harness.jobs.enqueueMany(
      [
        { type: 'mail.send', payload: { to: 'ok' } },
        { type, payload: { to: 'x' } },
      ],
      { lean: true },
    );
    await expect(call).rejects.toBeInstanceOf(LeanEnqueueRefusedError);
    await expect(call).rejects.toMatchObject({ feature, jobType: type, message: expect.stringMatching(/^request 1: /) });
    expect(harness.sqs.calls()).toHaveLength(0);
    expect(harness.dynamo.calls()).toHaveLength(0);
  });

  it('refuses ordering (its FIFO group lives on the record)', async () => {
    const fifo = configFromOutputs('test', {
      JobsTableName: 'jobs',
      IdempotencyTableName: 'idem',
      QueueNames: 'default',
      QueueUrlDefault: `${QUEUE_URL}.fifo`,
      DeadLetterQueueUrlDefault: `${DLQ_URL}.fifo`,
    });
    const { jobs, sqs } = mockedJobClient(registry, fifo);
    await expect(jobs.enqueueMany([{ type: 'mail.ordered', payload: { to: 'x' } }], { lean: true })).rejects.toMatchObject({
      name: 'LeanEnqueueRefusedError',
      feature: 'ordering',
    });
    expect(sqs.calls()).toHaveLength(0);
  });

  it('refuses a delay beyond the scheduler threshold (a schedule a record tracks)', async () => {
    await expect(
      harness.jobs.enqueueMany([{ type: 'mail.send', payload: { to: 'x' }, options: { delay: '2h' } }], { lean: true }),
    ).rejects.toMatchObject({ name: 'LeanEnqueueRefusedError', feature: 'delay-over-threshold' });
    expect(harness.sqs.calls()).toHaveLength(0);
  });

  it('refuses a payload over the inline limit (it would go to S3) before anything is stored', async () => {
    const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
    const sqs = new SQSClient({ region: 'us-east-1' });
    const s3 = new S3Client({ region: 'us-east-1' });
    const dynamoMock = mockClient(documentClient);
    const sqsMock = mockClient(sqs);
    const s3Mock = mockClient(s3);
    dynamoMock.onAnyCommand().resolves({});
    sqsMock.onAnyCommand().resolves({});
    s3Mock.onAnyCommand().resolves({});
    const jobs = createJobClient({
      registry,
      config: { ...config, payloadBucket: 'payloads' },
      clients: { documentClient, sqs, s3, cloudFormation: new CloudFormationClient({ region: 'us-east-1' }) },
      inlinePayloadLimitBytes: 100,
    });
    await expect(
      jobs.enqueueMany([{ type: 'mail.send', payload: { to: 'x'.repeat(200) } }], { lean: true }),
    ).rejects.toMatchObject({
      name: 'LeanEnqueueRefusedError',
      feature: 'payload-offload',
    });
    expect([dynamoMock.calls(), sqsMock.calls(), s3Mock.calls()].map((calls) => calls.length)).toEqual([0, 0, 0]);
  });

  it('refuses a lean option that is not a boolean, and ids and keys as every enqueueMany does', async () => {
    await expect(
      harness.jobs.enqueueMany([{ type: 'mail.send', payload: { to: 'x' } }], { lean: 'yes' as never }),
    ).rejects.toThrow(/lean option is a boolean \(given "yes"\)/);
    await expect(
      harness.jobs.enqueueMany([{ type: 'mail.send', payload: { to: 'x' }, options: { jobId: 'a' } as never }], { lean: true }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(harness.sqs.calls()).toHaveLength(0);
  });

  it('keeps the default enqueueMany writing its records', async () => {
    const result = await harness.jobs.enqueueMany([{ type: 'mail.send', payload: { to: 'x' } }]);
    expect(isLeanJobId(result.jobIds[0] ?? '')).toBe(false);
    expect(harness.dynamo.calls()).toHaveLength(1);
  });
});

describe('lean job ids', () => {
  it('are reserved: enqueue refuses a jobId with the lean prefix', async () => {
    const { jobs, dynamo, sqs } = mockedJobClient(registry, config);
    await expect(jobs.enqueue('mail.send', { to: 'x' }, { jobId: 'lean:mine' })).rejects.toThrow(
      /ids starting with 'lean:' are reserved for lean jobs/,
    );
    expect(dynamo.calls()).toHaveLength(0);
    expect(sqs.calls()).toHaveLength(0);
  });

  it('cancel of a lean id may create its tombstone; of any other id it never creates a record', async () => {
    const { jobs, dynamo } = mockedJobClient(registry, config);
    dynamo.on(UpdateCommand).resolves({ Attributes: { id: 'x', state: 'cancelled' } });
    await jobs.cancel('lean:01JZ0000000000000000000000');
    await jobs.cancel('01JZ0000000000000000000000');
    const [lean, plain] = dynamo.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(lean?.ConditionExpression).toMatch(/^attribute_not_exists\(id\) OR #state IN/);
    expect(lean?.UpdateExpression).toMatch(/#type = if_not_exists\(#type, :unknown\)/);
    expect(plain?.ConditionExpression).not.toMatch(/attribute_not_exists/);
    expect(plain?.UpdateExpression).not.toMatch(/if_not_exists/);
  });
});
