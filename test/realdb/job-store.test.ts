import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ATTENTION_INDEX_NAME } from '../../shared/config.js';
import {
  attentionKey,
  type ClaimRequest,
  controlItemId,
  IllegalTransitionError,
  isControlItemId,
  type JobErrorInfo,
  JobMaintenance,
  type JobRecord,
  newJobId,
} from '../../shared/index.js';
import { JOB_STATES, type JobState } from '../../shared/states.js';
import { createTestTables, FakeClock, realDocumentClient, type TestTables } from './tables.js';

// Every test here runs the real JobStore against a real DynamoDB (see docs/real-dynamodb.md): the
// conditions are evaluated, not asserted as strings, which is what the mocked unit tests cannot do.

const START = Date.parse('2026-11-23T12:00:00.000Z');
const LEASE_MS = 60_000;
const documentClient = realDocumentClient();
const clock = new FakeClock(START);
let tables: TestTables;
// JobMaintenance is JobStore plus the sweeper's scan and markSwept: one store covers every write.
let store: JobMaintenance;

beforeAll(async () => {
  tables = await createTestTables(documentClient, 'job-store');
  store = new JobMaintenance(documentClient, tables.jobs, { clock: clock.now });
});
afterAll(() => tables.drop());

const failure: JobErrorInfo = { name: 'Error', message: 'boom', retryable: true };

async function newJob(state: 'queued' | 'scheduled' = 'queued', overrides: { type?: string } = {}): Promise<string> {
  const id = newJobId(clock.now());
  const created = await store.create({
    id,
    type: overrides.type ?? 'demo.echo',
    queue: 'default',
    maxAttempts: 3,
    payload: { n: 1 },
    correlationId: id,
    state,
    ...(state === 'scheduled' ? { runAt: new Date(clock.now() + 3_600_000).toISOString() } : {}),
  });
  expect(created).toBe(true);
  return id;
}

function claimRequest(id: string): ClaimRequest {
  return {
    id,
    type: 'demo.echo',
    queue: 'default',
    maxAttempts: 3,
    payload: { n: 1 },
    correlationId: id,
    enqueuedAt: new Date(clock.now()).toISOString(),
    leaseUntil: clock.now() + LEASE_MS,
  };
}

async function current(id: string): Promise<JobRecord> {
  const record = await store.get(id);
  if (!record) throw new Error(`job ${id} is gone`);
  return record;
}

/** The attention-index entries of job `id`, read straight from the index over every state's shards. */
async function indexStatesOf(id: string): Promise<JobState[]> {
  const found: JobState[] = [];
  for (const state of JOB_STATES) {
    // A job's shard is fixed by its id; the other shards of the state are checked by the listing tests.
    const output = await documentClient.send(
      new QueryCommand({
        TableName: tables.jobs,
        IndexName: ATTENTION_INDEX_NAME,
        KeyConditionExpression: 'attentionState = :a',
        FilterExpression: 'id = :id',
        ExpressionAttributeValues: { ':a': attentionKey(state, id), ':id': id },
      }),
    );
    if ((output.Items ?? []).length > 0) found.push(state);
  }
  return found;
}

describe('create and deleteUnsent', () => {
  it('create refuses a second record with the same id and keeps the first', async () => {
    const id = await newJob();
    const second = await store.create({
      id,
      type: 'other.type',
      queue: 'default',
      maxAttempts: 1,
      payload: { n: 2 },
      correlationId: 'second',
      state: 'queued',
    });
    expect(second).toBe(false);
    expect(await current(id)).toMatchObject({ type: 'demo.echo', payload: { n: 1 }, correlationId: id });
  });

  it('deleteUnsent removes a job that never ran, and nothing else', async () => {
    const unsent = await newJob();
    const scheduled = await newJob('scheduled');
    const running = await newJob();
    await store.claim(claimRequest(running));
    const requeued = await newJob();
    await store.claim(claimRequest(requeued));
    await store.markDead(requeued, failure, { attempt: 1 });
    await store.requeueDead(requeued, { extraAttempts: 1, reason: 'retry' });

    for (const id of [unsent, scheduled, running, requeued]) await store.deleteUnsent(id);

    expect(await store.get(unsent)).toBeUndefined();
    expect(await store.get(scheduled)).toBeUndefined();
    expect((await current(running)).state).toBe('running');
    // Queued again by a retry, with a run behind it: its message may be in flight, so it must stay.
    expect(await current(requeued)).toMatchObject({ state: 'queued', attempts: 1 });
  });
});

