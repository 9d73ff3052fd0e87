import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Where and as whom to call AWS. Empty means the standard AWS environment (profile, region, `AWS_ENDPOINT_URL`). */
export interface AwsConnection {
  /** e.g. `http://127.0.0.1:4566` for the local emulator. */
  readonly endpoint?: string;
  readonly region?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/** The local emulator's endpoint and its fixed test credentials. */
export const LOCAL_ENDPOINT = 'http://127.0.0.1:4566';

export function localConnection(endpoint: string = LOCAL_ENDPOINT): AwsConnection {
  return { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
}

/** The SDK clients a job client uses; created once and shared. */
export interface AwsClients {
  readonly documentClient: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  readonly cloudFormation: CloudFormationClient;
  /** Delayed jobs beyond the SQS limit and recurring schedules; without it those calls fail with ConfigurationError. */
  readonly scheduler?: SchedulerClient;
  /** Stops the executions of cancelled long jobs. */
  readonly sfn?: SFNClient;
  /** Stores payloads too large to travel inline; without it they fail with PayloadTooLargeError. */
  readonly s3?: S3Client;
  /** Enables and disables the queues' event source mappings (`pause`, `resume`); without it those fail with ConfigurationError. */
  readonly lambda?: LambdaClient;
}

export function createAwsClients(connection: AwsConnection = {}): AwsClients {
  const config = {
    ...(connection.endpoint === undefined ? {} : { endpoint: connection.endpoint }),
    ...(connection.region === undefined ? {} : { region: connection.region }),
    ...(connection.credentials === undefined ? {} : { credentials: connection.credentials }),
    // Fail over quickly to a clear error when the endpoint is down, instead of retrying for a minute.
    maxAttempts: 3,
  };
  return {
    documentClient: DynamoDBDocumentClient.from(new DynamoDBClient(config), {
      marshallOptions: { removeUndefinedValues: true },
    }),
    sqs: new SQSClient(config),
    cloudFormation: new CloudFormationClient(config),
    scheduler: new SchedulerClient(config),
    sfn: new SFNClient(config),
    lambda: new LambdaClient(config),
    // Path-style addressing: the local emulator serves buckets under its one host name.
    s3: new S3Client({ ...config, forcePathStyle: connection.endpoint !== undefined }),
  };
}
