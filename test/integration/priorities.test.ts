import { beforeAll, describe, expect, it } from 'vitest';
import type { Registry } from '../../functions/jobs/contracts.js';
import type { JobClient, JobRecord } from '../../shared/index.js';
import { connectTestClient, runCli, uniqueName } from './helpers.js';

// Flow control on the deployed demo stack (its real workers, event sources and queues on the emulator):
// - `ranked` has priority levels high (weight 3) and low (weight 1), maxConcurrency 5 → event sources of 3 and 2;
// - `tenants` carries demo.tenant, whose fairness key is the payload's tenant (SQS MessageGroupId); its event
//   source takes 2 batches at a time, so a flood waits in the queue, where the emulator's fair receive (the local
//   stand-in for SQS fair queues, cli/local/ministack-with-patches.py) decides which tenant goes next.

let jobs: JobClient<Registry>;

beforeAll(async () => {
  jobs = await connectTestClient();
});

/** Long enough that a backlog lasts several rounds of the level's consumers (a batch's jobs run side by side). */
const LOW_WORK_MS = 3_000;
const TENANT_WORK_MS = 1_000;

/** Polls until every job is finished; returns their records. */
async function waitAll(jobIds: readonly string[], timeoutMs: number): Promise<JobRecord[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const records = await jobs.getMany(jobIds);
    const done = records.filter((record) => ['succeeded', 'dead', 'cancelled'].includes(record.state));
    if (done.length === jobIds.length) return records;
    if (Date.now() > deadline) {
      throw new Error(`${jobIds.length - done.length} of ${jobIds.length} jobs did not finish within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Waits until at least one of the jobs has started (the consumers are busy with the backlog). */
async function untilOneStarted(jobIds: readonly string[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const records = await jobs.getMany(jobIds.slice(0, 20));
    if (records.some((record) => record.startedAt !== undefined)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('no job of the backlog started within 60 s');
}

const startedAt = (record: JobRecord): number => Date.parse(record.startedAt ?? '');
const finishedAt = (record: JobRecord): number => Date.parse(record.finishedAt ?? '');

describe('priorities', () => {
  it('high-priority jobs start before most of the low-priority backlog that was already waiting', async () => {
    const run = uniqueName('prio');
    // GIVEN a backlog of 100 low-priority jobs (3 s each) that the low level's 2 consumers are working through
    const low = await jobs.enqueueMany(
      Array.from({ length: 100 }, (_, index) => ({
        type: 'demo.ranked' as const,
        payload: { ms: LOW_WORK_MS, label: `${run}-low-${index}` },
      })),
    );
    expect(low.failed).toEqual([]);
    const lowIds = low.jobIds.filter((id): id is string => id !== undefined);
    await untilOneStarted(lowIds);

    // WHEN 5 high-priority jobs are enqueued
    const highEnqueuedAt = Date.now();
    const high = await jobs.enqueueMany(
      Array.from({ length: 5 }, (_, index) => ({
        type: 'demo.ranked' as const,
        payload: { ms: 200, label: `${run}-high-${index}` },
        options: { priority: 'high' },
      })),
    );
    expect(high.failed).toEqual([]);
    const highIds = high.jobIds.filter((id): id is string => id !== undefined);

    // The CLI shows the depth of each level while the backlog drains.
    const stats = await runCli(['stats']);
    expect(stats.code).toBe(0);
    expect(stats.stdout).toMatch(/ranked:high/);
    expect(stats.stdout).toMatch(/ranked:low/);

    const lowRecords = await waitAll(lowIds, 150_000);
    const highRecords = await waitAll(highIds, 30_000);

    // THEN every job succeeded, at its recorded level
    expect(lowRecords.every((record) => record.state === 'succeeded' && record.priority === 'low')).toBe(true);
    expect(highRecords.every((record) => record.state === 'succeeded' && record.priority === 'high')).toBe(true);
    // and the last high job started before most of the low jobs that were still waiting when it was enqueued
    const lastHighStart = Math.max(...highRecords.map(startedAt));
    const waitingLow = lowRecords.filter((record) => startedAt(record) > highEnqueuedAt);
    const lowAhead = waitingLow.filter((record) => startedAt(record) < lastHighStart);
    console.log(
      `priorities: ${waitingLow.length} low jobs were waiting; ${lowAhead.length} of them started before the last high one ` +
        `(${lastHighStart - highEnqueuedAt} ms after the high ones were enqueued)`,
    );
    expect(waitingLow.length).toBeGreaterThanOrEqual(50);
    expect(lowAhead.length).toBeLessThan(waitingLow.length / 2);

    // `jobstack get` shows the level
    const shown = await runCli(['get', highIds[0] as string]);
    expect(shown.stdout).toMatch(/priority\s+high/);
  });
});

describe('fairness between tenants', () => {
  it("a quiet tenant's jobs finish while most of a noisy tenant's earlier flood is still waiting", async () => {
    const run = uniqueName('fair');
    const noisyTenant = `${run}-noisy`;
    const quietTenant = `${run}-quiet`;
    // GIVEN a noisy tenant that flooded the queue with 100 jobs (1 s each)
    const noisy = await jobs.enqueueMany(
      Array.from({ length: 100 }, (_, index) => ({
        type: 'demo.tenant' as const,
        payload: { tenant: noisyTenant, ms: TENANT_WORK_MS, label: `${index}` },
      })),
    );
    expect(noisy.failed).toEqual([]);
    const noisyIds = noisy.jobIds.filter((id): id is string => id !== undefined);
    await untilOneStarted(noisyIds);

    // WHEN a quiet tenant enqueues 5 jobs after it
    const quietEnqueuedAt = Date.now();
    const quiet = await jobs.enqueueMany(
      Array.from({ length: 5 }, (_, index) => ({
        type: 'demo.tenant' as const,
        payload: { tenant: quietTenant, ms: TENANT_WORK_MS, label: `${index}` },
      })),
    );
    const quietIds = quiet.jobIds.filter((id): id is string => id !== undefined);

    const quietRecords = await waitAll(quietIds, 60_000);
    const noisyRecords = await waitAll(noisyIds, 150_000);

    // THEN every job succeeded, each recorded with its tenant as fairness key
    expect(quietRecords.every((record) => record.state === 'succeeded' && record.fairnessKey === quietTenant)).toBe(true);
    expect(noisyRecords.every((record) => record.state === 'succeeded' && record.fairnessKey === noisyTenant)).toBe(true);
    // and the quiet tenant's last job finished before half of the noisy jobs still waiting at that time had started
    const quietDone = Math.max(...quietRecords.map(finishedAt));
    const waitingNoisy = noisyRecords.filter((record) => startedAt(record) > quietEnqueuedAt);
    const noisyAhead = waitingNoisy.filter((record) => startedAt(record) < quietDone);
    const noisyDone = Math.max(...noisyRecords.map(finishedAt));
    console.log(
      `fairness: quiet tenant done ${quietDone - quietEnqueuedAt} ms after enqueue; ${noisyAhead.length} of ` +
        `${waitingNoisy.length} waiting noisy jobs started before that; the noisy flood finished ${noisyDone - quietEnqueuedAt} ms after`,
    );
    expect(waitingNoisy.length).toBeGreaterThanOrEqual(50);
    expect(noisyAhead.length).toBeLessThan(waitingNoisy.length / 2);
    expect(quietDone).toBeLessThan(noisyDone);
  });

  it('without a fairness key the same quiet tenant waits behind the flood (the control of the test above)', async () => {
    const run = uniqueName('unfair');
    const noisy = await jobs.enqueueMany(
      Array.from({ length: 100 }, (_, index) => ({
        type: 'demo.tenant-unfair' as const,
        payload: { tenant: `${run}-noisy`, ms: TENANT_WORK_MS, label: `${index}` },
      })),
    );
    const noisyIds = noisy.jobIds.filter((id): id is string => id !== undefined);
    await untilOneStarted(noisyIds);
    const quietEnqueuedAt = Date.now();
    const quiet = await jobs.enqueueMany(
      Array.from({ length: 5 }, (_, index) => ({
        type: 'demo.tenant-unfair' as const,
        payload: { tenant: `${run}-quiet`, ms: TENANT_WORK_MS, label: `${index}` },
      })),
    );
    const quietRecords = await waitAll(
      quiet.jobIds.filter((id): id is string => id !== undefined),
      150_000,
    );
    const noisyRecords = await waitAll(noisyIds, 150_000);

    expect(quietRecords.every((record) => record.fairnessKey === undefined)).toBe(true);
    const quietDone = Math.max(...quietRecords.map(finishedAt));
    const waitingNoisy = noisyRecords.filter((record) => startedAt(record) > quietEnqueuedAt);
    const noisyAhead = waitingNoisy.filter((record) => startedAt(record) < quietDone);
    console.log(
      `no fairness: ${noisyAhead.length} of ${waitingNoisy.length} waiting noisy jobs started before the quiet tenant was done`,
    );
    expect(noisyAhead.length).toBeGreaterThan(waitingNoisy.length / 2);
  });
});
