import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { defineJob, FunctionEnv, NonRetryableError } from '../../../shared/index.js';
import { DEMO_RETRY } from './retry-policy.js';

let ledger: DynamoDBDocumentClient | undefined;

/**
 * Atomically adds 1 to the ledger item `key` and returns the new count. The
 * tests use it to prove a job's side effect ran exactly once.
 */
export const effectJob = defineJob({
  name: 'demo.effect',
  description: 'Increments a counter in the demo ledger table.',
  schema: z.object({ key: z.string().min(1).max(512) }),
  retry: DEMO_RETRY,
  handler: async ({ key }, { signal }) => {
    const tableName = process.env[FunctionEnv.demoLedgerTable];
    if (!tableName)
      throw new NonRetryableError(`${FunctionEnv.demoLedgerTable} is not set: the stack was deployed without demo jobs`);
    ledger ??= DynamoDBDocumentClient.from(new DynamoDBClient({}));
    const output = await ledger.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { key },
        UpdateExpression: 'ADD #count :one',
        ExpressionAttributeNames: { '#count': 'count' },
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
      { abortSignal: signal },
    );
    return { count: Number(output.Attributes?.count ?? 0) };
  },
});
