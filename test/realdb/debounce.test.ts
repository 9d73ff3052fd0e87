import { Logger } from '@aws-lambda-powertools/logger';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import * as fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createRecordProcessor } from '../../functions/worker/process-record.js';
import {
  cancelDisplaced,
  cancelIfSuperseded,
  configFromOutputs,
  createJobClient,
  type DebounceMark,
  defineJob,
  defineRegistry,
  EnqueueError,
  FlowCancelReason,
  isSupersededBy,
  JobQueue,
  type JobRecord,
  JobStore,
  KeyedFlowStore,
  serializeEnvelope,
  throttledReason,
} from '../../shared/index.js';
import { DLQ_URL, QUEUE_URL, sqsRecord } from '../helpers/events.js';
import { createTestTables, FakeClock, realDocumentClient, type TestTables } from './tables.js';

// Debounce marks and throttle windows are conditional writes on control items in the job table; here
// they run against a real DynamoDB that evaluates the conditions: first the client's enqueue paths,
// then the worker's check, then generated interleavings of concurrent enqueues of one key.

const documentClient = realDocumentClient();
let tables: TestTables;

beforeAll(async () => {
  tables = await createTestTables(documentClient, 'debounce');
});
afterAll(() => tables.drop());

const schema = z.object({ user: z.string(), n: z.number() });
const handlers = defineRegistry(
  defineJob({ name: 'deb', schema, debounce: { key: (p) => p.user, period: '2s' }, handler: async ({ n }) => ({ n }) }),
  defineJob({ name: 'thr', schema, throttle: { key: (p) => p.user, period: '1s' }, handler: async ({ n }) => ({ n }) }),
);

function harness() {
  const sqs = new SQSClient({ region: 'us-east-1' });
  const sqsMock = mockClient(sqs);
  sqsMock.onAnyCommand().resolves({});
  const config = configFromOutputs('test', {
    JobsTableName: tables.jobs,
    IdempotencyTableName: tables.idempotency,
    QueueNames: 'default',
    QueueUrlDefault: QUEUE_URL,
    DeadLetterQueueUrlDefault: DLQ_URL,
  });
  const jobs = createJobClient({
    registry: handlers,
    config,
    clients: { documentClient, sqs, cloudFormation: new CloudFormationClient({ region: 'us-east-1' }) },
  });
  return { jobs, sqsMock };
}

function user(): string {
  return `u-${Math.random().toString(36).slice(2, 10)}`;
}

describe('debounce through the client', () => {
  let h: ReturnType<typeof harness>;
  beforeEach(() => {
    h = harness();
  });

  it('of five enqueues of one key, each cancels the one before it: only the last is left waiting', async () => {
    const key = user();
    const handles = [];
    for (let n = 0; n < 5; n++) handles.push(await h.jobs.enqueue('deb', { user: key, n }));
    const ids = handles.map((handle) => handle.jobId);

    const records = await Promise.all(ids.map((id) => h.jobs.get(id)));
    expect(records.map((record) => record?.state)).toEqual(['cancelled', 'cancelled', 'cancelled', 'cancelled', 'queued']);
    for (const [n, record] of records.slice(0, 4).entries()) {
      expect(record?.error).toEqual({
        name: FlowCancelReason.debounced,
        message: `debounced: superseded by job ${ids[n + 1]}`,
        retryable: false,
      });
      expect(record?.finishedAt).toBeDefined();
    }
    // Every job is sent with the period as its delay; the cancelled ones are skipped when they arrive.
    expect(h.sqsMock.commandCalls(SendMessageCommand).map((call) => call.args[0].input.DelaySeconds)).toEqual([2, 2, 2, 2, 2]);
    expect(await h.jobs.flowState('deb', key)).toEqual({
      jobType: 'deb',
      key,
      debounce: {
        periodMs: 2_000,
        latest: { jobId: ids[4], enqueuedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/) },
      },
    });
    expect((await h.jobs.flowState('deb', user())).debounce).toEqual({ periodMs: 2_000 });
  });

  it('keys are independent', async () => {
    const [a, b] = [user(), user()];
    const first = await h.jobs.enqueue('deb', { user: a, n: 1 });
    const other = await h.jobs.enqueue('deb', { user: b, n: 1 });
    expect((await h.jobs.get(first))?.state).toBe('queued');
    expect((await h.jobs.get(other))?.state).toBe('queued');
  });

  it('leaves a job that already started alone', async () => {
    const key = user();
    const first = await h.jobs.enqueue('deb', { user: key, n: 1 });
    const store = new JobStore(documentClient, tables.jobs);
    const claim = await store.claim({
      id: first.jobId,
      type: 'deb',
      queue: 'default',
      maxAttempts: 5,
      payload: { user: key, n: 1 },
      correlationId: first.jobId,
      enqueuedAt: new Date().toISOString(),
      leaseUntil: Date.now() + 60_000,
    });
    expect(claim.outcome).toBe('claimed');

    const second = await h.jobs.enqueue('deb', { user: key, n: 2 });

    expect((await h.jobs.get(first))?.state).toBe('running');
    expect(second.state).toBe('queued');
  });
});