describe('claim', () => {
  it('two concurrent claims of one job: exactly one is claimed, the other is busy until the lease ends', async () => {
    const id = await newJob();
    const results = await Promise.all([store.claim(claimRequest(id)), store.claim(claimRequest(id))]);
    const outcomes = results.map((result) => result.outcome).sort();
    expect(outcomes).toEqual(['busy', 'claimed']);
    const busy = results.find((result) => result.outcome === 'busy');
    expect(busy).toMatchObject({ retryAt: START + LEASE_MS });
    expect(await current(id)).toMatchObject({ state: 'running', attempts: 1, leaseUntil: START + LEASE_MS });
  });

  it('ten concurrent claims of one job: one claimed, nine busy, one attempt counted', async () => {
    const id = await newJob();
    const results = await Promise.all(Array.from({ length: 10 }, () => store.claim(claimRequest(id))));
    expect(results.filter((result) => result.outcome === 'claimed')).toHaveLength(1);
    expect(results.filter((result) => result.outcome === 'busy')).toHaveLength(9);
    expect((await current(id)).attempts).toBe(1);
  });

  it('creates the record when a message arrives for a job with none (a schedule fired straight to the queue)', async () => {
    const id = newJobId(clock.now());
    const result = await store.claim(claimRequest(id));
    expect(result).toMatchObject({ outcome: 'claimed', record: { id, state: 'running', attempts: 1, type: 'demo.echo' } });
  });

  it('takes over a running job only after its lease expired', async () => {
    const id = await newJob();
    await store.claim(claimRequest(id));
    try {
      clock.advance(LEASE_MS - 1);
      expect(await store.claim(claimRequest(id))).toMatchObject({ outcome: 'busy', retryAt: START + LEASE_MS });
      clock.advance(1);
      // leaseUntil < now: at the very millisecond the lease ends, it is still held.
      expect((await store.claim(claimRequest(id))).outcome).toBe('busy');
      clock.advance(1);
      const takeover = await store.claim(claimRequest(id));
      expect(takeover).toMatchObject({ outcome: 'claimed', record: { attempts: 2 } });
    } finally {
      clock.set(START);
    }
  });

  it('does not claim a retrying job before nextAttemptAt, and claims it from then on', async () => {
    const id = await newJob();
    await store.claim(claimRequest(id));
    const nextAttemptAt = START + 30_000;
    expect(await store.scheduleRetry(id, 1, failure, nextAttemptAt)).toBe(true);
    try {
      clock.advance(29_999);
      expect(await store.claim(claimRequest(id))).toMatchObject({ outcome: 'busy', retryAt: nextAttemptAt });
      clock.advance(1);
      expect(await store.claim(claimRequest(id))).toMatchObject({ outcome: 'claimed', record: { attempts: 2 } });
    } finally {
      clock.set(START);
    }
  });

  it('answers finished for a job in a terminal state, leaving it as it is', async () => {
    const id = await newJob();
    await store.claim(claimRequest(id));
    await store.succeed(id, 1, { ok: true });
    const before = await current(id);
    expect(await store.claim(claimRequest(id))).toMatchObject({ outcome: 'finished', record: { state: 'succeeded' } });
    expect(await current(id)).toEqual(before);
  });
});

