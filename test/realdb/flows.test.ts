import { Logger } from '@aws-lambda-powertools/logger';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coordinate } from '../../functions/flow-coordinator/coordinate.js';
import { BatchStore } from '../../shared/flows/batch-store.js';
import { callbackId, childrenBatchId, followUpId, memberId } from '../../shared/flows/ids.js';
import type { BatchOutcome } from '../../shared/flows/types.js';
import { JobStore } from '../../shared/index.js';
import type { JobRecord } from '../../shared/record.js';
import type { JobState } from '../../shared/states.js';
import type { NewJobRecord } from '../../shared/store/types.js';
import { createTestTables, FakeClock, realDocumentClient, type TestTables } from './tables.js';

// Flows against a real DynamoDB (shared/flows/batch-store.ts and the coordinator of
// functions/flow-coordinator/): the transactions' conditions are evaluated, so a lost attempt
// creates nothing, a duplicated stream record counts nothing and a batch completes once.

const START = Date.parse('2026-12-01T06:00:00.000Z');
const documentClient = realDocumentClient();
const logger = new Logger({ logLevel: 'SILENT' });
let tables: TestTables;
let store: JobStore;
let batches: BatchStore;
let run = 0;

beforeAll(async () => {
  tables = await createTestTables(documentClient, 'flows');
  const clock = new FakeClock(START);
  store = new JobStore(documentClient, tables.jobs, { clock: clock.now });
  batches = new BatchStore(documentClient, tables.jobs, store, { clock: clock.now });
});
afterAll(() => tables.drop());

function fresh(label: string): string {
  return `${label}-${++run}-${Math.random().toString(36).slice(2, 8)}`;
}

function newJob(id: string, links: Partial<NewJobRecord> = {}): NewJobRecord {
  return {
    id,
    type: 'demo.echo',
    queue: 'default',
    maxAttempts: 3,
    payload: { id },
    correlationId: id,
    state: 'queued',
    ...links,
  };
}

/** A job claimed by attempt 1 (running under a lease). */
async function runningJob(id: string): Promise<JobRecord> {
  await store.create(newJob(id));
  const claim = await store.claim({
    id,
    type: 'demo.echo',
    queue: 'default',
    maxAttempts: 3,
    payload: { id },
    correlationId: id,
    enqueuedAt: new Date(START).toISOString(),
    leaseUntil: START + 60_000,
  });
  expect(claim.outcome).toBe('claimed');
  return claim.record;
}

/** Moves a job to `state` as a run or an operator would (the coordinator only reads states). */
async function setState(id: string, state: JobState): Promise<JobRecord> {
  await documentClient.send(
    new UpdateCommand({
      TableName: tables.jobs,
      Key: { id },
      UpdateExpression: 'SET #state = :state, updatedAt = :now',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: { ':state': state, ':now': new Date().toISOString() },
    }),
  );
  return (await store.get(id, { consistent: true })) as JobRecord;
}

/** A coordinator that records the messages it would send. */
function coordinator() {
  const sent: string[] = [];
  const deps = {
    store,
    batches,
    logger,
    send: async (record: JobRecord) => {
      sent.push(record.id);
      return true;
    },
  };
  let event = 0;
  const handle = (from: JobState | undefined, job: JobRecord) =>
    coordinate(deps, { eventId: `e${++event}`, from, to: job.state, job });
  return { sent, handle };
}

