import { Logger } from '@aws-lambda-powertools/logger';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it, vi } from 'vitest';
import { type CoordinatorDeps, coordinate } from '../../functions/flow-coordinator/coordinate.js';
import { queueSender } from '../../functions/flow-coordinator/create-handler.js';
import { readFlowCoordinatorEnvironment } from '../../functions/flow-coordinator/environment.js';
import type { BatchStore } from '../../shared/flows/batch-store.js';
import type { JobStore } from '../../shared/index.js';
import type { JobRecord } from '../../shared/record.js';
import { claimedRecord } from '../helpers/events.js';

// The coordinator's decisions on one transition (functions/flow-coordinator/coordinate.ts); the store
// conditions behind them are proven in test/realdb/flows.test.ts.

function deps(send: (record: JobRecord) => Promise<boolean>) {
  const batches = {
    countMember: vi.fn(async () => 'counted'),
    completeIfDone: vi.fn(async () => ({ outcome: 'open' })),
  };
  const store = { markDead: vi.fn(async () => true) };
  const coordinatorDeps = {
    batches: batches as unknown as BatchStore,
    store: store as unknown as JobStore,
    send: vi.fn(send),
    logger: new Logger({ logLevel: 'SILENT' }),
  } satisfies CoordinatorDeps;
  return { coordinatorDeps, batches, store };
}

const queued = (links: Partial<JobRecord>): JobRecord => ({
  ...claimedRecord({ id: 'j', type: 't' }),
  state: 'queued',
  ...links,
});

describe('flow coordinator', () => {
  it.each([
    ['a follow-up created queued', undefined, queued({ enqueuedBy: 'p' }), true],
    ['a child created queued', undefined, queued({ parentId: 'p', batchId: 'p.wait1' }), true],
    ['a callback created queued', undefined, queued({ callbackOf: 'b' }), true],
    ['a parent queued again after waiting', 'waiting', queued({ waitingFor: 'p.wait1' }), true],
    ['a batch member made by jobs.batch (the SDK sent it)', undefined, queued({ batchId: 'b' }), false],
    ['a manual retry of a follow-up (retry sends it)', 'dead', queued({ enqueuedBy: 'p' }), false],
  ] as const)('%s: sent %s', async (_label, from, job, sent) => {
    const { coordinatorDeps } = deps(async () => true);
    await coordinate(coordinatorDeps, { eventId: 'e', from, to: 'queued', job });
    expect(coordinatorDeps.send).toHaveBeenCalledTimes(sent ? 1 : 0);
  });

  it('counts a member only on a terminal transition, and checks completion every time', async () => {
    const { coordinatorDeps, batches } = deps(async () => true);
    const member = { ...claimedRecord({ id: 'b.0', type: 't' }), batchId: 'b' };
    await coordinate(coordinatorDeps, { eventId: 'e1', from: 'queued', to: 'running', job: member });
    expect(batches.countMember).not.toHaveBeenCalled();
    await coordinate(coordinatorDeps, { eventId: 'e2', from: 'running', to: 'dead', job: { ...member, state: 'dead' } });
    expect(batches.countMember).toHaveBeenCalledWith('b', 'b.0', 'dead');
    expect(batches.completeIfDone).toHaveBeenCalledWith('b');
  });

  it('a flow job naming a queue the stack does not have ends dead with the reason, never silently dropped', async () => {
    const { coordinatorDeps, store } = deps(async () => false);
    await coordinate(coordinatorDeps, {
      eventId: 'e',
      from: undefined,
      to: 'queued',
      job: queued({ enqueuedBy: 'p', queue: 'gone' }),
    });
    expect(store.markDead).toHaveBeenCalledWith('j', {
      name: 'ConfigurationError',
      message: "job j belongs to queue 'gone', which this stack does not have",
      retryable: false,
    });
  });

  it('sends to the level queue of the job priority, in its fairness group', async () => {
    const sqs = new SQSClient({ region: 'us-east-1' });
    const sqsMock = mockClient(sqs);
    sqsMock.onAnyCommand().resolves({});
    const send = queueSender(sqs, {
      queues: {
        default: {
          url: 'https://sqs/q-low',
          deadLetterUrl: 'https://sqs/dlq',
          levels: [{ name: 'high', url: 'https://sqs/q-high' }],
        },
      },
    });
    expect(await send(queued({ priority: 'high', fairnessKey: 'tenant-1', queue: 'default' }))).toBe(true);
    expect(sqsMock).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: 'https://sqs/q-high', MessageGroupId: 'tenant-1' });
    expect(await send(queued({ queue: 'other' }))).toBe(false);
  });

  it('fails at cold start on a missing or malformed environment, quoting it', () => {
    expect(() => readFlowCoordinatorEnvironment({})).toThrow(/missing JOBSTACK_JOBS_TABLE, JOBSTACK_FLOW_QUEUES/);
    expect(() => readFlowCoordinatorEnvironment({ JOBSTACK_JOBS_TABLE: 't', JOBSTACK_FLOW_QUEUES: '{"a":1}' })).toThrow(
      /must map queue names to their URLs \(given \{"a":1\}\)/,
    );
  });
});
