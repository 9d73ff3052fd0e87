import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { BatchGetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { batchItemId } from '../../shared/flows/ids.js';
import type { ChildJob } from '../../shared/flows/types.js';
import { defineJob, defineRegistry } from '../../shared/index.js';
import { claimedRecord, envelopeBody, lambdaContext, sqsRecord } from '../helpers/events.js';
import { type HarnessUpdate, workerHarness } from '../helpers/worker-harness.js';

// The worker's half of flows (functions/worker/attempt-flows.ts, process-record.ts): what a handler asks for
// with ctx.enqueue and ctx.spawnAndWait is written with the attempt's outcome, or not at all.

const seen = vi.fn();
const RETRY = { maxAttempts: 3, baseDelay: '1s', maxDelay: '5s', jitter: 'none' } as const;
const registry = defineRegistry(
  defineJob({ name: 'test.child', schema: z.object({ n: z.number() }), retry: RETRY, handler: async ({ n }) => n * n }),
  defineJob({
    name: 'test.chain',
    schema: z.object({ next: z.array(z.unknown()), failAfter: z.boolean().optional() }),
    retry: RETRY,
    handler: async ({ next, failAfter }, ctx) => {
      for (const payload of next) ctx.enqueue('test.child', payload);
      if (failAfter) throw new Error('downstream unavailable');
      return 'done';
    },
  }),
  defineJob({
    name: 'test.parent',
    schema: z.object({ count: z.number(), onChildDead: z.enum(['fail', 'continue']).optional() }),
    retry: RETRY,
    handler: async ({ count, onChildDead }, ctx) => {
      if (ctx.children === undefined) {
        ctx.enqueue('test.child', { n: -1 });
        return ctx.spawnAndWait(
          Array.from({ length: count }, (_, n) => ({ type: 'test.child', payload: { n } })),
          onChildDead === undefined ? {} : { onChildDead },
        );
      }
      seen(ctx.children);
      return ctx.children.length;
    },
  }),
);

afterEach(() => seen.mockReset());

function transactions(dynamo: ReturnType<typeof workerHarness>['dynamo']) {
  return dynamo.commandCalls(TransactWriteCommand).map((call) => call.args[0].input.TransactItems ?? []);
}

function updates(dynamo: ReturnType<typeof workerHarness>['dynamo']) {
  return dynamo.commandCalls(UpdateCommand).map((call) => call.args[0].input as unknown as HarnessUpdate);
}

describe('follow-ups (ctx.enqueue)', () => {
  it('are written with the success in one transaction, with ids derived from the job id', async () => {
    const { processRecord, dynamo, sqs } = workerHarness(registry);
    await processRecord(sqsRecord(envelopeBody('test.chain', { next: [{ n: 1 }, { n: 2 }] }, 'job-c')), lambdaContext());

    const [items] = transactions(dynamo);
    expect(items?.[0]?.Update).toMatchObject({
      Key: { id: 'job-c' },
      ConditionExpression: '#state = :running AND attempts = :attempt',
      ExpressionAttributeValues: expect.objectContaining({ ':succeeded': 'succeeded', ':result': 'done' }),
    });
    expect(items?.slice(1).map((item) => [item.Put?.Item?.id, item.Put?.Item?.state, item.Put?.Item?.enqueuedBy])).toEqual([
      ['job-c.then0', 'queued', 'job-c'],
      ['job-c.then1', 'queued', 'job-c'],
    ]);
    expect(items?.slice(1).every((item) => item.Put?.ConditionExpression === 'attribute_not_exists(id)')).toBe(true);
    // Only the claim is a plain update; the coordinator sends the follow-ups' messages, not the worker.
    expect(updates(dynamo)).toHaveLength(1);
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it('are not written when the attempt fails', async () => {
    const { processRecord, dynamo } = workerHarness(registry);
    const message = sqsRecord(envelopeBody('test.chain', { next: [{ n: 1 }], failAfter: true }, 'job-f'));
    await expect(processRecord(message, lambdaContext())).rejects.toThrow(/attempt 1 failed/);
    expect(transactions(dynamo)).toEqual([]);
    expect(updates(dynamo)[1]?.ExpressionAttributeValues[':retrying']).toBe('retrying');
  });

  it('an invalid follow-up ends the job dead with InvalidFlowJobError, nothing created', async () => {
    const { processRecord, dynamo } = workerHarness(registry);
    await processRecord(sqsRecord(envelopeBody('test.chain', { next: [{ n: 'x' }] }, 'job-i')), lambdaContext());
    expect(transactions(dynamo)).toEqual([]);
    const dead = updates(dynamo).find((update) => update.ExpressionAttributeValues[':dead'] === 'dead');
    expect(dead?.ExpressionAttributeValues[':error']).toMatchObject({
      name: 'InvalidFlowJobError',
      message: expect.stringMatching(/invalid payload for job type 'test.child': n: /),
      retryable: false,
    });
  });

  it('more than one transaction holds ends the job dead with TooManyFlowJobsError', async () => {
    const { processRecord, dynamo } = workerHarness(registry);
    const then = Array.from({ length: 99 }, (_, n) => ({ n }));
    await processRecord(sqsRecord(envelopeBody('test.chain', { next: then }, 'job-many')), lambdaContext());
    expect(transactions(dynamo)).toEqual([]);
    const dead = updates(dynamo).find((update) => update.ExpressionAttributeValues[':dead'] === 'dead');
    expect(dead?.ExpressionAttributeValues[':error']).toMatchObject({
      name: 'TooManyFlowJobsError',
      message: 'a job attempt may create at most 98 follow-up and child jobs (given 99)',
    });
  });
});

describe('children (ctx.spawnAndWait)', () => {
  it('ends the attempt waiting: parent, children batch, children and follow-ups in one transaction', async () => {
    const { processRecord, dynamo } = workerHarness(registry);
    await processRecord(sqsRecord(envelopeBody('test.parent', { count: 2 }, 'job-p')), lambdaContext());

    const [items] = transactions(dynamo);
    expect(items?.[0]?.Update).toMatchObject({
      Key: { id: 'job-p' },
      ConditionExpression: '#state = :running AND attempts = :attempt AND attribute_not_exists(cancelRequested)',
      ExpressionAttributeValues: expect.objectContaining({ ':waiting': 'waiting', ':batchId': 'job-p.wait1' }),
    });
    expect(items?.[1]?.Put?.Item).toMatchObject({
      id: batchItemId('job-p.wait1'),
      kind: 'children',
      total: 2,
      pending: 2,
      parentId: 'job-p',
      onChildDead: 'fail',
    });
    expect(items?.slice(2).map((item) => [item.Put?.Item?.id, item.Put?.Item?.parentId, item.Put?.Item?.batchId])).toEqual([
      ['job-p.wait1.0', 'job-p', 'job-p.wait1'],
      ['job-p.wait1.1', 'job-p', 'job-p.wait1'],
      ['job-p.then0', undefined, undefined],
    ]);
    // Neither a success nor a failure: no outcome update besides the claim.
    expect(updates(dynamo)).toHaveLength(1);
  });

  const resumed = (onChildDead: 'fail' | 'continue', childStates: readonly string[]) =>
    workerHarness(registry, {
      claim: (input) => claimedRecord({ ...input, attempts: 2, maxAttempts: 4, waitingFor: 'job-r.wait1' }),
      get: (id) =>
        id === batchItemId('job-r.wait1')
          ? {
              id,
              batchId: 'job-r.wait1',
              kind: 'children',
              status: 'complete',
              total: childStates.length,
              pending: 0,
              succeeded: childStates.filter((state) => state === 'succeeded').length,
              dead: childStates.filter((state) => state === 'dead').length,
              cancelled: 0,
              createdAt: '2026-12-01T06:00:00.000Z',
              onChildDead,
            }
          : undefined,
    });
  const members = (states: readonly string[]) => ({
    Responses: {
      jobs: states.map((state, n) => ({
        ...claimedRecord({ id: `job-r.wait1.${n}`, type: 'test.child' }),
        state,
        ...(state === 'succeeded' ? { result: n * n } : { error: { name: 'Error', message: 'boom', retryable: false } }),
      })),
    },
  });

  it('a resumed parent sees its children, in order, with results and errors', async () => {
    const states = ['succeeded', 'dead'];
    const { processRecord, dynamo } = resumed('continue', states);
    dynamo.on(BatchGetCommand).resolves(members(states));
    await processRecord(sqsRecord(envelopeBody('test.parent', { count: 2 }, 'job-r')), lambdaContext());
    const children = seen.mock.calls[0]?.[0] as ChildJob[];
    expect(children.map((child) => [child.jobId, child.state, child.result, child.error?.message])).toEqual([
      ['job-r.wait1.0', 'succeeded', 0, undefined],
      ['job-r.wait1.1', 'dead', undefined, 'boom'],
    ]);
  });

  it("with onChildDead 'fail', a dead child ends the parent dead with ChildJobsFailedError, unrun", async () => {
    const states = ['succeeded', 'dead'];
    const { processRecord, dynamo } = resumed('fail', states);
    dynamo.on(BatchGetCommand).resolves(members(states));
    await processRecord(sqsRecord(envelopeBody('test.parent', { count: 2 }, 'job-r')), lambdaContext());
    expect(seen).not.toHaveBeenCalled();
    const dead = updates(dynamo).find((update) => update.ExpressionAttributeValues[':dead'] === 'dead');
    expect(dead?.ExpressionAttributeValues[':error']).toMatchObject({
      name: 'ChildJobsFailedError',
      message: '1 child job did not succeed: job-r.wait1.1 (dead)',
      retryable: false,
    });
  });
});