describe('throttle through the client', () => {
  let h: ReturnType<typeof harness>;
  beforeEach(() => {
    h = harness();
  });

  it('keeps the first job of a key; the rest are recorded cancelled with the holder, never sent; after the period one is kept again', async () => {
    const key = user();
    const first = await h.jobs.enqueue('thr', { user: key, n: 0 });
    const second = await h.jobs.enqueue('thr', { user: key, n: 1 });
    const third = await h.jobs.enqueue('thr', { user: key, n: 2 });

    expect(first).toMatchObject({ state: 'queued', created: true });
    expect(first.throttledBy).toBeUndefined();
    for (const handle of [second, third]) {
      expect(handle).toMatchObject({ state: 'cancelled', created: true, throttledBy: first.jobId });
      const record = await h.jobs.get(handle);
      expect(record).toMatchObject({ state: 'cancelled', attempts: 0, payload: { user: key } });
      expect(record?.error?.name).toBe(FlowCancelReason.throttled);
      expect(record?.error?.message).toMatch(new RegExp(`^throttled: job ${first.jobId} holds key ${key} until .+Z$`));
    }
    expect(h.sqsMock.commandCalls(SendMessageCommand)).toHaveLength(1);
    const state = await h.jobs.flowState('thr', key);
    expect(state).toMatchObject({ jobType: 'thr', key, throttle: { window: { jobId: first.jobId } } });
    expect((await h.jobs.get(second))?.error?.message).toContain(`until ${state.throttle?.window?.until}`);

    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await h.jobs.flowState('thr', key)).throttle?.window).toBeUndefined();
    const later = await h.jobs.enqueue('thr', { user: key, n: 3 });
    expect(later).toMatchObject({ state: 'queued', created: true });
    expect(h.sqsMock.commandCalls(SendMessageCommand)).toHaveLength(2);
  });

  it('releases the window of a job whose message could not be sent, so the next enqueue is kept', async () => {
    const key = user();
    h.sqsMock.on(SendMessageCommand).rejectsOnce(new Error('SQS is down'));
    await expect(h.jobs.enqueue('thr', { user: key, n: 0 })).rejects.toThrow(EnqueueError);
    const next = await h.jobs.enqueue('thr', { user: key, n: 1 });
    expect(next.state).toBe('queued');
  });

  it('a repeated jobId gets the existing job and does not hold the window', async () => {
    const key = user();
    const first = await h.jobs.enqueue('thr', { user: key, n: 0 }, { jobId: `fixed-${key}` });
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const again = await h.jobs.enqueue('thr', { user: key, n: 0 }, { jobId: `fixed-${key}` });
    expect(again).toMatchObject({ jobId: first.jobId, created: false, state: 'queued' });
    const fresh = await h.jobs.enqueue('thr', { user: key, n: 1 });
    expect(fresh.state).toBe('queued');
  });
});

