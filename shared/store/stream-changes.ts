import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import type { JobRecord } from '../record.js';
import type { JobState } from '../states.js';
import { isControlItemId } from './control-items.js';

/**
 * One change to a job record, read from the job table's stream
 * (`NEW_AND_OLD_IMAGES`). Control items (flow-control state, batches) are not
 * jobs and never become a `JobChange`.
 */
export interface JobChange {
  /** The stream record's id: unique per change, the same when the stream delivers it again. */
  readonly eventId: string;
  /** The record before the change; absent when the change created it. */
  readonly before: JobRecord | undefined;
  /** The record after the change; absent when it was deleted (TTL or by hand). */
  readonly after: JobRecord | undefined;
}

/** A change that moved a job from one state to another (or created it in a state). */
export interface StateTransition {
  readonly eventId: string;
  /** Absent when the change created the job. */
  readonly from: JobState | undefined;
  readonly to: JobState;
  /** The record as the transition left it. */
  readonly job: JobRecord;
}

/**
 * The job changes in a batch of stream records, in stream order. Records of
 * control items are skipped.
 */
export function jobChangesFromStream(records: readonly DynamoDBRecord[]): JobChange[] {
  const changes: JobChange[] = [];
  for (const record of records) {
    const change = jobChangeFromStreamRecord(record);
    if (change !== undefined) changes.push(change);
  }
  return changes;
}

export function jobChangeFromStreamRecord(record: DynamoDBRecord): JobChange | undefined {
  const image = record.dynamodb;
  if (image === undefined) return undefined;
  const before = decodeImage(image.OldImage);
  const after = decodeImage(image.NewImage);
  const id = after?.id ?? before?.id;
  if (id === undefined || isControlItemId(id)) return undefined;
  return { eventId: record.eventID ?? `${id}@${image.SequenceNumber ?? ''}`, before, after };
}

/**
 * The state transition a change made, or undefined when the state did not
 * change (progress, heartbeats, lease renewals) or the record was deleted.
 */
export function stateTransitionOf(change: JobChange): StateTransition | undefined {
  const { before, after } = change;
  if (after === undefined) return undefined;
  if (before !== undefined && before.state === after.state) return undefined;
  return { eventId: change.eventId, from: before?.state, to: after.state, job: after };
}

function decodeImage(image: Record<string, unknown> | undefined): JobRecord | undefined {
  if (image === undefined || Object.keys(image).length === 0) return undefined;
  // The Lambda event types describe the stream's AttributeValue shape, which is the SDK's.
  return unmarshall(image as Record<string, AttributeValue>) as JobRecord;
}
