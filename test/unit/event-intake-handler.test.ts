import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { createEventIntakeHandler } from 'jobstack/worker';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventIntakeEnv } from '../../functions/event-intake/environment.js';
import { registry as demoHandlers } from '../../functions/jobs/handlers.js';
import { ClientEnv, configFromOutputs } from '../../shared/index.js';
import { intakeInputTemplate } from '../../shared/triggers/intake-message.js';
import { DLQ_URL, lambdaContext, QUEUE_URL, sqsEvent, sqsRecord } from '../helpers/events.js';

const dynamo = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);
const INTAKE_URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/intake';
const INTAKE_DLQ_URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/intake-dlq';

const intakeEnv = {
  [ClientEnv.config]: JSON.stringify(
    configFromOutputs('app', {
      JobsTableName: 'jobs',
      IdempotencyTableName: 'idem',
      QueueNames: 'default',
      QueueUrlDefault: QUEUE_URL,
      DeadLetterQueueUrlDefault: DLQ_URL,
    }),
  ),
  [EventIntakeEnv.queueUrl]: INTAKE_URL,
  [EventIntakeEnv.deadLetterQueueUrl]: INTAKE_DLQ_URL,
  AWS_REGION: 'us-east-1',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
};

let saved: NodeJS.ProcessEnv;
beforeEach(() => {
  saved = { ...process.env };
  dynamo.reset();
  sqs.reset();
  dynamo.onAnyCommand().resolves({});
  sqs.onAnyCommand().resolves({});
});
afterEach(() => {
  process.env = saved;
});

function enqueueMessage(detail: unknown, id: string) {
  const event = { version: '0', id, source: 'billing', 'detail-type': 'jobstack.enqueue', detail };
  return sqsRecord(intakeInputTemplate({ kind: 'enqueue' }).replace('<aws.events.event.json>', JSON.stringify(event)));
}

describe('createEventIntakeHandler', () => {
  it('fails at cold start naming the missing variables', () => {
    process.env = { ...saved, [ClientEnv.config]: intakeEnv[ClientEnv.config] };
    expect(() => createEventIntakeHandler({ registry: demoHandlers })).toThrow(
      /event intake environment is missing JOBSTACK_INTAKE_QUEUE_URL, JOBSTACK_INTAKE_DEAD_LETTER_QUEUE_URL/,
    );
    process.env = { ...saved, [EventIntakeEnv.queueUrl]: INTAKE_URL, [EventIntakeEnv.deadLetterQueueUrl]: INTAKE_DLQ_URL };
    expect(() => createEventIntakeHandler({ registry: demoHandlers })).toThrow(/JOBSTACK_CONFIG is not set/);
  });

  it('enqueues each event of a batch and reports only the one whose write failed for redelivery', async () => {
    process.env = { ...saved, ...intakeEnv };
    const handler = createEventIntakeHandler({ registry: demoHandlers });
    dynamo.on(PutCommand, { Item: { id: 'ev:demo.echo:e-2' } } as never).rejects(new Error('throttled'));
    const ok = enqueueMessage({ type: 'demo.echo', payload: { message: 'hi' } }, 'e-1');
    const failing = enqueueMessage({ type: 'demo.echo', payload: { message: 'again' } }, 'e-2');
    const unreadable = sqsRecord('not json');

    const response = await handler(sqsEvent(ok, failing, unreadable), lambdaContext());

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: failing.messageId }] });
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: QUEUE_URL });
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: INTAKE_DLQ_URL, MessageBody: 'not json' });
  });
});
