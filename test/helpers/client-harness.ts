import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { createJobClient, type JobRegistry, type JobstackConfig } from '../../shared/index.js';

/**
 * A job client for `registry` on mocked DynamoDB and SQS clients that answer
 * every command with `{}` until a test says otherwise: what the client sends is
 * read back from `dynamo` and `sqs`.
 */
export function mockedJobClient<R extends JobRegistry>(registry: R, config: JobstackConfig) {
  const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  const sqsClient = new SQSClient({ region: 'us-east-1' });
  const dynamo = mockClient(documentClient);
  const sqs = mockClient(sqsClient);
  dynamo.onAnyCommand().resolves({});
  sqs.onAnyCommand().resolves({});
  const jobs = createJobClient({
    registry,
    config,
    clients: { documentClient, sqs: sqsClient, cloudFormation: new CloudFormationClient({ region: 'us-east-1' }) },
  });
  return { jobs, dynamo, sqs, documentClient, sqsClient };
}
