import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateScheduleCommand, DeleteScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  configFromOutputs,
  createJobClient,
  defineJob,
  defineJobContract,
  defineRegistry,
  FlowCancelReason,
  InvalidArgumentError,
  InvalidFlowKeyError,
  InvalidFlowOptionError,
  isSupersededBy,
  keyedFlowFor,
  keyedFlowKeyOf,
} from '../../shared/index.js';
import { oneTimeScheduleName } from '../../shared/scheduling/names.js';
import { mockedJobClient } from '../helpers/client-harness.js';
import { DLQ_URL, envelopeBody, QUEUE_URL, sqsRecord } from '../helpers/events.js';
import { workerHarness } from '../helpers/worker-harness.js';

const schema = z.object({ user: z.string(), n: z.number().optional() });

function contract(options: Record<string, unknown>) {
  return defineJobContract({ name: 'flow.job', schema, ...options } as Parameters<typeof defineJobContract>[0]);
}

describe('debounce and throttle options', () => {
  it('resolves a valid option to its key function and period in milliseconds', () => {
    const debounced = contract({ debounce: { key: (p: { user: string }) => p.user, period: '30s' } });
    expect(debounced.debounce?.periodMs).toBe(30_000);
    expect(debounced.debounce?.key({ user: 'u1' })).toBe('u1');
    expect(debounced.throttle).toBeUndefined();
    expect(contract({ throttle: { key: () => 'k', period: '24h' } }).throttle?.periodMs).toBe(86_400_000);
    expect(contract({ throttle: { key: () => 'k', period: 1_000 } }).throttle?.periodMs).toBe(1_000);
  });

  it('leaves a contract without either option unchanged', () => {
    const plain = contract({});
    expect('debounce' in plain).toBe(false);
    expect('throttle' in plain).toBe(false);
  });

  it.each([
    ['500ms', /flow\.job.*debounce\.period must be 1s\.\.24h \(given "500ms"\)/],
    ['25h', /debounce\.period must be 1s\.\.24h \(given "25h"\)/],
    [999, /debounce\.period must be 1s\.\.24h \(given 999\)/],
    ['soon', /debounce\.period is not a duration \(given "soon"\)/],
    [-5, /debounce\.period is not a duration \(given -5\)/],
  ])('fails if the period is %j', (period, message) => {
    expect(() => contract({ debounce: { key: () => 'k', period } })).toThrow(InvalidFlowOptionError);
    expect(() => contract({ debounce: { key: () => 'k', period } })).toThrow(message);
  });

  it('fails if the key is not a function, quoting what was given', () => {
    expect(() => contract({ throttle: { key: 'user', period: '1s' } })).toThrow(
      /job 'flow\.job': throttle\.key must be a function of the payload \(given "user"\)/,
    );
  });

  it('fails if the option is not an object', () => {
    expect(() => contract({ throttle: '1s' })).toThrow(/throttle must be \{ key, period \} \(given "1s"\)/);
  });

  it('fails if both debounce and throttle are given', () => {
    expect(() => contract({ debounce: { key: () => 'k', period: '1s' }, throttle: { key: () => 'k', period: '1s' } })).toThrow(
      /job 'flow\.job': give debounce or throttle, not both/,
    );
  });
});

