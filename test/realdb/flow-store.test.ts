import { GetCommand } from '@aws-sdk/lib-dynamodb';
import * as fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { controlItemId, defineJobContract, FlowStore, KeyedFlowStore, readFlowState } from '../../shared/index.js';
import { createTestTables, FakeClock, realDocumentClient, type TestTables } from './tables.js';

// The concurrency slots and rate logs of shared/store/flow-store.ts against a real DynamoDB: the
// version conditions are evaluated, and the races are real (several stores, each with its own cache,
// like several warm workers, writing at once).

const START = Date.parse('2026-11-23T12:00:00.000Z');
const documentClient = realDocumentClient();
let tables: TestTables;
let typeNumber = 0;

beforeAll(async () => {
  tables = await createTestTables(documentClient, 'flow-store');
});
afterAll(() => tables.drop());

/** A job type of its own per test, so tests sharing the table never share a control item. */
function freshType(): string {
  return `flow.test-${++typeNumber}`;
}

/** Counts the DynamoDB requests a store sends, by command name. */
function countingClient() {
  const client = realDocumentClient();
  const counts: Record<string, number> = {};
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown';
      counts[name] = (counts[name] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
  return { client, counts };
}

describe('concurrency slots', () => {
  it('grants up to the limit, refuses the next with when a slot frees itself, and a release makes room', async () => {
    const clock = new FakeClock(START);
    const store = new FlowStore(documentClient, tables.jobs, { clock: clock.now });
    const jobType = freshType();
    const slot = (jobId: string, leaseUntil = START + 60_000) => ({ jobType, key: 'tenant-a', jobId, limit: 2, leaseUntil });

    expect(await store.acquireSlot(slot('j1', START + 60_000))).toEqual({
      granted: true,
      heldBefore: false,
      leaseUntil: START + 60_000,
    });
    expect(await store.acquireSlot(slot('j2', START + 30_000))).toMatchObject({ granted: true, heldBefore: false });
    expect(await store.acquireSlot(slot('j3'))).toEqual({
      granted: false,
      holders: 2,
      freesAt: START + 30_000,
      contended: false,
    });
    // Another key is not affected.
    expect(await store.acquireSlot({ ...slot('j3'), key: 'tenant-b' })).toMatchObject({ granted: true });

    expect(await store.releaseSlot(slot('j1', START + 60_000))).toBe(true);
    expect(await store.acquireSlot(slot('j3'))).toMatchObject({ granted: true, heldBefore: false });
    expect((await store.slots(jobType, 'tenant-a')).holders.map((holder) => holder.jobId).sort()).toEqual(['j2', 'j3']);
  });

  it('is idempotent per job id: a job holding a live slot gets it back, with its lease, and writes nothing', async () => {
    const clock = new FakeClock(START);
    const { client, counts } = countingClient();
    const store = new FlowStore(client, tables.jobs, { clock: clock.now });
    const jobType = freshType();
    await store.acquireSlot({ jobType, key: 'k', jobId: 'j1', limit: 1, leaseUntil: START + 10_000 });
    const writesBefore = (counts.UpdateItemCommand ?? 0) + (counts.PutItemCommand ?? 0);

    const again = await store.acquireSlot({ jobType, key: 'k', jobId: 'j1', limit: 1, leaseUntil: START + 99_000 });

    expect(again).toEqual({ granted: true, heldBefore: true, leaseUntil: START + 10_000 });
    expect((counts.UpdateItemCommand ?? 0) + (counts.PutItemCommand ?? 0)).toBe(writesBefore);
    expect((await store.slots(jobType, 'k')).holders).toEqual([{ jobId: 'j1', leaseUntil: START + 10_000 }]);
  });

  it('frees the slot of a run that died when its lease ends, and drops the dead holder from the item', async () => {
    const clock = new FakeClock(START);
    const store = new FlowStore(documentClient, tables.jobs, { clock: clock.now });
    const jobType = freshType();
    await store.acquireSlot({ jobType, key: 'k', jobId: 'crashed', limit: 1, leaseUntil: START + 5_000 });
    expect(await store.acquireSlot({ jobType, key: 'k', jobId: 'next', limit: 1, leaseUntil: START + 60_000 })).toMatchObject({
      granted: false,
      freesAt: START + 5_000,
    });

    clock.set(START + 5_000);
    expect(await store.acquireSlot({ jobType, key: 'k', jobId: 'next', limit: 1, leaseUntil: START + 65_000 })).toMatchObject({
      granted: true,
    });
    const item = await documentClient.send(
      new GetCommand({ TableName: tables.jobs, Key: { id: controlItemId('concurrency', jobType, 'k') } }),
    );
    expect(item.Item?.holders).toEqual({ next: START + 65_000 });
    expect(item.Item?.state).toBeUndefined();
    expect(item.Item?.expiresAt).toBeGreaterThan((START + 65_000) / 1_000);
  });

  it('a run that lost its job to a later delivery releases nothing: the later lease is kept', async () => {
    const clock = new FakeClock(START);
    const store = new FlowStore(documentClient, tables.jobs, { clock: clock.now });
    const jobType = freshType();
    await store.acquireSlot({ jobType, key: 'k', jobId: 'j1', limit: 1, leaseUntil: START + 5_000 });
    clock.set(START + 6_000);
    // The lease ran out; a new delivery of the same job takes the slot over.
    expect(await store.acquireSlot({ jobType, key: 'k', jobId: 'j1', limit: 1, leaseUntil: START + 70_000 })).toEqual({
      granted: true,
      heldBefore: false,
      leaseUntil: START + 70_000,
    });

    expect(await store.releaseSlot({ jobType, key: 'k', jobId: 'j1', leaseUntil: START + 5_000 })).toBe(false);
    expect((await store.slots(jobType, 'k')).holders).toEqual([{ jobId: 'j1', leaseUntil: START + 70_000 }]);
    expect(await store.releaseSlot({ jobType, key: 'k', jobId: 'j1', leaseUntil: START + 70_000 })).toBe(true);
    expect((await store.slots(jobType, 'k')).holders).toEqual([]);
  });

  it('extends the lease of a slot an earlier attempt kept, and only a slot the job holds', async () => {
    const clock = new FakeClock(START);
    const store = new FlowStore(documentClient, tables.jobs, { clock: clock.now });
    const jobType = freshType();
    await store.acquireSlot({ jobType, key: 'k', jobId: 'j1', limit: 1, leaseUntil: START + 5_000 });
    expect(await store.extendSlot({ jobType, key: 'k', jobId: 'j1', leaseUntil: START + 50_000 })).toBe(true);
    expect(await store.extendSlot({ jobType, key: 'k', jobId: 'other', leaseUntil: START + 50_000 })).toBe(false);
    expect((await store.slots(jobType, 'k')).holders).toEqual([{ jobId: 'j1', leaseUntil: START + 50_000 }]);
  });

  it('a warm store takes a free slot with one conditional write and no read; a stale cache costs one failed write, not a read', async () => {
    const clock = new FakeClock(START);
    const { client, counts } = countingClient();
    const warm = new FlowStore(client, tables.jobs, { clock: clock.now });
    const other = new FlowStore(documentClient, tables.jobs, { clock: clock.now });
    const jobType = freshType();
    await warm.acquireSlot({ jobType, key: 'k', jobId: 'a', limit: 5, leaseUntil: START + 60_000 });
    expect(counts).toEqual({ GetItemCommand: 1, PutItemCommand: 1 });

    await warm.acquireSlot({ jobType, key: 'k', jobId: 'b', limit: 5, leaseUntil: START + 60_000 });
    expect(counts).toEqual({ GetItemCommand: 1, PutItemCommand: 1, UpdateItemCommand: 1 });

    await other.acquireSlot({ jobType, key: 'k', jobId: 'c', limit: 5, leaseUntil: START + 60_000 });
    await warm.acquireSlot({ jobType, key: 'k', jobId: 'd', limit: 5, leaseUntil: START + 60_000 });
    // The first write failed on the version `other` moved; the item it returned was enough for the second.
    expect(counts).toEqual({ GetItemCommand: 1, PutItemCommand: 1, UpdateItemCommand: 3 });
    expect((await warm.slots(jobType, 'k')).holders.map((holder) => holder.jobId).sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('never grants more than the limit to many stores acquiring at once', async () => {
    const clock = new FakeClock(START);
    const jobType = freshType();
    const stores = Array.from({ length: 6 }, () => new FlowStore(documentClient, tables.jobs, { clock: clock.now }));
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        stores[i % stores.length]?.acquireSlot({ jobType, key: 'k', jobId: `j${i}`, limit: 3, leaseUntil: START + 60_000 }),
      ),
    );
    const granted = results.filter((result) => result?.granted);
    expect(granted.length).toBeLessThanOrEqual(3);
    expect((await stores[0]?.slots(jobType, 'k'))?.holders.length).toBe(granted.length);
  });
});

describe('rate limit log', () => {
  it('allows `limit` starts in any window of `per` and says exactly when the next one is possible', async () => {
    const clock = new FakeClock(START);
    const store = new FlowStore(documentClient, tables.jobs, { clock: clock.now });
    const jobType = freshType();
    const start = () => store.takeStart({ jobType, key: 'api', limit: 3, perMs: 10_000 });

    expect(await start()).toEqual({ allowed: true, at: START });
    clock.set(START + 1_000);
    expect(await start()).toMatchObject({ allowed: true });
    clock.set(START + 2_000);
    expect(await start()).toMatchObject({ allowed: true });
    clock.set(START + 3_000);
    expect(await start()).toEqual({ allowed: false, waitMs: 7_000, contended: false });
    clock.set(START + 9_999);
    expect(await start()).toEqual({ allowed: false, waitMs: 1, contended: false });
    // The first start leaves the window [now - per, now) exactly now.
    clock.set(START + 10_000);
    expect(await start()).toEqual({ allowed: true, at: START + 10_000 });
    expect(await start()).toEqual({ allowed: false, waitMs: 1_000, contended: false });
    expect((await store.starts(jobType, 'api')).starts).toEqual([START + 1_000, START + 2_000, START + 10_000]);
  });

  it('a warm store starts with one conditional write, and refuses from its cache with no request at all', async () => {
    const clock = new FakeClock(START);
    const { client, counts } = countingClient();
    const store = new FlowStore(client, tables.jobs, { clock: clock.now });
    const jobType = freshType();
    await store.takeStart({ jobType, key: 'k', limit: 2, perMs: 60_000 });
    expect(counts).toEqual({ GetItemCommand: 1, PutItemCommand: 1 });
    await store.takeStart({ jobType, key: 'k', limit: 2, perMs: 60_000 });
    expect(counts).toEqual({ GetItemCommand: 1, PutItemCommand: 1, UpdateItemCommand: 1 });
    expect(await store.takeStart({ jobType, key: 'k', limit: 2, perMs: 60_000 })).toMatchObject({ allowed: false });
    expect(counts).toEqual({ GetItemCommand: 1, PutItemCommand: 1, UpdateItemCommand: 1 });
  });
});

/** The stores jobs.flowState reads, around the limits store under test. */
function stores(limits: FlowStore) {
  return { limits, keyed: new KeyedFlowStore(documentClient, tables.jobs) };
}

describe('the state jobs.flowState shows for limits', () => {
  it('lists the live holders and the starts in the window, and when the next start is possible', async () => {
    const clock = new FakeClock(START);
    const store = new FlowStore(documentClient, tables.jobs, { clock: clock.now });
    const contract = defineJobContract({
      name: freshType(),
      schema: z.object({ tenant: z.string() }),
      concurrency: { key: (payload) => payload.tenant, limit: 3 },
      rateLimit: { key: (payload) => payload.tenant, limit: 2, per: '10s' },
    });
    await store.acquireSlot({ jobType: contract.name, key: 't', jobId: 'live', limit: 3, leaseUntil: START + 60_000 });
    await store.acquireSlot({ jobType: contract.name, key: 't', jobId: 'expired', limit: 3, leaseUntil: START + 1_000 });
    await store.takeStart({ jobType: contract.name, key: 't', limit: 2, perMs: 10_000 });
    clock.set(START + 2_000);
    await store.takeStart({ jobType: contract.name, key: 't', limit: 2, perMs: 10_000 });

    expect(await readFlowState(stores(store), contract, 't', clock.now())).toEqual({
      jobType: contract.name,
      key: 't',
      concurrency: { limit: 3, holders: [{ jobId: 'live', leaseUntil: new Date(START + 60_000).toISOString() }] },
      rateLimit: {
        limit: 2,
        perMs: 10_000,
        startsInWindow: [new Date(START).toISOString(), new Date(START + 2_000).toISOString()],
        nextStartAt: new Date(START + 10_000).toISOString(),
      },
    });
    await expect(readFlowState(stores(store), contract, undefined, clock.now())).rejects.toThrow(
      `job type '${contract.name}' has flow control per key: give the key to read (given none)`,
    );
  });

  it('reads the whole-type key when the limit has no key function', async () => {
    const store = new FlowStore(documentClient, tables.jobs, { clock: () => START });
    const contract = defineJobContract({ name: freshType(), schema: z.object({}), concurrency: { limit: 1 } });
    await store.acquireSlot({ jobType: contract.name, key: '*', jobId: 'only', limit: 1, leaseUntil: START + 5_000 });
    expect((await readFlowState(stores(store), contract, undefined, START)).concurrency?.holders).toHaveLength(1);
  });
});

// Model-based: random interleavings of workers (each a FlowStore with its own cache) acquiring slots
// at once, releasing them, crashing while holding them, and time passing, on the real DynamoDB.
// After every step: the jobs that believe they hold a live slot are at most `limit`, and each of
// them is in the item; at the end, once every run released or crashed and every lease ran out, the
// key has no live holder. A failure prints the shrunk sequence and the seed.

const LIMIT = 2;
const WORKERS = 3;
const LEASE_MS = 30_000;

interface SlotWorld {
  readonly jobType: string;
  readonly clock: FakeClock;
  readonly stores: FlowStore[];
  /** Jobs that were granted a slot and have not released it: their lease, and whether their run crashed. */
  readonly holding: Map<string, { leaseUntil: number; crashed: boolean }>;
  nextJob: number;
}

type SlotCommand = fc.AsyncCommand<object, SlotWorld>;

async function checkSlots(world: SlotWorld, step: string): Promise<void> {
  const now = world.clock.now();
  const believed = [...world.holding.entries()].filter(([, held]) => !held.crashed && held.leaseUntil > now);
  if (believed.length > LIMIT) throw new Error(`${step}: ${believed.length} runs believe they hold a slot (limit ${LIMIT})`);
  const live = (await world.stores[0]?.slots(world.jobType, 'k'))?.holders ?? [];
  if (live.length > LIMIT) throw new Error(`${step}: ${live.length} live holders in the item (limit ${LIMIT})`);
  for (const [jobId] of believed) {
    if (!live.some((holder) => holder.jobId === jobId)) throw new Error(`${step}: ${jobId} runs but is not a holder`);
  }
}

class AcquireAtOnce implements SlotCommand {
  constructor(readonly workers: readonly number[]) {}
  check = () => true;
  async run(_: object, world: SlotWorld): Promise<void> {
    const jobs = this.workers.map((worker) => ({ worker, jobId: `job-${world.nextJob++}` }));
    const leaseUntil = world.clock.now() + LEASE_MS;
    const results = await Promise.all(
      jobs.map(({ worker, jobId }) =>
        world.stores[worker]?.acquireSlot({ jobType: world.jobType, key: 'k', jobId, limit: LIMIT, leaseUntil }),
      ),
    );
    results.forEach((result, i) => {
      const jobId = jobs[i]?.jobId;
      if (result?.granted && jobId) world.holding.set(jobId, { leaseUntil: result.leaseUntil, crashed: false });
    });
    await checkSlots(world, this.toString());
  }
  toString = () => `AcquireAtOnce(${this.workers.join(',')})`;
}

class ReleaseOne implements SlotCommand {
  constructor(
    readonly pick: number,
    readonly worker: number,
  ) {}
  check = () => true;
  async run(_: object, world: SlotWorld): Promise<void> {
    const running = [...world.holding.entries()].filter(([, held]) => !held.crashed);
    const chosen = running[this.pick % Math.max(1, running.length)];
    if (!chosen) return;
    const [jobId, held] = chosen;
    await world.stores[this.worker]?.releaseSlot({ jobType: world.jobType, key: 'k', jobId, leaseUntil: held.leaseUntil });
    world.holding.delete(jobId);
    await checkSlots(world, this.toString());
  }
  toString = () => `ReleaseOne(${this.pick}, worker ${this.worker})`;
}

class CrashOne implements SlotCommand {
  constructor(readonly pick: number) {}
  check = () => true;
  async run(_: object, world: SlotWorld): Promise<void> {
    const running = [...world.holding.entries()].filter(([, held]) => !held.crashed);
    const chosen = running[this.pick % Math.max(1, running.length)];
    if (chosen) chosen[1].crashed = true;
    await checkSlots(world, this.toString());
  }
  toString = () => `CrashOne(${this.pick})`;
}

class Advance implements SlotCommand {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(_: object, world: SlotWorld): Promise<void> {
    world.clock.advance(this.ms);
    await checkSlots(world, this.toString());
  }
  toString = () => `Advance(${this.ms})`;
}

const slotCommands = [
  fc.array(fc.integer({ min: 0, max: WORKERS - 1 }), { minLength: 1, maxLength: 5 }).map((workers) => new AcquireAtOnce(workers)),
  fc.tuple(fc.nat(), fc.integer({ min: 0, max: WORKERS - 1 })).map(([pick, worker]) => new ReleaseOne(pick, worker)),
  fc.nat().map((pick) => new CrashOne(pick)),
  fc.constantFrom(1_000, 10_000, LEASE_MS).map((ms) => new Advance(ms)),
];

/** 40 runs keep the file fast; JOBSTACK_INTERLEAVING_RUNS searches longer. */
const RUNS = Number(process.env.JOBSTACK_INTERLEAVING_RUNS ?? 40);

describe('generated interleavings of workers acquiring, releasing and crashing', () => {
  it('never more than `limit` live holders, and no slot left once every run released or its lease ran out', async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(slotCommands, { maxCommands: 25 }), async (commands) => {
        const clock = new FakeClock(START);
        const world: SlotWorld = {
          jobType: freshType(),
          clock,
          stores: Array.from({ length: WORKERS }, () => new FlowStore(documentClient, tables.jobs, { clock: clock.now })),
          holding: new Map(),
          nextJob: 0,
        };
        await fc.asyncModelRun(() => ({ model: {}, real: world }), commands);
        // Drain: every run still going releases its slot; crashed runs never do.
        for (const [jobId, held] of world.holding) {
          if (held.crashed) continue;
          await world.stores[0]?.releaseSlot({ jobType: world.jobType, key: 'k', jobId, leaseUntil: held.leaseUntil });
          world.holding.delete(jobId);
        }
        const now = clock.now();
        const left = (await world.stores[1]?.slots(world.jobType, 'k'))?.holders ?? [];
        const crashedLive = [...world.holding.entries()].filter(([, held]) => held.leaseUntil > now).map(([jobId]) => jobId);
        expect(left.map((holder) => holder.jobId).sort()).toEqual(crashedLive.sort());
        clock.advance(LEASE_MS + 1);
        expect((await world.stores[2]?.slots(world.jobType, 'k'))?.holders).toEqual([]);
        // And the key is usable to the full limit again.
        const after = await Promise.all(
          Array.from({ length: LIMIT }, (_, i) =>
            world.stores[i % WORKERS]?.acquireSlot({
              jobType: world.jobType,
              key: 'k',
              jobId: `after-${i}`,
              limit: LIMIT,
              leaseUntil: clock.now() + LEASE_MS,
            }),
          ),
        );
        // Simultaneous acquires may be told `contended` after their tries; none may be refused as full.
        for (const result of after) expect(result?.granted || (result && !result.granted && result.contended)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  }, 120_000);

  it('never more than `limit` recorded starts in any window of `per`, with workers starting at once as time passes', async () => {
    const PER = 10_000;
    const RATE = 3;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 4 }), fc.constantFrom(0, 500, 2_500, 4_000, 9_999, 10_000)), {
          minLength: 1,
          maxLength: 15,
        }),
        async (steps) => {
          const clock = new FakeClock(START);
          const jobType = freshType();
          const stores = Array.from({ length: WORKERS }, () => new FlowStore(documentClient, tables.jobs, { clock: clock.now }));
          const allowed: number[] = [];
          let refusedWhileFree = 0;
          for (const [starters, advance] of steps) {
            clock.advance(advance);
            const results = await Promise.all(
              Array.from({ length: starters }, (_, i) =>
                stores[i % WORKERS]?.takeStart({ jobType, key: 'k', limit: RATE, perMs: PER }),
              ),
            );
            for (const result of results) if (result?.allowed) allowed.push(result.at);
            for (const result of results) {
              if (result && !result.allowed && !result.contended) {
                // A refusal must be right: the window really is full at this moment.
                const inWindow = allowed.filter((at) => at > clock.now() - PER).length;
                if (inWindow < RATE) refusedWhileFree++;
              }
            }
          }
          allowed.sort((a, b) => a - b);
          for (let i = RATE; i < allowed.length; i++) {
            const earlier = allowed[i - RATE] ?? 0;
            expect((allowed[i] ?? 0) - earlier).toBeGreaterThanOrEqual(PER);
          }
          expect(refusedWhileFree).toBe(0);
        },
      ),
      { numRuns: RUNS },
    );
  }, 120_000);
});
