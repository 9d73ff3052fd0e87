import { Logger } from '@aws-lambda-powertools/logger';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { lazyLongJobStarter } from '../../functions/worker/lazy-long-job-starter.js';
import { tracingEnabled } from '../../functions/worker/tracing.js';
import { defineLongJob, type JobRecord, type JobStore, newJobId } from '../../shared/index.js';

const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
const job = defineLongJob({ name: 'test.long', schema: z.object({}), step: async () => ({ done: true, result: null }) });
const sfnMock = mockClient(SFNClient);

beforeEach(() => {
  sfnMock.reset();
  sfnMock.on(StartExecutionCommand).callsFake((input: { name: string }) => ({ executionArn: `arn:exec:${input.name}` }));
});

function queued(id: string): JobRecord {
  const at = '2026-03-01T00:00:00.000Z';
  return { id, type: 'test.long', state: 'queued', queue: 'default', attempts: 0, maxAttempts: 3, createdAt: at, updatedAt: at };
}

describe('lazyLongJobStarter', () => {
  it('creates the Step Functions client on the first long job only, wraps it once, and starts each job’s execution', async () => {
    const store = { get: async (id: string) => queued(id), create: async () => true } as unknown as JobStore;
    const wrapped: unknown[] = [];
    const start = lazyLongJobStarter({
      stateMachineArn: 'arn:sm',
      store,
      wrapClient: (client) => {
        wrapped.push(client);
        return client;
      },
    });
    expect(wrapped).toHaveLength(0);
    for (const id of [newJobId(), newJobId()]) {
      await start({ v: 1, id, type: 'test.long', payload: {}, enqueuedAt: '2026-03-01T00:00:00.000Z' }, job, {
        queueName: 'default',
        logger,
      });
    }
    expect(wrapped).toHaveLength(1);
    expect(wrapped[0]).toBeInstanceOf(SFNClient);
    const calls = sfnMock.commandCalls(StartExecutionCommand);
    expect(calls.map((call) => call.args[0].input.stateMachineArn)).toEqual(['arn:sm', 'arn:sm']);
  });
});

describe('tracingEnabled (Powertools Tracer’s own rule)', () => {
  it('is on in Lambda unless POWERTOOLS_TRACE_ENABLED is false, and off outside Lambda, under SAM local and the Amplify mock', () => {
    const lambda = { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' };
    expect(tracingEnabled(lambda)).toBe(true);
    expect(tracingEnabled({ ...lambda, POWERTOOLS_TRACE_ENABLED: 'true' })).toBe(true);
    expect(tracingEnabled({ ...lambda, POWERTOOLS_TRACE_ENABLED: 'FALSE' })).toBe(false);
    expect(tracingEnabled({})).toBe(false);
    expect(tracingEnabled({ ...lambda, AWS_SAM_LOCAL: 'true' })).toBe(false);
    expect(tracingEnabled({ AWS_EXECUTION_ENV: 'AWS_Lambda_amplify-mock' })).toBe(false);
  });
});
