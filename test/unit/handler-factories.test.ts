import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { defineJobContract, defineLongJobContract, defineRegistry, type HandlerRegistry, implementJob } from 'jobstack';
import {
  createDashboardApiHandler,
  createDeadLetterHandler,
  createLongJobStepHandler,
  createSweeperHandler,
  createWorkerHandler,
} from 'jobstack/worker';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DashboardEnv } from '../../functions/dashboard-api/environment.js';
import { registry as demoContracts } from '../../functions/jobs/contracts.js';
import { registry as demoHandlers } from '../../functions/jobs/handlers.js';
import { SweeperEnv } from '../../functions/sweeper/environment.js';
import { ConfigurationError, FunctionEnv } from '../../shared/index.js';
import { DLQ_URL, lambdaContext, QUEUE_URL, sqsEvent } from '../helpers/events.js';

const dynamo = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);

const workerEnv = {
  [FunctionEnv.jobsTable]: 'jobs',
  [FunctionEnv.idempotencyTable]: 'idempotency',
  [FunctionEnv.queueUrl]: QUEUE_URL,
  [FunctionEnv.deadLetterQueueUrl]: DLQ_URL,
  [FunctionEnv.queueName]: 'default',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
};

/** The factories read process.env, as at a Lambda cold start: each test sets exactly what it needs. */
let saved: NodeJS.ProcessEnv;
beforeEach(() => {
  saved = { ...process.env };
  dynamo.reset();
  sqs.reset();
  dynamo.onAnyCommand().resolves({});
  sqs.onAnyCommand().resolves({});
});
afterEach(() => {
  process.env = saved;
});
function setEnv(values: Record<string, string>): void {
  process.env = { ...saved, ...values };
}

describe('createWorkerHandler', () => {
  it('fails at cold start if the registry has no handler for a job type the queue carries, naming each', () => {
    setEnv({ ...workerEnv, [FunctionEnv.jobTypes]: 'demo.echo, billing.charge,reports.build' });
    expect(() => createWorkerHandler({ registry: demoHandlers })).toThrow(ConfigurationError);
    expect(() => createWorkerHandler({ registry: demoHandlers })).toThrow(
      /no handler for 'billing\.charge', 'reports\.build', which JOBSTACK_JOB_TYPES says this queue carries/,
    );
  });

  it('starts when every job type the queue carries has a handler, or when the construct names none', async () => {
    setEnv({ ...workerEnv, [FunctionEnv.jobTypes]: Object.keys(demoHandlers).join(',') });
    const handler = createWorkerHandler({ registry: demoHandlers });
    await expect(handler(sqsEvent(), lambdaContext())).resolves.toEqual({ batchItemFailures: [] });
    setEnv(workerEnv);
    expect(() => createWorkerHandler({ registry: demoHandlers })).not.toThrow();
  });

  it('fails at cold start if the registry holds contracts without handlers', () => {
    setEnv(workerEnv);
    expect(() => createWorkerHandler({ registry: demoContracts as unknown as HandlerRegistry })).toThrow(
      /holds contracts without handlers: .*'demo\.echo', .*implementJob/,
    );
  });

  it('fails at cold start if the environment is incomplete', () => {
    setEnv({ ...workerEnv, [FunctionEnv.queueUrl]: '' });
    expect(() => createWorkerHandler({ registry: demoHandlers })).toThrow(/worker environment is missing JOBSTACK_QUEUE_URL/);
  });
});

