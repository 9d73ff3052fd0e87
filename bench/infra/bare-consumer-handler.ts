import { randomUUID } from 'node:crypto';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';

/**
 * The throughput baseline: a consumer that does nothing with its messages, so
 * the event source mapping deletes them. To measure enqueue→start latency it
 * writes one item per batch (not per message) with each record's delay between
 * SQS's SentTimestamp and the moment this handler received it.
 */
const table = process.env.BENCH_TABLE;
if (!table) throw new Error('BENCH_TABLE is not set');
const dynamodb = new DynamoDBClient({});

export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const receivedAt = Date.now();
  const latencies = event.Records.map((record) => receivedAt - Number(record.attributes.SentTimestamp));
  await dynamodb.send(
    new PutItemCommand({
      TableName: table,
      Item: {
        id: { S: randomUUID() },
        records: { N: String(event.Records.length) },
        latenciesMs: { S: JSON.stringify(latencies) },
        receivedAt: { N: String(receivedAt) },
      },
    }),
  );
  return { batchItemFailures: [] };
};
