import { existsSync, readFileSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { localCommand } from '../../cli/commands/local.js';
import {
  BRIDGE_ORPHAN_TIMEOUT_MS,
  ensureMetricsBridge,
  metricsBridgeFiles,
  orphanReason,
  stopMetricsBridge,
} from '../../cli/local/metrics-bridge/process.js';

// A port nothing answers on: the bridge runs, finds no stack, logs why and keeps trying.
const ENDPOINT = 'http://127.0.0.1:4599';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

afterAll(async () => {
  await stopMetricsBridge({ endpoint: ENDPOINT });
});

describe('jobstack local bridge', () => {
  it('fails if --interval-ms is not a whole number of milliseconds in 500..60000', async () => {
    await expect(localCommand(['bridge', '--endpoint', ENDPOINT, '--interval-ms', '50'])).rejects.toThrow(
      /--interval-ms must be a whole number of milliseconds in 500\.\.60000 \(given '50'\)/,
    );
  });

  it('fails for an endpoint that is not a local emulator', async () => {
    await expect(localCommand(['bridge', '--endpoint', 'https://monitoring.us-east-1.amazonaws.com'])).rejects.toThrow(
      /only runs against a local emulator \(given --endpoint https:\/\/monitoring/,
    );
  });

  it('is started once per emulator with its PID recorded, and stopped by that PID', async () => {
    const lines: string[] = [];
    rmSync(metricsBridgeFiles(ENDPOINT).log, { force: true });
    const pid = await ensureMetricsBridge({ endpoint: ENDPOINT, stackName: 'jobstack', log: (line) => lines.push(line) });
    const files = metricsBridgeFiles(ENDPOINT);
    expect(readFileSync(files.pid, 'utf8').trim()).toBe(String(pid));
    expect(lines.join('\n')).toMatch(new RegExp(`metrics bridge: started \\(pid ${pid}, log: `));
    // Its log says what it bridges and what it cannot, then why its ticks fail (nothing answers).
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && !/tick failed/.test(existsSync(files.log) ? readFileSync(files.log, 'utf8') : '')) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const log = readFileSync(files.log, 'utf8');
    expect(log).toMatch(
      /metrics bridge: stack 'jobstack' on http:\/\/127\.0\.0\.1:4599, every 5000 ms; not bridged: AWS\/Lambda Throttles/,
    );
    expect(log).toMatch(/metrics bridge: tick failed/);

    expect(await ensureMetricsBridge({ endpoint: ENDPOINT, stackName: 'jobstack' })).toBe(pid);
    expect(await stopMetricsBridge({ endpoint: ENDPOINT })).toBe(true);
    expect(alive(pid)).toBe(false);
    expect(existsSync(files.pid)).toBe(false);
    expect(await stopMetricsBridge({ endpoint: ENDPOINT })).toBe(false);
  }, 30_000);

  it('stops itself when its pid file no longer names it (its project folder was deleted)', async () => {
    const pid = await ensureMetricsBridge({ endpoint: ENDPOINT, stackName: 'jobstack' });
    rmSync(metricsBridgeFiles(ENDPOINT).pid);
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && alive(pid)) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(alive(pid)).toBe(false);
    expect(readFileSync(metricsBridgeFiles(ENDPOINT).log, 'utf8')).toMatch(
      /metrics bridge: stopping: its pid file .* no longer names it/,
    );
  }, 30_000);

  it('is an orphan when its emulator has not answered for a minute', () => {
    expect(orphanReason(undefined, undefined)).toBeUndefined();
    expect(orphanReason(undefined, 1_000, 1_000 + BRIDGE_ORPHAN_TIMEOUT_MS - 1)).toBeUndefined();
    expect(orphanReason(undefined, 1_000, 1_000 + BRIDGE_ORPHAN_TIMEOUT_MS)).toMatch(/has not answered for 60 s/);
    expect(orphanReason('/nonexistent/metrics-bridge.pid', undefined)).toMatch(/no longer names it/);
  });
});
