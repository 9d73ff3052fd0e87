import { Logger } from '@aws-lambda-powertools/logger';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { createIntakeProcessor, UNREADABLE_EVENT_ERROR } from '../../functions/event-intake/process-intake.js';
import { silentObserver } from '../../functions/worker/job-observer.js';
import { configFromOutputs, defineJob, defineRegistry, JobQueue, JobStore } from '../../shared/index.js';
import { intakeInputTemplate } from '../../shared/triggers/intake-message.js';
import { mockedJobClient } from '../helpers/client-harness.js';
import { DLQ_URL, QUEUE_URL, sqsRecord } from '../helpers/events.js';

const INTAKE_URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/intake';
const INTAKE_DLQ_URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/intake-dlq';

const registry = defineRegistry(
  defineJob({ name: 'mail.send', schema: z.object({ to: z.email() }), handler: async () => undefined }),
  defineJob({
    name: 'orders.ship',
    schema: z.object({ orderId: z.string().min(1) }),
    retry: { maxAttempts: 4 },
    trigger: {
      source: 'shop.orders',
      detailType: 'OrderPlaced',
      payload: (event) => {
        const detail = event.detail as { id?: string; explode?: boolean };
        if (detail.explode) throw new Error('cannot read this order');
        return { orderId: detail.id ?? '' };
      },
    },
    handler: async () => undefined,
  }),
);
const config = configFromOutputs('test', {
  JobsTableName: 'jobs',
  IdempotencyTableName: 'idem',
  QueueNames: 'default',
  QueueUrlDefault: QUEUE_URL,
  DeadLetterQueueUrlDefault: DLQ_URL,
});

let harness: ReturnType<typeof mockedJobClient<typeof registry>>;
let processIntake: ReturnType<typeof createIntakeProcessor>;
const dead: unknown[] = [];

beforeEach(() => {
  harness = mockedJobClient(registry, config);
  // The processor's own writes and sends go through the same mocked clients as the client's.
  processIntake = createIntakeProcessor({
    registry,
    client: harness.jobs as never,
    store: new JobStore(harness.documentClient, 'jobs'),
    intakeQueue: new JobQueue(harness.sqsClient, INTAKE_URL, INTAKE_DLQ_URL),
    logger: new Logger({ logLevel: 'SILENT' }),
    observer: { ...silentObserver, dead: (job, reason) => dead.push({ ...job, reason }) },
  });
  dead.length = 0;
});

/** An intake message as the rule's input template renders it around an event. */
function message(kind: { kind: 'enqueue' } | { kind: 'trigger'; jobType: string }, event: Record<string, unknown>) {
  const body = intakeInputTemplate(kind).replace('<aws.events.event.json>', JSON.stringify(event));
  return sqsRecord(body);
}

function enqueueEvent(detail: unknown, id = '11111111-2222-3333-4444-555555555555') {
  return message({ kind: 'enqueue' }, { version: '0', id, source: 'billing', 'detail-type': 'jobstack.enqueue', detail });
}

function orderEvent(detail: unknown, id = 'aaaaaaaa-2222-3333-4444-555555555555') {
  return message(
    { kind: 'trigger', jobType: 'orders.ship' },
    { version: '0', id, source: 'shop.orders', 'detail-type': 'OrderPlaced', detail },
  );
}

function createdRecord() {
  const put = harness.dynamo.commandCalls(PutCommand).at(-1);
  return put?.args[0].input.Item as Record<string, unknown>;
}

