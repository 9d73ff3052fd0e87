/**
 * Benchmark: flow control (issue 11) on the emulator — priorities and fairness.
 *
 * (a) fairness: a noisy tenant floods the demo queue `tenants` (2 concurrent batches of 10) with N jobs of W ms,
 *     then a quiet tenant enqueues Q jobs; the quiet tenant's enqueue→finish latency, with fairness
 *     (`demo.tenant`, MessageGroupId = tenant) and without (`demo.tenant-unfair`, no group);
 * (b) priorities: a backlog of N low jobs on the demo queue `ranked` (levels high 3 / low 1, maxConcurrency 5),
 *     then Q jobs enqueued with `priority: 'high'` or with none (they join the low level); their enqueue→start latency;
 * (c) what either costs at enqueue: AWS requests and DynamoDB write units per job, metered on the client.
 *
 * Fairness on the emulator is the local stand-in in cli/local/ministack-with-patches.py (a receive picks the tenant
 * with the fewest messages in flight); AWS's fair queues step in only once a tenant is detected as noisy. The
 * latencies are the emulator's; what carries over is the shape (quiet latency independent of the flood, or not).
 *
 *   npx tsx bench/flow-control.ts [--noisy-jobs 200] [--quiet-jobs 10] [--work-ms 1000] [--endpoint URL] [--no-write]
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type Registry, registry } from '../functions/jobs/contracts.js';
import { createJobClient, type JobClient, type JobRecord } from '../shared/index.js';
import { benchEndpoint, emulatorClientConfig, ensureStack } from './lib/emulator.js';
import { flag, intOption, markdownTable, num, writeSection } from './lib/report.js';
import { RequestMeter } from './lib/request-meter.js';
import { quantile } from './lib/stats.js';

const noisyJobs = intOption('noisy-jobs', 'JOBSTACK_BENCH_NOISY_JOBS', 200);
const quietJobs = intOption('quiet-jobs', 'JOBSTACK_BENCH_QUIET_JOBS', 10);
const workMs = intOption('work-ms', 'JOBSTACK_BENCH_WORK_MS', 1_000);
const endpoint = benchEndpoint();

const config = await ensureStack(endpoint);
const connection = emulatorClientConfig(endpoint);
const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient(connection), {
  marshallOptions: { removeUndefinedValues: true },
});
const sqs = new SQSClient(connection);
const clients = { documentClient, sqs, cloudFormation: undefined as never };
const jobs: JobClient<Registry> = createJobClient({ registry, config, clients });
const run = Date.now().toString(36);

const ids = (result: { jobIds: (string | undefined)[] }) => result.jobIds.filter((id): id is string => id !== undefined);
const startOf = (record: JobRecord) => Date.parse(record.startedAt ?? '');
const finishOf = (record: JobRecord) => Date.parse(record.finishedAt ?? '');
const createdOf = (record: JobRecord) => Date.parse(record.createdAt);

async function waitAll(jobIds: readonly string[], timeoutMs = 900_000): Promise<JobRecord[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const records: JobRecord[] = [];
    for (let start = 0; start < jobIds.length; start += 100)
      records.push(...(await jobs.getMany(jobIds.slice(start, start + 100))));
    if (records.filter((record) => record.state === 'succeeded').length === jobIds.length) return records;
    if (Date.now() > deadline) throw new Error(`jobs did not finish within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

async function untilOneStarted(jobIds: readonly string[]): Promise<void> {
  for (;;) {
    if ((await jobs.getMany(jobIds.slice(0, 20))).some((record) => record.startedAt !== undefined)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function enqueueInChunks<T>(
  requests: readonly T[],
  send: (chunk: readonly T[]) => Promise<{ jobIds: (string | undefined)[] }>,
) {
  const all: string[] = [];
  for (let start = 0; start < requests.length; start += 100) all.push(...ids(await send(requests.slice(start, start + 100))));
  return all;
}

interface LatencyRow {
  readonly label: string;
  readonly p50: number;
  readonly max: number;
  readonly floodSeconds: number;
}

/** (a) A noisy tenant's flood, then a quiet tenant: the quiet tenant's enqueue→finish latency. */
async function fairnessRound(type: 'demo.tenant' | 'demo.tenant-unfair', label: string): Promise<LatencyRow> {
  const noisyTenant = `${run}-${type}-noisy`;
  const quietTenant = `${run}-${type}-quiet`;
  const floodStart = Date.now();
  const noisy = await enqueueInChunks(
    Array.from({ length: noisyJobs }, (_, index) => ({ type, payload: { tenant: noisyTenant, ms: workMs, label: `${index}` } })),
    (chunk) => jobs.enqueueMany(chunk),
  );
  await untilOneStarted(noisy);
  const quiet = ids(
    await jobs.enqueueMany(
      Array.from({ length: quietJobs }, (_, index) => ({
        type,
        payload: { tenant: quietTenant, ms: workMs, label: `${index}` },
      })),
    ),
  );
  const quietRecords = await waitAll(quiet);
  const noisyRecords = await waitAll(noisy);
  const latencies = quietRecords.map((record) => finishOf(record) - createdOf(record));
  return {
    label,
    p50: quantile(latencies, 0.5),
    max: Math.max(...latencies),
    floodSeconds: (Math.max(...noisyRecords.map(finishOf)) - floodStart) / 1_000,
  };
}

