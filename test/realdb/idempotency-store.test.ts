import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdempotencyStore, newJobId } from '../../shared/index.js';
import { createTestTables, FakeClock, realDocumentClient, type TestTables } from './tables.js';

// The idempotency store on a real DynamoDB: every condition below is evaluated by the database.

const START = Date.parse('2026-11-23T12:00:00.000Z');
const HOUR = 3_600_000;
const documentClient = realDocumentClient();
const clock = new FakeClock(START);
let tables: TestTables;
let store: IdempotencyStore;

beforeAll(async () => {
  tables = await createTestTables(documentClient, 'idempotency');
  store = new IdempotencyStore(documentClient, tables.idempotency, { clock: clock.now });
});
afterAll(() => tables.drop());

const uniqueKey = () => `key-${Math.random().toString(36).slice(2)}`;

describe('bindEnqueueKey', () => {
  it('ten concurrent binds of one key: exactly one binds, and every caller learns its job id', async () => {
    const key = uniqueKey();
    const jobIds = Array.from({ length: 10 }, (_, i) => newJobId(START + i));
    const results = await Promise.all(jobIds.map((jobId) => store.bindEnqueueKey('demo.echo', key, jobId, HOUR)));
    const winners = results.filter((result) => result.bound);
    expect(winners).toHaveLength(1);
    const winner = winners[0]?.jobId;
    expect(jobIds).toContain(winner);
    expect(results.map((result) => result.jobId)).toEqual(jobIds.map(() => winner));
  });

  it('a live binding keeps its job; an expired one is taken over', async () => {
    const key = uniqueKey();
    try {
      expect(await store.bindEnqueueKey('demo.echo', key, 'first', HOUR)).toEqual({ jobId: 'first', bound: true });
      clock.advance(HOUR - 1_000);
      expect(await store.bindEnqueueKey('demo.echo', key, 'second', HOUR)).toEqual({ jobId: 'first', bound: false });
      clock.advance(2_000);
      expect(await store.bindEnqueueKey('demo.echo', key, 'third', HOUR)).toEqual({ jobId: 'third', bound: true });
      expect(await store.bindEnqueueKey('demo.echo', key, 'fourth', HOUR)).toEqual({ jobId: 'third', bound: false });
    } finally {
      clock.set(START);
    }
  });

  it('keys are per job type', async () => {
    const key = uniqueKey();
    expect((await store.bindEnqueueKey('a.type', key, 'a', HOUR)).bound).toBe(true);
    expect((await store.bindEnqueueKey('b.type', key, 'b', HOUR)).bound).toBe(true);
  });
});

describe('step markers (ctx.once)', () => {
  it('concurrent beginStep of one attempt: exactly one starts the step', async () => {
    const jobId = newJobId(START);
    const results = await Promise.all(Array.from({ length: 6 }, () => store.beginStep(jobId, 'charge', 1, HOUR)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('a completed step keeps its result: no attempt can begin it again', async () => {
    const jobId = newJobId(START);
    expect(await store.beginStep(jobId, 'charge', 1, HOUR)).toBe(true);
    await store.completeStep(jobId, 'charge', 1, { chargeId: 'ch_1', big: 2 ** 53 - 1 });
    expect(await store.completedStep(jobId, 'charge')).toEqual({ result: { chargeId: 'ch_1', big: 2 ** 53 - 1 } });
    expect(await store.beginStep(jobId, 'charge', 1, HOUR)).toBe(false);
    expect(await store.beginStep(jobId, 'charge', 2, HOUR)).toBe(false);
    expect(await store.completedStep(jobId, 'charge')).toEqual({ result: { chargeId: 'ch_1', big: 2 ** 53 - 1 } });
  });

  it('an earlier attempt cannot begin, complete or abandon a step a later attempt holds', async () => {
    const jobId = newJobId(START);
    expect(await store.beginStep(jobId, 'send', 2, HOUR)).toBe(true);
    expect(await store.beginStep(jobId, 'send', 1, HOUR)).toBe(false);
    await expect(store.completeStep(jobId, 'send', 1, 'stale')).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    await store.abandonStep(jobId, 'send', 1);
    // Still held by attempt 2, which completes it.
    await store.completeStep(jobId, 'send', 2, 'sent');
    expect(await store.completedStep(jobId, 'send')).toEqual({ result: 'sent' });
  });

  it('completeStep of a step never begun fails', async () => {
    const jobId = newJobId(START);
    await expect(store.completeStep(jobId, 'ghost', 1, 'x')).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    expect(await store.completedStep(jobId, 'ghost')).toBeUndefined();
  });

  it('abandonStep frees the step for the next attempt, but never deletes a completed one', async () => {
    const jobId = newJobId(START);
    expect(await store.beginStep(jobId, 'upload', 1, HOUR)).toBe(true);
    await store.abandonStep(jobId, 'upload', 1);
    expect(await store.beginStep(jobId, 'upload', 2, HOUR)).toBe(true);
    await store.completeStep(jobId, 'upload', 2, 'done');
    await store.abandonStep(jobId, 'upload', 2);
    expect(await store.completedStep(jobId, 'upload')).toEqual({ result: 'done' });
  });
});

describe('sweeper cursor', () => {
  it('round-trips a cursor and deletes it at the end of a pass', async () => {
    const name = uniqueKey();
    expect(await store.loadCursor(name)).toBeUndefined();
    await store.saveCursor(name, { id: 'job-1' });
    expect(await store.loadCursor(name)).toEqual({ id: 'job-1' });
    await store.saveCursor(name, undefined);
    expect(await store.loadCursor(name)).toBeUndefined();
  });
});
