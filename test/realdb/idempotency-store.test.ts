import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdempotencyStore, newJobId } from '../../shared/index.js';
import { enqueueKeyId } from '../../shared/store/idempotency-store.js';
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
/** What the client answers for a bound job's record: these tests say which jobs have finished. */
const finishedJobs = new Set<string>();
const jobFinished = async (jobId: string) => finishedJobs.has(jobId);
const bind = (key: string, jobId: string, options: { type?: string; runAt?: number } = {}) =>
  store.bindEnqueueKey(options.type ?? 'demo.echo', key, jobId, HOUR, {
    jobFinished,
    ...(options.runAt === undefined ? {} : { runAt: options.runAt }),
  });

async function bindingOf(key: string): Promise<Record<string, unknown> | undefined> {
  const output = await documentClient.send(
    new GetCommand({ TableName: tables.idempotency, Key: { id: enqueueKeyId('demo.echo', key) }, ConsistentRead: true }),
  );
  return output.Item;
}

describe('bindEnqueueKey', () => {
  it('ten concurrent binds of one key (attribute_not_exists): exactly one binds, and every caller learns its job id', async () => {
    const key = uniqueKey();
    const jobIds = Array.from({ length: 10 }, (_, i) => newJobId(START + i));
    const results = await Promise.all(jobIds.map((jobId) => bind(key, jobId)));
    const winners = results.filter((result) => result.bound);
    expect(winners).toHaveLength(1);
    const winner = winners[0]?.jobId;
    expect(jobIds).toContain(winner);
    expect(results.map((result) => result.jobId)).toEqual(jobIds.map(() => winner));
  });

  it('a binding past its window holds while its job is unfinished, and is taken over once the job finished', async () => {
    const key = uniqueKey();
    try {
      expect(await bind(key, 'first')).toEqual({ jobId: 'first', bound: true });
      clock.advance(HOUR - 1_000);
      expect(await bind(key, 'second')).toEqual({ jobId: 'first', bound: false });
      clock.advance(2_000);
      // Expired, but its job is still pending (delayed, or waiting in a backlog): the key still holds (fault 14).
      expect(await bind(key, 'third')).toEqual({ jobId: 'first', bound: false });
      finishedJobs.add('first');
      expect(await bind(key, 'fourth')).toEqual({ jobId: 'fourth', bound: true });
      expect(await bind(key, 'fifth')).toEqual({ jobId: 'fourth', bound: false });
      expect(await bindingOf(key)).toMatchObject({ jobId: 'fourth', expiresAt: Math.floor((clock.now() + HOUR) / 1_000) });
    } finally {
      clock.set(START);
    }
  });

  it('a live binding is never taken over, even when its job finished', async () => {
    const key = uniqueKey();
    expect(await bind(key, 'live')).toEqual({ jobId: 'live', bound: true });
    finishedJobs.add('live');
    expect(await bind(key, 'other')).toEqual({ jobId: 'live', bound: false });
  });

  it('the window of a delayed job starts at its runAt', async () => {
    const key = uniqueKey();
    try {
      expect(await bind(key, 'delayed', { runAt: START + 2 * HOUR })).toEqual({ jobId: 'delayed', bound: true });
      finishedJobs.add('delayed');
      clock.advance(2 * HOUR + HOUR / 2);
      expect(await bind(key, 'later')).toEqual({ jobId: 'delayed', bound: false });
      clock.advance(HOUR);
      expect(await bind(key, 'later')).toEqual({ jobId: 'later', bound: true });
    } finally {
      clock.set(START);
    }
  });

  it('concurrent takeovers of one expired binding (jobId = :seenJobId AND expiresAt = :seenExpiresAt): one winner', async () => {
    for (let round = 0; round < 4; round++) {
      const key = uniqueKey();
      try {
        const holder = `holder-${round}`;
        expect((await bind(key, holder)).bound).toBe(true);
        finishedJobs.add(holder);
        clock.advance(HOUR + 1_000);
        const contenders = Array.from({ length: 8 }, (_, i) => `contender-${round}-${i}`);
        const results = await Promise.all(contenders.map((jobId) => bind(key, jobId)));
        const winners = results.filter((result) => result.bound);
        expect(winners).toHaveLength(1);
        const winner = winners[0]?.jobId;
        expect(results.map((result) => result.jobId)).toEqual(contenders.map(() => winner));
        expect(await bindingOf(key)).toMatchObject({ jobId: winner });
      } finally {
        clock.set(START);
      }
    }
  });

  it('keys are per job type', async () => {
    const key = uniqueKey();
    expect((await bind(key, 'a', { type: 'a.type' })).bound).toBe(true);
    expect((await bind(key, 'b', { type: 'b.type' })).bound).toBe(true);
  });
});

