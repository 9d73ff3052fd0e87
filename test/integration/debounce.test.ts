import { beforeAll, describe, expect, it } from 'vitest';
import type { Registry } from '../../functions/jobs/contracts.js';
import { FlowCancelReason, type JobClient, type JobRecord } from '../../shared/index.js';
import { connectTestClient, demoLedgerTable, ledgerCount, runCli, uniqueName } from './helpers.js';

// Debounce and throttle per key on the deployed demo stack: `demo.debounced` (2 s per key) and
// `demo.throttled` (10 s per key) count every run into the demo ledger, so a run that should not
// have happened shows up as a count, not only as a state.

let jobs: JobClient<Registry>;
let ledger: string;

beforeAll(async () => {
  jobs = await connectTestClient();
  ledger = await demoLedgerTable();
});

async function waitAll(ids: readonly string[]): Promise<JobRecord[]> {
  return Promise.all(ids.map((id) => jobs.wait(id, { timeout: '90s' })));
}

describe('debounce', () => {
  it('of five quick enqueues of one key only the last runs; the four others end cancelled with the reason', async () => {
    const key = uniqueName('deb');
    const ledgerKey = uniqueName('deb-ledger');
    const handles = [];
    for (let n = 0; n < 5; n++) handles.push(await jobs.enqueue('demo.debounced', { key, ledgerKey, n }));
    const ids = handles.map((handle) => handle.jobId);

    const records = await waitAll(ids);

    expect(records.map((record) => record.state)).toEqual(['cancelled', 'cancelled', 'cancelled', 'cancelled', 'succeeded']);
    for (const [n, record] of records.slice(0, 4).entries()) {
      expect(record.error).toMatchObject({
        name: FlowCancelReason.debounced,
        message: `debounced: superseded by job ${ids[n + 1]}`,
      });
      expect(record.attempts).toBe(0);
    }
    expect(records[4]?.result).toEqual({ n: 4, count: 1 });
    expect(await ledgerCount(ledger, ledgerKey)).toBe(1);
    // It waited its period after the last enqueue.
    expect(Date.parse(records[4]?.startedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(records[4]?.createdAt ?? '') + 2_000);
  });

  it('keys are independent: the last job of each key runs', async () => {
    const [a, b] = [uniqueName('deb-a'), uniqueName('deb-b')];
    const ledgerKey = uniqueName('deb-ledger');
    const ids: string[] = [];
    for (let n = 0; n < 3; n++) {
      ids.push((await jobs.enqueue('demo.debounced', { key: a, ledgerKey, n })).jobId);
      ids.push((await jobs.enqueue('demo.debounced', { key: b, ledgerKey, n })).jobId);
    }

    const states = (await waitAll(ids)).map((record) => record.state);

    expect(states).toEqual(['cancelled', 'cancelled', 'cancelled', 'cancelled', 'succeeded', 'succeeded']);
    expect(await ledgerCount(ledger, ledgerKey)).toBe(2);
  });

  it('a job enqueued after the period runs again', async () => {
    const key = uniqueName('deb');
    const ledgerKey = uniqueName('deb-ledger');
    const first = await jobs.enqueue('demo.debounced', { key, ledgerKey, n: 1 });
    expect((await jobs.wait(first, { timeout: '60s' })).state).toBe('succeeded');
    const second = await jobs.enqueue('demo.debounced', { key, ledgerKey, n: 2 });
    expect((await jobs.wait(second, { timeout: '60s' })).state).toBe('succeeded');
    expect(await ledgerCount(ledger, ledgerKey)).toBe(2);
  });
});

describe('throttle', () => {
  it('the first job of a key runs, the rest within the period end cancelled with the reason, and one after it runs', async () => {
    const key = uniqueName('thr');
    const ledgerKey = uniqueName('thr-ledger');
    const first = await jobs.enqueue('demo.throttled', { key, ledgerKey, n: 0 });
    const rest = [];
    for (let n = 1; n < 4; n++) rest.push(await jobs.enqueue('demo.throttled', { key, ledgerKey, n }));

    expect(first.state).toBe('queued');
    expect(first.throttledBy).toBeUndefined();
    for (const handle of rest) {
      expect(handle).toMatchObject({ state: 'cancelled', created: true, throttledBy: first.jobId });
      const record = await jobs.get(handle);
      expect(record?.state).toBe('cancelled');
      expect(record?.error?.name).toBe(FlowCancelReason.throttled);
      expect(record?.error?.message).toMatch(
        new RegExp(`^throttled: job ${first.jobId} holds key ${key} until \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z$`),
      );
    }
    expect((await jobs.wait(first, { timeout: '60s' })).result).toEqual({ n: 0, count: 1 });

    // The window is 10 s from the first enqueue.
    const until = Date.parse(/until (\S+)$/.exec((await jobs.get(rest[0]?.jobId ?? ''))?.error?.message ?? '')?.[1] ?? '');
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, until - Date.now()) + 200));
    const after = await jobs.enqueue('demo.throttled', { key, ledgerKey, n: 9 });
    expect(after.state).toBe('queued');
    expect((await jobs.wait(after, { timeout: '60s' })).result).toEqual({ n: 9, count: 2 });
    expect(await ledgerCount(ledger, ledgerKey)).toBe(2);
  });

  it('keys are independent', async () => {
    const ledgerKey = uniqueName('thr-ledger');
    const a = await jobs.enqueue('demo.throttled', { key: uniqueName('thr-a'), ledgerKey, n: 1 });
    const b = await jobs.enqueue('demo.throttled', { key: uniqueName('thr-b'), ledgerKey, n: 2 });
    expect([a.state, b.state]).toEqual(['queued', 'queued']);
    expect((await waitAll([a.jobId, b.jobId])).map((record) => record.state)).toEqual(['succeeded', 'succeeded']);
    expect(await ledgerCount(ledger, ledgerKey)).toBe(2);
  });
});