describe('flow keys', () => {
  const flow = { key: (p: { user: unknown }) => p.user as string, periodMs: 1_000 };

  it('returns the key of a payload', () => {
    expect(keyedFlowKeyOf('flow.job', 'debounce', flow, { user: 'u-1' })).toBe('u-1');
  });

  it.each([
    [{ user: 42 }, /job type 'flow\.job': the debounce key must be a string \(given 42\)/],
    [{ user: '' }, /the debounce key must be 1\.\.128 characters \(given "", 0 characters\)/],
    [{ user: 'x'.repeat(129) }, /must be 1\.\.128 characters \(given "x{60}…", 129 characters\)/],
  ])('fails with InvalidFlowKeyError for %j', (payload, message) => {
    expect(() => keyedFlowKeyOf('flow.job', 'debounce', flow, payload)).toThrow(InvalidFlowKeyError);
    expect(() => keyedFlowKeyOf('flow.job', 'debounce', flow, payload)).toThrow(message);
  });

  it('fails with InvalidFlowKeyError naming the job type when the key function throws', () => {
    const throwing = {
      key: () => {
        throw new Error('no tenant');
      },
      periodMs: 1_000,
    };
    const attempt = () => keyedFlowKeyOf('flow.job', 'throttle', throwing, {});
    expect(attempt).toThrow(/job type 'flow\.job': the throttle key function threw: no tenant/);
    try {
      attempt();
    } catch (error) {
      expect((error as InvalidFlowKeyError).jobType).toBe('flow.job');
    }
  });

  it('refuses delay and runAt on a debounced type, quoting them', () => {
    const debounced = contract({ debounce: { key: (p: { user: string }) => p.user, period: '2s' } });
    expect(() => keyedFlowFor(debounced, { user: 'u' }, { delay: '5s' })).toThrow(InvalidArgumentError);
    expect(() => keyedFlowFor(debounced, { user: 'u' }, { delay: '5s' })).toThrow(
      /job type 'flow\.job' is debounced: .* so delay cannot be given \(given delay "5s"\)/,
    );
    expect(() => keyedFlowFor(debounced, { user: 'u' }, { runAt: new Date('2030-01-01T00:00:00Z') })).toThrow(
      /runAt cannot be given \(given runAt "2030-01-01T00:00:00.000Z"\)/,
    );
    expect(keyedFlowFor(debounced, { user: 'u' }, {})).toEqual({ mode: 'debounce', key: 'u', periodMs: 2_000 });
  });

  it('orders debounce marks by enqueue time, then by job id', () => {
    const at = '2026-12-01T00:00:00.000Z';
    const later = '2026-12-01T00:00:00.001Z';
    expect(isSupersededBy({ jobId: 'b', enqueuedAt: later }, { jobId: 'a', enqueuedAt: at })).toBe(false);
    expect(isSupersededBy({ jobId: 'a', enqueuedAt: at }, { jobId: 'b', enqueuedAt: later })).toBe(true);
    expect(isSupersededBy({ jobId: 'a', enqueuedAt: at }, { jobId: 'b', enqueuedAt: at })).toBe(true);
    expect(isSupersededBy({ jobId: 'b', enqueuedAt: at }, { jobId: 'b', enqueuedAt: at })).toBe(false);
  });

  it('names the cancel reasons for filtering', () => {
    expect(FlowCancelReason).toEqual({ debounced: 'DebouncedError', throttled: 'ThrottledError' });
  });
});

describe('enqueueMany with debounced or throttled types', () => {
  const registry = defineRegistry(
    defineJobContract({ name: 'plain', schema }),
    defineJobContract({ name: 'deb', schema, debounce: { key: (p) => p.user, period: '2s' } }),
    defineJobContract({ name: 'thr', schema, throttle: { key: (p) => p.user, period: '2s' } }),
  );
  const config = configFromOutputs('test', {
    JobsTableName: 'jobs',
    IdempotencyTableName: 'idem',
    QueueNames: 'default',
    QueueUrlDefault: QUEUE_URL,
    DeadLetterQueueUrlDefault: DLQ_URL,
  });

  function client() {
    const { jobs, dynamo, sqs } = mockedJobClient(registry, config);
    return { jobs, dynamo, sqsMock: sqs };
  }

  it.each([
    ['deb', 'debounced'],
    ['thr', 'throttled'],
  ] as const)('fails if a request is of a %s type, and writes nothing', async (type, word) => {
    const { jobs, dynamo, sqsMock } = client();
    await expect(
      jobs.enqueueMany([
        { type: 'plain', payload: { user: 'u' } },
        { type, payload: { user: 'u' } },
      ]),
    ).rejects.toThrow(new RegExp(`request 1: enqueueMany takes no ${word} job types \\(given '${type}'\\): use enqueue`));
    expect(dynamo.calls()).toHaveLength(0);
    expect(sqsMock.calls()).toHaveLength(0);
  });

  it('fails with InvalidFlowKeyError at enqueue when the key is bad, and writes nothing', async () => {
    const { jobs, dynamo } = client();
    await expect(jobs.enqueue('thr', { user: '' })).rejects.toThrow(InvalidFlowKeyError);
    await expect(jobs.enqueue('deb', { user: 'u' }, { delay: '1s' })).rejects.toThrow(InvalidArgumentError);
    expect(dynamo.calls()).toHaveLength(0);
  });
});

