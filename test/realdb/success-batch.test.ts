import { GetCommand } from '@aws-sdk/lib-dynamodb';
import * as fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClaimRequest, JobStore, newJobId } from '../../shared/index.js';
import { MAX_SUCCESSES_PER_BATCH } from '../../shared/store/job-store.js';
import { SuccessBatch } from '../../shared/store/success-batch.js';
import { createTestTables, FakeClock, realDocumentClient, type TestTables } from './tables.js';

// The batched success (PartiQL BatchExecuteStatement, shared/store/success-batch.ts) on a real DynamoDB: each
// statement's condition is evaluated, so a stale attempt, a missing record, a cancelled tombstone and a finished
// job are refused one by one inside a batch, exactly as the single UpdateItem (`succeed`) refuses them.

const START = Date.parse('2026-11-23T12:00:00.000Z');
const LEASE_MS = 60_000;
const documentClient = realDocumentClient();
const clock = new FakeClock(START);
let tables: TestTables;
let store: JobStore;

beforeAll(async () => {
  tables = await createTestTables(documentClient, 'success-batch');
  store = new JobStore(documentClient, tables.jobs, { clock: clock.now });
});
afterAll(() => tables.drop());

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

async function raw(id: string): Promise<Record<string, unknown> | undefined> {
  const output = await documentClient.send(new GetCommand({ TableName: tables.jobs, Key: { id }, ConsistentRead: true }));
  return output.Item;
}

/** A job in one of the situations a success write can meet. */
type Situation =
  | 'owned'
  | 'taken-over'
  | 'missing'
  | 'cancelled-before-start'
  | 'cancel-requested'
  | 'succeeded'
  | 'stale-attempt';

async function prepare(situation: Situation): Promise<{ id: string; attempt: number }> {
  const id = newJobId(clock.now());
  if (situation === 'missing') return { id, attempt: 1 };
  await store.create({
    id,
    type: 'demo.echo',
    queue: 'default',
    maxAttempts: 3,
    payload: { n: 1 },
    correlationId: id,
    state: 'queued',
  });
  if (situation === 'cancelled-before-start') {
    expect((await store.cancel(id)).outcome).toBe('cancelled');
    return { id, attempt: 1 };
  }
  expect((await store.claim(claimRequest(id))).outcome).toBe('claimed');
  if (situation === 'taken-over') {
    // The lease ran out and another delivery took the job: attempt 1 is stale.
    const later = { ...claimRequest(id), leaseUntil: clock.now() + 2 * LEASE_MS };
    const now = clock.now();
    clock.set(now + LEASE_MS + 1);
    try {
      expect((await store.claim(later)).outcome).toBe('claimed');
    } finally {
      clock.set(now);
    }
  }
  if (situation === 'cancel-requested') expect((await store.cancel(id)).outcome).toBe('requested');
  if (situation === 'succeeded') expect(await store.succeed(id, 1, 'first')).toBe(true);
  return { id, attempt: situation === 'stale-attempt' ? 2 : 1 };
}

/** What `succeed` answers in each situation: only the owner of a running job (a cancel request included) writes. */
const OWNS: Record<Situation, boolean> = {
  owned: true,
  'cancel-requested': true,
  'taken-over': false,
  missing: false,
  'cancelled-before-start': false,
  succeeded: false,
  'stale-attempt': false,
};