describe('follow-ups', () => {
  it('are created with the success of the attempt that owns the job, once, and not by a lost attempt', async () => {
    const id = fresh('parent');
    await runningJob(id);
    const followUps = [newJob(followUpId(id, 0), { enqueuedBy: id }), newJob(followUpId(id, 1), { enqueuedBy: id })];

    // A lost attempt (attempt 2 never claimed the job) writes nothing at all.
    expect(await batches.succeedWithFollowUps(id, 2, { ok: true }, followUps)).toBe(false);
    expect(await store.getMany(followUps.map((job) => job.id))).toEqual([]);

    expect(await batches.succeedWithFollowUps(id, 1, { ok: true }, followUps)).toBe(true);
    // The same write again (a retry after a lost answer) is answered by its idempotency token: success, nothing new.
    expect(await batches.succeedWithFollowUps(id, 1, { ok: true }, followUps)).toBe(true);
    const parent = await store.get(id, { consistent: true });
    expect(parent).toMatchObject({ state: 'succeeded', result: { ok: true } });
    const created = await store.getMany(followUps.map((job) => job.id));
    expect(created.map((job) => [job.state, job.enqueuedBy])).toEqual([
      ['queued', id],
      ['queued', id],
    ]);
  });

  it('are never created when the attempt failed, whatever the retries of the parent do (generated)', async () => {
    // Each attempt of the parent fails (retry), is taken over after a crash, or succeeds; only a success creates.
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('fail', 'crash', 'succeed', 'late-success'), { minLength: 1, maxLength: 5 }),
        async (script) => {
          const id = fresh('retried');
          await store.create(newJob(id));
          let attempt = 0;
          let succeededBy: number | undefined;
          for (const step of script) {
            if (succeededBy !== undefined) break;
            const claim = await store.claim({
              id,
              type: 'demo.echo',
              queue: 'default',
              maxAttempts: 10,
              payload: {},
              correlationId: id,
              enqueuedAt: new Date(START).toISOString(),
              leaseUntil: START - 1, // expired at once: any later delivery may take over
            });
            if (claim.outcome !== 'claimed') break;
            attempt = claim.record.attempts;
            const followUps = [newJob(followUpId(id, 0), { enqueuedBy: id })];
            if (step === 'fail') await store.scheduleRetry(id, attempt, { name: 'E', message: 'x', retryable: true }, START - 1);
            if (step === 'succeed' && (await batches.succeedWithFollowUps(id, attempt, null, followUps))) succeededBy = attempt;
            if (step === 'late-success' && attempt > 1) {
              // The previous, taken-over attempt finishes late: it owns nothing any more.
              expect(await batches.succeedWithFollowUps(id, attempt - 1, null, followUps)).toBe(false);
            }
          }
          const followUp = await store.get(followUpId(id, 0), { consistent: true });
          expect(followUp !== undefined).toBe(succeededBy !== undefined);
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe('children a parent waits for', () => {
  async function startWaiting(childCount: number, onChildDead: 'fail' | 'continue' = 'continue') {
    const id = fresh('waiter');
    const parent = await runningJob(id);
    const batchId = childrenBatchId(id, 1);
    const children = Array.from({ length: childCount }, (_, index) =>
      newJob(memberId(batchId, index), { batchId, parentId: id }),
    );
    const waited = await batches.waitForChildren(
      id,
      1,
      { batchId, kind: 'children', total: childCount, parentId: id, onChildDead },
      children,
      [],
    );
    return { id, parent, batchId, children, waited };
  }

  it('moves the parent to waiting with its children in one transaction; no claim takes a waiting job, cancel does', async () => {
    const { id, batchId, children, waited } = await startWaiting(2);
    expect(waited).toBe(true);
    const parent = await store.get(id, { consistent: true });
    expect(parent).toMatchObject({ state: 'waiting', waitingFor: batchId, maxAttempts: 4 });
    expect(parent?.leaseUntil).toBeUndefined();
    expect((await store.getMany(children.map((child) => child.id))).map((child) => child.state)).toEqual(['queued', 'queued']);
    const claim = await store.claim({
      id,
      type: 'demo.echo',
      queue: 'default',
      maxAttempts: 3,
      payload: {},
      correlationId: id,
      enqueuedAt: new Date(START).toISOString(),
      leaseUntil: START + 60_000,
    });
    expect(claim.outcome).toBe('finished');
    expect((await store.cancel(id)).outcome).toBe('cancelled');
  });

  it('writes nothing when the run was asked to cancel, or no longer owns the job', async () => {
    const id = fresh('cancelled-waiter');
    await runningJob(id);
    expect((await store.cancel(id)).outcome).toBe('requested');
    const batchId = childrenBatchId(id, 1);
    const child = newJob(memberId(batchId, 0), { batchId, parentId: id });
    const batch = { batchId, kind: 'children' as const, total: 1, parentId: id };
    expect(await batches.waitForChildren(id, 1, batch, [child], [])).toBe(false);
    expect(await batches.waitForChildren(id, 7, batch, [child], [])).toBe(false);
    expect(await store.get(child.id, { consistent: true })).toBeUndefined();
    expect(await batches.getBatch(batchId)).toBeUndefined();
  });

  it('queues the parent once when its last child ends, its message sent once per resume (generated: crashes, retries, deaths, duplicates)', async () => {
    // Each child goes through non-terminal moves (crashes and retries) and ends succeeded or dead;
    // the coordinator sees every transition, some of them twice, interleaved across children.
    const childScript = fc.array(fc.constantFrom<JobState>('running', 'retrying'), { maxLength: 3 });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ moves: childScript, end: fc.constantFrom<BatchOutcome>('succeeded', 'dead') }), {
          minLength: 1,
          maxLength: 3,
        }),
        fc.array(fc.nat(), { minLength: 30, maxLength: 30 }),
        fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }),
        async (scripts, picks, duplicates) => {
          const { id, batchId, children } = await startWaiting(scripts.length);
          const { sent, handle } = coordinator();
          const pending = scripts.map((script) => [...script.moves, script.end]);
          const from: (JobState | undefined)[] = children.map(() => 'queued');
          let step = 0;
          while (pending.some((steps) => steps.length > 0)) {
            const open = pending.flatMap((steps, index) => (steps.length > 0 ? [index] : []));
            const index = open[(picks[step % picks.length] ?? 0) % open.length] as number;
            const next = pending[index]?.shift() as JobState;
            const child = children[index] as NewJobRecord;
            const after = await setState(child.id, next);
            await handle(from[index], after);
            if (duplicates[step % duplicates.length]) await handle(from[index], after);
            from[index] = next;
            step++;
          }
          const parent = await store.get(id, { consistent: true });
          expect(parent?.state).toBe('queued');
          const batch = await batches.getBatch(batchId);
          expect(batch).toMatchObject({
            status: 'complete',
            pending: 0,
            succeeded: scripts.filter((script) => script.end === 'succeeded').length,
            dead: scripts.filter((script) => script.end === 'dead').length,
          });
          // The parent's waiting → queued change comes through the stream once (twice if duplicated): each is one send.
          await handle('waiting', parent as JobRecord);
          await handle('waiting', parent as JobRecord);
          expect(sent).toEqual([id, id]);
        },
      ),
      { numRuns: 15 },
    );
  });

  it('completes the batch without touching a parent that was cancelled while it waited', async () => {
    const { id, batchId, children } = await startWaiting(1);
    await store.cancel(id);
    const { handle } = coordinator();
    await handle('queued', await setState((children[0] as NewJobRecord).id, 'succeeded'));
    expect((await batches.getBatch(batchId))?.status).toBe('complete');
    expect((await store.get(id, { consistent: true }))?.state).toBe('cancelled');
  });
});

