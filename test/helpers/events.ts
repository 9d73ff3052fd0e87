import { randomUUID } from 'node:crypto';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { ENVELOPE_VERSION, type JobRecord, newJobId } from '../../shared/index.js';

export const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/jobs';
export const DLQ_URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/jobs-dlq';

export function envelopeBody(type: string, payload: unknown, id: string = newJobId()): string {
  return JSON.stringify({ v: ENVELOPE_VERSION, id, type, payload, enqueuedAt: new Date().toISOString() });
}

export function sqsRecord(body: string, overrides: Partial<SQSRecord> = {}): SQSRecord {
  const messageId = randomUUID();
  return {
    messageId,
    receiptHandle: `receipt-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'test',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:jobs',
    awsRegion: 'us-east-1',
    ...overrides,
  };
}

export function sqsEvent(...records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

export function lambdaContext(remainingMs = 60_000): Context {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'worker',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:worker',
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/worker',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** A job record as the claim returns it. */
export function claimedRecord(overrides: Partial<JobRecord> & Pick<JobRecord, 'id' | 'type'>): JobRecord {
  const now = new Date().toISOString();
  return {
    state: 'running',
    queue: 'default',
    attempts: 1,
    maxAttempts: 3,
    correlationId: overrides.id,
    createdAt: now,
    updatedAt: now,
    startedAt: now,
    leaseUntil: Date.now() + 60_000,
    ...overrides,
  };
}
