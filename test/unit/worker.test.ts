import { ChangeMessageVisibilityCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { RedeliveryRequestedError } from '../../functions/worker/process-record.js';
import { defineJob, defineRegistry, NonRetryableError } from '../../shared/index.js';
import { claimedRecord, DLQ_URL, envelopeBody, lambdaContext, QUEUE_URL, sqsRecord } from '../helpers/events.js';
import { conditionFailed, type HarnessUpdate, workerHarness } from '../helpers/worker-harness.js';

const ran = vi.fn();
const registry = defineRegistry(
  defineJob({
    name: 'test.echo',
    schema: z.object({ message: z.string() }),
    retry: { maxAttempts: 3, baseDelay: '1s', maxDelay: '5s', jitter: 'none' },
    handler: async ({ message }, { attempt }) => {
      ran(message, attempt);
      return { message };
    },
  }),
  defineJob({
    name: 'test.boom',
    schema: z.object({}),
    retry: { maxAttempts: 3, baseDelay: '2s', maxDelay: '5s', jitter: 'none' },
    handler: async () => {
      throw new Error('downstream unavailable');
    },
  }),
  defineJob({
    name: 'test.fatal',
    schema: z.object({}),
    handler: async () => {
      throw new NonRetryableError('no such user');
    },
  }),
  defineJob({
    name: 'test.hang',
    schema: z.object({}),
    timeout: '1s',
    retry: { maxAttempts: 3, baseDelay: '1s', jitter: 'none' },
    handler: () => new Promise(() => undefined),
  }),
);

afterEach(() => ran.mockReset());

function updates(dynamo: ReturnType<typeof workerHarness>['dynamo']) {
  return dynamo.commandCalls(UpdateCommand).map((call) => call.args[0].input as unknown as HarnessUpdate);
}

describe('worker record processing', () => {
  it('claims, runs and records success of a valid job', async () => {
    const { processRecord, dynamo, sqs } = workerHarness(registry);
    await processRecord(sqsRecord(envelopeBody('test.echo', { message: 'hi' }, 'job-1')), lambdaContext());

    expect(ran).toHaveBeenCalledWith('hi', 1);
    const [claim, success] = updates(dynamo);
    expect(claim?.ConditionExpression).toMatch(/attribute_not_exists\(id\)/);
    expect(success).toMatchObject({
      Key: { id: 'job-1' },
      ConditionExpression: '#state = :running AND attempts = :attempt',
      ExpressionAttributeValues: expect.objectContaining({
        ':succeeded': 'succeeded',
        ':attempt': 1,
        ':result': { message: 'hi' },
      }),
    });
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
    // The hot path: a plain successful job costs the claim and the success write, and no read.
    expect(updates(dynamo)).toHaveLength(2);
    expect(dynamo.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('records a retryable failure, delays redelivery by the backoff, and asks SQS to redeliver', async () => {
    const { processRecord, dynamo, sqs } = workerHarness(registry);
    const message = sqsRecord(envelopeBody('test.boom', {}, 'job-2'));

    await expect(processRecord(message, lambdaContext())).rejects.toBeInstanceOf(RedeliveryRequestedError);

    expect(updates(dynamo)[1]).toMatchObject({
      ExpressionAttributeValues: expect.objectContaining({
        ':retrying': 'retrying',
        ':error': expect.objectContaining({ name: 'Error', message: 'downstream unavailable', retryable: true }),
      }),
    });
    expect(sqs).toHaveReceivedCommandWith(ChangeMessageVisibilityCommand, {
      QueueUrl: QUEUE_URL,
      ReceiptHandle: message.receiptHandle,
      VisibilityTimeout: 2,
    });
  });

  it('marks the job dead and dead-letters the message after the last attempt', async () => {
    const { processRecord, dynamo, sqs } = workerHarness(registry, {
      claim: (input) => claimedRecord({ ...input, attempts: 3, maxAttempts: 3 }),
    });
    await processRecord(sqsRecord(envelopeBody('test.boom', {}, 'job-3')), lambdaContext());

    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
      QueueUrl: DLQ_URL,
      MessageAttributes: expect.objectContaining({ 'jobstack-job-id': { DataType: 'String', StringValue: 'job-3' } }),
    });
    expect(updates(dynamo)[1]).toMatchObject({
      ExpressionAttributeValues: expect.objectContaining({ ':dead': 'dead', ':attempt': 3 }),
    });
    expect(sqs).not.toHaveReceivedCommand(ChangeMessageVisibilityCommand);
  });

  it('skips retries for a non-retryable error', async () => {
    const { processRecord, dynamo, sqs } = workerHarness(registry);
    await processRecord(sqsRecord(envelopeBody('test.fatal', {}, 'job-4')), lambdaContext());

    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: DLQ_URL });
    expect(updates(dynamo)[1]?.ExpressionAttributeValues).toMatchObject({
      ':dead': 'dead',
      ':error': { name: 'NonRetryableError', message: 'no such user', retryable: false },
    });
  });

  it('fails the attempt when the handler outlives its timeout, even if it ignores the signal', async () => {
    const { processRecord, dynamo } = workerHarness(registry);
    await expect(processRecord(sqsRecord(envelopeBody('test.hang', {}, 'job-5')), lambdaContext())).rejects.toBeInstanceOf(
      RedeliveryRequestedError,
    );
    expect(updates(dynamo)[1]?.ExpressionAttributeValues).toMatchObject({ ':error': { name: 'JobTimeoutError' } });
  });

  it('moves a non-JSON message to the dead-letter queue without touching DynamoDB or throwing', async () => {
    const { processRecord, dynamo, sqs } = workerHarness(registry);
    await processRecord(sqsRecord('definitely not json'), lambdaContext());

    expect(dynamo.calls()).toHaveLength(0);
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
      QueueUrl: DLQ_URL,
      MessageBody: 'definitely not json',
      MessageAttributes: expect.objectContaining({
        'jobstack-error-name': { DataType: 'String', StringValue: 'InvalidEnvelopeError' },
      }),
    });
  });

  it('marks a job with an invalid payload dead with the reason, never running it', async () => {
    const { processRecord, dynamo, sqs } = workerHarness(registry);
    await processRecord(sqsRecord(envelopeBody('test.echo', { message: 42 }, 'job-6')), lambdaContext());

    expect(ran).not.toHaveBeenCalled();
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: DLQ_URL });
    const [dead] = updates(dynamo);
    expect(dead?.ConditionExpression).toMatch(/attribute_not_exists\(id\) OR #state IN/);
    expect(dead?.ExpressionAttributeValues).toMatchObject({
      ':dead': 'dead',
      ':error': { name: 'InvalidPayloadError', message: expect.stringMatching(/message: .*string/), retryable: false },
    });
  });

  it('marks a job of an unknown type dead', async () => {
    const { processRecord, dynamo } = workerHarness(registry);
    await processRecord(sqsRecord(envelopeBody('no.such.type', {}, 'job-7')), lambdaContext());
    expect(updates(dynamo)[0]?.ExpressionAttributeValues).toMatchObject({ ':error': { name: 'UnknownJobTypeError' } });
  });

  it('drops a duplicate delivery of a finished job without running it', async () => {
    const { processRecord, dynamo, sqs } = workerHarness(registry, {
      claim: (input) => ({ conditionFailed: claimedRecord({ ...input, state: 'succeeded' }) }),
    });
    await processRecord(sqsRecord(envelopeBody('test.echo', { message: 'again' }, 'job-8')), lambdaContext());

    expect(ran).not.toHaveBeenCalled();
    expect(updates(dynamo)).toHaveLength(1);
    expect(sqs.calls()).toHaveLength(0);
  });

  it('asks for redelivery after the lease when another delivery is running the job', async () => {
    const { processRecord, sqs } = workerHarness(registry, {
      claim: (input) => ({ conditionFailed: claimedRecord({ ...input, leaseUntil: Date.now() + 30_000 }) }),
    });
    await expect(processRecord(sqsRecord(envelopeBody('test.echo', { message: 'x' })), lambdaContext())).rejects.toBeInstanceOf(
      RedeliveryRequestedError,
    );
    expect(ran).not.toHaveBeenCalled();
    const visibility = sqs.commandCalls(ChangeMessageVisibilityCommand)[0]?.args[0].input.VisibilityTimeout ?? 0;
    expect(visibility).toBeGreaterThanOrEqual(29);
    expect(visibility).toBeLessThanOrEqual(30);
  });

  it('marks dead a job whose previous run died on its last attempt, without running it', async () => {
    const { processRecord, dynamo, sqs } = workerHarness(registry, {
      claim: (input) => claimedRecord({ ...input, attempts: 4, maxAttempts: 3 }),
    });
    await processRecord(sqsRecord(envelopeBody('test.echo', { message: 'x' }, 'job-9')), lambdaContext());

    expect(ran).not.toHaveBeenCalled();
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: DLQ_URL });
    expect(updates(dynamo)[1]?.ExpressionAttributeValues).toMatchObject({ ':error': { name: 'AttemptsExhaustedError' } });
  });
});