describe('fencing: an attempt that lost the job can no longer write it', () => {
  async function takenOver(): Promise<string> {
    const id = await newJob();
    await store.claim(claimRequest(id));
    clock.advance(LEASE_MS + 1);
    expect((await store.claim(claimRequest(id))).outcome).toBe('claimed');
    return id;
  }

  it.each([
    ['succeed', (id: string) => store.succeed(id, 1, { stale: true })],
    ['scheduleRetry', (id: string) => store.scheduleRetry(id, 1, failure, clock.now() + 1_000)],
    ['markDead', (id: string) => store.markDead(id, failure, { attempt: 1 })],
    ['markCancelledByRun', (id: string) => store.markCancelledByRun(id, 1)],
  ])('%s of the stale attempt returns false and changes nothing', async (_name, write) => {
    try {
      const id = await takenOver();
      const before = await current(id);
      expect(await write(id)).toBe(false);
      expect(await current(id)).toEqual(before);
      expect(before).toMatchObject({ state: 'running', attempts: 2 });
    } finally {
      clock.set(START);
    }
  });

  it('reportProgress of the stale attempt answers lost; the owner still reports', async () => {
    try {
      const id = await takenOver();
      expect(await store.reportProgress(id, 1, { percent: 50 })).toBe('lost');
      expect(await store.reportProgress(id, 2, { percent: 10 })).toBe('ok');
      expect((await current(id)).progress).toEqual({ percent: 10 });
    } finally {
      clock.set(START);
    }
  });

  it('a succeeded job cannot be failed, retried or killed by its own attempt afterwards', async () => {
    const id = await newJob();
    await store.claim(claimRequest(id));
    expect(await store.succeed(id, 1, 'done')).toBe(true);
    expect(await store.scheduleRetry(id, 1, failure, clock.now())).toBe(false);
    expect(await store.markDead(id, failure, { attempt: 1 })).toBe(false);
    expect(await store.markDead(id, failure)).toBe(false);
    expect(await current(id)).toMatchObject({ state: 'succeeded', result: 'done' });
  });
});

describe('cancel', () => {
  it('cancel racing a claim: either the job is cancelled and the claim finds it finished, or the run is asked to stop', async () => {
    for (let round = 0; round < 8; round++) {
      const id = await newJob();
      const [cancelled, claimed] = await Promise.all([store.cancel(id), store.claim(claimRequest(id))]);
      const record = await current(id);
      if (claimed.outcome === 'claimed') {
        expect(cancelled.outcome).toBe('requested');
        expect(record).toMatchObject({ state: 'running', cancelRequested: true });
      } else {
        expect(cancelled.outcome).toBe('cancelled');
        expect(claimed).toMatchObject({ outcome: 'finished', record: { state: 'cancelled' } });
        expect(record.state).toBe('cancelled');
      }
    }
  });

  it('a cancel request reaches the running attempt through reportProgress, and the run ends cancelled', async () => {
    const id = await newJob();
    await store.claim(claimRequest(id));
    expect(await store.cancel(id)).toMatchObject({ outcome: 'requested' });
    expect(await store.reportProgress(id, 1, { percent: 1 })).toBe('cancel-requested');
    expect(await store.markCancelledByRun(id, 1)).toBe(true);
    expect(await current(id)).toMatchObject({ state: 'cancelled' });
  });

  it('cancels a retrying job, which is then never claimed', async () => {
    const id = await newJob();
    await store.claim(claimRequest(id));
    await store.scheduleRetry(id, 1, failure, clock.now());
    expect(await store.cancel(id)).toMatchObject({ outcome: 'cancelled' });
    expect(await store.claim(claimRequest(id))).toMatchObject({ outcome: 'finished' });
  });

  it('answers not-found for an unknown id', async () => {
    expect(await store.cancel(newJobId(clock.now()))).toEqual({ outcome: 'not-found' });
  });
});

