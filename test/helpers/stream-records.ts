import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { JobRecord } from '../../shared/index.js';

let sequence = 1000;

/** A job-table stream record (`NEW_AND_OLD_IMAGES`) of a change from `before` to `after`. */
export function jobStreamRecord(before: object | undefined, after: object | undefined, eventID?: string): DynamoDBRecord {
  sequence += 1;
  return {
    eventID: eventID ?? `event-${sequence}`,
    eventName: before === undefined ? 'INSERT' : after === undefined ? 'REMOVE' : 'MODIFY',
    eventSource: 'aws:dynamodb',
    dynamodb: {
      SequenceNumber: String(sequence),
      ...(before === undefined ? {} : { OldImage: marshall(before, { removeUndefinedValues: true }) as never }),
      ...(after === undefined ? {} : { NewImage: marshall(after, { removeUndefinedValues: true }) as never }),
    },
  };
}

export function streamEvent(...records: DynamoDBRecord[]): DynamoDBStreamEvent {
  return { Records: records };
}

/** A job record in `state` with every field a lifecycle event reads. */
export function jobRecord(overrides: Partial<JobRecord> & Record<string, unknown> = {}): JobRecord {
  return {
    id: 'job-1',
    type: 'email.send',
    queue: 'default',
    state: 'queued',
    attempts: 0,
    maxAttempts: 3,
    createdAt: '2026-12-01T10:00:00.000Z',
    updatedAt: '2026-12-01T10:00:00.000Z',
    ...overrides,
  } as JobRecord;
}
