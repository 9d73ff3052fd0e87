import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateFunctionCommand, DeleteFunctionCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, inject, it, vi } from 'vitest';
import { runCli as runCliInProcess } from '../../cli/run-cli.js';
import { ENVELOPE_VERSION, localConnection, newJobId, serializeEnvelope } from '../../shared/index.js';
import { parseCliJson, parseCliJsonError } from '../helpers/cli-json.js';
import { connectTestClient, demoLedgerTable, ledgerCount, runCli, testEndpoint, uniqueName } from './helpers.js';

describe('jobstack CLI against the deployed stack', () => {
  it('enqueues, waits for and gets a demo.echo job', async () => {
    const enqueued = await runCli(['enqueue', 'demo.echo', '--payload', '{"message":"from the cli"}', '--json']);
    expect(enqueued.code, enqueued.stderr).toBe(0);
    const { jobId } = parseCliJson('enqueue', enqueued.stdout);

    const waited = await runCli(['wait', jobId, '--timeout', '60s', '--json']);
    expect(waited.code, waited.stderr).toBe(0);
    expect(parseCliJson('wait', waited.stdout)).toMatchObject({
      id: jobId,
      state: 'succeeded',
      result: { message: 'from the cli' },
    });

    const got = await runCli(['get', jobId]);
    expect(got.code).toBe(0);
    expect(got.stdout).toMatch(/state\s+succeeded/);
  });

  it('exits 1 from wait when the job ends dead', async () => {
    const enqueued = await runCli(['enqueue', 'demo.fatal', '--payload', '{}', '--json']);
    const { jobId } = JSON.parse(enqueued.stdout) as { jobId: string };
    const waited = await runCli(['wait', jobId, '--timeout', '60s']);
    expect(waited.code).toBe(1);
    expect(waited.stdout).toMatch(/state\s+dead/);
  });

  it('exits 2 from wait on timeout, printing where the job stood', async () => {
    const jobs = await connectTestClient();
    // Delayed by an hour: still scheduled when the wait gives up, however long the CLI takes to start.
    const { jobId } = await jobs.enqueue('demo.echo', { message: 'not yet' }, { delay: '1h' });
    const waited = await runCli(['wait', jobId, '--timeout', '1s', '--json']);
    await jobs.cancel(jobId);
    expect(waited.code, waited.stderr).toBe(2);
    expect(parseCliJson('wait', waited.stdout)).toEqual({ jobId, timedOut: true, lastState: 'scheduled' });
  });

  it('lists jobs by state as JSON', async () => {
    const listed = await runCli(['list', '--state', 'dead', '--limit', '5', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const page = parseCliJson('list', listed.stdout);
    expect(page.jobs.every((job) => job.state === 'dead')).toBe(true);
  });

  it('enqueue --idempotency-key runs a repeated enqueue once, and global options may come first', async () => {
    const key = uniqueName('cli-key');
    const args = ['enqueue', 'demo.echo', '--payload', '{"message":"once"}', '--idempotency-key', key];
    const first = await runCli(['--json', ...args]);
    expect(first.code, first.stderr).toBe(0);
    const { jobId } = JSON.parse(first.stdout) as { jobId: string };
    const second = await runCli(args);
    expect(second.stdout.trim()).toBe(`${jobId} (already existed)`);
  });

  it("logs shows a retried job's lines from both attempts, oldest first", async () => {
    const jobs = await connectTestClient();
    const { jobId } = await jobs.enqueue('demo.flaky', { failTimes: 1 });
    expect(await jobs.wait(jobId, { timeout: '90s' })).toMatchObject({ state: 'succeeded', attempts: 2 });
    const logs = await runCli(['logs', jobId, '--json']);
    expect(logs.code, logs.stderr).toBe(0);
    const lines = parseCliJson('logs', logs.stdout);
    const attempts = lines.map((line) => line.attempt).filter((attempt) => attempt !== undefined);
    expect(new Set(attempts)).toEqual(new Set([1, 2]));
    expect(lines.map((line) => line.timestamp)).toEqual(lines.map((line) => line.timestamp).sort());
    expect(lines.at(-1)?.message).toMatch(/succeeded/i);
    expect((await runCli(['logs', jobId])).stdout).toMatch(/#2 .*succeeded/i);
  });

  it.each([
    [['logs', 'no-such-job'], /job 'no-such-job' not found/],
    [
      ['enqueue', 'demo.echo', '--payload', '{"message":"x"}', '--idempotency-key', 'k', '--idempotency-window', 'soon'],
      /InvalidDurationError: invalid duration "soon"/,
    ],
    [['--verbose', 'list'], /unknown option '--verbose' before the command/],
    [['enqueue', 'demo.nope', '--payload', '{}'], /UnknownJobTypeError: unknown job type 'demo.nope'/],
    [['enqueue', 'demo.sleep', '--payload', '{"ms":"x"}'], /InvalidPayloadError: invalid payload for job type 'demo.sleep'/],
    [['enqueue', 'demo.echo', '--payload', '{oops'], /--payload is not valid JSON/],
    [['list', '--state', 'sleeping'], /--state must be one of/],
    [['get', 'no-such-job'], /job 'no-such-job' not found/],
  ])('prints one clear line and exits 1 for %j', async (args, message) => {
    const result = await runCli(args);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it("every other command's --json output is what docs/cli/<command>.schema.json documents", async () => {
    const jobs = await connectTestClient();
    // Far enough ahead that it does not start while the commands read it.
    const later = await jobs.enqueue('demo.echo', { message: 'later' }, { delay: '1h' });
    const batchId = uniqueName('cli-batch');
    await jobs.batch(
      [0, 1].map((n) => ({ type: 'demo.echo' as const, payload: { message: `member ${n}` } })),
      { batchId },
    );
    const schedule = uniqueName('cli-schedule');
    // watch runs until stopped: its own process, started first. The others run here, one after another: the
    // emulator answers each in milliseconds, where starting node and tsx for each would take seconds.
    const watchLine = firstLineOf(['watch', '--interval', '1']);
    const ok = async (args: string[]) => {
      const result = await cliInProcess([...args, '--json']);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
      return result.stdout;
    };
    const getThenCancel = {
      got: parseCliJson('get', await ok(['get', later.jobId])),
      cancelled: parseCliJson('cancel', await ok(['cancel', later.jobId])),
      retried: await cliInProcess(['retry', later.jobId, '--json']),
    };
    const batch = parseCliJson('batch', await ok(['batch', batchId]));
    const flow = parseCliJson('flow', await ok(['flow']));
    const flowState = parseCliJson('flow-state', await ok(['flow', 'demo.debounced', '--key', uniqueName('key')]));
    const queues = parseCliJson('queues', await ok(['queues']));
    const stats = parseCliJson('stats', await ok(['stats']));
    const scheduled = {
      created: parseCliJson(
        'schedule',
        await ok(['schedule', schedule, '--rate', '1 day', 'demo.echo', '--payload', '{"message":"daily"}']),
      ),
      listed: parseCliJson('schedules', await ok(['schedules'])),
      deleted: parseCliJson('unschedule', await ok(['unschedule', schedule])),
    };
    const failed = await cliInProcess(['enqueue', 'demo.nope', '--payload', '{}', '--json']);
    const watched = parseCliJson('watch', await watchLine);

    expect(getThenCancel.got).toMatchObject({ id: later.jobId, type: 'demo.echo', payload: { message: 'later' } });
    expect(getThenCancel.cancelled).toEqual({ jobId: later.jobId, outcome: 'cancelled', state: 'cancelled' });
    expect(getThenCancel.retried.code).toBe(1);
    expect(parseCliJson('retry', getThenCancel.retried.stdout)).toEqual({
      jobId: later.jobId,
      outcome: 'not-dead',
      state: 'cancelled',
    });
    expect(batch).toMatchObject({ batchId, kind: 'batch', total: 2, memberIds: [`${batchId}.0`, `${batchId}.1`] });
    expect(batch.members.map((member) => member.id)).toEqual(batch.memberIds);
    expect(flow.map((summary) => summary.jobType)).toContain('demo.debounced');
    expect(flowState).toMatchObject({ jobType: 'demo.debounced', debounce: { periodMs: 2_000 } });
    expect(queues.map((queue) => queue.queue)).toContain('default');
    expect(stats.queues.map((queue) => queue.name)).toContain('default');
    expect(scheduled.listed.find((entry) => entry.name === schedule)).toEqual(scheduled.created);
    expect(scheduled.created).toMatchObject({
      name: schedule,
      expression: 'rate(1 day)',
      jobType: 'demo.echo',
      owner: 'runtime',
    });
    expect(scheduled.deleted).toEqual({ name: schedule, deleted: true });
    expect(watched.stackName).toBe(inject('stackName'));
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe('');
    expect(parseCliJsonError(failed.stderr).error).toEqual({
      name: 'UnknownJobTypeError',
      message: expect.stringContaining("unknown job type 'demo.nope'"),
    });
  });

  it('resolve-step settles a ctx.once step whose run crashed mid-step, and --retry finishes the job without running it again', async () => {
    const jobs = await connectTestClient();
    const aws = localConnection(testEndpoint());
    const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient(aws));
    const jobId = newJobId();
    const payload = { key: uniqueName('resolved-step'), failTimes: 0 };
    const now = Date.now();
    // What a run killed inside its ctx.once step leaves: the record running with an expired lease, the step's
    // marker in progress. Whether the side effect happened is unknown, so the job must end for a person to decide.
    await documentClient.send(
      new PutCommand({
        TableName: jobs.config.jobsTable,
        Item: {
          id: jobId,
          type: 'demo.once',
          state: 'running',
          queue: 'default',
          attempts: 1,
          maxAttempts: 3,
          payload,
          correlationId: jobId,
          createdAt: new Date(now).toISOString(),
          updatedAt: new Date(now).toISOString(),
          leaseUntil: now - 1_000,
        },
      }),
    );
    await documentClient.send(
      new PutCommand({
        TableName: jobs.config.idempotencyTable,
        Item: {
          id: `step#${jobId}#ledger-increment`,
          status: 'in_progress',
          attempt: 1,
          expiresAt: Math.floor(now / 1_000) + 3_600,
        },
      }),
    );
    const body = serializeEnvelope({
      v: ENVELOPE_VERSION,
      id: jobId,
      type: 'demo.once',
      payload,
      enqueuedAt: new Date(now).toISOString(),
    });
    await new SQSClient(aws).send(new SendMessageCommand({ QueueUrl: jobs.config.queues.default?.url, MessageBody: body }));
    expect(await jobs.wait(jobId, { timeout: '60s' })).toMatchObject({
      state: 'dead',
      error: { name: 'StepOutcomeUnknownError' },
    });

    // The person checked: the increment did happen, with count 1.
    const resolved = await runCli(['resolve-step', jobId, 'ledger-increment', '--result', '{"count":1}', '--retry', '--json']);
    expect(resolved.code, resolved.stderr).toBe(0);
    expect(parseCliJson('resolve-step', resolved.stdout)).toEqual({
      jobId,
      step: 'ledger-increment',
      resolved: true,
      retry: 'requeued',
    });
    expect(await jobs.wait(jobId, { timeout: '60s' })).toMatchObject({ state: 'succeeded', result: { count: 1 } });
    expect(await ledgerCount(await demoLedgerTable(), payload.key)).toBe(0);

    const again = await runCli(['resolve-step', jobId, 'ledger-increment', '--rerun']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/not waiting for a verdict/);
  });

  it('runs Lambdas on Node 22, the deployed runtime (nodejs22.x), not on the Node that started the emulator', async () => {
    const lambda = new LambdaClient(localConnection(testEndpoint()));
    const FunctionName = uniqueName('node-version');
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName,
        Runtime: 'nodejs22.x',
        Handler: 'index.handler',
        Role: 'arn:aws:iam::000000000000:role/node-version',
        Code: { ZipFile: storedZip({ 'index.mjs': 'export const handler = async () => ({ version: process.version });' }) },
      }),
    );
    try {
      const { Payload, FunctionError } = await lambda.send(new InvokeCommand({ FunctionName }));
      expect(FunctionError).toBeUndefined();
      const { version } = JSON.parse(Buffer.from(Payload ?? []).toString('utf8')) as { version: string };
      expect(version).toMatch(/^v22\./);
    } finally {
      await lambda.send(new DeleteFunctionCommand({ FunctionName }));
    }
  });

  it('names a missing stack in one line', async () => {
    const result = await runCli(['list', '--stack', 'no-such-stack']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/stack 'no-such-stack' not found/);
  });
});

const CLI = fileURLToPath(new URL('../../bin/jobstack.js', import.meta.url));

/**
 * Runs one command line of the CLI in this process (cli/run-cli.ts, what bin/jobstack.js runs), against the
 * test stack, and returns what it wrote: commands write their output to process.stdout, so that is captured
 * while it runs (one command at a time).
 */
async function cliInProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((text) => {
    stdout += String(text);
    return true;
  });
  try {
    const code = await runCliInProcess([...args, '--endpoint', testEndpoint(), '--stack', inject('stackName')], {
      stdout: (text) => {
        stdout += text;
      },
      stderr: (text) => {
        stderr += text;
      },
    });
    return { code, stdout, stderr };
  } finally {
    write.mockRestore();
  }
}

