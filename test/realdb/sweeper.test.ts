import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_EVIDENCE_RULES } from '../../functions/sweeper/decide.js';
import { type StaleThresholds, type SweepDeps, sweep } from '../../functions/sweeper/sweep.js';
import { IdempotencyStore, JobErrorName, JobMaintenance, type JobRecord, newJobId } from '../../shared/index.js';
import { RecordingQueue } from './recording-queue.js';
import { createTestTables, FakeClock, realDocumentClient, type TestTables } from './tables.js';

// The sweeper scans the whole jobs table, so every test here gets tables of its own. The queues are
// RecordingQueues: their message counts and retention are the evidence each test gives the sweeper.

const START = Date.parse('2026-11-23T12:00:00.000Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const thresholds: StaleThresholds = {
  queuedMs: 20 * MINUTE,
  runningGraceMs: 10 * MINUTE,
  retryingGraceMs: 5 * MINUTE,
  scheduledGraceMs: 5 * MINUTE,
};
const documentClient = realDocumentClient();
let tables: TestTables;
let clock: FakeClock;
let store: JobMaintenance;
let cursors: IdempotencyStore;
let queue: RecordingQueue;
let undeliverable: RecordingQueue;

beforeEach(async () => {
  tables = await createTestTables(documentClient, 'sweeper');
  clock = new FakeClock(START);
  store = new JobMaintenance(documentClient, tables.jobs, { clock: clock.now });
  cursors = new IdempotencyStore(documentClient, tables.idempotency, { clock: clock.now });
  queue = new RecordingQueue();
  undeliverable = new RecordingQueue('default-undeliverable');
});
afterEach(() => tables.drop());

function deps(overrides: Partial<SweepDeps> = {}): SweepDeps {
  return {
    store,
    cursors,
    queues: new Map([['default', { queue, undeliverable }]]),
    logger: new Logger({ logLevel: 'SILENT' }),
    thresholds,
    clock: clock.now,
    ...overrides,
  };
}