describe('cancellation of a running job', () => {
  const cancellable = defineRegistry(
    defineJob({
      name: 'test.steps',
      schema: z.object({}),
      handler: async (_payload, ctx) => {
        await ctx.progress(50);
        return { done: true };
      },
    }),
  );

  it('ends the job cancelled when its progress check sees a cancel request, without retrying', async () => {
    const { processRecord, dynamo, sqs } = workerHarness(cancellable);
    dynamo.on(UpdateCommand).callsFake((input: { UpdateExpression: string; Key: { id: string } }) => {
      if (input.UpdateExpression.includes('ADD attempts'))
        return { Attributes: claimedRecord({ id: input.Key.id, type: 'test.steps' }) };
      if (input.UpdateExpression.includes('progress')) return { Attributes: { state: 'running', cancelRequested: true } };
      return {};
    });
    await processRecord(sqsRecord(envelopeBody('test.steps', {}, 'job-c')), lambdaContext());

    const last = updates(dynamo).at(-1);
    expect(last?.ExpressionAttributeValues).toMatchObject({ ':cancelled': 'cancelled', ':attempt': 1 });
    expect(sqs.calls()).toHaveLength(0);
  });
});

describe('job types that are names of Object members (fault 11)', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    'marks a job of type %s dead as an unknown type instead of crashing',
    async (type) => {
      const { processRecord, dynamo, sqs } = workerHarness(registry);
      await processRecord(sqsRecord(envelopeBody(type, {}, 'job-proto')), lambdaContext());

      expect(updates(dynamo)[0]?.ExpressionAttributeValues).toMatchObject({
        ':dead': 'dead',
        ':error': { name: 'UnknownJobTypeError', retryable: false },
      });
      expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: DLQ_URL });
    },
  );
});

