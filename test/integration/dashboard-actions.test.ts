/**
 * The web dashboard's actions on sets of jobs, its enqueue form and its id-prefix search, in a browser against
 * the emulator. Every job here has an id starting with this file's own prefix, so the filters select exactly
 * the jobs each test made, whatever else the shared stack holds.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Registry } from '../../functions/jobs/contracts.js';
import type { JobClient } from '../../shared/index.js';
import { launchBrowser, startDashboard } from './dashboard-browser.js';
import { connectTestClient, uniqueName } from './helpers.js';

const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));

describe('web dashboard: bulk actions, enqueue form, search', () => {
  let jobs: JobClient<Registry>;
  let dashboard: { process: ChildProcess; url: string };
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    jobs = await connectTestClient();
    dashboard = await startDashboard();
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    // The bulk actions confirm in the page itself: a native dialog here would be a mistake.
    page.on('dialog', (dialog) => {
      throw new Error(`unexpected dialog: ${dialog.message()}`);
    });
  });

  afterAll(async () => {
    await browser?.close();
    dashboard?.process.kill('SIGINT');
  });

  /** Opens the dashboard and waits for its script to be running (before that, a form would submit natively). */
  async function open(): Promise<void> {
    await page.goto(dashboard.url);
    await page.locator('[data-testid=queues] tr[data-queue=default]').waitFor();
    await page.locator('[data-testid=enqueue-type] option').first().waitFor({ state: 'attached' });
  }

  /** Sets the list's filters and shows the list. */
  async function filter(options: { state?: string; idPrefix?: string }): Promise<void> {
    await page.locator('[data-testid=filter-state]').selectOption(options.state ?? '');
    await page.locator('[data-testid=filter-id-prefix]').fill(options.idPrefix ?? '');
    await page.locator('#filters button[type=submit]').click();
  }

  const rowIds = () =>
    page.locator('[data-testid=jobs] tr[data-job-id]').evaluateAll((rows) =>
      // The page's rows, typed by hand: the test project compiles without the DOM library.
      rows.map((row) => (row as unknown as { dataset: { jobId: string } }).dataset.jobId),
    );

  it('retries every dead job of the filter: shows the count, asks, and they run again', async () => {
    // GIVEN three flaky jobs that died after their three attempts (attempt 4 succeeds)
    const prefix = uniqueName('bulk-retry');
    const flaky = await Promise.all(
      [1, 2, 3].map((n) => jobs.enqueue('demo.flaky', { failTimes: 3 }, { jobId: `${prefix}-${n}` })),
    );
    for (const job of flaky) expect((await jobs.wait(job.jobId, { timeout: '90s' })).state).toBe('dead');

    // WHEN the dead jobs of the prefix are listed and "Retry all matching" is clicked
    await open();
    await filter({ state: 'dead', idPrefix: prefix });
    await expect.poll(rowIds, { timeout: 10_000, interval: 250 }).toHaveLength(3);
    expect(await page.locator('[data-testid=bulk-cancel]').isDisabled()).toBe(true);
    await page.locator('[data-testid=bulk-retry]').click();

    // THEN the count comes first, with the question; nothing has run yet
    const count = page.locator('[data-testid=bulk-count]');
    await count.waitFor();
    expect(await count.getAttribute('data-count')).toBe('3');
    expect(await count.textContent()).toBe(`Retry 3 jobs matching state dead, idPrefix ${prefix}?`);
    expect((await jobs.get(flaky[0]?.jobId ?? ''))?.state).toBe('dead');
    await section(/^Jobs$/).screenshot({ path: `${ARTIFACTS}dashboard-bulk.png` });

    // AND once confirmed all three are requeued and succeed on attempt 4
    await page.locator('[data-testid=bulk-confirm-button]').click();
    await expect
      .poll(() => page.locator('#status').textContent(), { timeout: 20_000, interval: 250 })
      .toBe('retry of 3: 3 done, 0 skipped (changed state), 0 failed');
    for (const job of flaky) {
      expect(await jobs.wait(job.jobId, { timeout: '60s' })).toMatchObject({ state: 'succeeded', attempts: 4 });
    }
  });

  it('cancels every queued job of the filter after showing how many, and skips none it should not', async () => {
    // GIVEN two jobs waiting 10 minutes in the queue (SQS delay: queued, not started) and one that ran
    const prefix = uniqueName('bulk-cancel');
    const waiting = await Promise.all(
      [1, 2].map((n) => jobs.enqueue('demo.echo', { message: 'later' }, { jobId: `${prefix}-w${n}`, delay: '10m' })),
    );
    const done = await jobs.enqueue('demo.echo', { message: 'now' }, { jobId: `${prefix}-done` });
    expect((await jobs.wait(done.jobId, { timeout: '60s' })).state).toBe('succeeded');

    // WHEN the queued jobs of the prefix are cancelled from the page
    await open();
    await filter({ state: 'queued', idPrefix: prefix });
    await expect.poll(rowIds, { timeout: 10_000, interval: 250 }).toHaveLength(2);
    expect(await page.locator('[data-testid=bulk-retry]').isDisabled()).toBe(true);
    await page.locator('[data-testid=bulk-cancel]').click();
    const count = page.locator('[data-testid=bulk-count]');
    await count.waitFor();
    expect(await count.getAttribute('data-count')).toBe('2');
    await page.locator('[data-testid=bulk-confirm-button]').click();

    // THEN both are cancelled and the job that had run is untouched
    await expect
      .poll(() => page.locator('#status').textContent(), { timeout: 20_000, interval: 250 })
      .toBe('cancel of 2: 2 done, 0 skipped (changed state), 0 failed');
    for (const job of waiting) expect((await jobs.get(job.jobId))?.state).toBe('cancelled');
    expect((await jobs.get(done.jobId))?.state).toBe('succeeded');
    await expect.poll(rowIds, { timeout: 10_000, interval: 250 }).toEqual([]);
  });

  it('enqueues from the form drawn from the payload schema; a bad value shows the typed error', async () => {
    await open();
    const form = page.locator('[data-testid=enqueue]');

    // A value the schema refuses: the server's error, in the form
    await form.locator('[data-testid=enqueue-type]').selectOption('demo.sleep');
    await form.locator('[data-testid=field-ms]').fill('-5');
    await form.locator('[data-testid=enqueue-submit]').click();
    const result = form.locator('[data-testid=enqueue-result]');
    await expect
      .poll(() => result.textContent(), { timeout: 10_000, interval: 250 })
      .toMatch(/^InvalidPayloadError: invalid payload for job type 'demo\.sleep': ms: /);
    expect(await result.getAttribute('class')).toBe('error');
    await section(/^Enqueue a job$/).screenshot({ path: `${ARTIFACTS}dashboard-enqueue.png` });

    // A valid echo: enqueued, and it runs
    const message = uniqueName('from-the-form');
    await form.locator('[data-testid=enqueue-type]').selectOption('demo.echo');
    await form.locator('[data-testid=field-message]').fill(message);
    await form.locator('[data-testid=enqueue-submit]').click();
    const link = form.locator('[data-testid=enqueued-job]');
    await link.waitFor();
    const jobId = (await link.textContent()) ?? '';
    expect(await jobs.wait(jobId, { timeout: '60s' })).toMatchObject({ state: 'succeeded', result: { message } });

    // A schema the fields cannot draw (arrays) gets the JSON textarea, and its JSON is enqueued as written
    await form.locator('[data-testid=enqueue-type]').selectOption('demo.fanout');
    await form.locator('[data-testid=enqueue-json]').fill('{"numbers": [2, 3]}');
    await form.locator('[data-testid=enqueue-submit]').click();
    await expect.poll(() => link.textContent(), { timeout: 10_000, interval: 250 }).not.toBe(jobId);
    const fanout = await jobs.wait((await link.textContent()) ?? '', { timeout: '90s' });
    expect(fanout).toMatchObject({ type: 'demo.fanout', state: 'succeeded', result: { sum: 13 } });
  });

  it('finds jobs by id prefix, newest created first whatever their ids', async () => {
    // GIVEN three jobs created in the order c, a, b, and one of another prefix
    const prefix = uniqueName('search');
    for (const suffix of ['c', 'a', 'b']) {
      await jobs.enqueue('demo.echo', { message: suffix }, { jobId: `${prefix}-${suffix}` });
      // createdAt has millisecond resolution: apart, so the order is the creation order.
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await jobs.enqueue('demo.echo', { message: 'other' }, { jobId: `${prefix}x-other` });

    // WHEN the list (any state) is searched by the prefix
    await open();
    await filter({ idPrefix: `${prefix}-` });

    // THEN exactly those three, newest first
    await expect.poll(rowIds, { timeout: 10_000, interval: 250 }).toEqual([`${prefix}-b`, `${prefix}-a`, `${prefix}-c`]);
  });

  /** The section titled `title`, for a screenshot of it alone. */
  function section(title: RegExp) {
    return page.locator('section', { has: page.locator('h2', { hasText: title }) }).first();
  }
});