describe('requeueDead', () => {
  it('five concurrent retries of a dead job requeue it once', async () => {
    const id = await newJob();
    await store.claim(claimRequest(id));
    await store.markDead(id, failure, { attempt: 1 });
    const results = await Promise.all(
      Array.from({ length: 5 }, () => store.requeueDead(id, { extraAttempts: 2, reason: 'retry' })),
    );
    expect(results.filter((result) => result.requeued)).toHaveLength(1);
    const record = await current(id);
    expect(record).toMatchObject({ state: 'queued', attempts: 1, maxAttempts: 3 });
    expect(record.history).toHaveLength(1);
    expect(record.attentionState).toBeUndefined();
  });

  it('does not requeue a job that is not dead', async () => {
    const id = await newJob();
    expect(await store.requeueDead(id, { extraAttempts: 1, reason: 'retry' })).toMatchObject({
      requeued: false,
      record: { state: 'queued' },
    });
  });

  it('a requeued job no longer carries the sweeper count of its previous life (fault 9)', async () => {
    const id = await newJob();
    expect(await store.markSwept(await current(id))).toBe(true);
    expect(await store.markSwept(await current(id))).toBe(true);
    expect((await current(id)).sweeps).toBe(2);
    await store.markDead(id, failure);
    await store.requeueDead(id, { extraAttempts: 1, reason: 'retry' });
    const requeued = await current(id);
    expect(requeued.sweeps ?? 0).toBe(0);
    expect(requeued.sweptAt).toBeUndefined();
  });

  it('a requeued job no longer owes the dead-letter copy of its previous life (deadLetterPending)', async () => {
    const id = await newJob();
    await store.claim(claimRequest(id));
    await store.markDead(id, failure, { attempt: 1, deadLetterPending: true });
    expect(await store.requeueDead(id, { extraAttempts: 1, reason: 'retry' })).toMatchObject({ requeued: true });
    expect((await current(id)).deadLetterPending).toBeUndefined();
    // So a later death whose copy was sent does not read as still owing one.
    await store.claim(claimRequest(id));
    await store.markDead(id, failure, { attempt: 2 });
    expect(await current(id)).toMatchObject({ state: 'dead' });
    expect((await current(id)).deadLetterPending).toBeUndefined();
  });

  it('a claim resets the sweeper count: the job moved (fault 9)', async () => {
    const id = await newJob();
    expect(await store.markSwept(await current(id))).toBe(true);
    await store.claim(claimRequest(id));
    const claimed = await current(id);
    expect(claimed.sweeps ?? 0).toBe(0);
    expect(claimed.sweptAt).toBeUndefined();
  });
});

describe('markDead without an attempt (poison input before any claim)', () => {
  it('kills a queued job and creates the record of a job that had none', async () => {
    const queued = await newJob();
    expect(await store.markDead(queued, failure)).toBe(true);
    const unknown = newJobId(clock.now());
    expect(await store.markDead(unknown, failure, { type: 'x.y', queue: 'default', maxAttempts: 2 })).toBe(true);
    expect(await current(unknown)).toMatchObject({ state: 'dead', type: 'x.y', attempts: 0, maxAttempts: 2 });
  });

  it('leaves deadLetterPending until confirmDeadLetter clears it, once', async () => {
    const id = await newJob();
    await store.claim(claimRequest(id));
    expect(await store.markDead(id, failure, { attempt: 1, deadLetterPending: true })).toBe(true);
    expect((await current(id)).deadLetterPending).toBe(true);
    expect(await store.confirmDeadLetter(id)).toBe(true);
    expect(await store.confirmDeadLetter(id)).toBe(false);
    expect((await current(id)).deadLetterPending).toBeUndefined();
  });
});