describe('recording the outcome of a handler that returned (fault 3)', () => {
  const effects = vi.fn();
  const outcomes = defineRegistry(
    defineJob({
      name: 'test.effect',
      schema: z.object({ big: z.boolean().default(false) }),
      handler: async ({ big }) => {
        effects();
        return big ? { orderId: 2 ** 60, ok: true } : { ok: true };
      },
    }),
  );
  afterEach(() => effects.mockReset());

  const isSuccess = (input: HarnessUpdate) => input.ExpressionAttributeValues[':succeeded'] === 'succeeded';
  const isDead = (input: HarnessUpdate) => input.ExpressionAttributeValues[':dead'] === 'dead';

  it('stores a result with numbers beyond 2^53 as a placeholder carrying its exact JSON text, running the handler once', async () => {
    const { processRecord, dynamo, sqs } = workerHarness(outcomes);
    await processRecord(sqsRecord(envelopeBody('test.effect', { big: true }, 'job-big')), lambdaContext());

    expect(effects).toHaveBeenCalledTimes(1);
    const success = updates(dynamo).find(isSuccess);
    expect(success?.ExpressionAttributeValues[':result']).toEqual({
      resultNotStorable: true,
      reason: expect.stringMatching(/orderId: 1152921504606847000 is beyond/),
      json: JSON.stringify({ orderId: 2 ** 60, ok: true }),
    });
    expect(sqs.calls()).toHaveLength(0);
  });

  it('tries a success write that fails again, without running the handler again', async () => {
    let failures = 2;
    const { processRecord, dynamo } = workerHarness(outcomes, {
      update: (input) => {
        if (isSuccess(input) && failures-- > 0) throw new Error('ProvisionedThroughputExceededException');
        return {};
      },
    });
    await processRecord(sqsRecord(envelopeBody('test.effect', {}, 'job-flaky')), lambdaContext());

    expect(effects).toHaveBeenCalledTimes(1);
    expect(updates(dynamo).filter(isSuccess)).toHaveLength(3);
    expect(updates(dynamo).some((input) => input.UpdateExpression.startsWith('SET #state = :retrying'))).toBe(false);
  });

  it('ends the job dead with OutcomeNotRecordedError when its success cannot be written, never running it again', async () => {
    const { processRecord, dynamo, sqs } = workerHarness(outcomes, {
      update: (input) => {
        if (isSuccess(input)) throw new Error('InternalServerError');
        return {};
      },
    });
    await processRecord(sqsRecord(envelopeBody('test.effect', {}, 'job-lost')), lambdaContext());

    expect(effects).toHaveBeenCalledTimes(1);
    expect(updates(dynamo).find(isDead)?.ExpressionAttributeValues).toMatchObject({
      ':attempt': 1,
      ':error': { name: 'OutcomeNotRecordedError', message: expect.stringMatching(/InternalServerError/), retryable: false },
    });
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: DLQ_URL });
    expect(sqs).not.toHaveReceivedCommand(ChangeMessageVisibilityCommand);
  });

  it('lets the message come back when neither the success nor the death can be written', async () => {
    const { processRecord } = workerHarness(outcomes, {
      update: () => {
        throw new Error('InternalServerError');
      },
    });
    await expect(processRecord(sqsRecord(envelopeBody('test.effect', {}, 'job-down')), lambdaContext())).rejects.toThrow(
      /InternalServerError/,
    );
    expect(effects).toHaveBeenCalledTimes(1);
  });
});