describe("the worker's debounce check", () => {
  it('cancels a job a later enqueue superseded when the enqueuing caller died before cancelling it, and runs the latest', async () => {
    const sqs = new SQSClient({ region: 'us-east-1' });
    mockClient(sqs).onAnyCommand().resolves({});
    const store = new JobStore(documentClient, tables.jobs);
    const flows = new KeyedFlowStore(documentClient, tables.jobs);
    const processRecord = createRecordProcessor({
      registry: handlers,
      store,
      flows,
      queue: new JobQueue(sqs, QUEUE_URL, DLQ_URL),
      queueName: 'default',
      logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
    });
    const key = user();
    const envelopes = [0, 1].map((n) => ({
      v: 1 as const,
      id: `w-${key}-${n}`,
      type: 'deb',
      payload: { user: key, n },
      enqueuedAt: new Date(Date.UTC(2026, 11, 1, 0, 0, n)).toISOString(),
    }));
    for (const envelope of envelopes) {
      await store.create({
        id: envelope.id,
        type: 'deb',
        queue: 'default',
        maxAttempts: 5,
        payload: envelope.payload,
        correlationId: envelope.id,
        state: 'queued',
      });
      // Marked, but the caller "crashed" before cancelling the job its mark displaced.
      await flows.markLatest('deb', key, { jobId: envelope.id, enqueuedAt: envelope.enqueuedAt }, 2_000);
    }

    for (const envelope of envelopes) await processRecord(sqsRecord(serializeEnvelope(envelope)));

    const [older, latest] = await Promise.all(envelopes.map((envelope) => store.get(envelope.id)));
    expect(older).toMatchObject({ state: 'cancelled', attempts: 0 });
    expect(older?.error?.message).toBe(`debounced: superseded by job ${envelopes[1]?.id}`);
    expect(latest).toMatchObject({ state: 'succeeded', result: { n: 1 } });
  });

  it('rejects a job whose key function fails at consume time as dead, naming the job type', async () => {
    const sqs = new SQSClient({ region: 'us-east-1' });
    mockClient(sqs).onAnyCommand().resolves({});
    const store = new JobStore(documentClient, tables.jobs);
    const processRecord = createRecordProcessor({
      registry: handlers,
      store,
      flows: new KeyedFlowStore(documentClient, tables.jobs),
      queue: new JobQueue(sqs, QUEUE_URL, DLQ_URL),
      queueName: 'default',
      logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
    });
    const id = `bad-key-${user()}`;
    await processRecord(
      sqsRecord(serializeEnvelope({ v: 1, id, type: 'deb', payload: { user: '', n: 0 }, enqueuedAt: new Date().toISOString() })),
    );
    const record = await store.get(id);
    expect(record?.state).toBe('dead');
    expect(record?.error).toMatchObject({ name: 'InvalidFlowKeyError' });
    expect(record?.error?.message).toMatch(/job type 'deb': the debounce key must be 1\.\.128 characters/);
  });
});

/** What one concurrent enqueue of the debounced key does, step by step, as the client does it. */
type DebounceStep = 'create' | 'mark' | 'cancel';
const DEBOUNCE_STEPS: readonly DebounceStep[] = ['create', 'mark', 'cancel'];

