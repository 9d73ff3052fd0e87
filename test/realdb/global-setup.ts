import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { installMiniStack, isHealthy, MINISTACK_BIN, MINISTACK_VERSION, REPO_ROOT } from '../../cli/local/emulator.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Endpoint of the DynamoDB the `realdb` tests run against (MiniStack, DynamoDB only, started for this run). */
    dynamoEndpoint: string;
  }
}

const READY_TIMEOUT_MS = 30_000;
const LOG_DIR = join(REPO_ROOT, '.jobstack', 'realdb');

/**
 * Once per run: install MiniStack into `.venv` if needed, start its DynamoDB
 * alone on a free 127.0.0.1 port (never the emulator's 4566, so a running
 * emulator is neither used nor disturbed), and hand the endpoint to the tests.
 * The teardown stops exactly the process started here. Why MiniStack and not
 * moto or dynalite: docs/real-dynamodb.md.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await installMiniStack((line) => console.log(line));
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  mkdirSync(LOG_DIR, { recursive: true });
  const logFile = join(LOG_DIR, `ministack-${port}.log`);
  const out = openSync(logFile, 'w');
  let child: ChildProcess;
  try {
    child = spawn(MINISTACK_BIN, [], {
      cwd: REPO_ROOT,
      // SERVICES: DynamoDB (and SQS, for the in-process poller's own test) only: starts faster and cannot be
      // mistaken for the full emulator.
      env: { ...process.env, BIND_HOST: '127.0.0.1', GATEWAY_PORT: String(port), SERVICES: 'dynamodb,sqs', PERSIST_STATE: '0' },
      stdio: ['ignore', out, out],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
  } finally {
    closeSync(out);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${MINISTACK_BIN}`);

  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await isHealthy(endpoint))) {
    if (child.exitCode !== null) throw new Error(`MiniStack ${MINISTACK_VERSION} exited with ${child.exitCode}; see ${logFile}`);
    if (Date.now() > deadline) {
      await stop(child);
      throw new Error(
        `MiniStack ${MINISTACK_VERSION} did not answer on ${endpoint} within ${READY_TIMEOUT_MS} ms; see ${logFile}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  project.provide('dynamoEndpoint', endpoint);
  return async () => {
    await stop(child);
    // The log matters only when start-up fails; one per port would pile up.
    rmSync(logFile, { force: true });
  };
}

/** Stops the process this setup started (by its own handle, so by PID), waiting for it to exit. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const killed = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5_000))]);
  if (!killed) {
    child.kill('SIGKILL');
    await exited;
  }
}

/** A port the OS reports free right now; the server binds it a moment later (a race only another process could lose us). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
