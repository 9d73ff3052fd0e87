import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { FlowWaitAttribute } from '../../functions/worker/flow-gate.js';
import { createRecordProcessor } from '../../functions/worker/process-record.js';
import {
  defineJob,
  defineRegistry,
  ENVELOPE_VERSION,
  FlowStore,
  type HandlerRegistry,
  JobStore,
  NonRetryableError,
  newJobId,
  serializeEnvelope,
} from '../../shared/index.js';
import { sqsRecord } from '../helpers/events.js';
import { RecordingQueue } from './recording-queue.js';
import { createTestTables, FakeClock, realDocumentClient, type TestTables } from './tables.js';

// The flow gate of the worker (functions/worker/flow-gate.ts) inside the real record processor, on
// the real JobStore and FlowStore against a real DynamoDB; SQS is the in-memory RecordingQueue.

const START = Date.parse('2026-11-23T12:00:00.000Z');
const documentClient = realDocumentClient();
let tables: TestTables;
let run = 0;

beforeAll(async () => {
  tables = await createTestTables(documentClient, 'flow-gate');
});
afterAll(() => tables.drop());

/** RecordingQueue plus the copies a waiting job sends back. */
class WaitingQueue extends RecordingQueue {
  readonly sentAgain: { body: string; delaySeconds: number; attributes: Readonly<Record<string, string>> }[] = [];
  override async sendAgain(body: string, delaySeconds: number, attributes: Readonly<Record<string, string>> = {}) {
    this.sentAgain.push({ body, delaySeconds, attributes });
  }
}

/** A handler the test ends by hand. */
function gatedHandler() {
  const pending = new Map<string, { resolve: () => void; reject: (error: Error) => void }>();
  const started: string[] = [];
  return {
    started,
    handler: async (_payload: unknown, ctx: { jobId: string }) => {
      started.push(ctx.jobId);
      await new Promise<void>((resolve, reject) => pending.set(ctx.jobId, { resolve, reject }));
      return { ok: true };
    },
    finish(jobId: string) {
      pending.get(jobId)?.resolve();
    },
    fail(jobId: string, error: Error) {
      pending.get(jobId)?.reject(error);
    },
  };
}

function harness(registry: HandlerRegistry, options: { clock?: FakeClock; random?: () => number } = {}) {
  const clock = options.clock ?? new FakeClock(START);
  const store = new JobStore(documentClient, tables.jobs, { clock: clock.now });
  const flow = new FlowStore(documentClient, tables.jobs, { clock: clock.now });
  const queue = new WaitingQueue();
  const processRecord = createRecordProcessor({
    registry,
    store,
    queue,
    queueName: 'default',
    logger: new Logger({ logLevel: 'SILENT' }),
    clock: clock.now,
    random: options.random ?? (() => 0),
    flow,
  });
  return { processRecord, store, flow, queue, clock };
}

function message(
  type: string,
  payload: unknown,
  options: { id?: string; enqueuedAt?: number; attributes?: Record<string, string> } = {},
) {
  const id = options.id ?? newJobId();
  const body = serializeEnvelope({
    v: ENVELOPE_VERSION,
    id,
    type,
    payload,
    enqueuedAt: new Date(options.enqueuedAt ?? START).toISOString(),
  });
  const messageAttributes = Object.fromEntries(
    Object.entries(options.attributes ?? {}).map(([name, value]) => [
      name,
      { dataType: 'String', stringValue: value, stringListValues: [], binaryListValues: [] },
    ]),
  );
  return { id, record: sqsRecord(body, { messageAttributes }) };
}

