import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { createWorkerHandler } from 'jobstack/worker';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registry as demoHandlers } from '../../functions/jobs/handlers.js';
import { FunctionEnv } from '../../shared/index.js';
import { claimedRecord, envelopeBody, lambdaContext, sqsEvent, sqsRecord } from '../helpers/events.js';

// The deployed worker on a FIFO queue (ordered job types) runs each message group in order and hands the rest
// of a failed group back at once; on a standard queue it runs every record at once (handler-factories.test.ts).

const FIFO_URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/jobstack-Ordered.fifo';
const FIFO_DLQ_URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/jobstack-OrderedDlq.fifo';
const dynamo = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);

let saved: NodeJS.ProcessEnv;
beforeEach(() => {
  saved = { ...process.env };
  dynamo.reset();
  // The queue's pause item (read by the worker's pause gate): absent, the queue is not paused.
  dynamo.on(GetCommand).resolves({});
  sqs.reset();
  sqs.onAnyCommand().resolves({});
  process.env = {
    ...process.env,
    [FunctionEnv.jobsTable]: 'jobs',
    [FunctionEnv.idempotencyTable]: 'idempotency',
    [FunctionEnv.queueUrl]: FIFO_URL,
    [FunctionEnv.deadLetterQueueUrl]: FIFO_DLQ_URL,
    [FunctionEnv.queueName]: 'ordered',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
});
afterEach(() => {
  process.env = saved;
});

function grouped(id: string, group: string, payload: object) {
  const base = sqsRecord(envelopeBody('demo.ordered', payload, id), { messageId: `m-${id}`, receiptHandle: `rh-${id}` });
  return { ...base, attributes: { ...base.attributes, MessageGroupId: group } };
}

describe('createWorkerHandler on a FIFO queue', () => {
  it('runs a group in order, stops it at a failing job (retry backoff), hands the rest back, and runs other groups', async () => {
    dynamo
      .on(UpdateCommand)
      .callsFake((input: { Key: { id: string }; UpdateExpression: string }) =>
        input.UpdateExpression.includes('ADD attempts')
          ? { Attributes: claimedRecord({ id: input.Key.id, type: 'demo.ordered', queue: 'ordered', attempts: 1 }) }
          : {},
      );
    const handler = createWorkerHandler({ registry: demoHandlers });
    const response = await handler(
      sqsEvent(
        grouped('a1', 'acct-a', { key: 'acct-a', seq: 1, failTimes: 1 }),
        grouped('b1', 'acct-b', { key: 'acct-b', seq: 1 }),
        grouped('a2', 'acct-a', { key: 'acct-a', seq: 2 }),
        grouped('a3', 'acct-a', { key: 'acct-a', seq: 3 }),
      ),
      lambdaContext(),
    );

    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(['m-a1', 'm-a2', 'm-a3']);
    // a1's retry backoff hides it (the group stays blocked); a2 and a3 were never claimed and come back at once.
    expect(sqs).toHaveReceivedCommandWith(ChangeMessageVisibilityCommand, { QueueUrl: FIFO_URL, ReceiptHandle: 'rh-a1' });
    expect(sqs).toHaveReceivedCommandWith(ChangeMessageVisibilityBatchCommand, {
      QueueUrl: FIFO_URL,
      Entries: [
        { Id: '0', ReceiptHandle: 'rh-a2', VisibilityTimeout: 0 },
        { Id: '1', ReceiptHandle: 'rh-a3', VisibilityTimeout: 0 },
      ],
    });
    const claimed = dynamo
      .commandCalls(UpdateCommand)
      .map((call) => call.args[0].input)
      .filter((input) => input.UpdateExpression?.includes('ADD attempts'))
      .map((input) => input.Key?.id);
    expect(claimed.sort()).toEqual(['a1', 'b1']);
    expect(sqs).not.toHaveReceivedCommand(DeleteMessageCommand);
  });
});
