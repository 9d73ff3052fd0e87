import { Logger } from '@aws-lambda-powertools/logger';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import * as z from 'zod';
import { type RunningSqsPoller, startSqsPoller } from '../../cli/dev/sqs-poller.js';
import { createRecordProcessor } from '../../functions/worker/process-record.js';
import { resolveStackConfig } from '../../shared/client/stack-config.js';
import {
  defineJob,
  defineRegistry,
  ENVELOPE_VERSION,
  FlowStore,
  type HandlerRegistry,
  JobQueue,
  JobStore,
  localConnection,
  newJobId,
  type StartRequest,
  type StartResult,
} from '../../shared/index.js';
import { parseCliJson } from '../helpers/cli-json.js';
import { connectTestClient, runCli, testEndpoint, uniqueName } from './helpers.js';

// Concurrency and rate limits proven with several workers at once. The emulator runs one Lambda
// invocation at a time, so the deployed worker cannot show it: here four in-process workers, each the
// real record processor with its own JobStore and FlowStore (own caches, as separate Lambda
// containers), consume a queue this test creates on the emulator, through the in-process event
// source mapping (cli/dev/sqs-poller.ts), with the deployed stack's job table and real time.
// Every job records when its handler started and ended; the assertions are on those times.

const WORKERS = 4;
const TENANTS = 3;
const JOBS_PER_TENANT = 6;
const TENANT_LIMIT = 2;
const RATE_JOBS = 12;
const RATE_LIMIT = 3;
const RATE_PER_MS = 2_000;
const HANDLER_MS = 400;

interface Run {
  readonly jobId: string;
  readonly key: string;
  readonly startedAt: number;
  endedAt?: number;
}

const connection = () => localConnection(testEndpoint());
const sqs = new SQSClient(connection());
const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient(connection()), {
  marshallOptions: { removeUndefinedValues: true },
});
let queueUrl: string;
let deadLetterUrl: string;
let jobsTable: string;

beforeAll(async () => {
  const config = await resolveStackConfig(new CloudFormationClient(connection()), inject('stackName'));
  jobsTable = config.jobsTable;
  const name = uniqueName('flow-limits');
  deadLetterUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }))).QueueUrl as string;
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: '60' } })))
    .QueueUrl as string;
});
afterAll(async () => {
  for (const url of [queueUrl, deadLetterUrl]) if (url) await sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
});

/** A FlowStore that also keeps every start it granted (the gate's own clock readings). */
class RecordingFlowStore extends FlowStore {
  constructor(
    client: DynamoDBDocumentClient,
    table: string,
    private readonly granted: number[],
  ) {
    super(client, table);
  }
  override async takeStart(request: StartRequest): Promise<StartResult> {
    const result = await super.takeStart(request);
    if (result.allowed) this.granted.push(result.at);
    return result;
  }
}

/** Most intervals overlapping at any instant. */
function mostOverlapping(runs: readonly Run[]): number {
  const events = runs.flatMap((run) => [
    [run.startedAt, 1],
    [run.endedAt ?? Number.POSITIVE_INFINITY, -1],
  ]);
  // At equal times, an end comes before a start: a run that ended at t no longer holds its slot at t.
  events.sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0) || (a[1] ?? 0) - (b[1] ?? 0));
  let current = 0;
  let most = 0;
  for (const [, delta] of events) {
    current += delta ?? 0;
    most = Math.max(most, current);
  }
  return most;
}

/** Most starts in any window [t, t + perMs). */
function mostStartsInWindow(starts: readonly number[], perMs: number): number {
  const sorted = [...starts].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0; i < sorted.length; i++) {
    const first = sorted[i] ?? 0;
    most = Math.max(most, sorted.filter((at) => at >= first && at < first + perMs).length);
  }
  return most;
}