describe('createLongJobStepHandler', () => {
  it('fails at cold start if a long job has no step', () => {
    setEnv({ [FunctionEnv.jobsTable]: 'jobs' });
    const contract = defineLongJobContract({ name: 'bare.long', schema: z.object({}) });
    const short = implementJob(defineJobContract({ name: 'short', schema: z.object({}) }), async () => null);
    const registry = defineRegistry(short, contract) as unknown as HandlerRegistry;
    expect(() => createLongJobStepHandler({ registry })).toThrow(/long-job contracts without a step: bare\.long/);
  });

  it('fails at cold start if the registry has no step for a long job type the construct planned, naming each', () => {
    setEnv({ [FunctionEnv.jobsTable]: 'jobs', [FunctionEnv.jobTypes]: 'demo.long,report.rebuild' });
    expect(() => createLongJobStepHandler({ registry: demoHandlers })).toThrow(/no step for 'report\.rebuild'/);
    setEnv({ [FunctionEnv.jobsTable]: 'jobs', [FunctionEnv.jobTypes]: 'demo.long', POWERTOOLS_LOG_LEVEL: 'SILENT' });
    expect(createLongJobStepHandler({ registry: demoHandlers })).toBeTypeOf('function');
  });

  it('fails at cold start without the jobs table, and starts with it', () => {
    setEnv({ [FunctionEnv.jobsTable]: '' });
    expect(() => createLongJobStepHandler({ registry: demoHandlers })).toThrow(/missing JOBSTACK_JOBS_TABLE/);
    setEnv({ [FunctionEnv.jobsTable]: 'jobs', POWERTOOLS_LOG_LEVEL: 'SILENT' });
    expect(createLongJobStepHandler({ registry: demoHandlers })).toBeTypeOf('function');
  });

  it('ends the execution of a job whose record is gone', async () => {
    setEnv({ [FunctionEnv.jobsTable]: 'jobs', POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' });
    const handler = createLongJobStepHandler({ registry: demoHandlers });
    const output = await handler(
      { jobId: 'gone', executionArn: 'arn:aws:states:us-east-1:1:execution:m:gone-1', executionSteps: 0 } as never,
      lambdaContext(),
    );
    expect(output).toMatchObject({ status: 'finished' });
    expect(dynamo).toHaveReceivedCommandWith(GetCommand, { TableName: 'jobs', Key: { id: 'gone' } });
  });
});

describe('createSweeperHandler', () => {
  it('fails at cold start naming the missing variables', () => {
    setEnv({ [FunctionEnv.jobsTable]: 'jobs' });
    expect(() => createSweeperHandler()).toThrow(/sweeper environment is missing .*JOBSTACK_QUEUES/);
  });

  it('sweeps a table with nothing stale', async () => {
    setEnv({
      [FunctionEnv.jobsTable]: 'jobs',
      [FunctionEnv.idempotencyTable]: 'idempotency',
      [SweeperEnv.queues]: JSON.stringify({ default: { url: QUEUE_URL, deadLetterUrl: DLQ_URL } }),
      [SweeperEnv.runningGraceMs]: '60000',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    });
    const handler = createSweeperHandler();
    await expect(handler({}, lambdaContext())).resolves.toMatchObject({ resent: 0, killed: 0, forwarded: 0 });
  });
});

describe('createDeadLetterHandler', () => {
  it('fails at cold start if the environment is incomplete, and answers an empty batch once it is set', async () => {
    setEnv({ [FunctionEnv.jobsTable]: 'jobs' });
    expect(() => createDeadLetterHandler()).toThrow(/worker environment is missing/);
    setEnv(workerEnv);
    const handler = createDeadLetterHandler();
    await expect(handler(sqsEvent(), lambdaContext())).resolves.toEqual({ batchItemFailures: [] });
  });
});

describe('createDashboardApiHandler', () => {
  it('fails at cold start naming the missing variable', () => {
    setEnv({});
    expect(() => createDashboardApiHandler({ registry: demoContracts })).toThrow(
      /environment variable JOBSTACK_QUEUES is not set/,
    );
  });

  it('serves the API from a registry of contracts', async () => {
    setEnv({
      [FunctionEnv.jobsTable]: 'jobs',
      [FunctionEnv.idempotencyTable]: 'idempotency',
      [DashboardEnv.stackName]: 'app',
      [DashboardEnv.queues]: JSON.stringify({ default: { url: QUEUE_URL, deadLetterUrl: DLQ_URL } }),
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_TRACE_ENABLED: 'false',
    });
    const handler = createDashboardApiHandler({ registry: demoContracts });
    const response = await handler(
      {
        rawPath: '/api/jobs/missing',
        rawQueryString: '',
        requestContext: { http: { method: 'GET' } },
      } as never,
      lambdaContext(),
    );
    expect(response).toMatchObject({ statusCode: 404 });
    expect(JSON.parse(response.body ?? '')).toEqual({ error: { name: 'ApiError', message: "job 'missing' not found" } });
  });
});
