import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { ATTENTION_INDEX_NAME } from '../../shared/config.js';

/**
 * A document client on the real DynamoDB of this run, configured as the
 * functions configure theirs (`removeUndefinedValues`, as in the handlers), and
 * with no SDK retries, so a throttled or failed call shows up in the test.
 */
export function realDocumentClient(): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    endpoint: inject('dynamoEndpoint'),
    region: 'us-east-1',
    credentials: { accessKeyId: 'realdb', secretAccessKey: 'realdb' },
    maxAttempts: 1,
  });
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/** An SQS client on the same MiniStack (its SQS), with no SDK retries. */
export function realSqsClient(): SQSClient {
  return new SQSClient({
    endpoint: inject('dynamoEndpoint'),
    region: 'us-east-1',
    credentials: { accessKeyId: 'realdb', secretAccessKey: 'realdb' },
    maxAttempts: 1,
  });
}

/**
 * The jobs table as infra/job-system.ts declares it: `id` hash key, and the
 * sparse attention index (`attentionState` hash, `updatedAt` range, all
 * attributes projected). Keep the two in step.
 */
const JOBS_TABLE: Omit<CreateTableCommandInput, 'TableName'> = {
  BillingMode: 'PAY_PER_REQUEST',
  AttributeDefinitions: [
    { AttributeName: 'id', AttributeType: 'S' },
    { AttributeName: 'attentionState', AttributeType: 'S' },
    { AttributeName: 'updatedAt', AttributeType: 'S' },
  ],
  KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
  GlobalSecondaryIndexes: [
    {
      IndexName: ATTENTION_INDEX_NAME,
      KeySchema: [
        { AttributeName: 'attentionState', KeyType: 'HASH' },
        { AttributeName: 'updatedAt', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    },
  ],
};

/** The idempotency table as infra/job-system.ts declares it: `id` hash key only. */
const IDEMPOTENCY_TABLE: Omit<CreateTableCommandInput, 'TableName'> = {
  BillingMode: 'PAY_PER_REQUEST',
  AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
  KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
};

export interface TestTables {
  readonly jobs: string;
  readonly idempotency: string;
  /** Deletes both tables. */
  drop(): Promise<void>;
}

/** Creates a jobs table and an idempotency table with random names, for one test file (or one test). */
export async function createTestTables(documentClient: DynamoDBDocumentClient, label: string): Promise<TestTables> {
  const suffix = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const jobs = `realdb-${label}-jobs-${suffix}`;
  const idempotency = `realdb-${label}-idem-${suffix}`;
  await Promise.all([createTable(documentClient, jobs, JOBS_TABLE), createTable(documentClient, idempotency, IDEMPOTENCY_TABLE)]);
  return {
    jobs,
    idempotency,
    async drop() {
      await Promise.all([jobs, idempotency].map((name) => documentClient.send(new DeleteTableCommand({ TableName: name }))));
    },
  };
}

async function createTable(
  documentClient: DynamoDBDocumentClient,
  name: string,
  layout: Omit<CreateTableCommandInput, 'TableName'>,
): Promise<void> {
  await documentClient.send(new CreateTableCommand({ TableName: name, ...layout }));
  // AWS creates tables asynchronously; wait as a real deploy would.
  for (let i = 0; i < 100; i++) {
    const { Table } = await documentClient.send(new DescribeTableCommand({ TableName: name }));
    if (Table?.TableStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`table ${name} did not become ACTIVE`);
}

/** A clock the test moves by hand; both stores and the worker read time only through it. */
export class FakeClock {
  constructor(private nowMs: number) {}

  readonly now = (): number => this.nowMs;

  advance(ms: number): void {
    this.nowMs += ms;
  }

  set(ms: number): void {
    this.nowMs = ms;
  }
}
