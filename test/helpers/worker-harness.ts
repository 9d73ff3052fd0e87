import { Logger } from '@aws-lambda-powertools/logger';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { createRecordProcessor } from '../../functions/worker/process-record.js';
import { JobQueue, type JobRecord, type JobRegistry, JobStore } from '../../shared/index.js';
import { claimedRecord, DLQ_URL, QUEUE_URL } from './events.js';

export type ClaimBehaviour = (input: { id: string; type: string }) => JobRecord | { conditionFailed: JobRecord };

/**
 * A record processor wired to mocked DynamoDB and SQS clients. The claim
 * (the UpdateItem with `ADD attempts`) answers as `claim` says; every other
 * update succeeds unless `failUpdates` says otherwise.
 */
export function workerHarness(registry: JobRegistry, options: { claim?: ClaimBehaviour; random?: () => number } = {}) {
  const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  const sqs = new SQSClient({ region: 'us-east-1' });
  const dynamo = mockClient(documentClient);
  const sqsMock = mockClient(sqs);
  const claim: ClaimBehaviour = options.claim ?? ((input) => claimedRecord(input));
  dynamo
    .on(UpdateCommand)
    .callsFake((input: { UpdateExpression: string; Key: { id: string }; ExpressionAttributeValues: Record<string, unknown> }) => {
      if (!input.UpdateExpression.includes('ADD attempts')) return {};
      const outcome = claim({ id: input.Key.id, type: String(input.ExpressionAttributeValues[':type']) });
      if ('conditionFailed' in outcome) {
        throw new ConditionalCheckFailedException({
          message: 'The conditional request failed',
          $metadata: {},
          Item: marshall(outcome.conditionFailed, { removeUndefinedValues: true }),
        });
      }
      return { Attributes: outcome };
    });
  sqsMock.onAnyCommand().resolves({});
  const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
  const processRecord = createRecordProcessor({
    registry,
    store: new JobStore(documentClient, 'jobs'),
    queue: new JobQueue(sqs, QUEUE_URL, DLQ_URL),
    queueName: 'default',
    logger,
    random: options.random ?? (() => 0.5),
  });
  return { processRecord, dynamo, sqs: sqsMock };
}
