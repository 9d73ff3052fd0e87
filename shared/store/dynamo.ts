import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { JobRecord } from '../record.js';

/** The record DynamoDB attached to a failed condition (`ReturnValuesOnConditionCheckFailure: 'ALL_OLD'`), if any. */
export function conditionFailureItem(error: unknown): JobRecord | undefined {
  if (!(error instanceof ConditionalCheckFailedException)) return undefined;
  // lib-dynamodb does not unmarshall the item attached to the exception.
  return error.Item ? (unmarshall(error.Item) as JobRecord) : undefined;
}

/** Sends an UpdateItem. @returns false when its condition did not hold; other errors are thrown. */
export async function conditionalUpdate(
  documentClient: DynamoDBDocumentClient,
  tableName: string,
  input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>,
): Promise<boolean> {
  try {
    await documentClient.send(new UpdateCommand({ TableName: tableName, ...input }));
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** Pause between rounds of a batch retry loop. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