describe('batches', () => {
  async function newBatch(total: number) {
    const batchId = fresh('batch');
    const onComplete = newJob(callbackId(batchId, 'onComplete'), { callbackOf: batchId });
    const onSuccess = newJob(callbackId(batchId, 'onSuccess'), { callbackOf: batchId });
    const members = Array.from({ length: total }, (_, index) => newJob(memberId(batchId, index), { batchId }));
    const { created } = await batches.createBatch({ batchId, kind: 'batch', total, onComplete, onSuccess }, members);
    expect(created.sort()).toEqual(members.map((member) => member.id).sort());
    return { batchId, members, onComplete, onSuccess };
  }

  it('creating again with the same id fills in nothing new; another size is refused', async () => {
    const { batchId, members, onComplete } = await newBatch(2);
    const again = await batches.createBatch({ batchId, kind: 'batch', total: 2, onComplete }, members);
    expect(again.created).toEqual([]);
    await expect(
      batches.createBatch({ batchId, kind: 'batch', total: 3 }, [...members, newJob(memberId(batchId, 2))]),
    ).rejects.toThrow(/taken by a batch of 2 members \(given 3\)/);
  });

  it('counts every member once in its latest outcome and runs the callback once, under duplicates and redrives (generated)', async () => {
    // A member ends dead, succeeded or cancelled; a dead one may be redriven (dead → queued → an outcome again),
    // even after the batch completed. Stream records are delivered per member in order, with replays of any
    // record already delivered, interleaved across members.
    const history = fc.array(fc.constantFrom<BatchOutcome>('succeeded', 'dead', 'cancelled'), { minLength: 1, maxLength: 3 });
    await fc.assert(
      fc.asyncProperty(
        fc.array(history, { minLength: 1, maxLength: 4 }),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom('next', 'next', 'replay')), { minLength: 40, maxLength: 40 }),
        async (histories, schedule) => {
          // Only a dead member can be redriven: cut each history after its first non-dead outcome.
          const outcomes = histories.map((h) => {
            const end = h.findIndex((outcome) => outcome !== 'dead');
            return end === -1 ? h : h.slice(0, end + 1);
          });
          const { batchId, members, onComplete, onSuccess } = await newBatch(outcomes.length);
          const { handle } = coordinator();
          // The transitions each member goes through, and those the coordinator has seen.
          const stream: { from: JobState; job: JobRecord }[][] = members.map(() => []);
          const delivered = members.map(() => 0);
          const take = (index: number): number => {
            const position = delivered[index] ?? 0;
            delivered[index] = position + 1;
            return position;
          };
          const steps = outcomes.map((list) =>
            list.flatMap((outcome, index) => (index === 0 ? [outcome] : ['queued' as const, outcome])),
          );
          let completions = 0;
          let allSucceededAtCompletion: boolean | undefined;
          const deliver = async (index: number, position: number) => {
            const record = stream[index]?.[position];
            if (!record) return;
            const result = await handle(record.from, record.job);
            const batch = await batches.getBatch(batchId);
            if (result.completed === 'completed') {
              completions++;
              allSucceededAtCompletion = batch?.succeeded === outcomes.length;
            }
            expect((batch?.pending ?? 0) + (batch?.succeeded ?? 0) + (batch?.dead ?? 0) + (batch?.cancelled ?? 0)).toBe(
              outcomes.length,
            );
          };
          let last: JobState[] = members.map(() => 'queued');
          for (const [pick, action] of schedule) {
            const index = pick % members.length;
            const member = members[index] as NewJobRecord;
            if (action === 'replay' && delivered[index]) await deliver(index, pick % (delivered[index] as number));
            else if ((delivered[index] as number) < (stream[index] as unknown[]).length) await deliver(index, take(index));
            else {
              const next = steps[index]?.shift();
              if (next === undefined) continue;
              const job =
                next === 'queued'
                  ? ((await store.requeueDead(member.id, { extraAttempts: 1, reason: 'redrive' })).record as JobRecord)
                  : await setState(member.id, next);
              stream[index]?.push({ from: last[index] as JobState, job });
              last = last.map((state, i) => (i === index ? (next as JobState) : state));
            }
          }
          // Everything left happens and is delivered.
          for (const [index, member] of members.entries()) {
            for (let next = steps[index]?.shift(); next !== undefined; next = steps[index]?.shift()) {
              const job =
                next === 'queued'
                  ? ((await store.requeueDead(member.id, { extraAttempts: 1, reason: 'redrive' })).record as JobRecord)
                  : await setState(member.id, next);
              stream[index]?.push({ from: last[index] as JobState, job });
              last = last.map((state, i) => (i === index ? (next as JobState) : state));
            }
            while ((delivered[index] as number) < (stream[index] as unknown[]).length) await deliver(index, take(index));
          }
          const finals = outcomes.map((list) => list[list.length - 1]);
          const batch = await batches.getBatch(batchId);
          expect(batch).toMatchObject({
            status: 'complete',
            pending: 0,
            succeeded: finals.filter((outcome) => outcome === 'succeeded').length,
            dead: finals.filter((outcome) => outcome === 'dead').length,
            cancelled: finals.filter((outcome) => outcome === 'cancelled').length,
          });
          expect(completions).toBe(1);
          expect((await store.get(onComplete.id, { consistent: true }))?.callbackOf).toBe(batchId);
          // onSuccess is decided at completion: by the outcomes counted then, not by later redrives.
          const successCallback = await store.get(onSuccess.id, { consistent: true });
          expect(successCallback !== undefined).toBe(allSucceededAtCompletion);
        },
      ),
      { numRuns: 20 },
    );
  });
});
