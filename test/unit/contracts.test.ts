import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import {
  ConfigurationError,
  createJobClient,
  defineJob,
  defineJobContract,
  defineLongJob,
  defineLongJobContract,
  defineRegistry,
  type EnqueuedJob,
  type HandlerRegistry,
  implementJob,
  implementLongJob,
  type JobRecord,
  type JobRegistry,
  jobClientFromEnvironment,
  type PayloadOf,
  type ResultOf,
} from 'jobstack';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { registry as demoContracts } from '../../functions/jobs/contracts.js';
import { registry as demoHandlers } from '../../functions/jobs/handlers.js';
import { configFromOutputs, jobsWithoutHandlers, planLongJobs, planQueues, planSchedules } from '../../shared/index.js';
import { DLQ_URL, QUEUE_URL } from '../helpers/events.js';

const sendEmail = defineJobContract({
  name: 'email.send',
  schema: z.object({ to: z.string(), subject: z.string().default('hello') }),
  result: z.object({ messageId: z.string() }),
  retry: { maxAttempts: 4 },
  queue: 'mail',
  timeout: '30s',
  schedule: { rate: '1 day', payload: { to: 'ops@example.com' } },
});
const ping = defineJobContract({ name: 'ping', schema: z.object({}) });
const reindex = defineLongJobContract({
  name: 'search.reindex',
  schema: z.object({ index: z.string() }),
  result: z.object({ total: z.number() }),
  stepTimeout: '5m',
});
const contracts = defineRegistry(sendEmail, ping, reindex);

describe('defineJobContract', () => {
  it('resolves the same defaults as defineJob and keeps the result schema', () => {
    expect(ping).toMatchObject({ name: 'ping', queue: 'default', timeoutMs: 60_000, retry: { maxAttempts: 5 } });
    expect(ping).not.toHaveProperty('result');
    expect(sendEmail.result).toBeInstanceOf(z.ZodObject);
    expect(sendEmail).toMatchObject({ queue: 'mail', timeoutMs: 30_000, retry: { maxAttempts: 4 } });
    expect(sendEmail.schedules).toEqual([
      { name: 'email.send', expression: 'rate(1 day)', timezone: 'UTC', payload: { to: 'ops@example.com' } },
    ]);
  });

  it('has no handler, so the enqueuing side carries no worker code', () => {
    expect(sendEmail).not.toHaveProperty('handler');
    expect(reindex).not.toHaveProperty('step');
  });

  it('fails if the name, queue or timeout is invalid, quoting the value', () => {
    expect(() => defineJobContract({ name: 'bad name', schema: z.object({}) })).toThrow(
      /job name must match .* \(given 'bad name'\)/,
    );
    expect(() => defineJobContract({ name: 'x', schema: z.object({}), queue: 'Mail' })).toThrow(
      /queue must match .* \(given 'Mail'\)/,
    );
    expect(() => defineJobContract({ name: 'x', schema: z.object({}), timeout: '20m' })).toThrow(/\(given 1200000 ms\)/);
  });

  it('fails if a declared schedule payload does not match the schema', () => {
    expect(() =>
      defineJobContract({
        name: 'x',
        schema: z.object({ n: z.number() }),
        schedule: { rate: '1 hour', payload: { n: 'one' as never } },
      }),
    ).toThrow(/schedule 1 .*payload does not match the schema/);
  });
});

describe('defineLongJobContract', () => {
  it('marks the contract long and keeps its step timeout, without a step', () => {
    expect(reindex).toMatchObject({ name: 'search.reindex', mode: 'long', stepTimeoutMs: 300_000 });
  });

  it('fails if the step timeout is beyond 14 minutes', () => {
    expect(() => defineLongJobContract({ name: 'x', schema: z.object({}), stepTimeout: '15m' })).toThrow(
      /stepTimeout must be 1s..14m \(given 900000 ms\)/,
    );
  });
});