describe('flow limits with several workers at once (in-process, emulator queue and table)', () => {
  it(`never more than ${TENANT_LIMIT} running per tenant, never more than ${RATE_LIMIT} starts per ${RATE_PER_MS} ms; every job succeeds on its first attempt and no slot is left`, async () => {
    const suffix = uniqueName('r');
    const tenantRuns: Run[] = [];
    const rateRuns: Run[] = [];
    const grantedStarts: number[] = [];
    const tenantJob = defineJob({
      name: `demo.flow-tenant-${suffix}`,
      schema: z.object({ tenant: z.string() }),
      concurrency: { key: (payload) => payload.tenant, limit: TENANT_LIMIT },
      handler: async ({ tenant }, { jobId }) => {
        const run: Run = { jobId, key: tenant, startedAt: Date.now() };
        tenantRuns.push(run);
        await new Promise((resolve) => setTimeout(resolve, HANDLER_MS));
        run.endedAt = Date.now();
        return { tenant };
      },
    });
    const rateJob = defineJob({
      name: `demo.flow-rate-${suffix}`,
      schema: z.object({ account: z.string() }),
      rateLimit: { key: (payload) => payload.account, limit: RATE_LIMIT, per: RATE_PER_MS },
      handler: async ({ account }, { jobId }) => {
        rateRuns.push({ jobId, key: account, startedAt: Date.now(), endedAt: Date.now() });
        return { account };
      },
    });
    const registry = defineRegistry(tenantJob, rateJob) as HandlerRegistry;
    const logger = new Logger({ serviceName: 'flow-limits-test', logLevel: 'SILENT' });
    const store = new JobStore(documentClient, jobsTable);
    const queue = new JobQueue(sqs, queueUrl, deadLetterUrl);

    // Enqueue as the SDK does: the record, then the message.
    const jobs: { id: string; type: string; payload: Record<string, string> }[] = [];
    for (let t = 0; t < TENANTS; t++) {
      for (let j = 0; j < JOBS_PER_TENANT; j++)
        jobs.push({ id: newJobId(), type: tenantJob.name, payload: { tenant: `tenant-${t}` } });
    }
    for (let j = 0; j < RATE_JOBS; j++) jobs.push({ id: newJobId(), type: rateJob.name, payload: { account: 'acme' } });
    const enqueuedAt = new Date().toISOString();
    for (const job of jobs) {
      await store.create({ ...job, queue: 'flow', maxAttempts: 3, correlationId: job.id, state: 'queued' });
    }
    await queue.sendMany(jobs.map((job) => ({ envelope: { v: ENVELOPE_VERSION, ...job, enqueuedAt } })));

    const errors: unknown[] = [];
    const pollers: RunningSqsPoller[] = Array.from({ length: WORKERS }, () =>
      startSqsPoller({
        sqs,
        queueUrl,
        concurrency: 2,
        batchSize: 5,
        processRecord: createRecordProcessor({
          registry,
          store: new JobStore(documentClient, jobsTable),
          queue: new JobQueue(sqs, queueUrl, deadLetterUrl),
          queueName: 'flow',
          logger,
          flow: new RecordingFlowStore(documentClient, jobsTable, grantedStarts),
        }),
        onRecordError: (_, error) => errors.push(error),
      }),
    );

    try {
      const deadline = Date.now() + 150_000;
      for (;;) {
        const records = await store.getMany(jobs.map((job) => job.id));
        if (records.length === jobs.length && records.every((record) => record.state === 'succeeded')) break;
        if (Date.now() > deadline) {
          const states = records.map((record) => record.state).join(',');
          throw new Error(`jobs did not all succeed in time: ${states}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    } finally {
      await Promise.all(pollers.map((poller) => poller.stop()));
    }

    const records = await store.getMany(jobs.map((job) => job.id));
    expect(records.map((record) => [record.state, record.attempts])).toEqual(jobs.map(() => ['succeeded', 1]));
    expect(errors).toEqual([]);
    // Every handler ran once.
    expect(tenantRuns).toHaveLength(TENANTS * JOBS_PER_TENANT);
    expect(rateRuns).toHaveLength(RATE_JOBS);

    const overlaps = Object.fromEntries(
      Array.from({ length: TENANTS }, (_, t) => [
        `tenant-${t}`,
        mostOverlapping(tenantRuns.filter((run) => run.key === `tenant-${t}`)),
      ]),
    );
    for (const most of Object.values(overlaps)) expect(most).toBeLessThanOrEqual(TENANT_LIMIT);
    // The limit was reached, not merely respected by running one at a time.
    expect(Math.max(...Object.values(overlaps))).toBe(TENANT_LIMIT);
    // Different tenants ran side by side.
    expect(mostOverlapping(tenantRuns)).toBeGreaterThan(TENANT_LIMIT);

    // The gate's granted starts hold the limit exactly; the handlers start a claim write later, so their
    // own start times may be a little closer together than the window.
    expect(grantedStarts).toHaveLength(RATE_JOBS);
    expect(mostStartsInWindow(grantedStarts, RATE_PER_MS)).toBe(RATE_LIMIT);
    const handlerStarts = rateRuns.map((run) => run.startedAt);
    expect(mostStartsInWindow(handlerStarts, RATE_PER_MS - 250)).toBeLessThanOrEqual(RATE_LIMIT);
    const span = Math.max(...handlerStarts) - Math.min(...handlerStarts);
    expect(span).toBeGreaterThanOrEqual(Math.floor((RATE_JOBS - 1) / RATE_LIMIT) * RATE_PER_MS - 250);

    const flow = new FlowStore(documentClient, jobsTable);
    for (let t = 0; t < TENANTS; t++) expect((await flow.slots(tenantJob.name, `tenant-${t}`)).holders).toEqual([]);

    const waits = pollers.reduce((sum, poller) => sum + poller.stats().received, 0) - jobs.length;
    console.log(
      `flow-limits: ${jobs.length} jobs, ${waits} waits (receives beyond one per job), overlaps per tenant ${JSON.stringify(overlaps)}, ` +
        `rate starts span ${span} ms`,
    );
  }, 200_000);
});

describe('flow limits on the deployed stack', () => {
  it('the deployed worker runs a job type with limits (every job once, attempt 1); `jobstack flow` shows the key with no slot held', async () => {
    const jobs = await connectTestClient();
    const tenant = uniqueName('tenant');
    const handles = await Promise.all([0, 1, 2].map(() => jobs.enqueue('demo.tenant-report', { tenant, ms: 200 })));
    const records = await Promise.all(handles.map((handle) => jobs.wait(handle, { timeout: '90s' })));
    expect(records.map((record) => [record.state, record.attempts])).toEqual(handles.map(() => ['succeeded', 1]));

    const shown = await runCli(['flow', 'demo.tenant-report', '--key', tenant, '--json']);
    expect(shown.code).toBe(0);
    const state = parseCliJson('flow-state', shown.stdout);
    expect(state).toMatchObject({ jobType: 'demo.tenant-report', key: tenant, concurrency: { limit: 2, holders: [] } });
    expect(state.rateLimit).toMatchObject({ limit: 20, perMs: 10_000 });
    // Starts older than the window have left it; none can be newer than the last job's start.
    expect(state.rateLimit?.startsInWindow.length).toBeLessThanOrEqual(3);

    const text = await runCli(['flow', 'demo.tenant-report', '--key', tenant]);
    expect(text.stdout).toContain('concurrency: 0 of 2 slots held');
    const noKey = await runCli(['flow', 'demo.tenant-report']);
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toContain("job type 'demo.tenant-report' has flow control per key: give the key to read");
  }, 150_000);
});
