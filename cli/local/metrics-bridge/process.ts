import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { emulatorFiles, type Log, REPO_ROOT } from '../emulator.js';
import { isAlive, readPid } from '../pid-file.js';

/**
 * Set on the bridge {@link ensureMetricsBridge} starts: the pid file that records it. The bridge stops itself
 * when that file is gone or names another process (its project folder was deleted, another bridge replaced it).
 */
export const BRIDGE_PID_FILE_ENV = 'JOBSTACK_METRICS_BRIDGE_PID_FILE';

/** How long the bridge keeps running while its emulator does not answer: then it stops itself. */
export const BRIDGE_ORPHAN_TIMEOUT_MS = 60_000;

/**
 * Why a running bridge should stop on its own, or undefined: the pid file it was started with is gone or names
 * another process, or its emulator has not answered for {@link BRIDGE_ORPHAN_TIMEOUT_MS}. Keeps a bridge from
 * outliving the emulator or the project it was started for.
 */
export function orphanReason(
  pidFile: string | undefined,
  unhealthySinceMs: number | undefined,
  nowMs: number = Date.now(),
): string | undefined {
  if (pidFile !== undefined && readPid(pidFile) !== process.pid) return `its pid file ${pidFile} no longer names it`;
  if (unhealthySinceMs !== undefined && nowMs - unhealthySinceMs >= BRIDGE_ORPHAN_TIMEOUT_MS) {
    return `its emulator has not answered for ${Math.round((nowMs - unhealthySinceMs) / 1000)} s`;
  }
  return undefined;
}

/** Where the bridge of the emulator on `endpoint` keeps its log and pid file (beside the emulator's). */
export function metricsBridgeFiles(endpoint: string, projectDir: string = REPO_ROOT): { log: string; pid: string } {
  const { dir } = emulatorFiles(endpoint, projectDir);
  return { log: join(dir, 'metrics-bridge.log'), pid: join(dir, 'metrics-bridge.pid') };
}

export interface MetricsBridgeProcessOptions {
  readonly endpoint: string;
  readonly stackName: string;
  /** @default REPO_ROOT */
  readonly projectDir?: string;
  /** @default - no output */
  readonly log?: Log;
}

/** The `jobstack` command beside this module, in the source checkout and in the built package alike. */
function jobstackBin(): string {
  for (const relative of ['../../../bin/jobstack.js', '../../../../bin/jobstack.js']) {
    const candidate = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('metrics bridge: cannot find bin/jobstack.js beside the CLI');
}

/**
 * Starts the local metrics bridge for `stackName` on `endpoint` unless the one this project started for that
 * emulator still runs: `jobstack local bridge`, detached, its output in `.jobstack/port-<port>/metrics-bridge.log`
 * and its PID in `.jobstack/port-<port>/metrics-bridge.pid`, like the emulator's.
 *
 * @returns the bridge's PID
 */
export async function ensureMetricsBridge(options: MetricsBridgeProcessOptions): Promise<number> {
  const projectDir = options.projectDir ?? REPO_ROOT;
  const log = options.log ?? (() => {});
  const files = metricsBridgeFiles(options.endpoint, projectDir);
  const running = readPid(files.pid);
  if (running !== undefined && isBridge(running)) {
    if (bridgedStack(running) === undefined || bridgedStack(running) === options.stackName) {
      log(`metrics bridge: already running (pid ${running}, log: ${files.log})`);
      return running;
    }
    log(`metrics bridge: the one running (pid ${running}) bridges stack '${bridgedStack(running)}'; replacing it`);
    await stopMetricsBridge({ endpoint: options.endpoint, projectDir, log });
  }
  mkdirSync(join(files.pid, '..'), { recursive: true });
  const out = openSync(files.log, 'a');
  try {
    const child = spawn(
      process.execPath,
      [jobstackBin(), 'local', 'bridge', '--endpoint', options.endpoint, '--stack', options.stackName],
      { cwd: projectDir, stdio: ['ignore', out, out], detached: true, env: { ...process.env, [BRIDGE_PID_FILE_ENV]: files.pid } },
    );
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid ?? 0));
      child.once('error', reject);
    });
    child.unref();
    writeFileSync(files.pid, `${pid}\n`);
    log(`metrics bridge: started (pid ${pid}, log: ${files.log}): queue, log and execution figures → PutMetricData`);
    return pid;
  } finally {
    closeSync(out);
  }
}

/** Stops the bridge {@link ensureMetricsBridge} started for `endpoint`, only by its recorded PID. @returns whether one was stopped */
export async function stopMetricsBridge(options: { endpoint: string; projectDir?: string; log?: Log }): Promise<boolean> {
  const log = options.log ?? (() => {});
  const files = metricsBridgeFiles(options.endpoint, options.projectDir);
  const pid = readPid(files.pid);
  if (pid === undefined) return false;
  let stopped = false;
  if (isBridge(pid)) {
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 5_000;
    while (isAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    log(`metrics bridge: stopped (pid ${pid})`);
    stopped = true;
  }
  rmSync(files.pid, { force: true });
  return stopped;
}

/** The `--stack` a running bridge was started with, where /proc tells. */
function bridgedStack(pid: number): string | undefined {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const index = args.indexOf('--stack');
    return index < 0 ? undefined : args[index + 1];
  } catch {
    return undefined;
  }
}

/** Alive and, where /proc tells, still a `jobstack local bridge` (not a PID the OS gave to another process). */
function isBridge(pid: number): boolean {
  if (!isAlive(pid)) return false;
  if (!existsSync('/proc/self/cmdline')) return true;
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return args.includes('local') && args.includes('bridge');
  } catch {
    return false;
  }
}