describe('the CLI', () => {
  it("enqueue says a job was throttled, get shows the reason, flow shows a key's window and latest job", async () => {
    const key = uniqueName('cli');
    const ledgerKey = uniqueName('cli-ledger');
    const first = await jobs.enqueue('demo.throttled', { key, ledgerKey, n: 0 });

    // Both at once: each CLI run takes a second or two to start, and the window lasts 10 s.
    const [enqueued, window] = await Promise.all([
      runCli(['enqueue', 'demo.throttled', '--payload', JSON.stringify({ key, ledgerKey, n: 1 })]),
      runCli(['flow', 'demo.throttled', '--key', key]),
    ]);
    expect(window.stdout).toMatch(new RegExp(`throttle \\(10 s\\): throttled until \\S+Z, window held by job ${first.jobId}`));
    expect(enqueued.code).toBe(0);
    expect(enqueued.stdout).toContain(`(cancelled: throttled, job ${first.jobId} holds the key)`);
    const droppedId = enqueued.stdout.split(' ')[0] ?? '';
    const got = await runCli(['get', droppedId]);
    expect(got.stdout).toContain(`ThrottledError: throttled: job ${first.jobId} holds key ${key} until`);

    const latest = await jobs.enqueue('demo.debounced', { key, ledgerKey, n: 2 });
    const mark = await runCli(['flow', 'demo.debounced', '--key', key]);
    expect(mark.stdout).toContain(`debounce (2 s): latest job ${latest.jobId}`);
    const none = await runCli(['flow', 'demo.debounced', '--key', uniqueName('none')]);
    expect(none.stdout).toContain('debounce (2 s): nothing pending');
    const plain = await runCli(['flow', 'demo.echo', '--key', key]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain('no flow control on this job type');
    await jobs.wait(latest, { timeout: '60s' });
  });
});