describe('a failed dead-letter copy never leaves a job to run again (fault 5)', () => {
  const pendingDead = (input: HarnessUpdate) => input.ExpressionAttributeValues[':pending'] === true;

  it('marks the job dead with the copy owed and asks for the message back when the copy fails', async () => {
    const { processRecord, dynamo, sqs } = workerHarness(registry);
    sqs.on(SendMessageCommand).rejects(new Error('InvalidParameterValue: invalid characters in attribute'));

    await expect(processRecord(sqsRecord(envelopeBody('test.fatal', {}, 'job-d1')), lambdaContext())).rejects.toBeInstanceOf(
      RedeliveryRequestedError,
    );
    const dead = updates(dynamo).find(pendingDead);
    expect(dead?.ConditionExpression).toBe('#state = :running AND attempts = :attempt');
    expect(dead?.ExpressionAttributeValues).toMatchObject({
      ':dead': 'dead',
      ':attempt': 1,
      ':error': { name: 'NonRetryableError' },
    });
  });

  it('sends the owed copy when the message comes back to the dead job, without running it', async () => {
    const deadRecord = claimedRecord({
      id: 'job-d2',
      type: 'test.echo',
      state: 'dead',
      deadLetterPending: true,
      error: { name: 'NonRetryableError', message: 'no such user', retryable: false },
    });
    const { processRecord, dynamo, sqs } = workerHarness(registry, { claim: () => ({ conditionFailed: deadRecord }) });
    await processRecord(sqsRecord(envelopeBody('test.echo', { message: 'x' }, 'job-d2')), lambdaContext());

    expect(ran).not.toHaveBeenCalled();
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
      QueueUrl: DLQ_URL,
      MessageAttributes: expect.objectContaining({
        'jobstack-error-name': { DataType: 'String', StringValue: 'NonRetryableError' },
      }),
    });
    expect(updates(dynamo).at(-1)).toMatchObject({ Key: { id: 'job-d2' }, UpdateExpression: 'REMOVE deadLetterPending' });
  });

  it('marks a poison message dead with the copy owed when the copy fails, then pays the debt on redelivery', async () => {
    const first = workerHarness(registry);
    first.sqs.on(SendMessageCommand).rejects(new Error('throttled'));
    const message = sqsRecord(envelopeBody('test.echo', { message: 42 }, 'job-p1'));
    await expect(first.processRecord(message, lambdaContext())).rejects.toBeInstanceOf(RedeliveryRequestedError);
    expect(updates(first.dynamo).find(pendingDead)?.ExpressionAttributeValues).toMatchObject({
      ':error': { name: 'InvalidPayloadError' },
    });

    const again = workerHarness(registry, {
      update: (input) => {
        if (isDeadUpdate(input)) throw conditionFailed();
        return {};
      },
    });
    await again.processRecord(message, lambdaContext());
    expect(again.sqs).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: DLQ_URL });
    expect(updates(again.dynamo).at(-1)).toMatchObject({ Key: { id: 'job-p1' }, UpdateExpression: 'REMOVE deadLetterPending' });
  });

  function isDeadUpdate(input: HarnessUpdate): boolean {
    return input.ExpressionAttributeValues[':dead'] === 'dead' && input.UpdateExpression.startsWith('SET');
  }
});

