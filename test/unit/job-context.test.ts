import { Logger } from '@aws-lambda-powertools/logger';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createJobContext } from '../../functions/worker/job-context.js';
import { jobLog } from '../../functions/worker/job-log.js';
import { IdempotencyStore, JobCancelledError, JobStore, LeaseLostError } from '../../shared/index.js';
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
    },
  );
}

beforeEach(() => {
  dynamo.reset();
  dynamo.onAnyCommand().resolves({});
});

describe('ctx.once', () => {
  it('runs the step, then stores its result for later attempts', async () => {
    const step = vi.fn(async () => ({ charged: 42 }));
    expect(await context().once('charge', step)).toEqual({ charged: 42 });
    expect(step).toHaveBeenCalledTimes(1);
    expect(dynamo).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ id: 'step#job-1#charge', status: 'in_progress', attempt: 1 }),
    });
    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { id: 'step#job-1#charge' },
      ExpressionAttributeValues: expect.objectContaining({ ':completed': 'completed', ':result': { charged: 42 } }),
    });
  });

  it('returns the stored result without running the step again on a later attempt', async () => {
    dynamo.on(GetCommand).resolves({ Item: { id: 'step#job-1#charge', status: 'completed', result: { charged: 42 } } });
    const step = vi.fn(async () => ({ charged: 99 }));
    expect(await context(2).once('charge', step)).toEqual({ charged: 42 });
    expect(step).not.toHaveBeenCalled();
  });

  it('forgets a failed step so the next attempt runs it', async () => {
    await expect(context().once('charge', async () => Promise.reject(new Error('card declined')))).rejects.toThrow(
      'card declined',
    );
    expect(dynamo).toHaveReceivedCommandWith(DeleteCommand, { Key: { id: 'step#job-1#charge' } });
  });

  it('refuses to run when a later attempt already started the step', async () => {
    dynamo.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));
    await expect(context().once('charge', async () => 1)).rejects.toBeInstanceOf(LeaseLostError);
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
