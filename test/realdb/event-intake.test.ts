import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JobErrorInfo, JobStore, type NewJobRecord } from '../../shared/index.js';
import { eventJobId } from '../../shared/triggers/trigger.js';
import { createTestTables, FakeClock, realDocumentClient, type TestTables } from './tables.js';

// The dead records the event intake writes for refused events, on a real DynamoDB: the create-only
// condition decides, so a redelivered (or concurrently delivered) refused event records one job, and a
// refused event never overwrites a job that already holds its id.

const START = Date.parse('2026-12-01T06:00:00.000Z');
const documentClient = realDocumentClient();
const clock = new FakeClock(START);
let tables: TestTables;
let store: JobStore;

beforeAll(async () => {
  tables = await createTestTables(documentClient, 'event-intake');
  store = new JobStore(documentClient, tables.jobs, { clock: clock.now, retentionDays: 30 });
});
afterAll(() => tables.drop());

const refusal: JobErrorInfo = {
  name: 'InvalidPayloadError',
  message: "invalid payload for job type 'demo.echo': message: expected string",
  retryable: false,
};

function deadRecord(id: string): NewJobRecord {
  return {
    id,
    type: 'demo.echo',
    queue: 'default',
    maxAttempts: 3,
    payload: { message: 42 },
    correlationId: id,
    state: 'dead',
    error: refusal,
  };
}

describe('dead records of refused events', () => {
  it('are terminal, listed among the dead jobs, and expire with the retention', async () => {
    const id = eventJobId('demo.echo', 'evt-listed');
    expect(await store.create(deadRecord(id))).toBe(true);
    const record = await store.get(id, { consistent: true });
    expect(record).toMatchObject({
      state: 'dead',
      attempts: 0,
      error: refusal,
      payload: { message: 42 },
      finishedAt: new Date(START).toISOString(),
      expiresAt: Math.floor(START / 1_000) + 30 * 86_400,
    });
    const dead = await store.list({ state: 'dead', limit: 100 });
    expect(dead.jobs.map((job) => job.id)).toContain(id);
  });

  it('are written once when the same refused event is handled ten times at once', async () => {
    const id = eventJobId('demo.echo', 'evt-concurrent');
    const results = await Promise.all(Array.from({ length: 10 }, () => store.create(deadRecord(id))));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('never replace a job that already holds the id (the first event with a jobId wins)', async () => {
    const id = 'mine-first';
    const { error: _refusal, ...job } = deadRecord(id);
    expect(await store.create({ ...job, state: 'queued', payload: { message: 'ok' } })).toBe(true);
    expect(await store.create(deadRecord(id))).toBe(false);
    expect(await store.get(id, { consistent: true })).toMatchObject({ state: 'queued', payload: { message: 'ok' } });
  });
});
