import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClaimRequest, JobStore, newJobId } from '../../shared/index.js';
import { createTestTables, FakeClock, realDocumentClient, type TestTables } from './tables.js';

// The ordering key on the job record is what every re-send of an ordered job uses as its FIFO message group.
// The client writes it at enqueue; a recurring fire's record is created by the worker's claim, which keeps
// the group the fire arrived in. Proven against a real DynamoDB: `if_not_exists` is evaluated, not asserted.

const START = Date.parse('2026-11-23T12:00:00.000Z');
const documentClient = realDocumentClient();
const clock = new FakeClock(START);
let tables: TestTables;
let store: JobStore;

beforeAll(async () => {
  tables = await createTestTables(documentClient, 'ordering-key');
  store = new JobStore(documentClient, tables.jobs, { clock: clock.now });
});
afterAll(() => tables.drop());

function claimRequest(id: string, orderingKey?: string): ClaimRequest {
  return {
    id,
    type: 'ledger.apply',
    queue: 'ordered',
    maxAttempts: 3,
    payload: { account: 'a-1' },
    correlationId: id,
    enqueuedAt: new Date(clock.now()).toISOString(),
    leaseUntil: clock.now() + 60_000,
    ...(orderingKey === undefined ? {} : { orderingKey }),
  };
}

describe('ordering key on the job record', () => {
  it('is written at create and kept by a claim that brings another group', async () => {
    const id = newJobId(clock.now());
    await store.create({
      id,
      type: 'ledger.apply',
      queue: 'ordered',
      maxAttempts: 3,
      payload: { account: 'a-1' },
      correlationId: id,
      state: 'queued',
      orderingKey: 'a-1',
    });
    const claim = await store.claim(claimRequest(id, 'other-group'));
    expect(claim).toMatchObject({ outcome: 'claimed', record: { orderingKey: 'a-1', attempts: 1 } });
  });

  it('is set by the claim that creates the record (a recurring fire)', async () => {
    const id = `sched:close:${newJobId(clock.now())}`;
    const claim = await store.claim(claimRequest(id, 'a-1'));
    expect(claim).toMatchObject({ outcome: 'claimed', record: { orderingKey: 'a-1', state: 'running' } });
    expect((await store.get(id))?.orderingKey).toBe('a-1');
  });

  it('stays absent when neither the enqueue nor the claim has one', async () => {
    const id = newJobId(clock.now());
    const claim = await store.claim(claimRequest(id));
    expect(claim.outcome).toBe('claimed');
    expect(claim.record.orderingKey).toBeUndefined();
  });
});