describe('generated interleavings of concurrent debounced enqueues of one key', () => {
  const RUNS = Number(process.env.JOBSTACK_INTERLEAVING_RUNS ?? 60);
  let run = 0;

  /**
   * `schedule` picks which client takes its next step (create the record, mark it latest, cancel the
   * displaced job) or which job's message is delivered (the worker's check, then a claim). A client
   * may crash after its mark and never cancel. After the schedule every client finishes (unless it
   * crashed) and every job is delivered once more, as its delayed message eventually is.
   */
  async function runDebounce(input: {
    clients: number;
    crashes: readonly boolean[];
    ticks: readonly number[];
    schedule: readonly { kind: 'step' | 'deliver'; client: number }[];
  }): Promise<void> {
    const clock = new FakeClock(Date.UTC(2026, 11, 1));
    const store = new JobStore(documentClient, tables.jobs, { clock: clock.now });
    const flows = new KeyedFlowStore(documentClient, tables.jobs, { clock: clock.now });
    const key = `gen-${++run}-${user()}`;
    const ids = Array.from({ length: input.clients }, (_, i) => `g${run}-${String.fromCharCode(97 + ((i * 7) % 26))}${i}`);
    const marks: (DebounceMark | undefined)[] = ids.map(() => undefined);
    const progress = ids.map(() => 0);
    const outcomes: (Awaited<ReturnType<KeyedFlowStore['markLatest']>> | undefined)[] = ids.map(() => undefined);
    const started = new Set<string>();
    let tick = 0;

    async function step(client: number): Promise<void> {
      const next = DEBOUNCE_STEPS[progress[client] ?? 3];
      if (next === undefined) return;
      if (next === 'cancel' && input.crashes[client]) return;
      const id = ids[client] as string;
      if (next === 'create') {
        clock.advance(input.ticks[tick++ % input.ticks.length] ?? 0);
        const mark = { jobId: id, enqueuedAt: new Date(clock.now()).toISOString() };
        await store.create({
          id,
          type: 'deb',
          queue: 'default',
          maxAttempts: 3,
          payload: {},
          correlationId: id,
          state: 'queued',
        });
        // Its message exists only from here on (the client sends after creating the record).
        marks[client] = mark;
      } else if (next === 'mark') {
        outcomes[client] = await flows.markLatest('deb', key, marks[client] as DebounceMark, 2_000);
      } else {
        await cancelDisplaced(store, marks[client] as DebounceMark, outcomes[client] as NonNullable<(typeof outcomes)[number]>);
      }
      progress[client] = (progress[client] ?? 0) + 1;
    }

    async function deliver(client: number): Promise<void> {
      const mark = marks[client];
      if (!mark) return;
      const check = await cancelIfSuperseded({ flows, store }, 'deb', key, mark);
      if (check.cancelled) return;
      const claim = await store.claim({
        id: mark.jobId,
        type: 'deb',
        queue: 'default',
        maxAttempts: 3,
        payload: {},
        correlationId: mark.jobId,
        enqueuedAt: mark.enqueuedAt,
        leaseUntil: clock.now() + 60_000,
      });
      if (claim.outcome === 'claimed') {
        started.add(mark.jobId);
        await store.succeed(mark.jobId, claim.record.attempts, null);
      }
    }

    // Concurrent callers: pairs of consecutive entries run at once, as their requests would race (one
    // client's own steps stay in order).
    const lanes = new Map<number, Promise<void>>();
    const inLane = (client: number, action: () => Promise<void>) => {
      const next = (lanes.get(client) ?? Promise.resolve()).then(action);
      lanes.set(client, next);
      return next;
    };
    for (let start = 0; start < input.schedule.length; start += 2) {
      await Promise.all(
        input.schedule
          .slice(start, start + 2)
          .map((entry) => (entry.kind === 'step' ? inLane(entry.client, () => step(entry.client)) : deliver(entry.client))),
      );
    }
    for (let client = 0; client < input.clients; client++) for (let i = 0; i < 3; i++) await step(client);
    const deliveredBeforeEnd = new Set(started);
    for (let client = 0; client < input.clients; client++) await deliver(client);

    const records = (await Promise.all(ids.map((id) => store.get(id)))) as JobRecord[];
    const all = marks as DebounceMark[];
    const latest = all.reduce((best, mark) => (isSupersededBy(best, mark) ? mark : best));
    const survivors = records.filter((record) => record.state !== 'cancelled').map((record) => record.id);
    // The latest job always runs: nothing ever cancels the greatest mark.
    expect(survivors).toContain(latest.jobId);
    for (const record of records) {
      if (record.state === 'cancelled') {
        // Cancelled only before starting, and only by a job enqueued after it.
        expect(record.attempts).toBe(0);
        expect(record.error?.name).toBe(FlowCancelReason.debounced);
        const by = /^debounced: superseded by job (\S+)$/.exec(record.error?.message ?? '')?.[1];
        const byMark = all.find((mark) => mark.jobId === by);
        expect(byMark, `${record.id} names ${by}`).toBeDefined();
        expect(isSupersededBy(all.find((mark) => mark.jobId === record.id) as DebounceMark, byMark as DebounceMark)).toBe(true);
      } else {
        // Every other job is the latest or was delivered (its period had passed) before a later one superseded it.
        expect(record.state).toBe('succeeded');
        expect(record.id === latest.jobId || deliveredBeforeEnd.has(record.id), `${record.id} ran`).toBe(true);
      }
    }
    // With no delivery before all enqueues were done, exactly one job survives: the last marked.
    if (deliveredBeforeEnd.size === 0) expect(survivors).toEqual([latest.jobId]);
  }

  const scenario = fc.integer({ min: 2, max: 5 }).chain((clients) =>
    fc.record({
      clients: fc.constant(clients),
      crashes: fc.array(fc.boolean(), { minLength: clients, maxLength: clients }),
      ticks: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 8 }),
      schedule: fc.array(
        fc.record({
          kind: fc.constantFrom<'step' | 'deliver'>('step', 'step', 'step', 'deliver'),
          client: fc.integer({ min: 0, max: clients - 1 }),
        }),
        { maxLength: 24 },
      ),
    }),
  );

  it('the latest job always runs; every other is cancelled with the reason unless it started first', async () => {
    await fc.assert(fc.asyncProperty(scenario, runDebounce), { numRuns: RUNS });
  });

  it('with every delivery after the enqueues, exactly one job (the last marked) survives, also when callers crash after marking', async () => {
    const noEarlyDelivery = scenario.map((input) => ({
      ...input,
      schedule: input.schedule.filter((entry) => entry.kind === 'step'),
    }));
    await fc.assert(fc.asyncProperty(noEarlyDelivery, runDebounce), { numRuns: RUNS });
  });
});

