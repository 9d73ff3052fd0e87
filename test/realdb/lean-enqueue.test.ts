import { Logger } from '@aws-lambda-powertools/logger';
import type { SQSRecord } from 'aws-lambda';
import * as fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { sweep } from '../../functions/sweeper/sweep.js';
import { createRecordProcessor, RedeliveryRequestedError } from '../../functions/worker/process-record.js';
import {
  defineJob,
  ENVELOPE_VERSION,
  IdempotencyStore,
  isTerminal,
  JobMaintenance,
  type JobRecord,
  newLeanJobId,
  serializeEnvelope,
} from '../../shared/index.js';
import { RecordingQueue } from './recording-queue.js';
import { createTestTables, FakeClock, realDocumentClient, type TestTables } from './tables.js';

// Lean enqueue (enqueueMany(..., { lean: true })) sends a job's message without writing its record; the worker's
// claim creates the record (`attribute_not_exists(id)`), and `cancel` of a lean id with no record creates a
// `cancelled` tombstone the claim's condition refuses. Random interleavings of deliveries (duplicates included,
// some racing a cancel on DynamoDB itself), handler completions, cancels, sweeper runs and time, run by the real
// worker pipeline, the real sweeper and the real JobStore on a real DynamoDB, with SQS modelled in memory.
// Checked after every step and after a drain: a job cancelled before its start never runs; every job ends with
// exactly one outcome; a record is created once (it never disappears, its createdAt never changes, a tombstone
// is never touched again).

const START = Date.parse('2026-12-01T12:00:00.000Z');
const JOB_TYPE = 'lean.effect';
const JOB_TIMEOUT_MS = 60_000;
const documentClient = realDocumentClient();
const logger = new Logger({ logLevel: 'SILENT' });
let tables: TestTables;

beforeAll(async () => {
  tables = await createTestTables(documentClient, 'lean');
});
afterAll(() => tables.drop());

interface Message {
  readonly body: string;
  deleted: boolean;
  receives: number;
  latestReceipt: string;
}

interface LeanJob {
  readonly id: string;
  readonly messages: Message[];
  handlerStarts: number;
  /** A `cancel` answered `cancelled` while no handler had started: the job must never start. */
  cancelledBeforeStart: boolean;
  /** Handlers of this job paused until a `complete` lets them return. */
  readonly paused: (() => void)[];
  /** Deliveries still being processed. */
  readonly inFlight: Set<Promise<void>>;
  /** The record as first seen, and the tombstone as first seen. */
  firstSeen?: JobRecord;
  tombstone?: JobRecord;
  terminal?: JobRecord;
}

type Step =
  | { readonly kind: 'deliver'; readonly job: number }
  | { readonly kind: 'complete'; readonly job: number }
  | { readonly kind: 'cancel'; readonly job: number }
  | { readonly kind: 'race'; readonly job: number }
  | { readonly kind: 'sweep' }
  | { readonly kind: 'advance'; readonly ms: number };

const JOBS = 3;
const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('deliver' as const), job: fc.nat(JOBS - 1) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('complete' as const), job: fc.nat(JOBS - 1) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('cancel' as const), job: fc.nat(JOBS - 1) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('race' as const), job: fc.nat(JOBS - 1) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('sweep' as const) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1_000, max: 600_000 }) }), weight: 2 },
);

let runNumber = 0;

/** One lean world: its jobs' messages (no records), the real worker and sweeper on the real table. */
class LeanWorld {
  readonly clock = new FakeClock(START);
  readonly store = new JobMaintenance(documentClient, tables.jobs, { clock: this.clock.now });
  readonly queue = new RecordingQueue();
  readonly queueName = `lean-run-${++runNumber}`;
  readonly jobs: LeanJob[];
  private receipts = 0;

  constructor() {
    this.queue.countMessages = () => ({
      visible: this.jobs.flatMap((job) => job.messages).filter((message) => !message.deleted).length,
      inFlight: 0,
      delayed: 0,
    });
    // What the client's lean enqueueMany sends: an envelope per job, and nothing to DynamoDB.
    this.jobs = Array.from({ length: JOBS }, (_, n) => {
      const id = newLeanJobId(this.clock.now());
      const body = serializeEnvelope({
        v: ENVELOPE_VERSION,
        id,
        type: JOB_TYPE,
        payload: { n },
        enqueuedAt: new Date(this.clock.now()).toISOString(),
      });
      return {
        id,
        messages: [{ body, deleted: false, receives: 0, latestReceipt: '' }],
        handlerStarts: 0,
        cancelledBeforeStart: false,
        paused: [],
        inFlight: new Set(),
      };
    });
  }

