import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { createWorkerHandler, type WorkerHandler } from 'jobstack/worker';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { registry } from '../../functions/jobs/handlers.js';
import { FunctionEnv } from '../../shared/index.js';
import { claimedRecord, DLQ_URL, envelopeBody, lambdaContext, QUEUE_URL, sqsEvent, sqsRecord } from '../helpers/events.js';

const dynamo = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);

describe('worker Lambda handler', () => {
  let handler: WorkerHandler;

  beforeAll(() => {
    process.env[FunctionEnv.jobsTable] = 'jobs';
    process.env[FunctionEnv.idempotencyTable] = 'idempotency';
    process.env[FunctionEnv.queueUrl] = QUEUE_URL;
    process.env[FunctionEnv.deadLetterQueueUrl] = DLQ_URL;
    process.env[FunctionEnv.queueName] = 'default';
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    handler = createWorkerHandler({ registry });
  });

  beforeEach(() => {
    // The pause gate's read of the queue's pause item: no pause.
    dynamo.on(GetCommand, { Key: { id: 'queue#default' } }).resolves({});
  });

  it('reports only the failed record of a batch; poison and successes are not re-run', async () => {
    dynamo
      .on(UpdateCommand)
      .callsFake((input: { UpdateExpression: string; Key: { id: string } }) =>
        input.UpdateExpression.includes('ADD attempts')
          ? { Attributes: claimedRecord({ id: input.Key.id, type: 'demo.x' }) }
          : {},
      );
    sqs.onAnyCommand().resolves({});
    const ok = sqsRecord(envelopeBody('demo.echo', { message: 'fine' }, 'ok-1'));
    const poison = sqsRecord('{not json');
    const failing = sqsRecord(envelopeBody('demo.flaky', { failTimes: 5 }, 'flaky-1'));
    const invalid = sqsRecord(envelopeBody('demo.sleep', { ms: 'long' }, 'invalid-1'));

    const response = await handler(sqsEvent(ok, poison, failing, invalid), lambdaContext());

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: failing.messageId }] });
    expect(sqs).toHaveReceivedCommandTimes(SendMessageCommand, 2);
  });

  it('answers a batch whose every record failed with a partial response, not an invocation error', async () => {
    dynamo
      .on(UpdateCommand)
      .callsFake((input: { UpdateExpression: string; Key: { id: string } }) =>
        input.UpdateExpression.includes('ADD attempts')
          ? { Attributes: claimedRecord({ id: input.Key.id, type: 'demo.fail' }) }
          : {},
      );
    const failing = sqsRecord(envelopeBody('demo.fail', {}, 'fail-1'));
    const response = await handler(sqsEvent(failing), lambdaContext());
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: failing.messageId }] });
  });
});
