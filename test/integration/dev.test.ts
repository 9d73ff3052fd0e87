/**
 * `jobstack dev` against the emulator's deployed stack: the real CLI in a child process, a
 * handlers module of the test's own (the demo's, with demo.echo marking its version), edits on
 * disk, and the deployed workers' event sources checked before, during and after.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { repairStaleTakeover, TAKEOVER_ITEM_ID } from '../../cli/dev/worker-takeover.js';
import type { Registry } from '../../functions/jobs/contracts.js';
import { type JobClient, localConnection } from '../../shared/index.js';
import { connectTestClient, testEndpoint, uniqueName } from './helpers.js';

const CLI = fileURLToPath(new URL('../../bin/jobstack.js', import.meta.url));
const CONTRACTS = fileURLToPath(new URL('../../functions/jobs/contracts.ts', import.meta.url));
const DEMO_HANDLERS = fileURLToPath(new URL('../../functions/jobs/handlers.ts', import.meta.url));

let jobs: JobClient<Registry>;
let handlersFile: string;
const sessions: ChildProcess[] = [];

function writeHandlers(body: string): void {
  writeFileSync(
    handlersFile,
    `import { defineRegistry, implementJob } from 'jobstack';
import { echo } from '${CONTRACTS.replace(/\.ts$/, '.js')}';
import { registry as demo } from '${DEMO_HANDLERS.replace(/\.ts$/, '.js')}';
${body}
`,
  );
}

function echoVersion(version: string): string {
  return `export default defineRegistry(
  ...Object.values(demo).filter((job) => job.name !== 'demo.echo'),
  implementJob(echo, async ({ message }) => ({ message: \`\${message} (${version})\` })),
);`;
}

/** Starts `jobstack dev`; resolves once it says it runs, with a way to wait for later lines. */
function startDev(): {
  child: ChildProcess;
  output: () => string;
  waitFor: (pattern: RegExp) => Promise<void>;
  exit: Promise<number | null>;
} {
  const child = spawn(
    process.execPath,
    [CLI, 'dev', '--handlers', handlersFile, '--endpoint', testEndpoint(), '--stack', inject('stackName')],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  sessions.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitFor = async (pattern: RegExp) => {
    const deadline = Date.now() + 60_000;
    while (!pattern.test(output)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`jobstack dev never printed ${pattern}:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  return { child, output: () => output, waitFor, exit };
}

async function echoResult(message: string): Promise<string> {
  const { jobId } = await jobs.enqueue('demo.echo', { message });
  const record = await jobs.wait(jobId, { timeout: '60s' });
  expect(record.state).toBe('succeeded');
  return (record.result as { message: string }).message;
}

async function eventSourceStates(): Promise<string[]> {
  const statuses = await jobs.queueStatus();
  return statuses.flatMap((status) => Object.values(status.eventSources ?? {}));
}

beforeAll(async () => {
  jobs = await connectTestClient();
  handlersFile = join(mkdtempSync(join(tmpdir(), 'jobstack-dev-')), 'handlers.ts');
  writeHandlers(echoVersion('v1'));
});

afterAll(async () => {
  for (const child of sessions) if (child.exitCode === null) child.kill('SIGINT');
});

describe('jobstack dev', () => {
  it('runs the saved code without a deploy, keeps the last good build on a syntax error, and gives the workers back on Ctrl-C', async () => {
    const dev = startDev();
    await dev.waitFor(/Ctrl-C to stop/);
    expect(new Set(await eventSourceStates())).toEqual(new Set(['Disabled']));
    const tag = uniqueName('dev');
    expect(await echoResult(tag)).toBe(`${tag} (v1)`);

    // A second session is refused while this one lives.
    const second = startDev();
    expect(await second.exit).toBe(1);
    expect(second.output()).toMatch(/another jobstack dev .* runs this stack's jobs/);

    writeHandlers(echoVersion('v2'));
    await dev.waitFor(/build 2/);
    expect(await echoResult(tag)).toBe(`${tag} (v2)`);

    writeHandlers('export default defineRegistry(;');
    await dev.waitFor(/did not build/);
    expect(await echoResult(tag)).toBe(`${tag} (v2)`);

    dev.child.kill('SIGINT');
    expect(await dev.exit).toBe(0);
    expect(dev.output()).toMatch(/gave the deployed workers back/);
    expect(new Set(await eventSourceStates())).toEqual(new Set(['Enabled']));
    // The deployed worker runs the deployed demo.echo again.
    expect(await echoResult(tag)).toBe(tag);
  }, 240_000);

  it('a session that was killed leaves a hold the next one (or local up) gives back once its lease ran out', async () => {
    writeHandlers(echoVersion('v1'));
    const dev = startDev();
    await dev.waitFor(/Ctrl-C to stop/);
    dev.child.kill('SIGKILL');
    await dev.exit;
    expect(new Set(await eventSourceStates())).toEqual(new Set(['Disabled']));

    const aws = localConnection(testEndpoint());
    const deps = {
      documentClient: DynamoDBDocumentClient.from(new DynamoDBClient(aws)),
      lambda: new LambdaClient(aws),
      config: jobs.config,
    };
    // Its lease still runs: nothing is repaired yet.
    expect(await repairStaleTakeover(deps)).toBeUndefined();
    // As if its 30-second lease had run out.
    await deps.documentClient.send(
      new UpdateCommand({
        TableName: jobs.config.jobsTable,
        Key: { id: TAKEOVER_ITEM_ID },
        UpdateExpression: 'SET leaseUntil = :past',
        ExpressionAttributeValues: { ':past': Date.now() - 1 },
      }),
    );
    expect(await repairStaleTakeover(deps)).toMatch(/pid \d+/);
    expect(new Set(await eventSourceStates())).toEqual(new Set(['Enabled']));
  }, 120_000);
});