describe('the sparse attention index', () => {
  it('holds a job exactly while its state needs attention', async () => {
    const plain = await newJob();
    expect(await indexStatesOf(plain)).toEqual([]);
    await store.claim(claimRequest(plain));
    expect(await indexStatesOf(plain)).toEqual([]);
    await store.scheduleRetry(plain, 1, failure, clock.now());
    expect(await indexStatesOf(plain)).toEqual(['retrying']);
    await store.claim(claimRequest(plain));
    expect(await indexStatesOf(plain)).toEqual([]);
    await store.succeed(plain, 2, null);
    expect(await indexStatesOf(plain)).toEqual([]);

    const scheduled = await newJob('scheduled');
    expect(await indexStatesOf(scheduled)).toEqual(['scheduled']);
    await store.cancel(scheduled);
    expect(await indexStatesOf(scheduled)).toEqual(['cancelled']);

    const doomed = await newJob();
    await store.claim(claimRequest(doomed));
    await store.markDead(doomed, failure, { attempt: 1 });
    expect(await indexStatesOf(doomed)).toEqual(['dead']);
    await store.requeueDead(doomed, { extraAttempts: 1, reason: 'retry' });
    expect(await indexStatesOf(doomed)).toEqual([]);
  });
});

describe('list', () => {
  it('pages a state that needs attention newest first across all shards, each job once', async () => {
    const type = `list.sharded.${Date.now()}`;
    const ids: string[] = [];
    try {
      for (let i = 0; i < 13; i++) {
        clock.advance(1_000);
        ids.push(await newJob('scheduled', { type }));
      }
      // Another type in the same state, interleaved in time: the type filter must skip it without losing any.
      for (let i = 0; i < 5; i++) {
        clock.advance(500);
        await newJob('scheduled', { type: `${type}.other` });
      }
    } finally {
      clock.set(START);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.list({ state: 'scheduled', type, limit: 4, ...(cursor ? { cursor } : {}) });
      expect(page.jobs.length).toBeLessThanOrEqual(4);
      seen.push(...page.jobs.map((job) => job.id));
      cursor = page.cursor;
      pages++;
    } while (cursor !== undefined && pages < 20);
    expect(seen).toEqual([...ids].reverse());
  });

  it('pages a plain state with a Scan whose Limit counts items before the filter, each job once', async () => {
    const type = `list.scan.${Date.now()}`;
    const queued: string[] = [];
    for (let i = 0; i < 7; i++) queued.push(await newJob('queued', { type }));
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.list({ state: 'queued', type, limit: 3, ...(cursor ? { cursor } : {}) });
      expect(page.jobs.length).toBeLessThanOrEqual(3);
      seen.push(...page.jobs.map((job) => job.id));
      cursor = page.cursor;
      pages++;
    } while (cursor !== undefined && pages < 100);
    expect([...seen].sort()).toEqual([...queued].sort());
  });

  it('pages the any-state list newest created first across the whole table with newestFirst, each job once', async () => {
    const type = `list.newest.${Date.now()}`;
    const ids: string[] = [];
    try {
      // Created a second apart, in states on both sides of the index (Scan and attention index alike).
      for (let i = 0; i < 9; i++) {
        clock.advance(1_000);
        ids.push(await newJob(i % 3 === 0 ? 'scheduled' : 'queued', { type }));
      }
    } finally {
      clock.set(START);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.list({ type, limit: 4, newestFirst: true, ...(cursor ? { cursor } : {}) });
      expect(page.jobs.length).toBeLessThanOrEqual(4);
      seen.push(...page.jobs.map((job) => job.id));
      cursor = page.cursor;
      pages++;
    } while (cursor !== undefined && pages < 20);
    expect(seen).toEqual([...ids].reverse());
    expect(pages).toBe(3);
  });

  it('filters by id prefix and by queue, in the Scan and in the attention index', async () => {
    const type = `list.prefix.${Date.now()}`;
    const matching = [await newJob('queued', { type }), await newJob('scheduled', { type })];
    const prefix = (matching[0] as string).slice(0, 26);
    expect((await store.list({ idPrefix: prefix, limit: 10 })).jobs.map((job) => job.id)).toEqual([matching[0]]);
    const byScheduledPrefix = await store.list({ state: 'scheduled', idPrefix: (matching[1] as string).slice(0, 26), limit: 10 });
    expect(byScheduledPrefix.jobs.map((job) => job.id)).toEqual([matching[1]]);
    expect((await store.list({ type, queue: 'default', limit: 10 })).jobs).toHaveLength(2);
    expect((await store.list({ type, queue: 'elsewhere', limit: 10 })).jobs).toEqual([]);
    expect((await store.list({ state: 'scheduled', type, queue: 'elsewhere', limit: 10 })).jobs).toEqual([]);
  });

  it('refuses a cursor of another listing with a typed error', async () => {
    const attentionCursor = Buffer.from(JSON.stringify({ 'dead#0': 'done' })).toString('base64url');
    await expect(store.list({ cursor: attentionCursor, newestFirst: true })).rejects.toThrow(/not a cursor of this listing/);
    const newestFirstCursor = Buffer.from(
      JSON.stringify({ before: { createdAt: new Date(START).toISOString(), id: 'x' } }),
    ).toString('base64url');
    await expect(store.list({ cursor: newestFirstCursor })).rejects.toThrow(/pass newestFirst again/);
  });

  it('never lists control items (flow-control state, pauses) that share the table', async () => {
    const job = await newJob('queued');
    await documentClient.send(
      new PutCommand({ TableName: tables.jobs, Item: { id: controlItemId('concurrency', 'list.control', 'k'), holders: {} } }),
    );
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.list({ limit: 50, ...(cursor ? { cursor } : {}) });
      seen.push(...page.jobs.map((record) => record.id));
      cursor = page.cursor;
    } while (cursor !== undefined);
    expect(seen).toContain(job);
    expect(seen.filter(isControlItemId)).toEqual([]);
  });
});