describe('a worker without debounce marks', () => {
  it('rejects a debounced job as dead with a ConfigurationError instead of running it undebounced', async () => {
    let ran = false;
    const handlers = defineRegistry(
      defineJob({
        name: 'deb',
        schema,
        debounce: { key: (p) => p.user, period: '2s' },
        handler: async () => {
          ran = true;
          return null;
        },
      }),
    );
    const { processRecord, dynamo, sqs } = workerHarness(handlers);

    await processRecord(sqsRecord(envelopeBody('deb', { user: 'u', n: 1 }, 'job-1')));

    expect(ran).toBe(false);
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: DLQ_URL });
    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { id: 'job-1' },
      ExpressionAttributeValues: expect.objectContaining({
        ':error': expect.objectContaining({
          name: 'ConfigurationError',
          message: "job type 'deb' is debounced, but this worker cannot read debounce marks",
        }),
      }),
    });
  });
});

describe('a debounce period beyond 15 minutes', () => {
  it("goes through one-time schedules, and a superseded job's schedule is deleted", async () => {
    const registry = defineRegistry(defineJobContract({ name: 'deb', schema, debounce: { key: (p) => p.user, period: '20m' } }));
    const config = configFromOutputs('test', {
      JobsTableName: 'jobs',
      IdempotencyTableName: 'idem',
      QueueNames: 'default',
      QueueUrlDefault: QUEUE_URL,
      DeadLetterQueueUrlDefault: DLQ_URL,
      QueueArnDefault: 'arn:aws:sqs:us-east-1:000000000000:jobs',
      ScheduleGroupName: 'jobs-group',
      SchedulerRoleArn: 'arn:aws:iam::000000000000:role/scheduler',
      SchedulerDeadLetterQueueArn: 'arn:aws:sqs:us-east-1:000000000000:scheduler-dlq',
    });
    const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
    const scheduler = new SchedulerClient({ region: 'us-east-1' });
    const dynamo = mockClient(documentClient);
    const schedulerMock = mockClient(scheduler);
    schedulerMock.onAnyCommand().resolves({});
    dynamo.onAnyCommand().resolves({});
    let latest: Record<string, unknown> | undefined;
    dynamo
      .on(UpdateCommand)
      .callsFake(
        (input: { Key: { id: string }; UpdateExpression: string; ExpressionAttributeValues: Record<string, unknown> }) => {
          if (input.UpdateExpression.startsWith('SET latestJobId')) {
            const previous = latest;
            latest = {
              latestJobId: input.ExpressionAttributeValues[':id'],
              latestEnqueuedAt: input.ExpressionAttributeValues[':at'],
            };
            return previous ? { Attributes: previous } : {};
          }
          // cancelWaiting of the displaced job: its record as DynamoDB would return it (ALL_NEW).
          return { Attributes: { id: input.Key.id, type: 'deb', state: 'cancelled', runAt: '2030-01-01T00:00:00.000Z' } };
        },
      );
    const jobs = createJobClient({
      registry,
      config,
      clients: {
        documentClient,
        sqs: new SQSClient({ region: 'us-east-1' }),
        scheduler,
        cloudFormation: new CloudFormationClient({ region: 'us-east-1' }),
      },
    });

    const first = await jobs.enqueue('deb', { user: 'u', n: 1 });
    const second = await jobs.enqueue('deb', { user: 'u', n: 2 });

    expect([first.state, second.state]).toEqual(['scheduled', 'scheduled']);
    expect(schedulerMock.commandCalls(CreateScheduleCommand)).toHaveLength(2);
    expect(schedulerMock).toHaveReceivedCommandWith(DeleteScheduleCommand, { Name: oneTimeScheduleName(first.jobId) });
    expect(schedulerMock.commandCalls(DeleteScheduleCommand)).toHaveLength(1);
    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { id: first.jobId },
      ExpressionAttributeValues: expect.objectContaining({
        ':error': { name: 'DebouncedError', message: `debounced: superseded by job ${second.jobId}`, retryable: false },
      }),
    });
  });
});