describe('generated interleavings of concurrent throttled enqueues of one key', () => {
  const RUNS = Number(process.env.JOBSTACK_INTERLEAVING_RUNS ?? 60);
  const PERIOD_MS = 1_000;
  let run = 0;

  it('exactly one job is kept per window; every other is cancelled naming the holder of the window it fell in', async () => {
    const bursts = fc.array(fc.record({ size: fc.integer({ min: 1, max: 5 }), gapMs: fc.integer({ min: 0, max: 1_500 }) }), {
      minLength: 1,
      maxLength: 6,
    });
    await fc.assert(
      fc.asyncProperty(bursts, async (input) => {
        const clock = new FakeClock(Date.UTC(2026, 11, 1));
        const store = new JobStore(documentClient, tables.jobs, { clock: clock.now });
        const flows = new KeyedFlowStore(documentClient, tables.jobs, { clock: clock.now });
        const key = `thr-${++run}-${user()}`;
        const jobs: { id: string; at: number; kept: boolean; holder?: string; until?: number }[] = [];
        let n = 0;
        for (const burst of input) {
          clock.advance(burst.gapMs);
          // A burst's enqueues race: their conditional writes reach DynamoDB at once.
          const results = await Promise.all(
            Array.from({ length: burst.size }, async () => {
              const id = `t${run}-${n++}`;
              const window = await flows.claimWindow('thr', key, id, PERIOD_MS);
              const base = { id, type: 'thr', queue: 'default', maxAttempts: 3, payload: {}, correlationId: id };
              if (window.outcome === 'kept') await store.create({ ...base, state: 'queued' });
              else
                await store.create({
                  ...base,
                  state: 'cancelled',
                  error: throttledReason(window.holder, key, window.untilMs),
                });
              return window.outcome === 'kept'
                ? { id, at: clock.now(), kept: true }
                : { id, at: clock.now(), kept: false, holder: window.holder, until: window.untilMs };
            }),
          );
          jobs.push(...results);
          // Exactly one per burst is kept when the previous window has ended, none otherwise.
          expect(results.filter((job) => job.kept).length).toBeLessThanOrEqual(1);
        }
        const kept = jobs.filter((job) => job.kept);
        expect(kept.length).toBeGreaterThanOrEqual(1);
        for (const [i, job] of kept.entries()) {
          if (i > 0) expect(job.at - (kept[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(PERIOD_MS);
        }
        for (const job of jobs.filter((candidate) => !candidate.kept)) {
          const holder = kept.find((candidate) => candidate.id === job.holder);
          expect(holder, `${job.id} names holder ${job.holder}`).toBeDefined();
          expect(job.at).toBeGreaterThanOrEqual(holder?.at ?? Number.NaN);
          expect(job.at).toBeLessThan((holder?.at ?? 0) + PERIOD_MS);
          const record = await store.get(job.id);
          expect(record?.state).toBe('cancelled');
          expect(record?.error?.message).toBe(
            `throttled: job ${job.holder} holds key ${key} until ${new Date((holder?.at ?? 0) + PERIOD_MS).toISOString()}`,
          );
        }
        // A burst after a gap of at least the period always gets one job in.
        let windowStart = Number.NEGATIVE_INFINITY;
        for (const job of jobs) {
          if (job.kept) windowStart = job.at;
          else expect(job.at - windowStart).toBeLessThan(PERIOD_MS);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
