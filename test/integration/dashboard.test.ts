import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Registry } from '../../functions/jobs/contracts.js';
import type { JobClient } from '../../shared/index.js';
import type { JobStats } from '../../shared/stats.js';
import { launchBrowser, startDashboard } from './dashboard-browser.js';
import { connectTestClient, runCli, uniqueName } from './helpers.js';

const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));

describe('web dashboard in a browser', () => {
  let jobs: JobClient<Registry>;
  let dashboard: { process: ChildProcess; url: string };
  let browser: Browser;
  let page: Page;
  const dialogs: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    jobs = await connectTestClient();
    dashboard = await startDashboard();
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    // Every action asks for confirmation: accept, and remember what was asked.
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.accept();
    });
  });

  afterAll(async () => {
    await browser?.close();
    dashboard?.process.kill('SIGINT');
  });

  it('jobstack stats counts a job that died, exactly, from the attention index', async () => {
    const read = async (): Promise<JobStats> => {
      const { code, stdout, stderr } = await runCli(['stats', '--json']);
      expect(code, stderr).toBe(0);
      return JSON.parse(stdout) as JobStats;
    };
    const before = await read();
    const { jobId } = await jobs.enqueue('demo.fatal', {});
    expect((await jobs.wait(jobId, { timeout: '60s' })).state).toBe('dead');
    const after = await read();
    expect(after.states.dead).toBe((before.states.dead ?? 0) + 1);
    expect(after.states.succeeded).toBeNull();
    const queue = after.queues.find((q) => q.name === 'default');
    expect(queue?.deadLetter).toBeGreaterThanOrEqual((before.queues.find((q) => q.name === 'default')?.deadLetter ?? 0) + 1);
  });

  it('shows enqueued jobs, and retrying a dead one from the UI makes it succeed', async () => {
    // GIVEN two echo jobs that succeed and a flaky job that fails its three attempts and dies
    const message = uniqueName('hello');
    const echoes = await Promise.all([0, 1].map((n) => jobs.enqueue('demo.echo', { message: `${message}-${n}` })));
    const flaky = await jobs.enqueue('demo.flaky', { failTimes: 3 });
    for (const echo of echoes) expect((await jobs.wait(echo.jobId, { timeout: '60s' })).state).toBe('succeeded');
    const dead = await jobs.wait(flaky.jobId, { timeout: '120s' });
    expect(dead).toMatchObject({ state: 'dead', attempts: 3 });

    // WHEN the dashboard is opened
    await page.goto(dashboard.url);

    // THEN it shows the queue and the state counts, the dead job among the dead ones
    await page.locator('[data-testid=queues] tr[data-queue=default]').waitFor();
    const deadCount = Number(await page.locator('[data-testid=count-dead] b').textContent());
    expect(deadCount).toBeGreaterThanOrEqual(1);
    await page.locator('[data-testid=count-dead]').click();
    const deadRow = page.locator(`tr[data-job-id="${flaky.jobId}"]`);
    await deadRow.waitFor();
    expect(await deadRow.locator('[data-state]').textContent()).toBe('dead');

    // AND an echo job opened by id shows its result
    await page.locator('[data-testid=job-id]').fill(echoes[0]?.jobId ?? '');
    await page.locator('#open-job button').click();
    await expect.poll(() => page.locator('[data-testid=result]').textContent()).toContain(`${message}-0`);

    // WHEN the dead job is opened and retried (confirming the dialog)
    await deadRow.click();
    const detail = page.locator('[data-testid=detail]');
    await expect.poll(() => detail.locator('h2').textContent()).toBe(`Job ${flaky.jobId}`);
    expect(await detail.locator('[data-testid=error]').textContent()).toContain('demo.flaky failing on purpose (attempt 3');
    await detail.locator('[data-testid=retry]').click();

    // THEN attempt 4 runs and the page shows the job succeeded, with its result
    await expect
      .poll(() => detail.locator('[data-field=state] [data-state]').textContent(), { timeout: 60_000, interval: 500 })
      .toBe('succeeded');
    expect(await detail.locator('[data-field=attempts]').textContent()).toBe('4 of 6');
    expect(await detail.locator('[data-testid=result]').textContent()).toContain('"attempts": 4');
    expect(await detail.locator('[data-testid=history]').textContent()).toContain('reason: retry');
    expect(dialogs).toEqual([expect.stringMatching(new RegExp(`^Retry job ${flaky.jobId}\\?`))]);
    expect(await page.locator('#status').textContent()).toBe(`retry ${flaky.jobId}: requeued`);
    await page.screenshot({ path: `${ARTIFACTS}dashboard.png`, fullPage: true });

    // AND the record agrees with what the page shows
    expect(await jobs.get(flaky.jobId)).toMatchObject({ state: 'succeeded', attempts: 4 });
  });

  it("lists the job types' flow control and shows a key's live state: the slot a running job holds", async () => {
    // GIVEN a tenant's report running (it holds one of the tenant's two slots for 4 s)
    const tenant = uniqueName('tenant');
    const report = await jobs.enqueue('demo.tenant-report', { tenant, ms: 4_000 });
    await expect.poll(async () => (await jobs.get(report.jobId))?.state, { timeout: 60_000, interval: 200 }).toBe('running');

    // WHEN the flow-control row of its type is asked for the tenant's state
    await page.goto(dashboard.url);
    const row = page.locator('[data-testid=flow] tr[data-type="demo.tenant-report"]');
    await row.waitFor();
    expect(await row.textContent()).toContain('concurrency 2 per key, rate 20/10 s per key');
    await row.locator('input[name=key]').fill(tenant);
    await row.locator('button').click();

    // THEN the page shows the slot held by the running job and its start in the rate window
    const state = page.locator('[data-testid=flow-state]');
    // Room for a loaded machine: the page's first refresh (lists, metrics) shares the server with this request.
    await expect.poll(() => state.textContent(), { timeout: 10_000, interval: 250 }).toContain('concurrency: 1 of 2 slots held');
    expect(await state.textContent()).toContain(report.jobId);
    expect(await state.textContent()).toContain('rate limit: 1 of 20 starts in the last 10 s');
    expect((await jobs.wait(report, { timeout: '60s' })).state).toBe('succeeded');
  });
});