/** Lets the processor run up to the handler's await. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!condition()) throw new Error('condition not reached');
}

function tenantType(limit: number, extra: { rate?: { limit: number; per: `${number}s` } } = {}) {
  const gated = gatedHandler();
  const job = defineJob({
    name: `gate.tenant-${++run}`,
    schema: z.object({ tenant: z.string() }),
    concurrency: { key: (payload) => payload.tenant, limit },
    ...(extra.rate ? { rateLimit: { ...extra.rate } } : {}),
    retry: { maxAttempts: 3, backoff: 'fixed', baseDelay: '1s' },
    handler: gated.handler,
  });
  return { job, gated, registry: defineRegistry(job) as HandlerRegistry };
}

describe('concurrency gate', () => {
  it('a job over its key limit waits without an attempt: a delayed copy goes back and the original is deleted', async () => {
    const { job, gated, registry } = tenantType(1);
    const { processRecord, store, flow, queue } = harness(registry);
    const a = message(job.name, { tenant: 't1' });
    const b = message(job.name, { tenant: 't1' });
    const other = message(job.name, { tenant: 't2' });

    const runningA = processRecord(a.record);
    await until(() => gated.started.includes(a.id));
    await expect(processRecord(b.record)).resolves.toBeUndefined();
    const runningOther = processRecord(other.record);
    await until(() => gated.started.includes(other.id));

    expect(await store.get(b.id)).toBeUndefined();
    expect(queue.sentAgain).toEqual([
      {
        body: b.record.body,
        delaySeconds: 1,
        attributes: { [FlowWaitAttribute.concurrencyWaits]: '1', [FlowWaitAttribute.notedAt]: String(START) },
      },
    ]);
    expect(queue.redeliveries).toEqual([]);
    expect((await flow.slots(job.name, 't1')).holders.map((holder) => holder.jobId)).toEqual([a.id]);

    gated.finish(a.id);
    gated.finish(other.id);
    await Promise.all([runningA, runningOther]);
    expect((await flow.slots(job.name, 't1')).holders).toEqual([]);

    const runningB = processRecord(message(job.name, { tenant: 't1' }, { id: b.id }).record);
    await until(() => gated.started.includes(b.id));
    gated.finish(b.id);
    await runningB;
    expect(await store.get(b.id)).toMatchObject({ state: 'succeeded', attempts: 1 });
    expect((await flow.slots(job.name, 't1')).holders).toEqual([]);
  });

  it('backs off exponentially from about 2 s, carried by a message attribute, up to a minute', async () => {
    const { job, gated, registry } = tenantType(1);
    const { processRecord, queue } = harness(registry, { random: () => 1 });
    const a = message(job.name, { tenant: 't' });
    const runningA = processRecord(a.record);
    await until(() => gated.started.includes(a.id));

    for (const waits of [0, 1, 3, 9]) {
      await processRecord(
        message(job.name, { tenant: 't' }, { attributes: { [FlowWaitAttribute.concurrencyWaits]: String(waits) } }).record,
      );
    }
    expect(queue.sentAgain.map((copy) => [copy.delaySeconds, copy.attributes[FlowWaitAttribute.concurrencyWaits]])).toEqual([
      [2, '1'],
      [4, '2'],
      [16, '4'],
      [60, '10'],
    ]);
    gated.finish(a.id);
    await runningA;
  });

  it('releases the slot when the attempt fails and is retried, and when the job dies', async () => {
    const { job, gated, registry } = tenantType(1);
    const { processRecord, store, flow } = harness(registry);
    const a = message(job.name, { tenant: 't' });
    const first = processRecord(a.record);
    await until(() => gated.started.includes(a.id));
    gated.fail(a.id, new Error('flaky'));
    await expect(first).rejects.toThrow(/retry/);
    expect(await store.get(a.id)).toMatchObject({ state: 'retrying' });
    expect((await flow.slots(job.name, 't')).holders).toEqual([]);

    const b = message(job.name, { tenant: 't' });
    const second = processRecord(b.record);
    await until(() => gated.started.includes(b.id));
    gated.fail(b.id, new NonRetryableError('bad'));
    await second;
    expect(await store.get(b.id)).toMatchObject({ state: 'dead' });
    expect((await flow.slots(job.name, 't')).holders).toEqual([]);
  });

  it('a duplicate delivery of a running job neither waits nor runs, and leaves the running delivery its slot', async () => {
    const { job, gated, registry } = tenantType(1);
    const { processRecord, flow, queue } = harness(registry);
    const a = message(job.name, { tenant: 't' });
    const running = processRecord(a.record);
    await until(() => gated.started.includes(a.id));

    await expect(processRecord(message(job.name, { tenant: 't' }, { id: a.id }).record)).rejects.toThrow(
      /running under another delivery/,
    );
    expect(queue.sentAgain).toEqual([]);
    expect((await flow.slots(job.name, 't')).holders.map((holder) => holder.jobId)).toEqual([a.id]);
    expect(gated.started).toEqual([a.id]);

    gated.finish(a.id);
    await running;
    expect((await flow.slots(job.name, 't')).holders).toEqual([]);
  });

  it('marks the record of a job waiting long as sent, so the sweeper does not take it for lost', async () => {
    const { job, gated, registry } = tenantType(1);
    const { processRecord, store, queue, clock } = harness(registry);
    const a = message(job.name, { tenant: 't' });
    const running = processRecord(a.record);
    await until(() => gated.started.includes(a.id));
    // Enqueued 11 minutes ago, behind a backlog: the record's last write is that old.
    const waiting = message(job.name, { tenant: 't' }, { enqueuedAt: START - 11 * 60_000 });
    clock.set(START - 11 * 60_000);
    await store.create({
      id: waiting.id,
      type: job.name,
      queue: 'default',
      maxAttempts: 3,
      payload: { tenant: 't' },
      correlationId: waiting.id,
      state: 'queued',
    });
    const createdAt = (await store.get(waiting.id))?.updatedAt;

    clock.set(START);
    await processRecord(waiting.record);

    expect((await store.get(waiting.id))?.updatedAt).toBe(new Date(clock.now()).toISOString());
    expect((await store.get(waiting.id))?.updatedAt).not.toBe(createdAt);
    expect(queue.sentAgain[0]?.attributes[FlowWaitAttribute.notedAt]).toBe(String(clock.now()));
    // The next wait within 10 minutes of that note writes nothing to the record.
    clock.advance(60_000);
    const notedAt = String(START);
    await processRecord(
      message(job.name, { tenant: 't' }, { id: waiting.id, attributes: { [FlowWaitAttribute.notedAt]: notedAt } }).record,
    );
    expect((await store.get(waiting.id))?.updatedAt).toBe(new Date(START).toISOString());
    expect(queue.sentAgain[1]?.attributes[FlowWaitAttribute.notedAt]).toBe(notedAt);
    gated.finish(a.id);
    await running;
  });
});

describe('crashes and lost releases', () => {
  it('a run that crashed holding the slot keeps the key full until its lease ends; then its redelivery takes the job and the slot over', async () => {
    const { job, gated, registry } = tenantType(1);
    const { processRecord, store, flow, queue, clock } = harness(registry);
    const crashed = message(job.name, { tenant: 't' });
    // What a crashed run leaves: the job running under its lease, and its slot held until the same moment.
    const lease = START + 70_000;
    await store.claim({
      id: crashed.id,
      type: job.name,
      queue: 'default',
      maxAttempts: 3,
      payload: { tenant: 't' },
      correlationId: crashed.id,
      enqueuedAt: new Date(START).toISOString(),
      leaseUntil: lease,
    });
    await flow.acquireSlot({ jobType: job.name, key: 't', jobId: crashed.id, limit: 1, leaseUntil: lease });

    await processRecord(message(job.name, { tenant: 't' }).record);
    expect(queue.sentAgain).toHaveLength(1);

    clock.set(lease + 1);
    const retaken = processRecord(message(job.name, { tenant: 't' }, { id: crashed.id }).record);
    await until(() => gated.started.includes(crashed.id));
    gated.finish(crashed.id);
    await retaken;
    expect(await store.get(crashed.id)).toMatchObject({ state: 'succeeded', attempts: 2 });
    expect((await flow.slots(job.name, 't')).holders).toEqual([]);
  });

  it('a slot an earlier attempt failed to give back is taken over by the next attempt under its own lease, and released after it', async () => {
    const { job, gated, registry } = tenantType(1);
    const { processRecord, store, flow, clock } = harness(registry);
    const m = message(job.name, { tenant: 't' });
    const first = processRecord(m.record);
    await until(() => gated.started.includes(m.id));
    gated.fail(m.id, new Error('flaky'));
    await expect(first).rejects.toThrow(/retry/);
    // As if that release had failed: the slot is still held under attempt 1's lease.
    await flow.acquireSlot({ jobType: job.name, key: 't', jobId: m.id, limit: 1, leaseUntil: clock.now() + 70_000 });

    clock.advance(1_000);
    gated.started.length = 0;
    const second = processRecord(m.record);
    await until(() => gated.started.includes(m.id));
    expect((await flow.slots(job.name, 't')).holders).toEqual([{ jobId: m.id, leaseUntil: clock.now() + 60_000 + 10_000 }]);
    gated.finish(m.id);
    await second;
    expect(await store.get(m.id)).toMatchObject({ state: 'succeeded', attempts: 2 });
    expect((await flow.slots(job.name, 't')).holders).toEqual([]);
  });
});

describe('rate gate', () => {
  it('starts at most `limit` per window and sends the rest back for exactly when the next start is possible', async () => {
    const gated = gatedHandler();
    const job = defineJob({
      name: `gate.rate-${++run}`,
      schema: z.object({ account: z.string() }),
      rateLimit: { key: (payload) => payload.account, limit: 2, per: '10s' },
      handler: async () => ({ ok: true }),
    });
    const { processRecord, store, queue, clock } = harness(defineRegistry(job) as HandlerRegistry);
    const [first, second, third] = [0, 1, 2].map(() => message(job.name, { account: 'acme' }));
    if (!first || !second || !third) throw new Error('three messages');
    await processRecord(first.record);
    clock.advance(3_000);
    await processRecord(second.record);
    clock.advance(500);
    await processRecord(third.record);

    expect((await store.get(third.id))?.state).toBeUndefined();
    // The first start (at 0) leaves the 10 s window 6.5 s from now.
    expect(queue.sentAgain.map((copy) => copy.delaySeconds)).toEqual([7]);
    expect(gated.started).toEqual([]);
    clock.advance(6_500);
    await processRecord(third.record);
    expect(await store.get(third.id)).toMatchObject({ state: 'succeeded', attempts: 1 });
  });

  it('gives the concurrency slot back when the rate limit says wait', async () => {
    const { job, gated, registry } = tenantType(5, { rate: { limit: 1, per: '60s' } });
    const { processRecord, flow, queue } = harness(registry);
    const a = message(job.name, { tenant: 't' });
    const running = processRecord(a.record);
    await until(() => gated.started.includes(a.id));

    await processRecord(message(job.name, { tenant: 't' }).record);
    expect(queue.sentAgain.map((copy) => copy.delaySeconds)).toEqual([60]);
    expect((await flow.slots(job.name, 't')).holders.map((holder) => holder.jobId)).toEqual([a.id]);
    gated.finish(a.id);
    await running;
  });
});

describe('a flow store that fails', () => {
  it('a failed rate read gives the slot back at once, and the message comes back as a failed record', async () => {
    const { job, registry } = tenantType(1, { rate: { limit: 5, per: '10s' } });
    const clock = new FakeClock(START);
    const flow = new (class extends FlowStore {
      override async takeStart(): Promise<never> {
        throw new Error('DynamoDB throttled the rate item');
      }
    })(documentClient, tables.jobs, { clock: clock.now });
    const processRecord = createRecordProcessor({
      registry,
      store: new JobStore(documentClient, tables.jobs, { clock: clock.now }),
      queue: new WaitingQueue(),
      queueName: 'default',
      logger: new Logger({ logLevel: 'SILENT' }),
      clock: clock.now,
      flow,
    });
    await expect(processRecord(message(job.name, { tenant: 't' }).record)).rejects.toThrow(/throttled/);
    expect((await flow.slots(job.name, 't')).holders).toEqual([]);
  });
});

describe('keys that cannot be used', () => {
  it.each([
    [
      'throws',
      () => {
        throw new Error('no tenant');
      },
      /concurrency\.key threw: no tenant/,
    ],
    ['returns an empty string', () => '', /concurrency\.key returned '' \(empty\)/],
    ['returns a number', () => 42 as unknown as string, /concurrency\.key returned number 42/],
    ['returns 129 characters', () => 'x'.repeat(129), /a string of 129 characters/],
  ])('a key function that %s ends the job dead with FlowKeyError, never retried', async (_, key, pattern) => {
    const job = defineJob({
      name: `gate.badkey-${++run}`,
      schema: z.object({}),
      concurrency: { key, limit: 1 },
      handler: async () => ({ ok: true }),
    });
    const { processRecord, store, queue } = harness(defineRegistry(job) as HandlerRegistry);
    const m = message(job.name, {});
    await expect(processRecord(m.record)).resolves.toBeUndefined();
    const record = await store.get(m.id);
    expect(record).toMatchObject({ state: 'dead', error: { name: 'FlowKeyError', retryable: false } });
    expect(record?.error?.message).toMatch(pattern);
    expect(record?.error?.message).toContain(job.name);
    expect(queue.deadLetters).toHaveLength(1);
    expect(queue.sentAgain).toEqual([]);
  });
});
