import { ChangeMessageVisibilityCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { RedeliveryRequestedError } from '../../functions/worker/process-record.js';
import { defineJob, defineRegistry, NonRetryableError } from '../../shared/index.js';
import { claimedRecord, DLQ_URL, envelopeBody, lambdaContext, QUEUE_URL, sqsRecord } from '../helpers/events.js';
import { workerHarness } from '../helpers/worker-harness.js';

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
  return dynamo.commandCalls(UpdateCommand).map((call) => call.args[0].input);
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
