import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type StaleThresholds, type SweepDeps, sweep } from '../../functions/sweeper/sweep.js';
import { IdempotencyStore, type JobRecord, JobStore, newJobId } from '../../shared/index.js';
import { RecordingQueue } from './recording-queue.js';
import { createTestTables, FakeClock, realDocumentClient, type TestTables } from './tables.js';

// The sweeper scans the whole jobs table, so every test here gets tables of its own.

const START = Date.parse('2026-11-23T12:00:00.000Z');
const MINUTE = 60_000;
const thresholds: StaleThresholds = {
  queuedMs: 20 * MINUTE,
  runningGraceMs: 10 * MINUTE,
  retryingGraceMs: 5 * MINUTE,
  scheduledGraceMs: 5 * MINUTE,
};
const documentClient = realDocumentClient();
let tables: TestTables;
let clock: FakeClock;
let store: JobStore;
let cursors: IdempotencyStore;
let queue: RecordingQueue;

beforeEach(async () => {
  tables = await createTestTables(documentClient, 'sweeper');
  clock = new FakeClock(START);
  store = new JobStore(documentClient, tables.jobs, { clock: clock.now });
  cursors = new IdempotencyStore(documentClient, tables.idempotency, { clock: clock.now });
  queue = new RecordingQueue();
});
afterEach(() => tables.drop());

function deps(overrides: Partial<SweepDeps> = {}): SweepDeps {
  return {
    store,
    cursors,
    queues: new Map([['default', queue]]),
    logger: new Logger({ logLevel: 'SILENT' }),
    thresholds,
    clock: clock.now,
    ...overrides,
  };
}

async function queuedJob(): Promise<string> {
  const id = newJobId(clock.now());
  await store.create({
    id,
    type: 'demo.echo',
    queue: 'default',
    maxAttempts: 3,
    payload: {},
    correlationId: id,
    state: 'queued',
  });
  return id;
}

/** The same store, with `between` run after each scan page is read and before the sweeper acts on it. */
function storeWithWorkAfterScan(between: (records: JobRecord[]) => Promise<void>): JobStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property !== 'scanUnfinished') return Reflect.get(target, property, receiver);
      return async (options: Parameters<JobStore['scanUnfinished']>[0]) => {
        const page = await target.scanUnfinished(options);
        await between(page.records);
        return page;
      };
    },
  });
}

function claimOf(id: string) {
  return store.claim({
    id,
    type: 'demo.echo',
    queue: 'default',
    maxAttempts: 3,
    payload: {},
    correlationId: id,
    enqueuedAt: new Date(clock.now()).toISOString(),
    leaseUntil: clock.now() + 15 * MINUTE,
  });
}

describe('sweep on a real table', () => {
  it('re-sends a job that stopped moving once per threshold, and leaves a fresh one alone', async () => {
    const stuck = await queuedJob();
    clock.advance(25 * MINUTE);
    const fresh = await queuedJob();

    expect(await sweep(deps())).toMatchObject({ resent: 1, killed: 0, passComplete: true });
    expect(queue.sent.map((job) => job.envelope.id)).toEqual([stuck]);
    expect(await store.get(stuck)).toMatchObject({ state: 'queued', sweeps: 1 });
    expect((await store.get(fresh))?.sweeps).toBeUndefined();

    // Its re-sent message gets time to arrive before the job counts as stuck again.
    clock.advance(MINUTE);
    expect(await sweep(deps())).toMatchObject({ resent: 0 });
  });

  it('does not re-send a job a worker claimed between the scan and the re-send', async () => {
    const id = await queuedJob();
    clock.advance(25 * MINUTE);
    const racing = storeWithWorkAfterScan(async () => {
      expect((await claimOf(id)).outcome).toBe('claimed');
    });
    expect(await sweep(deps({ store: racing }))).toMatchObject({ resent: 0, killed: 0 });
    expect(queue.sent).toEqual([]);
    expect(await store.get(id)).toMatchObject({ state: 'running' });
  });

  it('never kills a job a worker claimed after the scan read it as stuck (fault 1)', async () => {
    const id = await queuedJob();
    const seen = await store.get(id);
    if (!seen) throw new Error('job not created');
    for (let i = 0; i < 3; i++) expect(await store.markSwept(seen)).toBe(true);
    clock.advance(25 * MINUTE);
    const racing = storeWithWorkAfterScan(async () => {
      expect((await claimOf(id)).outcome).toBe('claimed');
    });
    await sweep(deps({ store: racing, maxSweeps: 3 }));
    expect(await store.get(id)).toMatchObject({ state: 'running', attempts: 1 });
    expect(queue.deadLetters).toEqual([]);
  });

  it('resumes from its saved cursor over several runs and re-sends each stuck job once per pass', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 9; i++) ids.push(await queuedJob());
    clock.advance(25 * MINUTE);
    let runs = 0;
    let passComplete = false;
    while (!passComplete && runs < 20) {
      ({ passComplete } = await sweep(deps({ maxRecordsPerRun: 2 })));
      runs++;
    }
    expect(runs).toBeGreaterThan(2);
    expect(queue.sent.map((job) => job.envelope.id).sort()).toEqual([...ids].sort());
  });
});
