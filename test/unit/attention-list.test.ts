import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ATTENTION_SHARDS, attentionKey, attentionKeysOf, type JobRecord, JobStore } from '../../shared/index.js';
import { claimedRecord } from '../helpers/events.js';

describe('attention index keys', () => {
  it('keeps a job on one shard and spreads jobs over every shard', () => {
    expect(attentionKey('dead', 'job-1')).toBe(attentionKey('dead', 'job-1'));
    expect(attentionKey('dead', 'job-1').split('#')[1]).toBe(attentionKey('retrying', 'job-1').split('#')[1]);
    const shards = new Set(Array.from({ length: 200 }, (_, i) => attentionKey('dead', `job-${i}`)));
    expect([...shards].sort()).toEqual(attentionKeysOf('dead').sort());
    expect(attentionKeysOf('dead')).toHaveLength(ATTENTION_SHARDS);
  });
});

/** A stand-in for the sparse index: Query by key, newest updatedAt first, Limit and ExclusiveStartKey as DynamoDB does. */
function fakeIndex(records: JobRecord[]) {
  const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  mockClient(documentClient)
    .on(QueryCommand)
    .callsFake(
      (input: {
        ExpressionAttributeValues: { ':attention': string; ':type'?: string };
        Limit: number;
        ExclusiveStartKey?: { id: string; updatedAt: string };
      }) => {
        const key = input.ExpressionAttributeValues[':attention'];
        const ordered = records
          .filter((record) => record.attentionState === key)
          .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt) || b.id.localeCompare(a.id));
        const start = input.ExclusiveStartKey ? ordered.findIndex((record) => record.id === input.ExclusiveStartKey?.id) + 1 : 0;
        const page = ordered.slice(start, start + input.Limit);
        const type = input.ExpressionAttributeValues[':type'];
        const last = page.at(-1);
        const more = start + input.Limit < ordered.length;
        return {
          Items: type === undefined ? page : page.filter((record) => record.type === type),
          ...(more && last ? { LastEvaluatedKey: { id: last.id, attentionState: key, updatedAt: last.updatedAt } } : {}),
        };
      },
    );
  return new JobStore(documentClient, 'jobs');
}

function deadJobs(count: number, types: readonly string[] = ['demo.fail']): JobRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const id = `job-${String(i).padStart(3, '0')}`;
    return claimedRecord({
      id,
      type: types[i % types.length] as string,
      state: 'dead',
      updatedAt: new Date(Date.UTC(2026, 10, 23, 0, 0, i % 7 === 0 ? 0 : i)).toISOString(),
      attentionState: attentionKey('dead', id),
    });
  });
}

describe('listing jobs that need attention across shards', () => {
  it('pages through every job exactly once, newest first, whatever the page size', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 9 }), async (count, limit) => {
        const records = deadJobs(count);
        const store = fakeIndex(records);
        const seen: JobRecord[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < 100; page++) {
          const result = await store.list({ state: 'dead', limit, ...(cursor ? { cursor } : {}) });
          expect(result.jobs.length).toBeLessThanOrEqual(limit);
          seen.push(...result.jobs);
          cursor = result.cursor;
          if (!cursor) break;
        }
        expect(seen.map((job) => job.id).sort()).toEqual(records.map((job) => job.id).sort());
        const times = seen.map((job) => job.updatedAt);
        expect(times).toEqual([...times].sort().reverse());
      }),
      { numRuns: 60 },
    );
  });

  it('filters by type within the index', async () => {
    const records = deadJobs(20, ['demo.fail', 'demo.fatal']);
    const store = fakeIndex(records);
    const seen: JobRecord[] = [];
    let cursor: string | undefined;
    do {
      const result = await store.list({ state: 'dead', type: 'demo.fatal', limit: 4, ...(cursor ? { cursor } : {}) });
      seen.push(...result.jobs);
      cursor = result.cursor;
    } while (cursor);
    expect(seen.map((job) => job.id).sort()).toEqual(
      records
        .filter((job) => job.type === 'demo.fatal')
        .map((job) => job.id)
        .sort(),
    );
  });
});
