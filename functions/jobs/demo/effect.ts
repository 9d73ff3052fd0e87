import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { implementJob, NonRetryableError } from 'jobstack';
import { DEMO_LEDGER_TABLE_ENV, effect } from '../contracts.js';

let ledger: DynamoDBDocumentClient | undefined;

export const effectJob = implementJob(effect, async ({ key }, { signal }) => ({ count: await addToLedger(key, signal) }));

/** Adds 1 to the ledger item `key` and returns the new count. */
export async function addToLedger(key: string, signal: AbortSignal): Promise<number> {
  const tableName = process.env[DEMO_LEDGER_TABLE_ENV];
  if (!tableName) throw new NonRetryableError(`${DEMO_LEDGER_TABLE_ENV} is not set: the stack was deployed without demo jobs`);
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
  return Number(output.Attributes?.count ?? 0);
}