  private readonly processRecord = createRecordProcessor({
    registry: {
      [JOB_TYPE]: defineJob({
        name: JOB_TYPE,
        schema: z.object({ n: z.number() }),
        retry: { maxAttempts: 3, baseDelay: '1s', maxDelay: '10s', jitter: 'none' },
        timeout: `${JOB_TIMEOUT_MS / 1_000}s`,
        handler: async (_payload: { n: number }, ctx) => {
          const job = this.job(ctx.jobId);
          job.handlerStarts++;
          await new Promise<void>((resolve) => job.paused.push(resolve));
          return { attempt: ctx.attempt };
        },
      }),
    },
    store: this.store,
    queue: this.queue,
    queueName: this.queueName,
    logger,
    clock: this.clock.now,
    random: () => 0.5,
  });

  job(id: string): LeanJob {
    const job = this.jobs.find((candidate) => candidate.id === id);
    if (!job) throw new Error(`no job ${id} in this world`);
    return job;
  }

  /** A receive of the job's live message (a duplicate when one is already in flight): returns once it settled or its handler paused. */
  async deliver(job: LeanJob): Promise<void> {
    const message = job.messages.find((candidate) => !candidate.deleted);
    if (!message) return;
    const receipt = `receipt-${++this.receipts}`;
    message.receives++;
    message.latestReceipt = receipt;
    const pausedBefore = job.paused.length;
    const settled = this.processRecord(sqsRecord(message.body, receipt, message.receives)).then(
      () => {
        if (message.latestReceipt === receipt) message.deleted = true;
      },
      (error: unknown) => {
        // The worker asked for the message to come back; anything else is a failure of the run.
        if (!(error instanceof RedeliveryRequestedError)) throw error;
      },
    );
    job.inFlight.add(settled);
    void settled.finally(() => job.inFlight.delete(settled));
    await Promise.race([settled, until(() => job.paused.length > pausedBefore)]);
  }

  /** Lets the job's paused handlers return and waits for their outcome to be recorded. */
  async complete(job: LeanJob): Promise<void> {
    for (const resume of job.paused.splice(0)) resume();
    await Promise.all([...job.inFlight]);
  }

  /** `jobs.cancel(id)` for a lean id. */
  async cancel(job: LeanJob): Promise<void> {
    const startsBefore = job.handlerStarts;
    const result = await this.store.cancel(job.id, { tombstone: true });
    expect(result.outcome).not.toBe('not-found');
    if (result.outcome === 'cancelled' && startsBefore === 0 && job.handlerStarts === 0) job.cancelledBeforeStart = true;
  }

  async sweep(): Promise<void> {
    const sentBefore = this.queue.sent.length;
    await sweep({
      store: this.store,
      cursors: new IdempotencyStore(documentClient, tables.idempotency, { clock: this.clock.now }),
      queues: new Map([[this.queueName, { queue: this.queue, undeliverable: new RecordingQueue('undeliverable') }]]),
      logger,
      thresholds: { queuedMs: 60_000, runningGraceMs: 30_000, retryingGraceMs: 30_000, scheduledGraceMs: 30_000 },
      evidence: { countSettleMs: 5_000, retentionMarginMs: 3_600_000 },
      maxSweeps: 3,
      clock: this.clock.now,
    });
    // The sweeper scans the whole shared table: keep only re-sends of this world's jobs.
    for (const sent of this.queue.sent.slice(sentBefore)) {
      const job = this.jobs.find((candidate) => candidate.id === sent.envelope.id);
      job?.messages.push({ body: serializeEnvelope(sent.envelope), deleted: false, receives: 0, latestReceipt: '' });
    }
  }

  async run(step: Step): Promise<void> {
    switch (step.kind) {
      case 'deliver':
        return this.deliver(this.jobs[step.job] as LeanJob);
      case 'complete':
        return this.complete(this.jobs[step.job] as LeanJob);
      case 'cancel':
        return this.cancel(this.jobs[step.job] as LeanJob);
      case 'race': {
        // The claim's create and the cancel's tombstone race on DynamoDB itself.
        const job = this.jobs[step.job] as LeanJob;
        await Promise.all([this.deliver(job), this.cancel(job)]);
        return;
      }
      case 'sweep':
        return this.sweep();
      case 'advance':
        this.clock.advance(step.ms);
        return;
    }
  }

  /** Every invariant that holds after each step. */
  async check(): Promise<void> {
    for (const job of this.jobs) {
      const record = await this.store.get(job.id);
      if (job.cancelledBeforeStart) expect(job.handlerStarts, `${job.id} was cancelled before its start and ran`).toBe(0);
      if (job.firstSeen) {
        expect(record, `${job.id}'s record disappeared`).toBeDefined();
        expect(record?.createdAt, `${job.id}'s record was created twice`).toBe(job.firstSeen.createdAt);
      }
      if (!record) continue;
      job.firstSeen ??= record;
      if (job.tombstone) expect(record, `${job.id}'s tombstone was written again`).toEqual(job.tombstone);
      else if (record.state === 'cancelled' && record.attempts === 0) {
        expect(record.type).toBe('unknown');
        job.tombstone = record;
      }
      if (job.terminal) expect(record.state, `${job.id} left its terminal state`).toBe(job.terminal.state);
      else if (isTerminal(record.state)) job.terminal = record;
      if (record.state === 'succeeded') expect(job.cancelledBeforeStart).toBe(false);
    }
  }

