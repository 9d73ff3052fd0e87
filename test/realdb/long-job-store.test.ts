import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JobErrorInfo, JobStore, newJobId } from '../../shared/index.js';
import { LongJobStore } from '../../shared/long-jobs/long-job-store.js';
import { createTestTables, FakeClock, realDocumentClient, type TestTables } from './tables.js';

// The long-job record writes on a real DynamoDB: the conditions (built from the state table, like
// JobStore's) are evaluated by the database, not compared as strings.

const documentClient = realDocumentClient();
const clock = new FakeClock(Date.parse('2026-11-23T12:00:00.000Z'));
const ARN = 'arn:aws:states:us-east-1:000000000000:execution:long-jobs:job_r0_q00000000';
const failure: JobErrorInfo = { name: 'Error', message: 'step failed', retryable: true };
let tables: TestTables;
let jobs: JobStore;
let longJobs: LongJobStore;

beforeAll(async () => {
  tables = await createTestTables(documentClient, 'long-job-store');
  jobs = new JobStore(documentClient, tables.jobs, { clock: clock.now });
  longJobs = new LongJobStore(documentClient, tables.jobs, { clock: clock.now });
});
afterAll(() => tables.drop());

async function queuedLongJob(): Promise<string> {
  const id = newJobId(clock.now());
  await jobs.create({ id, type: 'demo.long', queue: 'default', maxAttempts: 3, payload: {}, correlationId: id, state: 'queued' });
  return id;
}

describe('LongJobStore on a real table', () => {
  it('begins one attempt from queued, never twice concurrently, and never a cancelled or running job', async () => {
    const id = await queuedLongJob();
    const begun = await Promise.all([longJobs.beginAttempt(id, ARN), longJobs.beginAttempt(id, ARN)]);
    expect(begun.filter((record) => record !== undefined)).toHaveLength(1);
    expect(await jobs.get(id)).toMatchObject({ state: 'running', attempts: 1, executionArn: ARN });
    expect(await longJobs.beginAttempt(id, ARN)).toBeUndefined();

    const cancelled = await queuedLongJob();
    await jobs.cancel(cancelled);
    expect(await longJobs.beginAttempt(cancelled, ARN)).toBeUndefined();
  });

  it('begins the next attempt of a retrying job at once: its execution, not a message, waited out the backoff', async () => {
    const id = await queuedLongJob();
    await longJobs.beginAttempt(id, ARN);
    expect(await longJobs.scheduleRetry(id, 1, failure, clock.now() + 3_600_000)).toBe(true);
    expect(await longJobs.beginAttempt(id, ARN)).toMatchObject({ state: 'running', attempts: 2 });
  });

  it('stores checkpoints and the result only for the attempt that owns the job', async () => {
    const id = await queuedLongJob();
    await longJobs.beginAttempt(id, ARN);
    expect(await longJobs.saveCheckpoint(id, 1, { checkpoint: { cursor: 5 }, steps: 1, executionArn: ARN })).toMatchObject({
      checkpoint: { cursor: 5 },
      steps: 1,
    });
    expect(await longJobs.saveCheckpoint(id, 2, { checkpoint: { cursor: 9 }, steps: 2, executionArn: ARN })).toBeUndefined();
    expect(await longJobs.succeed(id, 2, { total: 9 }, 2, ARN)).toBe(false);
    expect(await longJobs.succeed(id, 1, { total: 5 }, 2, ARN)).toBe(true);
    expect(await jobs.get(id)).toMatchObject({ state: 'succeeded', result: { total: 5 }, checkpoint: { cursor: 5 } });
    expect(await longJobs.saveCheckpoint(id, 1, { checkpoint: { cursor: 6 }, steps: 3, executionArn: ARN })).toBeUndefined();
  });
});

describe('checkpoints versioned by their step count (Express runs at least once)', () => {
  it('records one outcome of two runs of the same step at once; the other finds the record moved on', async () => {
    const id = await queuedLongJob();
    await longJobs.beginAttempt(id, ARN);
    await longJobs.saveCheckpoint(id, 1, { checkpoint: { cursor: 1 }, steps: 1, executionArn: ARN });
    // Both runs started from the first checkpoint and both finished step 2.
    const written = await Promise.all([
      longJobs.saveCheckpoint(id, 1, { checkpoint: { cursor: 2, run: 'a' }, steps: 2, executionArn: ARN }),
      longJobs.saveCheckpoint(id, 1, { checkpoint: { cursor: 2, run: 'b' }, steps: 2, executionArn: ARN }),
    ]);
    expect(written.filter((record) => record !== undefined)).toHaveLength(1);
    expect(await jobs.get(id)).toMatchObject({ steps: 2, checkpoint: { cursor: 2 } });
  });

  it('never lets a late step overwrite a later checkpoint or end a job whose checkpoint moved on', async () => {
    const id = await queuedLongJob();
    await longJobs.beginAttempt(id, ARN);
    expect(await longJobs.saveCheckpoint(id, 1, { checkpoint: 'one', steps: 1, executionArn: ARN })).toBeDefined();
    expect(await longJobs.saveCheckpoint(id, 1, { checkpoint: 'two', steps: 2, executionArn: ARN })).toBeDefined();
    // A duplicate run still at step 2 (started from checkpoint 'one') finishes it, or finishes the job, late.
    expect(await longJobs.saveCheckpoint(id, 1, { checkpoint: 'two again', steps: 2, executionArn: ARN })).toBeUndefined();
    expect(await longJobs.succeed(id, 1, { from: 'one' }, 2, ARN)).toBe(false);
    expect(await jobs.get(id)).toMatchObject({ state: 'running', steps: 2, checkpoint: 'two' });
    expect(await longJobs.succeed(id, 1, { from: 'two' }, 3, ARN)).toBe(true);
  });

  it('accepts the first checkpoint of a job that has none, and of a retried attempt from where the last one got to', async () => {
    const id = await queuedLongJob();
    await longJobs.beginAttempt(id, ARN);
    expect(await longJobs.saveCheckpoint(id, 1, { checkpoint: 'one', steps: 1, executionArn: ARN })).toBeDefined();
    await longJobs.scheduleRetry(id, 1, failure, clock.now());
    await longJobs.beginAttempt(id, ARN);
    expect(await longJobs.saveCheckpoint(id, 2, { checkpoint: 'two', steps: 2, executionArn: ARN })).toBeDefined();
  });
});
