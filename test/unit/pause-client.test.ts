import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetEventSourceMappingCommand, LambdaClient, UpdateEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { registry } from '../../functions/jobs/contracts.js';
import {
  ConfigurationError,
  configFromOutputs,
  createJobClient,
  EventSourceUpdateError,
  InvalidArgumentError,
  type JobstackConfig,
  PAUSE_SETTLE_MS,
  PauseStore,
  parseJobstackConfig,
  UnknownQueueError,
} from '../../shared/index.js';
import { createQueuePauses } from '../../shared/pause/queue-pauses.js';

const CONFIG: JobstackConfig = {
  stackName: 'jobstack',
  jobsTable: 'jobs',
  idempotencyTable: 'idempotency',
  queues: {
    default: { url: 'https://q/default', deadLetterUrl: 'https://q/default-dlq', eventSourceMappingIds: ['esm-default'] },
    reports: { url: 'https://q/reports', deadLetterUrl: 'https://q/reports-dlq', eventSourceMappingIds: ['esm-reports'] },
  },
};

const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const dynamo = mockClient(documentClient);
const lambda = new LambdaClient({ region: 'us-east-1' });
const lambdaMock = mockClient(lambda);
const cloudFormation = new CloudFormationClient({ region: 'us-east-1' });
const cfnMock = mockClient(cloudFormation);

/** What `jobs.pause`, `resume` and `queueStatus` run, without the settle wait (one test below keeps it). */
function client(config: JobstackConfig = CONFIG) {
  return createQueuePauses({ config, pauses: new PauseStore(documentClient, 'jobs'), cloudFormation, lambda, settleMs: 0 });
}

/** Every call to the three services, in order, by command name. */
function callOrder(): string[] {
  return [...dynamo.calls(), ...lambdaMock.calls(), ...cfnMock.calls()]
    .map((call) => ({ name: call.args[0].constructor.name, at: (call as unknown as { callId: number }).callId }))
    .sort((a, b) => a.at - b.at)
    .map(({ name }) => name);
}

beforeEach(() => {
  dynamo.reset();
  lambdaMock.reset();
  cfnMock.reset();
  cfnMock.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: 'jobstack',
        StackStatus: 'UPDATE_COMPLETE',
        CreationTime: new Date('2026-11-01T00:00:00Z'),
        LastUpdatedTime: new Date('2026-11-30T12:00:00Z'),
      },
    ],
  });
  lambdaMock.on(UpdateEventSourceMappingCommand).callsFake((input: { Enabled: boolean }) => ({
    State: input.Enabled ? 'Enabling' : 'Disabling',
  }));
});

describe('jobs.pause', () => {
  it('returns only once every worker has seen the pause (their 5-second cache expired, plus a second)', async () => {
    dynamo.on(UpdateCommand).resolves({ Attributes: { pausedAt: 'x' } });
    const jobs = createJobClient({
      registry,
      config: CONFIG,
      clients: { documentClient, sqs: new SQSClient({ region: 'us-east-1' }), cloudFormation, lambda },
    });
    const started = Date.now();
    await jobs.pause('default');
    expect(Date.now() - started).toBeGreaterThanOrEqual(PAUSE_SETTLE_MS - 5);
    expect(PAUSE_SETTLE_MS).toBe(6_000);
    expect(lambdaMock).toHaveReceivedCommandWith(UpdateEventSourceMappingCommand, { UUID: 'esm-default', Enabled: false });
  }, 15_000);

  it('records the pause with the stack time, then disables the queue event source mapping', async () => {
    dynamo.on(UpdateCommand).callsFake((input: { ExpressionAttributeValues: Record<string, unknown> }) => ({
      Attributes: {
        queue: 'default',
        pausedAt: input.ExpressionAttributeValues[':now'],
        keepOnDeploy: input.ExpressionAttributeValues[':keep'],
        stackUpdatedAt: input.ExpressionAttributeValues[':stack'],
        reason: input.ExpressionAttributeValues[':reason'],
      },
    }));

    const result = await client().pause('default', { reason: 'provider outage', keepOnDeploy: true });

    expect(result).toMatchObject({
      queue: 'default',
      newlyPaused: true,
      pause: { reason: 'provider outage', keepOnDeploy: true, stackUpdatedAt: '2026-11-30T12:00:00.000Z' },
    });
    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, { TableName: 'jobs', Key: { id: 'queue#default' } });
    expect(lambdaMock).toHaveReceivedCommandWith(UpdateEventSourceMappingCommand, { UUID: 'esm-default', Enabled: false });
    expect(lambdaMock).toHaveReceivedCommandTimes(UpdateEventSourceMappingCommand, 1);
    // The item first: the worker's gate holds deliveries even before the mapping is off.
    expect(callOrder()).toEqual(['DescribeStacksCommand', 'UpdateCommand', 'UpdateEventSourceMappingCommand']);
  });

  it('takes the creation time of a stack never updated (CloudFormation then omits LastUpdatedTime)', async () => {
    cfnMock.on(DescribeStacksCommand).resolves({
      Stacks: [{ StackName: 'jobstack', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date('2026-11-01T00:00:00Z') }],
    });
    dynamo.on(UpdateCommand).resolves({ Attributes: { pausedAt: 'x' } });
    await client().pause('default');
    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
      ExpressionAttributeValues: expect.objectContaining({ ':stack': '2026-11-01T00:00:00.000Z', ':keep': false }),
    });
  });

  it('retries a mapping that is still changing state (ResourceInUseException)', async () => {
    dynamo.on(UpdateCommand).resolves({ Attributes: { pausedAt: 'x' } });
    lambdaMock
      .on(UpdateEventSourceMappingCommand)
      .rejectsOnce(Object.assign(new Error('busy'), { name: 'ResourceInUseException' }))
      .resolves({ State: 'Disabling' });
    await client().pause('default');
    expect(lambdaMock).toHaveReceivedCommandTimes(UpdateEventSourceMappingCommand, 2);
  });

  it('fails with EventSourceUpdateError naming queue and mapping when Lambda refuses', async () => {
    dynamo.on(UpdateCommand).resolves({ Attributes: { pausedAt: 'x' } });
    lambdaMock.on(UpdateEventSourceMappingCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const error = await client()
      .pause('default')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventSourceUpdateError);
    expect((error as Error).message).toMatch(
      /queue 'default': event source mapping esm-default: could not disable it: AccessDeniedException/,
    );
  });

  it('fails if the queue is unknown, listing the queues, and touches nothing', async () => {
    const error = await client()
      .pause('emails')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownQueueError);
    expect((error as Error).message).toBe("stack 'jobstack' has no queue 'emails' (queues: default, reports)");
    expect(callOrder()).toEqual([]);
  });

  it.each([
    ['an empty reason', { reason: '  ' }, /reason must be a non-empty string of at most 500 characters \(given " {2}"\)/],
    ['a reason over 500 characters', { reason: 'x'.repeat(501) }, /reason must be .* \(given "x+/],
    [
      'a keepOnDeploy that is not a boolean',
      { keepOnDeploy: 'yes' as never },
      /keepOnDeploy must be true or false \(given "yes"\)/,
    ],
  ])('fails for %s, quoting it', async (_name, options, message) => {
    const error = await client()
      .pause('default', options)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toMatch(message);
    expect(callOrder()).toEqual([]);
  });

  it('fails with ConfigurationError on a stack deployed before pausing existed (no mapping ids)', async () => {
    const old: JobstackConfig = { ...CONFIG, queues: { default: { url: 'https://q/d', deadLetterUrl: 'https://q/dl' } } };
    await expect(client(old).pause('default')).rejects.toThrow(ConfigurationError);
    await expect(client(old).pause('default')).rejects.toThrow(/deploy it again to pause its queues/);
  });
});