/** A backlog: messages waiting in the job queue, so no job's message can be proven gone by the counts. */
function backlog(): void {
  queue.counts = { visible: 5_000, inFlight: 10, delayed: 0 };
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
function storeWithWorkAfterScan(between: (records: JobRecord[]) => Promise<void>): JobMaintenance {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property !== 'scanUnfinished') return Reflect.get(target, property, receiver);
      return async (options: Parameters<JobMaintenance['scanUnfinished']>[0]) => {
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

/** Counts `sweeps` re-sends on the job as the sweeper would have, each on the version read. */
async function sweptTimes(id: string, sweeps: number): Promise<void> {
  for (let i = 0; i < sweeps; i++) {
    const seen = await store.get(id);
    if (!seen) throw new Error('job not created');
    expect(await store.markSwept(seen)).toBe(true);
  }
}

describe('sweep on a real table, with empty queues as evidence', () => {
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
    await sweptTimes(id, 3);
    clock.advance(25 * MINUTE);
    const racing = storeWithWorkAfterScan(async () => {
      expect((await claimOf(id)).outcome).toBe('claimed');
    });
    expect(await sweep(deps({ store: racing, maxSweeps: 3 }))).toMatchObject({ killed: 0 });
    expect(await store.get(id)).toMatchObject({ state: 'running', attempts: 1 });
    expect(queue.deadLetters).toEqual([]);
  });

  it('kills a job its re-sends did not move: dead on the version read, with its dead-letter copy sent and confirmed', async () => {
    const id = await queuedJob();
    await sweptTimes(id, 3);
    clock.advance(25 * MINUTE);
    expect(await sweep(deps({ maxSweeps: 3 }))).toMatchObject({ killed: 1, resent: 0 });
    const record = await store.get(id);
    expect(record).toMatchObject({ state: 'dead', error: { name: JobErrorName.stuckJob } });
    expect(record?.deadLetterPending).toBeUndefined();
    expect(queue.deadLetters.map((copy) => copy.reason)).toEqual([
      expect.objectContaining({ jobId: id, errorName: JobErrorName.stuckJob }),
    ]);
  });

  it('a kill whose dead-letter copy fails leaves deadLetterPending, and a later sweep sends the copy', async () => {
    const id = await queuedJob();
    await sweptTimes(id, 3);
    clock.advance(25 * MINUTE);
    queue.failDeadLetters = true;
    expect(await sweep(deps({ maxSweeps: 3 }))).toMatchObject({ killed: 1 });
    expect(await store.get(id)).toMatchObject({ state: 'dead', deadLetterPending: true });
    expect(queue.deadLetters).toEqual([]);

    queue.failDeadLetters = false;
    clock.advance(25 * MINUTE);
    expect(await sweep(deps({ maxSweeps: 3 }))).toMatchObject({ forwarded: 1, killed: 0 });
    expect((await store.get(id))?.deadLetterPending).toBeUndefined();
    expect(queue.deadLetters.map((copy) => copy.reason.jobId)).toEqual([id]);
    // Confirmed: nothing left to forward.
    clock.advance(25 * MINUTE);
    expect(await sweep(deps({ maxSweeps: 3 }))).toMatchObject({ forwarded: 0, scanned: 1 });
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

describe('sweep during a backlog (fault 1)', () => {
  it('never re-sends, kills or touches a stale job while its queue holds messages, however long it waits', async () => {
    const queued = await queuedJob();
    const swept = await queuedJob();
    await sweptTimes(swept, 3);
    const before = [await store.get(queued), await store.get(swept)];
    backlog();
    // Hourly sweeps for three days: far past every threshold, short of the queue's retention (4 days).
    for (let hour = 0; hour < 72; hour += 6) {
      clock.advance(6 * HOUR);
      expect(await sweep(deps({ maxSweeps: 3 }))).toMatchObject({ resent: 0, killed: 0 });
    }
    expect(queue.sent).toEqual([]);
    expect(queue.deadLetters).toEqual([]);
    expect([await store.get(queued), await store.get(swept)]).toEqual(before);
  });

  it('a message waiting in the undeliverable queue counts as live, too', async () => {
    const id = await queuedJob();
    undeliverable.counts = { visible: 1, inFlight: 0, delayed: 0 };
    clock.advance(25 * MINUTE);
    expect(await sweep(deps())).toMatchObject({ resent: 0 });
    expect(await store.get(id)).toMatchObject({ state: 'queued' });
  });

  it('counts that cannot be read, or a queue without its undeliverable queue, are no evidence: only retention is', async () => {
    const id = await queuedJob();
    queue.failCounts = true;
    clock.advance(25 * MINUTE);
    expect(await sweep(deps())).toMatchObject({ resent: 0 });
    expect(await sweep(deps({ queues: new Map([['default', { queue: new RecordingQueue() }]]) }))).toMatchObject({
      resent: 0,
    });
    // Past the retention period and its margin, SQS has deleted any message the job had.
    clock.set(START + queue.retentionSeconds * 1_000 + DEFAULT_EVIDENCE_RULES.retentionMarginMs);
    expect(await sweep(deps())).toMatchObject({ resent: 1 });
    expect(queue.sent.map((job) => job.envelope.id)).toEqual([id]);
  });

  it('an empty count read too soon after a send proves nothing (counts settle after about a minute)', async () => {
    const id = await queuedJob();
    await sweptTimes(id, 1);
    // Stale by updatedAt, but re-sent (sweptAt) 30 s before the counts are read.
    clock.advance(DEFAULT_EVIDENCE_RULES.countSettleMs - 30_000);
    const seen = await store.get(id);
    expect(seen?.sweptAt).toBeDefined();
    expect(await sweep(deps({ thresholds: { ...thresholds, queuedMs: 1_000 } }))).toMatchObject({ resent: 0 });
  });
});
