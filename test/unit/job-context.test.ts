import { Logger } from '@aws-lambda-powertools/logger';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { AttemptFlows } from '../../functions/worker/attempt-flows.js';
import { createJobContext } from '../../functions/worker/job-context.js';
import { jobLog } from '../../functions/worker/job-log.js';
import {
  IdempotencyStore,
  InvalidArgumentError,
  JobCancelledError,
  JobStore,
  LeaseLostError,
  NonRetryableError,
  StepOutcomeUnknownError,
} from '../../shared/index.js';
import { claimedRecord } from '../helpers/events.js';

const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const dynamo = mockClient(documentClient);
const logger = new Logger({ logLevel: 'SILENT' });

function context(attempt = 1) {
  const record = claimedRecord({ id: 'job-1', type: 'demo.once', attempts: attempt });
  return createJobContext(
    {
      store: new JobStore(documentClient, 'jobs'),
      idempotency: new IdempotencyStore(documentClient, 'idem'),
      stepRetentionMs: 60_000,
    },
    {
      record,
      attempt,
      correlationId: 'job-1',
      logger: jobLog(logger, { jobId: 'job-1' }),
      signal: new AbortController().signal,
      deadline: Date.now() + 60_000,
      flows: new AttemptFlows({}, { id: 'job-1', type: 'demo.once', correlationId: 'job-1' }, attempt),
    },
  );
}

beforeEach(() => {
  dynamo.reset();
  dynamo.onAnyCommand().resolves({});
});

describe('ctx.once', () => {
  const stepId = 'step#job-1#charge';
  const conditionFailed = () => new ConditionalCheckFailedException({ message: 'no', $metadata: {} });

  it('runs the step, then stores its result as JSON text for later attempts', async () => {
    const step = vi.fn(async () => ({ charged: 42 }));
    expect(await context().once('charge', step)).toEqual({ charged: 42 });
    expect(step).toHaveBeenCalledTimes(1);
    expect(dynamo).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ id: stepId, status: 'in_progress', attempt: 1 }),
      ConditionExpression: 'attribute_not_exists(id)',
    });
    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { id: stepId },
      ConditionExpression: '#status = :inProgress AND attempt = :attempt',
      ExpressionAttributeValues: expect.objectContaining({ ':completed': 'completed', ':resultJson': '{"charged":42}' }),
    });
  });

  it('returns the stored result without running the step again on a later attempt', async () => {
    dynamo.on(GetCommand).resolves({ Item: { id: stepId, status: 'completed', resultJson: '{"charged":42}' } });
    const step = vi.fn(async () => ({ charged: 99 }));
    expect(await context(2).once('charge', step)).toEqual({ charged: 42 });
    expect(step).not.toHaveBeenCalled();
  });

  it('round-trips numbers the document client cannot hold (beyond 2^53) and other JSON values', async () => {
    const result = { big: 2 ** 60, tiny: 1e-200, list: [null, true, 'x'], nested: { n: -(2 ** 70) } };
    const stored: Record<string, unknown>[] = [];
    dynamo.on(UpdateCommand).callsFake((input: { ExpressionAttributeValues: Record<string, unknown> }) => {
      stored.push(input.ExpressionAttributeValues);
      return {};
    });
    expect(await context().once('charge', async () => result)).toEqual(result);
    const resultJson = stored[0]?.[':resultJson'];
    expect(typeof resultJson).toBe('string');
    dynamo.on(GetCommand).resolves({ Item: { id: stepId, status: 'completed', resultJson } });
    expect(await context(2).once('charge', async () => 0)).toEqual(result);
  });

  it('forgets a step that threw (known failed) so the next attempt runs it', async () => {
    await expect(context().once('charge', async () => Promise.reject(new Error('card declined')))).rejects.toThrow(
      'card declined',
    );
    expect(dynamo).toHaveReceivedCommandWith(DeleteCommand, { Key: { id: stepId } });
  });

  it("keeps the step's own error when forgetting the step fails (the marker stays: the next attempt sees it interrupted)", async () => {
    dynamo.on(DeleteCommand).rejects(new Error('throttled'));
    await expect(context().once('charge', async () => Promise.reject(new Error('card declined')))).rejects.toThrow(
      'card declined',
    );
  });

  describe('a step an earlier attempt started and never finished (outcome unknown)', () => {
    beforeEach(() => {
      dynamo.on(GetCommand).resolves({ Item: { id: stepId, status: 'in_progress', attempt: 1 } });
    });

    it('fails the job for a person to resolve by default, without running the step', async () => {
      const step = vi.fn(async () => 1);
      const failure = await context(2)
        .once('charge', step)
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(StepOutcomeUnknownError);
      expect(failure).toBeInstanceOf(NonRetryableError);
      expect(failure).toMatchObject({ jobId: 'job-1', jobType: 'demo.once', step: 'charge', startedByAttempt: 1 });
      expect(step).not.toHaveBeenCalled();
      expect(dynamo).not.toHaveReceivedCommand(PutCommand);
      expect(dynamo).not.toHaveReceivedCommand(DeleteCommand);
    });

    it("runs it again when the handler asks with onInterrupted: 'rerun', taking the marker over conditionally", async () => {
      const step = vi.fn(async () => 7);
      expect(await context(2).once('charge', step, { onInterrupted: 'rerun' })).toBe(7);
      expect(step).toHaveBeenCalledTimes(1);
      expect(dynamo).toHaveReceivedCommandWith(PutCommand, {
        Item: expect.objectContaining({ id: stepId, status: 'in_progress', attempt: 2 }),
        ConditionExpression: '#status = :inProgress AND attempt = :seenAttempt',
        ExpressionAttributeValues: expect.objectContaining({ ':seenAttempt': 1 }),
      });
    });

    it('stores what a resolver function returns (it looked the side effect up) and skips the step', async () => {
      const step = vi.fn(async () => ({ chargeId: 'new' }));
      const resolve = vi.fn(async () => ({ chargeId: 'found' }));
      expect(await context(2).once('charge', step, { onInterrupted: resolve })).toEqual({ chargeId: 'found' });
      expect(step).not.toHaveBeenCalled();
      expect(resolve).toHaveBeenCalledWith({ jobId: 'job-1', step: 'charge', startedByAttempt: 1 });
      expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
        ExpressionAttributeValues: expect.objectContaining({ ':resultJson': '{"chargeId":"found"}', ':attempt': 2 }),
      });
    });

    it('keeps the marker when the resolver throws, so the next attempt asks again instead of running the step', async () => {
      await expect(
        context(2).once('charge', async () => 1, { onInterrupted: async () => Promise.reject(new Error('lookup down')) }),
      ).rejects.toThrow('lookup down');
      expect(dynamo).not.toHaveReceivedCommand(DeleteCommand);
    });

    it('never lets two overlapping attempts both take it over: the loser of the conditional write runs nothing', async () => {
      dynamo.on(PutCommand).rejects(conditionFailed());
      dynamo
        .on(GetCommand)
        .resolvesOnce({ Item: { id: stepId, status: 'in_progress', attempt: 1 } })
        .resolves({ Item: { id: stepId, status: 'in_progress', attempt: 3 } });
      const step = vi.fn(async () => 1);
      await expect(context(2).once('charge', step, { onInterrupted: 'rerun' })).rejects.toBeInstanceOf(LeaseLostError);
      expect(step).not.toHaveBeenCalled();
    });
  });

  it('does not run the step when an overlapping later attempt began it first', async () => {
    dynamo.on(PutCommand).rejects(conditionFailed());
    dynamo
      .on(GetCommand)
      .resolvesOnce({})
      .resolves({ Item: { id: stepId, status: 'in_progress', attempt: 2 } });
    const step = vi.fn(async () => 1);
    await expect(context(1).once('charge', step)).rejects.toBeInstanceOf(LeaseLostError);
    expect(step).not.toHaveBeenCalled();
  });

  it('reports a lost lease when another attempt took the step over before this one stored its result', async () => {
    dynamo.on(UpdateCommand).rejects(conditionFailed());
    await expect(context().once('charge', async () => 1)).rejects.toBeInstanceOf(LeaseLostError);
  });

  it('fails (non-retryable) and keeps the marker when the result cannot be stored as JSON, since the step did run', async () => {
    await expect(context().once('charge', async () => ({ id: 10n }))).rejects.toBeInstanceOf(NonRetryableError);
    expect(dynamo).not.toHaveReceivedCommand(DeleteCommand);
  });
});