/** (b) A low backlog, then jobs with `priority: 'high'` (or none): their enqueue→start latency. */
async function priorityRound(priority: 'high' | undefined, label: string): Promise<LatencyRow> {
  const floodStart = Date.now();
  const low = await enqueueInChunks(
    Array.from({ length: noisyJobs }, (_, index) => ({
      type: 'demo.ranked' as const,
      payload: { ms: workMs, label: `${run}-low-${index}` },
    })),
    (chunk) => jobs.enqueueMany(chunk),
  );
  await untilOneStarted(low);
  const urgent = ids(
    await jobs.enqueueMany(
      Array.from({ length: quietJobs }, (_, index) => ({
        type: 'demo.ranked' as const,
        payload: { ms: workMs, label: `${run}-urgent-${index}` },
        ...(priority === undefined ? {} : { options: { priority } }),
      })),
    ),
  );
  const urgentRecords = await waitAll(urgent);
  const lowRecords = await waitAll(low);
  const latencies = urgentRecords.map((record) => startOf(record) - createdOf(record));
  return {
    label,
    p50: quantile(latencies, 0.5),
    max: Math.max(...latencies),
    floodSeconds: (Math.max(...lowRecords.map(finishOf)) - floodStart) / 1_000,
  };
}

/** (c) Requests and write units of one enqueue, metered on the client (20 of each, averaged). */
async function enqueueCost(): Promise<(string | number)[][]> {
  const variants: { label: string; enqueue: () => Promise<unknown> }[] = [
    {
      label: 'no flow control (`demo.tenant-unfair`)',
      enqueue: () => metered.enqueue('demo.tenant-unfair', { tenant: 't', ms: 0 }),
    },
    { label: 'fairness key (`demo.tenant`)', enqueue: () => metered.enqueue('demo.tenant', { tenant: 't', ms: 0 }) },
    {
      label: "priority level (`demo.ranked`, `priority: 'high'`)",
      enqueue: () => metered.enqueue('demo.ranked', { ms: 0 }, { priority: 'high' }),
    },
  ];
  const meter = new RequestMeter(new DynamoDBClient(connection));
  const meteredDocument = DynamoDBDocumentClient.from(new DynamoDBClient(connection), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const meteredSqs = new SQSClient(connection);
  meter.attach(meteredDocument, 'DynamoDB');
  meter.attach(meteredSqs, 'SQS');
  const metered = createJobClient({
    registry,
    config,
    clients: { documentClient: meteredDocument, sqs: meteredSqs, cloudFormation: undefined as never },
  });
  const rows: (string | number)[][] = [];
  const samples = 20;
  for (const variant of variants) {
    meter.reset();
    for (let i = 0; i < samples; i++) await variant.enqueue();
    const sum = (pick: (charge: (typeof meter.charges)[number]) => number) =>
      meter.charges.reduce((total, charge) => total + pick(charge), 0) / samples;
    rows.push([
      variant.label,
      num(sum((charge) => charge.calls)),
      num(sum((charge) => (charge.service === 'SQS' ? charge.billedRequests : 0))),
      num(sum((charge) => charge.writeUnits + charge.indexWriteUnits)),
    ]);
  }
  return rows;
}

const fair = await fairnessRound('demo.tenant', 'with fairness (MessageGroupId = tenant)');
const unfair = await fairnessRound('demo.tenant-unfair', 'without fairness (no group)');
const withPriority = await priorityRound('high', "`priority: 'high'`");
const withoutPriority = await priorityRound(undefined, 'no priority (lowest level, behind the backlog)');
const costRows = await enqueueCost();

const latencyTable = (rows: readonly LatencyRow[], what: string) =>
  markdownTable(
    ['', `${what} p50 (s)`, `${what} max (s)`, 'backlog drained after (s)'],
    rows.map((row) => [row.label, num(row.p50 / 1_000, 1), num(row.max / 1_000, 1), num(row.floodSeconds, 1)]),
  );

const body = `
Fairness: a noisy tenant enqueues ${noisyJobs} jobs of ${workMs} ms on \`tenants\` (its event source takes 2 batches
of 10 at a time), then a quiet tenant enqueues ${quietJobs}. Latency of the quiet tenant's jobs, enqueue → finish:

${latencyTable([fair, unfair], 'quiet tenant')}

Priorities: ${noisyJobs} low jobs of ${workMs} ms on \`ranked\` (levels high 3 / low 1, maxConcurrency 5: event sources
of 3 and 2), then ${quietJobs} more, enqueued with or without \`priority: 'high'\`. Their latency, enqueue → start:

${latencyTable([withPriority, withoutPriority], 'urgent jobs')}

At enqueue (client side, ${20} enqueues each, averaged): requests and DynamoDB write units per job.

${markdownTable(['enqueue of', 'requests / job', 'SQS billed requests / job', 'write units / job'], costRows)}
`;

console.log(body);
if (!flag('no-write')) {
  writeSection('flow-control', body, 'npx tsx bench/flow-control.ts');
}
