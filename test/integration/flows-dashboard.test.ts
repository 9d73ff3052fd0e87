/** The dashboard's batch and children progress, in a browser, against the emulator's stack. */
import type { ChildProcess } from 'node:child_process';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Registry } from '../../functions/jobs/contracts.js';
import type { JobClient } from '../../shared/index.js';
import { launchBrowser, startDashboard } from './dashboard-browser.js';
import { connectTestClient, uniqueName } from './helpers.js';

describe('web dashboard: batches and children', () => {
  let jobs: JobClient<Registry>;
  let dashboard: { process: ChildProcess; url: string };
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    jobs = await connectTestClient();
    dashboard = await startDashboard();
    browser = await launchBrowser();
    page = await browser.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    dashboard?.process.kill('SIGINT');
  });

  async function open(jobId: string): Promise<void> {
    await page.locator('[data-testid=job-id]').fill(jobId);
    await page.locator('#open-job button[type=submit]').click();
  }

  it("shows a member's batch with its counts, callback and members, and opens the callback from its link", async () => {
    const { batchId, jobIds } = await jobs.batch(
      [
        { type: 'demo.square', payload: { n: 3 } },
        { type: 'demo.square', payload: { n: 4, fail: true } },
      ],
      { batchId: uniqueName('dash-batch'), onComplete: { type: 'demo.batch-done', payload: { label: 'dashboard' } } },
    );
    await expect.poll(async () => (await jobs.getBatch(batchId))?.status, { timeout: 60_000, interval: 500 }).toBe('complete');

    await page.goto(dashboard.url);
    await open(jobIds[0] ?? '');
    const batch = page.locator(`[data-testid=batch][data-batch-id="${batchId}"]`);
    await expect.poll(() => batch.textContent(), { timeout: 15_000 }).toContain(`Batch ${batchId} (complete)`);
    expect(await batch.textContent()).toContain('2 of 2 ended: 1 succeeded, 1 dead, 0 cancelled, 0 pending');
    expect(await batch.locator('progress').getAttribute('value')).toBe('2');

    await batch.getByRole('button', { name: `${batchId}.complete` }).click();
    await expect.poll(() => page.locator('[data-field="callback of batch"]').textContent(), { timeout: 15_000 }).toBe(batchId);
  });

  it("shows a parent's children and their progress", async () => {
    const { jobId } = await jobs.enqueue('demo.fanout', { numbers: [1, 2] });
    await jobs.wait(jobId, { timeout: '90s' });
    await page.goto(dashboard.url);
    await open(jobId);
    const children = page.locator('[data-testid=batch]');
    await expect.poll(() => children.textContent(), { timeout: 15_000 }).toMatch(/^Children \S+ \(complete\)/);
    expect(await children.textContent()).toContain('2 of 2 ended: 2 succeeded, 0 dead, 0 cancelled, 0 pending');
  });
});
