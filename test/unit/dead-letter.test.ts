import { Logger } from '@aws-lambda-powertools/logger';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createUndeliverableProcessor } from '../../functions/dead-letter/process-undeliverable.js';
import { JobQueue, JobStore } from '../../shared/index.js';
import { DLQ_URL, envelopeBody, QUEUE_URL, sqsRecord } from '../helpers/events.js';

const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const sqsClient = new SQSClient({ region: 'us-east-1' });
const dynamo = mockClient(documentClient);
const sqs = mockClient(sqsClient);
const process = createUndeliverableProcessor({
  store: new JobStore(documentClient, 'jobs'),
  queue: new JobQueue(sqsClient, QUEUE_URL, DLQ_URL),
  logger: new Logger({ logLevel: 'SILENT' }),
});

beforeEach(() => {
  dynamo.reset();
  sqs.reset();
  dynamo.onAnyCommand().resolves({});
  sqs.onAnyCommand().resolves({});
});

describe('undeliverable message handler', () => {
  it('marks the job dead with the delivery limit as reason and forwards the message to the DLQ', async () => {
    const body = envelopeBody('demo.sleep', { ms: 1 }, 'crashy');
    await process(sqsRecord(body, { attributes: { ...sqsRecord('').attributes, ApproximateReceiveCount: '5' } }));

    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { id: 'crashy' },
      ExpressionAttributeValues: expect.objectContaining({
        ':dead': 'dead',
        ':error': expect.objectContaining({ name: 'DeliveryLimitExceeded', message: expect.stringMatching(/received 5 times/) }),
      }),
    });
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
      QueueUrl: DLQ_URL,
      MessageBody: body,
      MessageAttributes: expect.objectContaining({
        'jobstack-error-name': { DataType: 'String', StringValue: 'DeliveryLimitExceeded' },
      }),
    });
  });

  it('drops the copy of a job that already finished', async () => {
    dynamo.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'done', $metadata: {} }));
    dynamo.on(GetCommand).resolves({ Item: { id: 'done', state: 'succeeded' } });
    await process(sqsRecord(envelopeBody('demo.echo', { message: 'x' }, 'done')));
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it('forwards an unreadable message as it is', async () => {
    await process(sqsRecord('garbage'));
    expect(dynamo.calls()).toHaveLength(0);
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: DLQ_URL, MessageBody: 'garbage' });
  });
});

describe('undeliverable message metrics', () => {
  it('counts the job it marks dead for its queue', async () => {
    const dead: unknown[] = [];
    const observed = createUndeliverableProcessor({
      store: new JobStore(documentClient, 'jobs'),
      queue: new JobQueue(sqsClient, QUEUE_URL, DLQ_URL),
      logger: new Logger({ logLevel: 'SILENT' }),
      queueName: 'default',
      observer: {
        started: () => undefined,
        succeeded: () => undefined,
        retried: () => undefined,
        cancelled: () => undefined,
        dead: (job, reason) => dead.push({ ...job, reason }),
      },
    });
    await observed(sqsRecord(envelopeBody('demo.sleep', { ms: 1 }, 'crashy')));
    expect(dead).toEqual([{ jobType: 'demo.sleep', queue: 'default', attempt: 0, reason: 'DeliveryLimitExceeded' }]);
  });
});