describe('implementJob and implementLongJob', () => {
  it('gives a contract its handler and keeps everything else', async () => {
    const job = implementJob(sendEmail, async ({ to, subject }) => ({ messageId: `${to}:${subject}` }));
    const { handler, ...rest } = job;
    expect(rest).toEqual(sendEmail);
    await expect(handler({ to: 'a', subject: 'b' }, {} as never)).resolves.toEqual({ messageId: 'a:b' });
  });

  it('gives a long contract its step and a handler that refuses to run', async () => {
    const job = implementLongJob(reindex, async () => ({ done: true, result: { total: 1 } }));
    expect(job).toMatchObject({ mode: 'long', stepTimeoutMs: 300_000, name: 'search.reindex' });
    await expect(job.step({ index: 'i' }, {} as never)).resolves.toEqual({ done: true, result: { total: 1 } });
    await expect(job.handler({ index: 'i' }, {} as never)).rejects.toThrow(/is a long job/);
  });

  it('fails if a long contract is given a handler, or a short one a step', () => {
    // @ts-expect-error a long job's contract needs a step (implementLongJob), not a handler
    expect(() => implementJob(reindex, async () => ({ total: 1 }))).toThrow(
      /is a long job: give it a step with implementLongJob/,
    );
    // @ts-expect-error a short contract has no mode 'long'
    expect(() => implementLongJob(ping, async () => ({ done: true, result: null }))).toThrow(/is not a long job/);
  });

  it('fails if the handler or step is not a function', () => {
    expect(() => implementJob(ping, undefined as never)).toThrow(/handler must be a function \(given undefined\)/);
    expect(() => implementLongJob(reindex, 'step' as never)).toThrow(/step must be a function \(given string\)/);
  });

  it('defineJob and defineLongJob make the same objects as a contract plus its implementation', () => {
    const handler = async () => ({ ok: true });
    const step = async () => ({ done: true as const, result: null });
    const { handler: _h, ...whole } = defineJob({ name: 'p', schema: z.object({}), retry: { maxAttempts: 2 }, handler });
    const { handler: _i, ...split } = implementJob(
      defineJobContract({ name: 'p', schema: z.object({}), retry: { maxAttempts: 2 } }),
      handler,
    );
    expect(whole).toEqual(split);
    const { handler: _l, ...wholeLong } = defineLongJob({ name: 'l', schema: z.object({}), stepTimeout: '2m', step });
    const { handler: _m, ...splitLong } = implementLongJob(
      defineLongJobContract({ name: 'l', schema: z.object({}), stepTimeout: '2m' }),
      step,
    );
    expect(wholeLong).toEqual(splitLong);
  });
});

describe('planning from contracts alone', () => {
  it('plans queues, schedules and long jobs from a registry of contracts', () => {
    expect(planQueues(contracts)).toEqual([
      { name: 'default', maxAttempts: 5, longestJobTimeoutMs: 60_000, jobTypes: ['ping', 'search.reindex'], fifo: false },
      { name: 'mail', maxAttempts: 4, longestJobTimeoutMs: 30_000, jobTypes: ['email.send'], fifo: false },
    ]);
    expect(planSchedules(contracts)).toEqual([
      expect.objectContaining({ name: 'email.send', jobType: 'email.send', queue: 'mail', expression: 'rate(1 day)' }),
    ]);
    expect(planLongJobs(contracts)).toEqual({ jobTypes: ['search.reindex'], expressJobTypes: [], longestStepTimeoutMs: 300_000 });
  });

  it('plans the demo contracts exactly as the demo handlers', () => {
    expect(planQueues(demoContracts)).toEqual(planQueues(demoHandlers));
    expect(planLongJobs(demoContracts)).toEqual(planLongJobs(demoHandlers));
    expect(planSchedules(demoContracts)).toEqual(planSchedules(demoHandlers));
    expect(Object.keys(demoHandlers).sort()).toEqual(Object.keys(demoContracts).sort());
  });
});