/** Starts a command that runs until stopped (watch, dashboard), returns its first line of stdout and stops it. */
function firstLineOf(args: string[]): Promise<string> {
  const child = spawn('node', [CLI, ...args, '--json', '--endpoint', testEndpoint(), '--stack', inject('stackName')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  return new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const end = stdout.indexOf('\n');
      if (end !== -1) {
        child.kill('SIGTERM');
        resolve(stdout.slice(0, end));
      }
    });
    child.once('exit', (code) => reject(new Error(`jobstack ${args.join(' ')} exited ${code} before a line: ${stderr}`)));
  }).finally(() => child.kill('SIGTERM'));
}

/** A zip archive of `files`, stored without compression: enough for a Lambda's code, no zip tool needed. */
function storedZip(files: Record<string, string>): Uint8Array {
  const entries: Buffer[] = [];
  const directory: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of Object.entries(files)) {
    const data = Buffer.from(text, 'utf8');
    const fileName = Buffer.from(name, 'utf8');
    const checksum = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0); // local file header
    local.writeUInt16LE(20, 4); // version needed: 2.0
    local.writeUInt16LE(0x21, 12); // date 1980-01-01
    local.writeUInt32LE(checksum, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(fileName.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0); // central directory header
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(checksum, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(fileName.length, 28);
    central.writeUInt32LE(offset, 42);
    entries.push(local, fileName, data);
    directory.push(central, fileName);
    offset += local.length + fileName.length + data.length;
  }
  const directorySize = directory.reduce((sum, part) => sum + part.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); // end of central directory
  end.writeUInt16LE(Object.keys(files).length, 8);
  end.writeUInt16LE(Object.keys(files).length, 10);
  end.writeUInt32LE(directorySize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...entries, ...directory, end]);
}
