import { Logger } from '@aws-lambda-powertools/logger';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createLongJobStarter } from '../../functions/long-job/start-long-job.js';
import { defineLongJob, type JobRecord, type JobStore, newJobId } from '../../shared/index.js';
import { continuedExecutionName, executionName, sameExecutionChain } from '../../shared/scheduling/names.js';

/** Step Functions execution names: 1..80 of A-Z a-z 0-9 - _ (the service also refuses `:` and whitespace). */
const EXECUTION_NAME = /^[A-Za-z0-9_-]{1,80}$/;

const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
const job = defineLongJob({ name: 'test.long', schema: z.object({}), step: async () => ({ done: true, result: null }) });
const sfnMock = mockClient(SFNClient);
const startedNames: string[] = [];

beforeEach(() => {
  sfnMock.reset();
  startedNames.length = 0;
  sfnMock.on(StartExecutionCommand).callsFake((input: { name: string }) => {
    if (startedNames.includes(input.name)) throw new ExecutionAlreadyExists({ message: 'exists', $metadata: {} });
    startedNames.push(input.name);
    return { executionArn: `arn:aws:states:us-east-1:000000000000:execution:jobs:${input.name}` };
  });
});

function starterFor(record: () => JobRecord) {
  const store = { get: async () => record(), create: async () => true } as unknown as JobStore;
  return createLongJobStarter({ sfn: new SFNClient({ region: 'us-east-1' }), stateMachineArn: 'arn:sm', store });
}

function waitingRecord(id: string, overrides: Partial<JobRecord>): JobRecord {
  return {
    id,
    type: 'test.long',
    state: 'queued',
    queue: 'default',
    attempts: 0,
    maxAttempts: 3,
    createdAt: '2026-03-01T00:00:00.000Z',
    updatedAt: '2026-03-01T00:00:00.000Z',
    ...overrides,
  };
}

describe('long-job execution names (fault 10)', () => {
  it('starts a new execution for a retried job that died before its first attempt; repeated deliveries start one', async () => {
    const id = newJobId();
    const envelope = { v: 1, id, type: 'test.long', payload: {}, enqueuedAt: '2026-03-01T00:00:00.000Z' } as const;
    let record = waitingRecord(id, { attempts: 0, updatedAt: '2026-03-01T00:00:00.000Z' });
    const start = starterFor(() => record);

    await start(envelope, job, { queueName: 'default', logger });
    await start(envelope, job, { queueName: 'default', logger });
    expect(startedNames).toHaveLength(1);

    // It died outside its code before any attempt began, and `jobstack retry` requeued it: attempts are still 0.
    record = waitingRecord(id, { attempts: 0, updatedAt: '2026-03-02T09:30:00.000Z' });
    await start(envelope, job, { queueName: 'default', logger });
    await start(envelope, job, { queueName: 'default', logger });

    expect(startedNames).toHaveLength(2);
    for (const name of startedNames) expect(name).toMatch(EXECUTION_NAME);
  });

  it('keeps names within 80 characters with room for continuations, for the longest ids', () => {
    const longest = `sched:${'n'.repeat(64)}:2026-03-22T03:00:00Z_x`.slice(0, 128);
    const first = executionName(longest, { attempts: 12_345, queuedAt: '2026-03-22T03:00:00.000Z' });
    const continued = continuedExecutionName(`arn:aws:states:us-east-1:1:execution:jobs:${first}`, 999_999);
    expect(first).toMatch(EXECUTION_NAME);
    expect(continued).toMatch(EXECUTION_NAME);
    expect(continuedExecutionName(continued, 1_000_000 - 1)).toBe(continued);
  });

  it('uses only characters CloudWatch logging of executions accepts, also for ids with dots and colons', () => {
    // "To enable logging with CloudWatch Logs, the name should only contain 0-9, A-Z, a-z, - and _."
    // https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
    const series = { attempts: 0, queuedAt: '2026-03-22T03:00:00.000Z' };
    const dotted = executionName('sched:nightly.report:2026-03-22T03:00:00Z', series);
    expect(dotted).toMatch(EXECUTION_NAME);
    expect(dotted).not.toBe(executionName('sched:nightly_dreport:2026-03-22T03:00:00Z', series));
    expect(executionName(`a.${'b'.repeat(127)}`.slice(0, 128), series)).toMatch(EXECUTION_NAME);
  });

  it('tells the executions of one chain from those of another', () => {
    const a = executionName('job-1', { attempts: 0, queuedAt: '2026-03-01T00:00:00.000Z' });
    const b = executionName('job-1', { attempts: 0, queuedAt: '2026-03-02T00:00:00.000Z' });
    expect(a).not.toBe(b);
    expect(sameExecutionChain(`arn:x:${a}`, `arn:x:${continuedExecutionName(a, 3)}`)).toBe(true);
    expect(sameExecutionChain(`arn:x:${a}`, `arn:x:${b}`)).toBe(false);
    // An id that itself ends like a generation suffix is escaped, so it cannot pass for one.
    expect(executionName('job_g2', { attempts: 0, queuedAt: 't' })).toMatch(/^job__g2_r0_q[0-9a-f]{8}$/);
  });
});