describe('jobsWithoutHandlers', () => {
  it('names the contracts that lack a handler, or a long one its step', () => {
    expect(jobsWithoutHandlers(contracts)).toEqual(['email.send', 'ping', 'search.reindex']);
    expect(jobsWithoutHandlers(demoHandlers)).toEqual([]);
    const mixed = defineRegistry(
      implementJob(ping, async () => null),
      reindex,
    );
    expect(jobsWithoutHandlers(mixed)).toEqual(['search.reindex']);
  });
});

describe('types', () => {
  it('types payloads from the schema input and results from the result schema', () => {
    type R = typeof contracts;
    expectTypeOf<PayloadOf<R, 'email.send'>>().toEqualTypeOf<{ to: string; subject?: string | undefined }>();
    expectTypeOf<ResultOf<R, 'email.send'>>().toEqualTypeOf<{ messageId: string }>();
    expectTypeOf<ResultOf<R, 'ping'>>().toEqualTypeOf<unknown>();
    expectTypeOf<ResultOf<R, 'search.reindex'>>().toEqualTypeOf<{ total: number }>();
    // A definition's Result is what its handler returns.
    const job = defineJob({ name: 'x', schema: z.object({}), handler: async () => ({ n: 1 }) });
    expectTypeOf<ResultOf<{ x: typeof job }, 'x'>>().toEqualTypeOf<{ n: number }>();
  });

  it('requires the handler to take the schema output and return the Result', () => {
    implementJob(sendEmail, async ({ subject }) => {
      expectTypeOf(subject).toEqualTypeOf<string>();
      return { messageId: subject };
    });
    // @ts-expect-error the handler must return the contract's Result
    implementJob(sendEmail, async () => ({ id: 1 }));
    // @ts-expect-error the step's result must be the contract's Result
    implementLongJob(reindex, async () => ({ done: true, result: { total: 'many' } }));
  });

  it('keeps contracts out of handler registries', () => {
    expectTypeOf(contracts).toExtend<JobRegistry>();
    expectTypeOf(contracts).not.toExtend<HandlerRegistry>();
    expectTypeOf(demoHandlers).toExtend<HandlerRegistry>();
  });
});

const config = configFromOutputs('test', {
  JobsTableName: 'jobs',
  IdempotencyTableName: 'idem',
  QueueNames: 'default,mail',
  QueueUrlDefault: QUEUE_URL,
  DeadLetterQueueUrlDefault: DLQ_URL,
  QueueUrlMail: `${QUEUE_URL}-mail`,
  DeadLetterQueueUrlMail: `${DLQ_URL}-mail`,
});

function clientWithRecord(record: Record<string, unknown>) {
  const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  const sqs = new SQSClient({ region: 'us-east-1' });
  const dynamo = mockClient(documentClient);
  mockClient(sqs).onAnyCommand().resolves({});
  dynamo.onAnyCommand().resolves({});
  dynamo.on(GetCommand).resolves({ Item: record });
  const jobs = createJobClient({
    registry: contracts,
    config,
    clients: { documentClient, sqs, cloudFormation: new CloudFormationClient({ region: 'us-east-1' }) },
  });
  return { jobs, dynamo };
}

const succeeded = {
  id: 'job-1',
  type: 'email.send',
  state: 'succeeded',
  queue: 'mail',
  attempts: 1,
  maxAttempts: 4,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:01.000Z',
  result: { messageId: 'm-1' },
};

