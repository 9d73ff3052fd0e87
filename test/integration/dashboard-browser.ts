import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { inject } from 'vitest';
import { testEndpoint } from './helpers.js';

/** What the browser tests of the web dashboard share: Chromium, and the real `jobstack dashboard` process. */

const CHROMIUM = '/usr/bin/chromium';
const CLI = fileURLToPath(new URL('../../bin/jobstack.js', import.meta.url));

/**
 * Debian's Chromium, installed when missing (the suite must pass on a fresh
 * machine without manual steps, whichever browser test runs first). An index
 * that does not know the package yet is refreshed once.
 */
function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  const install = () =>
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  try {
    install();
  } catch {
    execFileSync('apt-get', ['update'], { stdio: 'inherit' });
    install();
  }
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium but ${CHROMIUM} is missing`);
}

/** Headless Chromium, installed first if needed. */
export function launchBrowser(): Promise<Browser> {
  ensureChromium();
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** Starts the real `jobstack dashboard` on a free port and resolves with the URL it prints. */
export function startDashboard(): Promise<{ process: ChildProcess; url: string }> {
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