describe('ctx.progress', () => {
  it('stores progress with a fencing condition on the attempt', async () => {
    dynamo.on(UpdateCommand).resolves({ Attributes: { state: 'running' } });
    await context(3).progress(50, 'half');
    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
      ConditionExpression: '#state = :running AND attempts = :attempt',
      ExpressionAttributeValues: expect.objectContaining({ ':progress': { percent: 50, message: 'half' }, ':attempt': 3 }),
    });
  });

  it('throws JobCancelledError when cancel was requested', async () => {
    dynamo.on(UpdateCommand).resolves({ Attributes: { state: 'running', cancelRequested: true } });
    await expect(context().progress(10)).rejects.toBeInstanceOf(JobCancelledError);
  });

  it('throws LeaseLostError when another attempt owns the job', async () => {
    dynamo
      .on(UpdateCommand)
      .rejects(
        new ConditionalCheckFailedException({ message: 'no', $metadata: {}, Item: marshall({ state: 'running', attempts: 4 }) }),
      );
    await expect(context().progress(10)).rejects.toBeInstanceOf(LeaseLostError);
  });

  it('fails if the percent is out of range', async () => {
    await expect(context().progress(120)).rejects.toThrow(/0..100 \(given 120\)/);
  });
});

describe('resolving an interrupted step (operator)', () => {
  const store = new IdempotencyStore(documentClient, 'idem');

  it('records the step as completed with the given result, only while it is in progress', async () => {
    expect(await store.resolveStep('job-1', 'charge', { result: { chargeId: 'ch_1', big: 2 ** 60 } })).toBe(true);
    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { id: 'step#job-1#charge' },
      ConditionExpression: '#status = :inProgress',
      ExpressionAttributeValues: expect.objectContaining({ ':resultJson': JSON.stringify({ chargeId: 'ch_1', big: 2 ** 60 }) }),
    });
  });

  it('forgets the step for a rerun, only while it is in progress', async () => {
    expect(await store.resolveStep('job-1', 'charge', { rerun: true })).toBe(true);
    expect(dynamo).toHaveReceivedCommandWith(DeleteCommand, {
      Key: { id: 'step#job-1#charge' },
      ConditionExpression: '#status = :inProgress',
    });
  });

  it('answers false for a step that is not waiting for a verdict', async () => {
    dynamo.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));
    expect(await store.resolveStep('job-1', 'charge', { result: 1 })).toBe(false);
  });

  it('fails if the result is not JSON', async () => {
    await expect(store.resolveStep('job-1', 'charge', { result: 1n })).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