describe('the client with a registry of contracts', () => {
  it('enqueues from contracts and returns a handle typed by job type', async () => {
    const { jobs } = clientWithRecord(succeeded);
    const job = await jobs.enqueue('email.send', { to: 'a@example.com' });
    expect(job).toMatchObject({ type: 'email.send', state: 'queued', created: true });
    expectTypeOf(job).toEqualTypeOf<EnqueuedJob<'email.send'>>();
    // @ts-expect-error a wrong payload type does not compile
    await expect(jobs.enqueue('email.send', { to: 42 })).rejects.toThrow(/invalid payload/);
    // @ts-expect-error an unknown job type does not compile
    await expect(jobs.enqueue('email.sned', {})).rejects.toThrow(/unknown job type/);
  });

  it('get and wait accept the handle and type the result; an id gives unknown', async () => {
    const { jobs, dynamo } = clientWithRecord(succeeded);
    const handle: EnqueuedJob<'email.send'> = { jobId: 'job-1', type: 'email.send', state: 'queued', created: true };

    const byHandle = await jobs.get(handle);
    expectTypeOf(byHandle).toEqualTypeOf<JobRecord<{ messageId: string }> | undefined>();
    expect(byHandle?.result?.messageId).toBe('m-1');
    expect(dynamo).toHaveReceivedCommandWith(GetCommand, { TableName: 'jobs', Key: { id: 'job-1' } });

    const waited = await jobs.wait(handle, { timeout: '1s' });
    expectTypeOf(waited.result).toEqualTypeOf<{ messageId: string } | undefined>();
    expect(waited.result).toEqual({ messageId: 'm-1' });

    const byId = await jobs.get('job-1');
    expectTypeOf(byId).toEqualTypeOf<JobRecord | undefined>();
    expectTypeOf((await jobs.wait('job-1')).result).toEqualTypeOf<unknown>();
  });
});

describe('jobClientFromEnvironment', () => {
  const valid = {
    stackName: 'app',
    jobsTable: 'jobs',
    idempotencyTable: 'idem',
    queues: { default: { url: QUEUE_URL, deadLetterUrl: DLQ_URL, arn: 'arn:aws:sqs:us-east-1:1:q' } },
    scheduling: { groupName: 'g', roleArn: 'arn:role', deadLetterQueueArn: 'arn:dlq' },
  };
  const region = { aws: { region: 'us-east-1' } };

  it('creates a client from the JSON configuration in JOBSTACK_CONFIG, with no AWS call', () => {
    const jobs = jobClientFromEnvironment({ registry: contracts, env: { JOBSTACK_CONFIG: JSON.stringify(valid) }, ...region });
    expect(jobs.config).toEqual(valid);
    expectTypeOf(jobs.enqueue<'ping'>)
      .parameter(1)
      .toEqualTypeOf<Record<string, never>>();
  });

  it('fails if JOBSTACK_CONFIG is not set, saying how to set it', () => {
    expect(() => jobClientFromEnvironment({ registry: contracts, env: {} })).toThrow(ConfigurationError);
    expect(() => jobClientFromEnvironment({ registry: contracts, env: {} })).toThrow(/JOBSTACK_CONFIG is not set: .*bindClient/);
  });

  it('fails if JOBSTACK_CONFIG is not JSON', () => {
    expect(() => jobClientFromEnvironment({ registry: contracts, env: { JOBSTACK_CONFIG: '{jobs' } })).toThrow(
      /environment variable JOBSTACK_CONFIG is not JSON \(given "\{jobs"\)/,
    );
  });

  it('fails naming every field that is missing or malformed', () => {
    const broken = { ...valid, jobsTable: '', queues: { default: { url: QUEUE_URL } } };
    expect(() => jobClientFromEnvironment({ registry: contracts, env: { JOBSTACK_CONFIG: JSON.stringify(broken) } })).toThrow(
      /JOBSTACK_CONFIG is not a jobstack configuration: jobsTable: .*; queues\.default\.deadLetterUrl: /,
    );
    expect(() =>
      jobClientFromEnvironment({ registry: contracts, env: { JOBSTACK_CONFIG: JSON.stringify({ ...valid, queues: {} }) } }),
    ).toThrow(/queues: must name at least one queue/);
  });
});
