/** The dashboard's pause and resume buttons, in a browser, against the emulator's stack. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Registry } from '../../functions/jobs/contracts.js';
import type { JobClient } from '../../shared/index.js';
import { connectTestClient, testEndpoint } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const CLI = fileURLToPath(new URL('../../bin/jobstack.js', import.meta.url));

function startDashboard(): Promise<{ process: ChildProcess; url: string }> {
  const child = spawn('node', [CLI, 'dashboard', '--port', '0', '--endpoint', testEndpoint(), '--stack', inject('stackName')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n').find((text) => text.startsWith('http://'));
      if (line) resolve({ process: child, url: line.trim() });
    });
    child.once('exit', (code) => reject(new Error(`jobstack dashboard exited with ${code}: ${stderr}`)));
  });
}

describe('web dashboard: pause and resume a queue', () => {
  let jobs: JobClient<Registry>;
  let dashboard: { process: ChildProcess; url: string };
  let browser: Browser;
  let page: Page;
  const dialogs: string[] = [];

  beforeAll(async () => {
    // test/integration/dashboard.test.ts installs Chromium when it is missing.
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run test/integration/dashboard.test.ts first`);
    jobs = await connectTestClient();
    dashboard = await startDashboard();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
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