describe('writes pinned to the version read (sweeper, undeliverable consumer, retry)', () => {
  const stuck: JobErrorInfo = { name: 'StuckJobError', message: 'no progress', retryable: true };

  it('markDeadIfUnchanged racing a claim of the same version: exactly one of them wins', async () => {
    for (let round = 0; round < 8; round++) {
      const id = await newJob();
      const seen = await current(id);
      const [killed, claimed] = await Promise.all([
        store.markDeadIfUnchanged(seen, id, stuck, { deadLetterPending: true }),
        store.claim(claimRequest(id)),
      ]);
      const record = await current(id);
      if (claimed.outcome === 'claimed') {
        expect(killed).toBe(false);
        expect(record).toMatchObject({ state: 'running', attempts: 1 });
        expect(record.deadLetterPending).toBeUndefined();
      } else {
        expect(killed).toBe(true);
        expect(claimed).toMatchObject({ outcome: 'finished', record: { state: 'dead' } });
        expect(record).toMatchObject({ state: 'dead', attempts: 0, deadLetterPending: true });
      }
    }
  });

  it.each([
    ['a claim', (id: string) => store.claim(claimRequest(id))],
    ['a sweeper re-send', async (id: string) => expect(await store.markSwept(await current(id))).toBe(true)],
    [
      'a run that died and a retry (dead again, at a later attempt)',
      async (id: string) => {
        await store.claim(claimRequest(id));
        await store.markDead(id, failure, { attempt: 1 });
        await store.requeueDead(id, { extraAttempts: 1, reason: 'retry' });
      },
    ],
  ])('markDeadIfUnchanged refuses a job that moved since the read: %s', async (_name, move) => {
    const id = await newJob();
    const seen = await current(id);
    clock.advance(1);
    await move(id);
    const moved = await current(id);
    expect(await store.markDeadIfUnchanged(seen, id, stuck)).toBe(false);
    expect(await current(id)).toEqual(moved);
  });

  it('markDeadIfUnchanged without a record read creates the dead record only while none exists', async () => {
    const absent = newJobId(clock.now());
    expect(await store.markDeadIfUnchanged(undefined, absent, stuck, { type: 'x.y', queue: 'default' })).toBe(true);
    expect(await current(absent)).toMatchObject({ state: 'dead', type: 'x.y', attempts: 0 });
    const present = await newJob();
    expect(await store.markDeadIfUnchanged(undefined, present, stuck)).toBe(false);
    expect((await current(present)).state).toBe('queued');
  });

  it('markDeadIfUnchanged of a finished version throws (the table forbids it) and writes nothing', async () => {
    const id = await newJob();
    await store.claim(claimRequest(id));
    await store.succeed(id, 1, 'done');
    const seen = await current(id);
    await expect(store.markDeadIfUnchanged(seen, id, stuck)).rejects.toBeInstanceOf(IllegalTransitionError);
    expect(await current(id)).toEqual(seen);
  });

  it('markSwept counts only on the version read: a second sweep of the same read, or one after a claim, is refused', async () => {
    const id = await newJob();
    const seen = await current(id);
    const concurrent = await Promise.all(Array.from({ length: 5 }, () => store.markSwept(seen)));
    expect(concurrent.filter(Boolean)).toHaveLength(1);
    expect(await current(id)).toMatchObject({ sweeps: 1, state: 'queued', updatedAt: seen.updatedAt });
    const swept = await current(id);
    await store.claim(claimRequest(id));
    expect(await store.markSwept(swept)).toBe(false);
    expect((await current(id)).sweeps).toBeUndefined();
  });

  it('requeueDead does not requeue a job that died again between its read and its write', async () => {
    const id = await newJob();
    await store.claim(claimRequest(id));
    await store.markDead(id, failure, { attempt: 1 });
    // Another retry runs, in full, between this requeueDead's read and its conditional write.
    const interleaved = new JobMaintenance(
      racingClient(id, async () => {
        clock.advance(1);
        await store.requeueDead(id, { extraAttempts: 1, reason: 'retry' });
        await store.claim(claimRequest(id));
        await store.markDead(id, failure, { attempt: 2 });
      }),
      tables.jobs,
      { clock: clock.now },
    );
    const outcome = await interleaved.requeueDead(id, { extraAttempts: 5, reason: 'retry' });
    expect(outcome).toMatchObject({ requeued: false, record: { state: 'dead', attempts: 2 } });
    // Still dead as the other retry left it: no requeue computed from the stale read (attempts 1 + 5).
    expect(await current(id)).toMatchObject({ state: 'dead', attempts: 2, maxAttempts: 2 });
  });

  it('confirmDeadLetter clears the flag of a dead job only; a job requeued meanwhile is left alone', async () => {
    const id = await newJob();
    await store.claim(claimRequest(id));
    await store.markDead(id, failure, { attempt: 1, deadLetterPending: true });
    const [first, second] = await Promise.all([store.confirmDeadLetter(id), store.confirmDeadLetter(id)]);
    expect([first, second].filter(Boolean)).toHaveLength(1);

    const other = await newJob();
    expect(await store.confirmDeadLetter(other)).toBe(false);
    expect(await store.confirmDeadLetter(newJobId(clock.now()))).toBe(false);
    expect(await store.get(newJobId(clock.now()))).toBeUndefined();
  });
});

/**
 * The test's document client, which runs `between` once, right after the
 * first read of job `id` returns: a writer acting between a store's read and
 * its conditional write.
 */
function racingClient(id: string, between: () => Promise<void>): typeof documentClient {
  let fired = false;
  return new Proxy(documentClient, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver);
      return async (command: unknown) => {
        const output = await target.send(command as GetCommand);
        if (!fired && command instanceof GetCommand && command.input.Key?.id === id) {
          fired = true;
          await between();
        }
        return output;
      };
    },
  });
}