  /** Lets everything finish: handlers return, messages come back after their lease and are delivered until deleted. */
  async drain(): Promise<void> {
    for (let round = 0; round < 8; round++) {
      for (const job of this.jobs) await this.complete(job);
      this.clock.advance(JOB_TIMEOUT_MS * 3);
      for (const job of this.jobs) {
        await this.deliver(job);
        await this.complete(job);
      }
      await this.check();
      if (this.jobs.every((job) => job.messages.every((message) => message.deleted))) return;
    }
  }
}

function sqsRecord(body: string, receiptHandle: string, receives: number): SQSRecord {
  return {
    messageId: receiptHandle,
    receiptHandle,
    body,
    attributes: {
      ApproximateReceiveCount: String(receives),
      SentTimestamp: '0',
      SenderId: 'model',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:lean',
    awsRegion: 'us-east-1',
  };
}

/** Resolves once `condition` holds (polled on the event loop; the worker's steps are real DynamoDB calls). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 2));
}

async function runSteps(steps: readonly Step[]): Promise<LeanWorld> {
  const world = new LeanWorld();
  for (const step of steps) {
    await world.run(step);
    await world.check();
  }
  await world.drain();
  for (const job of world.jobs) {
    const record = await world.store.get(job.id);
    // Exactly one outcome: every message is gone and the record is terminal, succeeded or cancelled.
    expect(
      job.messages.every((message) => message.deleted),
      `${job.id} still has a message`,
    ).toBe(true);
    expect(record?.state === 'succeeded' || record?.state === 'cancelled', `${job.id} ended ${record?.state}`).toBe(true);
    if (job.cancelledBeforeStart) expect(record?.state).toBe('cancelled');
    // A job that never started and was never cancelled cannot exist after the drain: its message ran it.
    if (record?.state === 'succeeded') expect(job.handlerStarts).toBeGreaterThan(0);
  }
  return world;
}

describe('lean enqueue on a real DynamoDB', () => {
  it('a lean job cancelled before its start never runs; its delivery is deleted unrun', async () => {
    const world = await runSteps([
      { kind: 'cancel', job: 0 },
      { kind: 'deliver', job: 0 },
    ]);
    const [job] = world.jobs as [LeanJob];
    expect(job.cancelledBeforeStart).toBe(true);
    expect(job.handlerStarts).toBe(0);
    expect(await world.store.get(job.id)).toMatchObject({ state: 'cancelled', type: 'unknown', attempts: 0 });
  });

  it('a lean job has no record until its claim creates one, then a normal record', async () => {
    const world = new LeanWorld();
    const job = world.jobs[1] as LeanJob;
    expect(await world.store.get(job.id)).toBeUndefined();
    await world.deliver(job);
    expect(await world.store.get(job.id)).toMatchObject({ state: 'running', type: JOB_TYPE, attempts: 1, payload: { n: 1 } });
    // A cancel after the start asks the run to stop, as for any job.
    expect((await world.store.cancel(job.id, { tombstone: true })).outcome).toBe('requested');
    await world.complete(job);
    expect((await world.store.get(job.id))?.state).toBe('succeeded');
  });

  it('writes a tombstone only when asked: a cancel of an id without a record is not-found and creates nothing', async () => {
    const world = new LeanWorld();
    const job = world.jobs[2] as LeanJob;
    expect(await world.store.cancel(job.id)).toEqual({ outcome: 'not-found' });
    expect(await world.store.get(job.id)).toBeUndefined();
  });

  it('the sweeper never touches a tombstone, however old, and a second cancel finds it finished', async () => {
    const world = new LeanWorld();
    const job = world.jobs[0] as LeanJob;
    const tombstone = await world.store.cancel(job.id, { tombstone: true });
    expect(tombstone.outcome).toBe('cancelled');
    world.clock.advance(86_400_000);
    await world.sweep();
    expect(world.queue.sent.filter((sent) => sent.envelope.id === job.id)).toEqual([]);
    const again = await world.store.cancel(job.id, { tombstone: true });
    expect(again).toMatchObject({ outcome: 'finished' });
    expect(await world.store.get(job.id)).toEqual(tombstone.outcome === 'cancelled' ? tombstone.record : undefined);
  });

  it('holds under random interleavings of delivery, cancel, completion, sweeper and time', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArbitrary, { minLength: 1, maxLength: 14 }), async (steps) => {
        await runSteps(steps);
      }),
      { numRuns: 40, verbose: 1 },
    );
  }, 240_000);
});