describe('jobs.resume', () => {
  it('enables the mapping first, then deletes the pause', async () => {
    dynamo.on(DeleteCommand).resolves({ Attributes: { id: 'queue#reports' } });
    expect(await client().resume('reports')).toEqual({ queue: 'reports', wasPaused: true });
    expect(lambdaMock).toHaveReceivedCommandWith(UpdateEventSourceMappingCommand, { UUID: 'esm-reports', Enabled: true });
    expect(dynamo).toHaveReceivedCommandWith(DeleteCommand, { Key: { id: 'queue#reports' } });
    expect(callOrder()).toEqual(['UpdateEventSourceMappingCommand', 'DeleteCommand']);
  });

  it('keeps the pause when the mapping cannot be enabled (never half-resumed)', async () => {
    lambdaMock.on(UpdateEventSourceMappingCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    await expect(client().resume('reports')).rejects.toThrow(EventSourceUpdateError);
    expect(dynamo).toHaveReceivedCommandTimes(DeleteCommand, 0);
  });

  it('says so when the queue was not paused', async () => {
    dynamo.on(DeleteCommand).resolves({});
    expect(await client().resume('default')).toEqual({ queue: 'default', wasPaused: false });
  });

  it('fails if the queue is unknown, listing the queues', async () => {
    await expect(client().resume('nope')).rejects.toThrow("stack 'jobstack' has no queue 'nope' (queues: default, reports)");
  });
});

describe('jobs.queueStatus', () => {
  it('shows each queue paused (since, why, keepOnDeploy) or active, with its mapping state', async () => {
    dynamo.on(GetCommand, { Key: { id: 'queue#default' } }).resolves({
      Item: {
        id: 'queue#default',
        queue: 'default',
        pausedAt: '2026-12-01T01:00:00.000Z',
        reason: 'maintenance',
        keepOnDeploy: false,
        stackUpdatedAt: '2026-11-30T12:00:00.000Z',
      },
    });
    dynamo.on(GetCommand, { Key: { id: 'queue#reports' } }).resolves({});
    lambdaMock.on(GetEventSourceMappingCommand, { UUID: 'esm-default' }).resolves({ State: 'Disabled' });
    lambdaMock.on(GetEventSourceMappingCommand, { UUID: 'esm-reports' }).resolves({ State: 'Enabled' });

    expect(await client().queueStatus()).toEqual([
      {
        queue: 'default',
        status: 'paused',
        pause: {
          queue: 'default',
          pausedAt: '2026-12-01T01:00:00.000Z',
          reason: 'maintenance',
          keepOnDeploy: false,
          stackUpdatedAt: '2026-11-30T12:00:00.000Z',
        },
        eventSources: { 'esm-default': 'Disabled' },
      },
      { queue: 'reports', status: 'active', eventSources: { 'esm-reports': 'Enabled' } },
    ]);
    expect(dynamo).toHaveReceivedCommandWith(GetCommand, { ConsistentRead: true });
  });
});

describe('stack configuration', () => {
  it('reads the mapping ids from the outputs and from JOBSTACK_CONFIG', () => {
    const config = configFromOutputs('jobstack', {
      JobsTableName: 'jobs',
      IdempotencyTableName: 'idem',
      QueueNames: 'default',
      QueueUrlDefault: 'https://q/d',
      DeadLetterQueueUrlDefault: 'https://q/dl',
      EventSourceMappingIdsDefault: 'esm-1',
    });
    expect(config.queues.default?.eventSourceMappingIds).toEqual(['esm-1']);
    expect(parseJobstackConfig(JSON.stringify(config), 'test').queues.default?.eventSourceMappingIds).toEqual(['esm-1']);
  });
});
