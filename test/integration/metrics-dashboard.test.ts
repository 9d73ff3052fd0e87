/** The web dashboard's Metrics section, in a browser, against the emulator: the widgets drawn with data. */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, startDashboard } from './dashboard-browser.js';
import { connectTestClient, uniqueName } from './helpers.js';
import { defaultQueueName, minuteAgo, putMetricData } from './metric-data.js';

const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));

/** Pixels of the canvas in a colour (not the greys of grid, axis and labels): where series were drawn. */
function colouredPixels(canvas: Locator): Promise<number> {
  return canvas.evaluate((node) => {
    // The page's canvas, typed by hand: the test project compiles without the DOM library.
    const c = node as unknown as {
      width: number;
      height: number;
      getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
    };
    const { data } = c.getContext('2d')?.getImageData(0, 0, c.width, c.height) ?? { data: [] };
    let count = 0;
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b, a] = [data[i] ?? 0, data[i + 1] ?? 0, data[i + 2] ?? 0, data[i + 3] ?? 0];
      if (a > 128 && Math.max(r, g, b) - Math.min(r, g, b) > 60) count++;
    }
    return count;
  });
}

describe('web dashboard: metrics', () => {
  let dashboard: { process: ChildProcess; url: string };
  let browser: Browser;
  let page: Page;
  const jobType = uniqueName('metrics-page');
  const worker = { service: 'jobstack-worker', Queue: 'default' };

  beforeAll(async () => {
    // Metrics no alarm watches (the emulator evaluates alarms ignoring dimensions); a job type of its own.
    await putMetricData('Jobstack', [
      { MetricName: 'JobsStarted', Dimensions: { ...worker, JobType: jobType }, Value: 3, Timestamp: minuteAgo(45) },
      { MetricName: 'JobsStarted', Dimensions: { ...worker, JobType: jobType }, Value: 6, Timestamp: minuteAgo(30) },
    ]);
    await putMetricData('AWS/SQS', [
      {
        MetricName: 'ApproximateNumberOfMessagesDelayed',
        Dimensions: { QueueName: await defaultQueueName() },
        Value: 5,
        Timestamp: minuteAgo(20),
      },
    ]);
    dashboard = await startDashboard();
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });

  afterAll(async () => {
    await browser?.close();
    dashboard?.process.kill('SIGINT');
  });

  it('draws every widget of the CloudWatch dashboard, with the data put, and updates without a reload', async () => {
    // Redrawn every 3 s instead of every minute, so the test sees a new point soon.
    await page.goto(`${dashboard.url}?metricsRefresh=3`);
    const byType = page.locator('figure.chart[data-title="Jobs by outcome and type"]');
    const series = byType.locator(`li[data-series*="${jobType}"]`);
    await expect.poll(() => series.locator('b').textContent(), { timeout: 20_000, interval: 250 }).toBe('6');
    // Labelled by the dimension values that tell the matches apart: the queue too once another test has run a
    // typed job on another queue of the shared stack (e.g. alarms.test.ts on 'tenants').
    expect(await series.getAttribute('data-series')).toMatch(new RegExp(`^JobsStarted (default )?${jobType}$`));
    const canvas = byType.locator('canvas');
    expect(Number(await canvas.getAttribute('data-points'))).toBeGreaterThanOrEqual(2);
    expect(await colouredPixels(canvas)).toBeGreaterThan(20);

    // Every metric widget has its figure, titled as on the CloudWatch dashboard.
    const titles = await page.locator('figure.chart figcaption').allTextContents();
    expect(titles).toEqual(
      expect.arrayContaining([
        'Jobs by outcome (per queue)',
        'Jobs by outcome and type',
        "Queue 'default': depth",
        'Workers: errors',
        'Scheduler dead-letter queue',
      ]),
    );
    // The queue's depth: the point put (the metrics bridge, when it runs, adds the queue's live depth).
    const depth = page.locator(`figure.chart[data-title="Queue 'default': depth"]`);
    expect(await depth.locator('li[data-series="delayed"]').count()).toBe(1);
    expect(Number(await depth.locator('canvas').getAttribute('data-points'))).toBeGreaterThanOrEqual(1);
    expect(await colouredPixels(depth.locator('canvas'))).toBeGreaterThan(0);

    // A newer point arrives: the page redraws it on its own (no reload).
    await putMetricData('Jobstack', [
      { MetricName: 'JobsStarted', Dimensions: { ...worker, JobType: jobType }, Value: 11, Timestamp: minuteAgo(0) },
    ]);
    await expect.poll(() => series.locator('b').textContent(), { timeout: 15_000, interval: 500 }).toBe('11');
    expect(await page.locator('#metrics-status').textContent()).toMatch(/^dashboard jobstack-/);
  });
  it('draws the charts with data after a burst of jobs: outcomes per type and the p50 / p95 duration', async () => {
    // GIVEN a burst of echo jobs, run by the worker (its EMF lines reach CloudWatch through the metrics bridge)
    const jobs = await connectTestClient();
    const { jobIds } = await jobs.enqueueMany(
      Array.from({ length: 8 }, (_, i) => ({ type: 'demo.echo' as const, payload: { message: `${jobType}-${i}` } })),
    );
    const records = await Promise.all(jobIds.map((id) => jobs.wait(id ?? '', { timeout: '60s' })));
    expect(records.map((record) => record.state)).toEqual(Array(8).fill('succeeded'));

    // WHEN the dashboard is open
    await page.goto(`${dashboard.url}?metricsRefresh=3`);

    // THEN the outcomes per type count the burst, and the duration chart draws both percentiles of the type
    const byType = page.locator('figure.chart[data-title="Jobs by outcome and type"]');
    const succeeded = byType.locator('li[data-series^="JobsSucceeded"][data-series$=" demo.echo"] b');
    await expect
      .poll(async () => Number((await succeeded.first().textContent()) ?? 0), { timeout: 30_000, interval: 500 })
      .toBeGreaterThanOrEqual(8);
    const duration = page.locator('figure.chart[data-title="Job duration p50 / p95 by type (ms)"]');
    const percentiles = duration.locator('li[data-series$=" demo.echo"]');
    await expect
      .poll(
        async () =>
          (
            await percentiles.evaluateAll((items) =>
              items.map((item) => (item as unknown as { dataset: { series: string } }).dataset.series.split(' ')[0]),
            )
          ).sort(),
        {
          timeout: 30_000,
          interval: 500,
        },
      )
      .toEqual(['p50', 'p95']);
    expect(Number(await duration.locator('canvas').getAttribute('data-points'))).toBeGreaterThanOrEqual(2);
    expect(await colouredPixels(duration.locator('canvas'))).toBeGreaterThan(0);
    mkdirSync(ARTIFACTS, { recursive: true });
    const section = page.locator('section', { has: page.locator('#metrics') });
    await section.screenshot({ path: `${ARTIFACTS}dashboard-metrics.png` });
  });
});
