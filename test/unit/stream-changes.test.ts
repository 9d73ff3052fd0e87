import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { controlItemId, jobChangesFromStream, stateTransitionOf } from '../../shared/index.js';

function streamRecord(eventID: string, before?: object, after?: object): DynamoDBRecord {
  return {
    eventID,
    eventName: before === undefined ? 'INSERT' : after === undefined ? 'REMOVE' : 'MODIFY',
    dynamodb: {
      SequenceNumber: '1',
      ...(before === undefined ? {} : { OldImage: marshall(before) as never }),
      ...(after === undefined ? {} : { NewImage: marshall(after) as never }),
    },
  };
}

const job = { id: 'job-1', type: 'email.send', queue: 'default', attempts: 1, maxAttempts: 3 };

describe('job changes from the table stream', () => {
  it('reads a state change as a transition, with the record as it was left', () => {
    const [change] = jobChangesFromStream([
      streamRecord('e1', { ...job, state: 'running' }, { ...job, state: 'succeeded', result: { ok: true } }),
    ]);
    expect(change).toBeDefined();
    const transition = change === undefined ? undefined : stateTransitionOf(change);
    expect(transition).toMatchObject({ eventId: 'e1', from: 'running', to: 'succeeded', job: { result: { ok: true } } });
  });

  it('reads a created job as a transition from nothing', () => {
    const changes = jobChangesFromStream([streamRecord('e2', undefined, { ...job, state: 'queued' })]);
    expect(changes.map(stateTransitionOf)).toMatchObject([{ from: undefined, to: 'queued' }]);
  });

  it('has no transition when only progress or the lease changed, or the record was deleted', () => {
    const changes = jobChangesFromStream([
      streamRecord('e3', { ...job, state: 'running' }, { ...job, state: 'running', progress: { percent: 5 } }),
      streamRecord('e4', { ...job, state: 'succeeded' }, undefined),
    ]);
    expect(changes).toHaveLength(2);
    expect(changes.map(stateTransitionOf)).toEqual([undefined, undefined]);
  });

  it('skips control items, which are not jobs', () => {
    const id = controlItemId('concurrency', 'email.send', 'tenant-1');
    expect(jobChangesFromStream([streamRecord('e5', undefined, { id, version: 1 })])).toEqual([]);
  });
});