describe('cancel aborts the signal of a running handler (fault 13)', () => {
  const stopped = vi.fn();
  const cooperative = defineRegistry(
    defineJob({
      name: 'test.fetching',
      schema: z.object({}),
      timeout: '60s',
      // Like fetch(url, { signal }): rejects with the signal's reason when it aborts.
      handler: (_payload, { signal }) =>
        new Promise((_, reject) => {
          signal.addEventListener('abort', () => {
            stopped();
            reject(signal.reason);
          });
        }),
    }),
  );
  afterEach(() => {
    stopped.mockReset();
    vi.useRealTimers();
  });

  it('aborts at the first look after a cancel request, and the job ends cancelled, not retried', async () => {
    vi.useFakeTimers();
    let cancelRequested = false;
    const { processRecord, dynamo, sqs } = workerHarness(cooperative, {
      get: (id) => claimedRecord({ id, type: 'test.fetching', cancelRequested }),
    });
    const done = processRecord(sqsRecord(envelopeBody('test.fetching', {}, 'job-x')), lambdaContext(120_000));

    await vi.advanceTimersByTimeAsync(5_000);
    expect(dynamo.commandCalls(GetCommand)).toHaveLength(1);
    expect(dynamo.commandCalls(GetCommand)[0]?.args[0].input).toMatchObject({ Key: { id: 'job-x' }, ConsistentRead: false });
    expect(stopped).not.toHaveBeenCalled();

    cancelRequested = true;
    await vi.advanceTimersByTimeAsync(5_000);
    await done;

    expect(stopped).toHaveBeenCalledTimes(1);
    expect(updates(dynamo).at(-1)?.ExpressionAttributeValues).toMatchObject({ ':cancelled': 'cancelled', ':attempt': 1 });
    expect(sqs.calls()).toHaveLength(0);
  });

  it('lets a handler that ignores the abort run to its deadline, then ends the job cancelled rather than retried', async () => {
    vi.useFakeTimers();
    const deaf = defineRegistry(
      defineJob({ name: 'test.deaf', schema: z.object({}), timeout: '10s', handler: () => new Promise(() => undefined) }),
    );
    const { processRecord, dynamo, sqs } = workerHarness(deaf, {
      get: (id) => claimedRecord({ id, type: 'test.deaf', cancelRequested: true }),
    });
    let settled = false;
    const done = processRecord(sqsRecord(envelopeBody('test.deaf', {}, 'job-z')), lambdaContext(120_000)).finally(() => {
      settled = true;
    });
    await vi.advanceTimersByTimeAsync(9_000);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1_000);
    await done;
    expect(updates(dynamo).at(-1)?.ExpressionAttributeValues).toMatchObject({ ':cancelled': 'cancelled' });
    expect(sqs.calls()).toHaveLength(0);
  });

  it('does not look at the record at all while the first seconds of a run pass', async () => {
    vi.useFakeTimers();
    const { processRecord, dynamo } = workerHarness(cooperative, {
      get: (id) => claimedRecord({ id, type: 'test.fetching', cancelRequested: true }),
    });
    const done = processRecord(sqsRecord(envelopeBody('test.fetching', {}, 'job-y')), lambdaContext(120_000)).catch(
      (error: unknown) => error,
    );
    await vi.advanceTimersByTimeAsync(4_999);
    expect(dynamo.commandCalls(GetCommand)).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    await done;
    expect(stopped).toHaveBeenCalledTimes(1);
  });
});