describe('step markers (ctx.once)', () => {
  it('concurrent beginStep of one step (attribute_not_exists): exactly one starts it', async () => {
    const jobId = newJobId(START);
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => store.beginStep(jobId, 'charge', i + 1, HOUR)));
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true) + 1;
    expect(await store.readStep(jobId, 'charge')).toEqual({ status: 'in_progress', attempt: winner });
  });

  it('a completed step keeps its result (JSON text, numbers beyond 2^53 included): no attempt can begin or take it over', async () => {
    const jobId = newJobId(START);
    expect(await store.beginStep(jobId, 'charge', 1, HOUR)).toBe(true);
    const result = { chargeId: 'ch_1', big: 2 ** 60, tiny: 1e-200 };
    expect(await store.completeStep(jobId, 'charge', 1, JSON.stringify(result))).toBe(true);
    expect(await store.readStep(jobId, 'charge')).toEqual({ status: 'completed', result });
    expect(await store.beginStep(jobId, 'charge', 2, HOUR)).toBe(false);
    expect(await store.takeOverStep(jobId, 'charge', 1, 2, HOUR)).toBe(false);
    expect(await store.completeStep(jobId, 'charge', 1, '"again"')).toBe(false);
    expect(await store.readStep(jobId, 'charge')).toEqual({ status: 'completed', result });
  });

  it('concurrent takeovers of one interrupted marker (status and attempt as read): exactly one wins', async () => {
    for (let round = 0; round < 4; round++) {
      const jobId = newJobId(START + round);
      expect(await store.beginStep(jobId, 'send', 1, HOUR)).toBe(true);
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => store.takeOverStep(jobId, 'send', 1, i + 2, HOUR)));
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true) + 2;
      expect(await store.readStep(jobId, 'send')).toEqual({ status: 'in_progress', attempt: winner });
      // Only the winner can complete it; the losers' completions are refused.
      for (let attempt = 2; attempt < 8; attempt++) {
        if (attempt !== winner) expect(await store.completeStep(jobId, 'send', attempt, '"lost"')).toBe(false);
      }
      expect(await store.completeStep(jobId, 'send', winner, '"sent"')).toBe(true);
      expect(await store.readStep(jobId, 'send')).toEqual({ status: 'completed', result: 'sent' });
    }
  });

  it('a takeover of a marker that changed since the read (another attempt took it) is refused', async () => {
    const jobId = newJobId(START);
    expect(await store.beginStep(jobId, 'send', 1, HOUR)).toBe(true);
    expect(await store.takeOverStep(jobId, 'send', 1, 2, HOUR)).toBe(true);
    expect(await store.takeOverStep(jobId, 'send', 1, 3, HOUR)).toBe(false);
    expect(await store.takeOverStep(jobId, 'ghost', 1, 3, HOUR)).toBe(false);
    expect(await store.readStep(jobId, 'ghost')).toBeUndefined();
  });

  it('an earlier attempt cannot complete or abandon a step a later attempt holds', async () => {
    const jobId = newJobId(START);
    expect(await store.beginStep(jobId, 'send', 2, HOUR)).toBe(true);
    expect(await store.beginStep(jobId, 'send', 1, HOUR)).toBe(false);
    expect(await store.completeStep(jobId, 'send', 1, '"stale"')).toBe(false);
    await store.abandonStep(jobId, 'send', 1);
    // Still held by attempt 2, which completes it.
    expect(await store.completeStep(jobId, 'send', 2, '"sent"')).toBe(true);
    expect(await store.readStep(jobId, 'send')).toEqual({ status: 'completed', result: 'sent' });
  });

  it('completeStep of a step never begun is refused and creates nothing', async () => {
    const jobId = newJobId(START);
    expect(await store.completeStep(jobId, 'ghost', 1, '"x"')).toBe(false);
    expect(await store.readStep(jobId, 'ghost')).toBeUndefined();
  });

  it('abandonStep frees the step for the next attempt, but never deletes a completed one', async () => {
    const jobId = newJobId(START);
    expect(await store.beginStep(jobId, 'upload', 1, HOUR)).toBe(true);
    await store.abandonStep(jobId, 'upload', 1);
    expect(await store.beginStep(jobId, 'upload', 2, HOUR)).toBe(true);
    expect(await store.completeStep(jobId, 'upload', 2, '"done"')).toBe(true);
    await store.abandonStep(jobId, 'upload', 2);
    expect(await store.readStep(jobId, 'upload')).toEqual({ status: 'completed', result: 'done' });
  });

  it('resolveStep settles only a step in progress: with a result it completes it, with rerun it forgets it', async () => {
    const jobId = newJobId(START);
    expect(await store.beginStep(jobId, 'charge', 1, HOUR)).toBe(true);
    expect(await store.resolveStep(jobId, 'charge', { result: { chargeId: 'ch_9' } })).toBe(true);
    expect(await store.readStep(jobId, 'charge')).toEqual({ status: 'completed', result: { chargeId: 'ch_9' } });
    // A completed step is not resolved again, either way.
    expect(await store.resolveStep(jobId, 'charge', { rerun: true })).toBe(false);
    expect(await store.resolveStep(jobId, 'charge', { result: 'other' })).toBe(false);
    expect(await store.readStep(jobId, 'charge')).toEqual({ status: 'completed', result: { chargeId: 'ch_9' } });

    expect(await store.beginStep(jobId, 'mail', 1, HOUR)).toBe(true);
    expect(await store.resolveStep(jobId, 'mail', { rerun: true })).toBe(true);
    expect(await store.readStep(jobId, 'mail')).toBeUndefined();
    expect(await store.beginStep(jobId, 'mail', 2, HOUR)).toBe(true);
    // Never started: nothing to resolve, nothing created.
    expect(await store.resolveStep(jobId, 'ghost', { result: 1 })).toBe(false);
    expect(await store.resolveStep(jobId, 'ghost', { rerun: true })).toBe(false);
    expect(await store.readStep(jobId, 'ghost')).toBeUndefined();
  });

  it('resolveStep racing a takeover of the same marker: a resolved step is never completed a second time', async () => {
    for (let round = 0; round < 6; round++) {
      const jobId = newJobId(START + round);
      expect(await store.beginStep(jobId, 'charge', 1, HOUR)).toBe(true);
      const [resolved, tookOver] = await Promise.all([
        store.resolveStep(jobId, 'charge', { result: 'by-hand' }),
        store.takeOverStep(jobId, 'charge', 1, 2, HOUR),
      ]);
      const state = await store.readStep(jobId, 'charge');
      if (tookOver && resolved) {
        // The resolution landed after the takeover: the step is completed and attempt 2 cannot complete it again.
        expect(state).toEqual({ status: 'completed', result: 'by-hand' });
        expect(await store.completeStep(jobId, 'charge', 2, '"again"')).toBe(false);
      } else if (tookOver) {
        expect(state).toEqual({ status: 'in_progress', attempt: 2 });
      } else {
        expect(resolved).toBe(true);
        expect(state).toEqual({ status: 'completed', result: 'by-hand' });
      }
    }
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