describe('JobStore.succeedMany', () => {
  it('writes what succeed writes, field for field', async () => {
    const one = await prepare('owned');
    const other = await prepare('owned');
    expect(await store.succeed(one.id, 1, { answer: 42, list: [1, 'a', null] })).toBe(true);
    expect(await store.succeedMany([{ id: other.id, attempt: 1, result: { answer: 42, list: [1, 'a', null] } }])).toEqual([true]);
    const single = await raw(one.id);
    const batched = await raw(other.id);
    expect({ ...batched, id: one.id, correlationId: one.id }).toEqual(single);
    expect(batched).toMatchObject({ state: 'succeeded', result: { answer: 42, list: [1, 'a', null] } });
    expect(batched).not.toHaveProperty('leaseUntil');
  });

  it('answers each statement on its own: in any mix, exactly the owners are written and the rest are left unchanged', async () => {
    const situations = Object.keys(OWNS) as Situation[];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...situations), { minLength: 1, maxLength: MAX_SUCCESSES_PER_BATCH }),
        async (mix) => {
          // One after another: a takeover moves the shared clock past the lease for a moment.
          const jobs: { id: string; attempt: number }[] = [];
          for (const situation of mix) jobs.push(await prepare(situation));
          const before = await Promise.all(jobs.map((job) => raw(job.id)));
          const outcomes = await store.succeedMany(jobs.map((job) => ({ ...job, result: 'batched' })));
          expect(outcomes).toEqual(mix.map((situation) => OWNS[situation]));
          for (const [index, job] of jobs.entries()) {
            const after = await raw(job.id);
            if (OWNS[mix[index] as Situation])
              expect(after).toMatchObject({ state: 'succeeded', result: 'batched', attempts: 1 });
            // Refused: not created (missing), not changed (everything else).
            else expect(after).toEqual(before[index]);
          }
        },
      ),
      { numRuns: 12 },
    );
  });

  it('refuses more statements than DynamoDB takes in one request', async () => {
    const entries = Array.from({ length: MAX_SUCCESSES_PER_BATCH + 1 }, (_, i) => ({ id: `x${i}`, attempt: 1, result: null }));
    await expect(store.succeedMany(entries)).rejects.toThrow(RangeError);
  });
});

describe('SuccessBatch', () => {
  /** The store with its two success writes counted. */
  function counted() {
    const calls = { succeed: 0, succeedMany: 0 };
    const proxy = new Proxy(store, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (property === 'succeed' || property === 'succeedMany') {
          return (...args: unknown[]) => {
            calls[property]++;
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    return { store: proxy, calls };
  }

  it('ten records running together: one request writes the ten successes, a stale one among them refused', async () => {
    const { store: countedStore, calls } = counted();
    const batch = new SuccessBatch(countedStore, { lingerMs: 60_000 });
    const jobs: { id: string; attempt: number }[] = [];
    for (let i = 0; i < 10; i++) jobs.push(await prepare(i === 3 ? 'taken-over' : i === 7 ? 'cancelled-before-start' : 'owned'));
    // The worker enters every record of its batch before any of them gets to its success write.
    for (const _ of jobs) batch.enter();
    const owned = await Promise.all(
      jobs.map(async (job) => {
        try {
          return await batch.succeed(job.id, job.attempt, `result ${job.id}`);
        } finally {
          batch.leave();
        }
      }),
    );
    expect(owned).toEqual(jobs.map((_, i) => i !== 3 && i !== 7));
    expect(calls).toEqual({ succeed: 0, succeedMany: 1 });
    for (const [i, job] of jobs.entries()) {
      if (i === 3 || i === 7) expect((await raw(job.id))?.state).not.toBe('succeeded');
      else expect(await raw(job.id)).toMatchObject({ state: 'succeeded', result: `result ${job.id}` });
    }
  });

  it('a lone success is the plain UpdateItem; a slow batch mate holds the others back only until the linger ends', async () => {
    const { store: countedStore, calls } = counted();
    const batch = new SuccessBatch(countedStore, { lingerMs: 20 });
    const lone = await prepare('owned');
    batch.enter();
    expect(await batch.succeed(lone.id, 1, 'alone')).toBe(true);
    batch.leave();
    expect(calls).toEqual({ succeed: 1, succeedMany: 0 });

    const [fast, alsoFast] = await Promise.all([prepare('owned'), prepare('owned')]);
    if (!fast || !alsoFast) throw new Error('no jobs');
    batch.enter(); // the slow batch mate: in flight, never asking for its write during this test
    batch.enter();
    batch.enter();
    const written = await Promise.all([batch.succeed(fast.id, 1, 'fast'), batch.succeed(alsoFast.id, 1, 'fast')]);
    expect(written).toEqual([true, true]);
    expect(calls).toEqual({ succeed: 1, succeedMany: 1 });
    batch.leave();
    batch.leave();
    batch.leave();
  });

  it('two successes of one job in the same batch go in separate requests: the second is refused by its condition', async () => {
    const job = await prepare('owned');
    const batch = new SuccessBatch(store, { lingerMs: 60_000 });
    batch.enter();
    batch.enter();
    const outcomes = await Promise.all([batch.succeed(job.id, 1, 'one'), batch.succeed(job.id, 1, 'two')]);
    expect(outcomes).toEqual([true, false]);
    expect((await raw(job.id))?.result).toBe('one');
  });
});
