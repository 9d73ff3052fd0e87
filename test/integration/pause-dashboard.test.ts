/** The dashboard's pause and resume buttons, in a browser, against the emulator's stack. */
import type { ChildProcess } from 'node:child_process';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Registry } from '../../functions/jobs/contracts.js';
import type { JobClient } from '../../shared/index.js';
import { launchBrowser, startDashboard } from './dashboard-browser.js';
import { connectTestClient } from './helpers.js';

describe('web dashboard: pause and resume a queue', () => {
  let jobs: JobClient<Registry>;
  let dashboard: { process: ChildProcess; url: string };
  let browser: Browser;
  let page: Page;
  const dialogs: string[] = [];

  beforeAll(async () => {
    jobs = await connectTestClient();
    dashboard = await startDashboard();
    browser = await launchBrowser();
    page = await browser.newPage();
    // The pause asks why (a prompt), whether to keep it across deploys, then to confirm: answer all.
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void (dialog.type() === 'prompt' ? dialog.accept('dashboard hold') : dialog.accept());
    });
  });

  afterAll(async () => {
    await jobs?.resume('default');
    await browser?.close();
    dashboard?.process.kill('SIGINT');
  });

  it('pauses from its button with a reason and keepOnDeploy, shows it, and resumes from its button', async () => {
    await page.goto(dashboard.url);
    const status = page.locator('[data-testid=status-default]');
    await expect.poll(() => status.textContent()).toMatch(/^active/);

    await page.locator('[data-testid=pause-default]').click();
    await expect
      .poll(() => status.textContent(), { timeout: 30_000, interval: 500 })
      .toMatch(/^paused since .* — dashboard hold \(kept across deploys\)$/);
    expect(dialogs).toEqual([
      expect.stringMatching(/^Pause queue 'default': enqueued jobs keep landing/),
      expect.stringMatching(/^Keep 'default' paused across deploys\?/),
      "Pause queue 'default', across deploys?",
    ]);
    // The pause answers once every worker has seen it (about 6 s).
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 30_000 }).toBe('pause default: paused');
    const [paused] = await jobs.queueStatus();
    expect(paused).toMatchObject({ status: 'paused', pause: { reason: 'dashboard hold', keepOnDeploy: true } });

    await page.locator('[data-testid=resume-default]').click();
    await expect.poll(() => status.textContent(), { timeout: 30_000, interval: 500 }).toMatch(/^active$/);
    expect(await page.locator('#status').textContent()).toBe('resume default: resumed');
    expect((await jobs.queueStatus())[0]).toMatchObject({ status: 'active' });
  });
});
