import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  configFromOutputs,
  createJobClient,
  defineJob,
  defineRegistry,
  IdempotencyStore,
  InvalidPayloadError,
  JobstackError,
} from '../../shared/index.js';
import { DLQ_URL, QUEUE_URL } from '../helpers/events.js';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const sqsClient = new SQSClient({ region: 'us-east-1' });
const dynamo = mockClient(documentClient);
const sqs = mockClient(sqsClient);

beforeEach(() => {
  dynamo.reset();
  sqs.reset();
  dynamo.onAnyCommand().resolves({});
  sqs.onAnyCommand().resolves({});
});

describe('enqueue idempotency keys', () => {
  const store = new IdempotencyStore(documentClient, 'idem', { clock: () => NOW });

  const jobFinished = async () => true;

  it('binds a free key for the window', async () => {
    expect(await store.bindEnqueueKey('mail.send', 'k1', 'job-a', 24 * 3_600_000, { jobFinished })).toEqual({
      jobId: 'job-a',
      bound: true,
    });
    expect(dynamo).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ id: 'enqueue#mail.send#k1', jobId: 'job-a', expiresAt: NOW / 1_000 + 24 * 3_600 }),
      ConditionExpression: 'attribute_not_exists(id)',
    });
  });

  it('returns the owner of a live binding', async () => {
    dynamo.on(PutCommand).rejects(
      new ConditionalCheckFailedException({
        message: 'taken',
        $metadata: {},
        Item: marshall({ id: 'enqueue#mail.send#k1', jobId: 'job-first', expiresAt: NOW / 1_000 + 60 }),
      }),
    );
    expect(await store.bindEnqueueKey('mail.send', 'k1', 'job-b', 60_000, { jobFinished })).toEqual({
      jobId: 'job-first',
      bound: false,
    });
  });

  it("a caller that lost the race creates the owner's job if the owner never did, and sends it once", async () => {
    const registry = defineRegistry(
      defineJob({ name: 'mail.send', schema: z.object({ to: z.string() }), handler: async () => null }),
    );
    const jobs = createJobClient({ registry, config: config(), clients: clients() });
    dynamo.on(PutCommand).callsFake((input: { TableName: string }) => {
      if (input.TableName === 'idem') {
        throw new ConditionalCheckFailedException({
          message: 'taken',
          $metadata: {},
          Item: marshall({ jobId: 'job-first', expiresAt: 9_999_999_999 }),
        });
      }
      return {};
    });
    const result = await jobs.enqueue('mail.send', { to: 'x' }, { idempotencyKey: 'k1' });
    expect(result).toMatchObject({ jobId: 'job-first', created: true });
    expect(dynamo).toHaveReceivedCommandWith(PutCommand, {
      TableName: 'jobs',
      Item: expect.objectContaining({ id: 'job-first', idempotencyKey: 'k1' }),
    });
    expect(sqs).toHaveReceivedCommandTimes(SendMessageCommand, 1);
  });
});

describe('payload validation at enqueue (property)', () => {
  const registry = defineRegistry(
    defineJob({
      name: 'order.ship',
      schema: z.object({
        orderId: z.string().min(1),
        items: z.array(z.object({ sku: z.string(), qty: z.number().int().positive() })),
      }),
      handler: async () => null,
    }),
  );

  it('accepts a payload or rejects it with a typed error before anything is written; nothing else escapes', async () => {
    const jobs = createJobClient({ registry, config: config(), clients: clients() });
    await fc.assert(
      fc.asyncProperty(fc.anything(), async (payload) => {
        dynamo.resetHistory();
        try {
          await jobs.enqueue('order.ship', payload as never);
        } catch (error) {
          expect(error).toBeInstanceOf(JobstackError);
          if (error instanceof InvalidPayloadError) expect(dynamo.calls()).toHaveLength(0);
        }
      }),
      { numRuns: 500 },
    );
  });
});

function config() {
  return configFromOutputs('test', {
    JobsTableName: 'jobs',
    IdempotencyTableName: 'idem',
    QueueNames: 'default',
    QueueUrlDefault: QUEUE_URL,
    DeadLetterQueueUrlDefault: DLQ_URL,
  });
}

function clients() {
  return { documentClient, sqs: sqsClient, cloudFormation: new CloudFormationClient({ region: 'us-east-1' }) };
}