describe('jobstack.enqueue events', () => {
  it('enqueue through the client with a job id from the event id', async () => {
    const outcome = await processIntake(enqueueEvent({ type: 'mail.send', payload: { to: 'a@example.com' } }));
    expect(outcome).toEqual({ outcome: 'enqueued', jobId: 'ev:mail.send:11111111-2222-3333-4444-555555555555', created: true });
    expect(harness.dynamo).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ id: 'ev:mail.send:11111111-2222-3333-4444-555555555555', state: 'queued' }),
      ConditionExpression: expect.stringMatching(/attribute_not_exists/),
    });
    expect(harness.sqs).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: QUEUE_URL });
  });

  it('pass jobId, idempotencyKey and delay on as the SDK options', async () => {
    await processIntake(
      enqueueEvent({ type: 'mail.send', payload: { to: 'a@example.com' }, jobId: 'mine-1', idempotencyKey: 'k-1', delay: '30s' }),
    );
    expect(harness.dynamo).toHaveReceivedCommandWith(PutCommand, {
      TableName: 'idem',
      Item: expect.objectContaining({ id: 'enqueue#mail.send#k-1', jobId: 'mine-1' }),
    });
    expect(harness.sqs).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: QUEUE_URL, DelaySeconds: 30 });
  });

  it('a redelivered event creates nothing new (the record already exists)', async () => {
    harness.dynamo
      .on(PutCommand, { TableName: 'jobs' })
      .rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    const outcome = await processIntake(enqueueEvent({ type: 'mail.send', payload: { to: 'a@example.com' } }));
    expect(outcome).toMatchObject({ outcome: 'enqueued', created: false });
    expect(harness.sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it('a payload that fails the schema ends as a dead record with the reason, and nothing is sent', async () => {
    const outcome = await processIntake(enqueueEvent({ type: 'mail.send', payload: { to: 'not-an-email' } }));
    expect(outcome).toMatchObject({ outcome: 'dead', created: true, error: { name: 'InvalidPayloadError' } });
    expect(createdRecord()).toMatchObject({
      id: 'ev:mail.send:11111111-2222-3333-4444-555555555555',
      state: 'dead',
      type: 'mail.send',
      queue: 'default',
      payload: { to: 'not-an-email' },
      attentionState: expect.stringMatching(/^dead/),
      error: {
        name: 'InvalidPayloadError',
        message: expect.stringMatching(/invalid payload for job type 'mail\.send': to:/),
        retryable: false,
      },
    });
    expect(harness.sqs).not.toHaveReceivedCommand(SendMessageCommand);
    // Counted like the worker's dead jobs, so the queue's dead-jobs alarm sees refused events.
    expect(dead).toEqual([{ jobType: 'mail.send', queue: 'default', attempt: 0, reason: 'InvalidPayloadError' }]);
  });

  it('an unknown type ends as a dead record naming the type', async () => {
    const outcome = await processIntake(enqueueEvent({ type: 'no.such', payload: {} }));
    expect(outcome).toMatchObject({ outcome: 'dead', error: { name: 'UnknownJobTypeError' } });
    expect(createdRecord()).toMatchObject({
      type: 'no.such',
      queue: 'unknown',
      state: 'dead',
      error: { message: expect.stringMatching(/unknown job type 'no\.such'/) },
    });
  });

  it.each([
    ['an unknown field', { type: 'mail.send', payload: { to: 'a@example.com' }, dely: '30s' }, /Unrecognized key: "dely"/],
    ['a missing payload', { type: 'mail.send' }, /payload/],
    [
      'a jobId outside the alphabet',
      { type: 'mail.send', payload: { to: 'a@example.com' }, jobId: 'a b' },
      /jobId: job id must be/,
    ],
    ['a negative delay', { type: 'mail.send', payload: { to: 'a@example.com' }, delay: -5 }, /delay/],
  ])('a detail with %s ends as a dead record (InvalidEnqueueEventError)', async (_label, detail, reason) => {
    const outcome = await processIntake(enqueueEvent(detail));
    expect(outcome).toMatchObject({
      outcome: 'dead',
      error: { name: 'InvalidEnqueueEventError', message: expect.stringMatching(reason) },
    });
    expect(createdRecord()).toMatchObject({ type: 'mail.send', state: 'dead' });
    expect(harness.sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it('a malformed duration string is refused as the SDK refuses it', async () => {
    const outcome = await processIntake(enqueueEvent({ type: 'mail.send', payload: { to: 'a@example.com' }, delay: 'soon' }));
    expect(outcome).toMatchObject({ outcome: 'dead', error: { name: 'InvalidDurationError' } });
  });

  it.each([
    ['a detail that is not an object', 'hello'],
    ['a detail without a type', { payload: {} }],
    ['a type that is not a string', { type: 7, payload: {} }],
  ])('%s goes to the intake dead-letter queue with the reason', async (_label, detail) => {
    const record = enqueueEvent(detail);
    const outcome = await processIntake(record);
    expect(outcome).toMatchObject({ outcome: 'dead-lettered', reason: expect.stringMatching(/has no job type/) });
    expect(harness.sqs).toHaveReceivedCommandWith(SendMessageCommand, {
      QueueUrl: INTAKE_DLQ_URL,
      MessageBody: record.body,
      MessageAttributes: expect.objectContaining({
        'jobstack-error-name': { DataType: 'String', StringValue: UNREADABLE_EVENT_ERROR },
      }),
    });
    expect(harness.dynamo).not.toHaveReceivedCommand(PutCommand);
  });

  it.each([
    ['not JSON', 'not json', /not JSON/],
    ['not from an intake rule', JSON.stringify({ hello: 1 }), /not from a jobstack intake rule/],
    ['without an event id', JSON.stringify({ jobstack: 'enqueue', event: { source: 's' } }), /holds no EventBridge event/],
  ])('a message %s goes to the intake dead-letter queue', async (_label, body, reason) => {
    const outcome = await processIntake(sqsRecord(body));
    expect(outcome).toMatchObject({ outcome: 'dead-lettered', reason: expect.stringMatching(reason) });
    expect(harness.sqs).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: INTAKE_DLQ_URL, MessageBody: body });
  });

  it('a failing DynamoDB write throws, so SQS delivers the event again (no dead record)', async () => {
    harness.dynamo.on(PutCommand).rejects(new Error('throttled'));
    await expect(processIntake(enqueueEvent({ type: 'mail.send', payload: { to: 'a@example.com' } }))).rejects.toThrow(
      /throttled/,
    );
  });
});

describe('triggered job types', () => {
  it('enqueue the mapped payload with a job id from the job type and event id', async () => {
    const outcome = await processIntake(orderEvent({ id: 'o-1' }));
    expect(outcome).toEqual({ outcome: 'enqueued', jobId: 'ev:orders.ship:aaaaaaaa-2222-3333-4444-555555555555', created: true });
    expect(createdRecord()).toMatchObject({ type: 'orders.ship', state: 'queued', payload: { orderId: 'o-1' }, maxAttempts: 4 });
  });

  it('a mapped payload that fails the schema ends as a dead record with the reason', async () => {
    const outcome = await processIntake(orderEvent({}));
    expect(outcome).toMatchObject({ outcome: 'dead', error: { name: 'InvalidPayloadError' } });
    expect(createdRecord()).toMatchObject({
      id: 'ev:orders.ship:aaaaaaaa-2222-3333-4444-555555555555',
      state: 'dead',
      maxAttempts: 4,
      payload: { orderId: '' },
    });
  });

  it('a mapping that throws ends as a dead record (TriggerMappingError), the payload left out', async () => {
    const outcome = await processIntake(orderEvent({ explode: true }));
    expect(outcome).toMatchObject({
      outcome: 'dead',
      error: { name: 'TriggerMappingError', message: expect.stringMatching(/cannot read this order/) },
    });
    expect(createdRecord()).toMatchObject({ state: 'dead', payload: null });
  });

  it('a job type without a trigger in the registry throws (code and rules from different deploys)', async () => {
    const record = message({ kind: 'trigger', jobType: 'mail.send' }, { id: 'e-1', source: 's', 'detail-type': 'X', detail: {} });
    await expect(processIntake(record)).rejects.toThrow(/job type 'mail\.send' has no trigger/);
  });
});
