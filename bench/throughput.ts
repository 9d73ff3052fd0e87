/**
 * Benchmark 4: throughput on the emulator, as ratios.
 *
 * (a) enqueue: `enqueueMany` of N jobs (records + messages) vs. a raw
 *     SendMessageBatch loop of the same message bodies, on the same emulator;
 * (b) end to end: N `demo.echo` jobs through the deployed stack until all are
 *     `succeeded`, vs. a bare consumer (bench/infra/bare-consumer-stack.ts: same
 *     kind of queue and event source, a function that only acknowledges);
 * (c) enqueue→start latency p50/p99 for both (startedAt − createdAt for
 *     jobstack; receive time − SentTimestamp for the bare consumer).
 *
 * The emulator runs one Lambda invocation at a time, so the ratios are the
 * figures; absolute jobs/s say more about the emulator than about AWS. Every
 * phase stops by itself after --timeout seconds and reports what it got.
 *
 *   npx tsx bench/throughput.ts [--enqueue-jobs 10000] [--e2e-jobs 2000] [--timeout 600] [--endpoint URL] [--no-write]
 */
import { join } from 'node:path';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { BatchWriteCommand, DynamoDBDocumentClient, paginateScan } from '@aws-sdk/lib-dynamodb';
import { cdkDeployArgs, emulatorEnv, emulatorFiles, readStackOutputs, runCommand } from '../cli/local/index.js';
import { registry } from '../functions/jobs/contracts.js';
import {
  createAwsClients,
  createJobClient,
  ENVELOPE_VERSION,
  JobStore,
  type JobstackConfig,
  localConnection,
  newJobId,
  planQueues,
  serializeEnvelope,
} from '../shared/index.js';
import { BARE_CONSUMER_STACK, BareConsumerOutput } from './infra/bare-consumer-stack.js';
import { benchEndpoint, emulatorClientConfig, ensureStack } from './lib/emulator.js';
import { flag, intOption, markdownTable, num, REPO_ROOT, writeSection } from './lib/report.js';
import { quantile } from './lib/stats.js';

/** Issue 14, target 5: end-to-end jobs/s at least this share of the bare consumer's, on the emulator. */
const RATIO_TARGET = 0.5;
const WARMUP_JOBS = 20;
/** Jobs sent to the warmed-up, idle consumer to measure enqueue→start latency without a backlog. */
const IDLE_JOBS = 20;

interface E2eResult {
  readonly jobs: number;
  readonly done: number;
  readonly seconds: number;
  readonly latenciesMs: number[];
  /** Latencies of a few jobs on an idle queue and a warm consumer (after the warm-up round). */
  readonly idleLatenciesMs?: number[];
}

async function main(): Promise<void> {
  const enqueueJobs = intOption('enqueue-jobs', 'BENCH_ENQUEUE_JOBS', 10_000);
  const e2eJobs = intOption('e2e-jobs', 'BENCH_E2E_JOBS', 2_000);
  const timeoutMs = intOption('timeout', 'BENCH_TIMEOUT_SECONDS', 600) * 1_000;
  const endpoint = benchEndpoint();
  const config = await ensureStack(endpoint);
  const aws = emulatorClientConfig(endpoint);
  const sqs = new SQSClient(aws);
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient(aws));

  console.error(`throughput: (a) enqueue ${enqueueJobs} jobs, enqueueMany vs raw SendMessageBatch`);
  const enqueue = await enqueueRatio(endpoint, config, sqs, documents, enqueueJobs);

  console.error('throughput: deploying the bare consumer baseline');
  const bare = await deployBareConsumer(endpoint);

  console.error(`throughput: (b) ${e2eJobs} jobs end to end through jobstack`);
  const jobstack = await jobstackEndToEnd(endpoint, config, e2eJobs, timeoutMs);
  console.error(`throughput: (b) ${e2eJobs} messages through the bare consumer`);
  const baseline = await bareEndToEnd(sqs, documents, bare, e2eJobs, timeoutMs);

  const body = render(enqueue, jobstack, baseline);
  console.log(body);
  if (!flag('no-write')) {
    writeSection('throughput', body, `npm run bench:throughput -- --enqueue-jobs ${enqueueJobs} --e2e-jobs ${e2eJobs}`);
  }
}

function envelopeBody(i: number): string {
  return serializeEnvelope({
    v: ENVELOPE_VERSION,
    id: newJobId(),
    type: 'demo.echo',
    payload: { message: `throughput ${i}` },
    enqueuedAt: new Date().toISOString(),
  });
}

async function createQueue(sqs: SQSClient, name: string): Promise<string> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  if (!QueueUrl) throw new Error(`CreateQueue ${name} returned no URL`);
  return QueueUrl;
}

async function sendRaw(sqs: SQSClient, queueUrl: string, bodies: readonly string[]): Promise<void> {
  for (let start = 0; start < bodies.length; start += 10) {
    const output = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: bodies.slice(start, start + 10).map((body, i) => ({ Id: String(i), MessageBody: body })),
      }),
    );
    if ((output.Failed ?? []).length > 0) throw new Error(`SendMessageBatch failed ${output.Failed?.length} entries`);
  }
}

/** (a): both sides write to private queues nobody consumes; the job records are deleted afterwards. */
async function enqueueRatio(
  endpoint: string,
  config: JobstackConfig,
  sqs: SQSClient,
  documents: DynamoDBDocumentClient,
  jobs: number,
): Promise<{ jobs: number; enqueueManySeconds: number; rawSeconds: number }> {
  const suffix = Date.now().toString(36);
  const jobsQueue = await createQueue(sqs, `jobstack-bench-enqueue-${suffix}`);
  const rawQueue = await createQueue(sqs, `jobstack-bench-raw-${suffix}`);
  const queues = Object.fromEntries(
    planQueues(registry).map((plan) => [plan.name, { url: jobsQueue, deadLetterUrl: jobsQueue }]),
  );
  const client = createJobClient({
    registry,
    config: { ...config, queues },
    clients: createAwsClients(localConnection(endpoint)),
  });
  const requests = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ type: 'demo.echo' as const, payload: { message: `throughput ${i}` } }));
  const written: string[] = [];
  try {
    // Warm both paths (connections, JIT) before timing.
    written.push(...idsOf(await client.enqueueMany(requests(100))));
    await sendRaw(
      sqs,
      rawQueue,
      Array.from({ length: 100 }, (_, i) => envelopeBody(i)),
    );

    const bodies = Array.from({ length: jobs }, (_, i) => envelopeBody(i));
    let started = performance.now();
    await sendRaw(sqs, rawQueue, bodies);
    const rawSeconds = (performance.now() - started) / 1_000;

    const batch = requests(jobs);
    started = performance.now();
    const result = await client.enqueueMany(batch);
    const enqueueManySeconds = (performance.now() - started) / 1_000;
    written.push(...idsOf(result));
    if (result.failed.length > 0) throw new Error(`enqueueMany failed ${result.failed.length} jobs: ${result.failed[0]?.reason}`);
    return { jobs, enqueueManySeconds, rawSeconds };
  } finally {
    await sqs.send(new DeleteQueueCommand({ QueueUrl: jobsQueue })).catch(() => undefined);
    await sqs.send(new DeleteQueueCommand({ QueueUrl: rawQueue })).catch(() => undefined);
    // These records will never run: remove them so they do not linger as `queued` jobs.
    for (let start = 0; start < written.length; start += 25) {
      await documents.send(
        new BatchWriteCommand({
          RequestItems: {
            [config.jobsTable]: written.slice(start, start + 25).map((id) => ({ DeleteRequest: { Key: { id } } })),
          },
        }),
      );
    }
  }
}

function idsOf(result: { jobIds: (string | undefined)[] }): string[] {
  return result.jobIds.filter((id): id is string => id !== undefined);
}

async function deployBareConsumer(endpoint: string): Promise<{ queueUrl: string; tableName: string }> {
  const cloudFormation = new CloudFormationClient(emulatorClientConfig(endpoint));
  const assemblyDir = join(emulatorFiles(endpoint).dir, 'bench-cdk.out');
  await runCommand(
    join(REPO_ROOT, 'node_modules', '.bin', 'cdk'),
    cdkDeployArgs(BARE_CONSUMER_STACK, assemblyDir, ['--app', `npx tsx ${join('bench', 'infra', 'bare-consumer-app.ts')}`]),
    { cwd: REPO_ROOT, env: emulatorEnv(endpoint) },
  );
  const outputs = await readStackOutputs(cloudFormation, BARE_CONSUMER_STACK);
  const queueUrl = outputs[BareConsumerOutput.queueUrl];
  const tableName = outputs[BareConsumerOutput.tableName];
  if (!queueUrl || !tableName)
    throw new Error(`${BARE_CONSUMER_STACK} has no ${BareConsumerOutput.queueUrl}/${BareConsumerOutput.tableName} output`);
  return { queueUrl, tableName };
}

async function waitForEmptyQueue(sqs: SQSClient, queueUrl: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    const left = Object.values(Attributes).reduce((sum, value) => sum + Number(value), 0);
    if (left === 0) return;
    if (Date.now() > deadline) throw new Error(`queue ${queueUrl} still holds ${left} messages before the run`);
    await sleep(1_000);
  }
}

/** (b)+(c) for jobstack: enqueueMany, then watch the records until every one has succeeded (or time runs out). */
async function jobstackEndToEnd(endpoint: string, config: JobstackConfig, jobs: number, timeoutMs: number): Promise<E2eResult> {
  const aws = createAwsClients(localConnection(endpoint));
  const client = createJobClient({ registry, config, clients: aws });
  const store = new JobStore(DynamoDBDocumentClient.from(new DynamoDBClient(emulatorClientConfig(endpoint))), config.jobsTable);
  const queueUrl = config.queues.default?.url;
  if (!queueUrl) throw new Error(`stack ${config.stackName} has no default queue`);
  await waitForEmptyQueue(aws.sqs, queueUrl, 60_000);
  const run = async (n: number, limitMs: number): Promise<E2eResult> => {
    const started = Date.now();
    const result = await client.enqueueMany(
      Array.from({ length: n }, (_, i) => ({ type: 'demo.echo' as const, payload: { message: `e2e ${i}` } })),
    );
    const pending = new Set(idsOf(result));
    const latencies: number[] = [];
    let lastFinished = started;
    const deadline = started + limitMs;
    while (pending.size > 0 && Date.now() < deadline) {
      await sleep(1_000);
      const records = await store.getMany([...pending], { attributes: ['id', 'state', 'createdAt', 'startedAt', 'finishedAt'] });
      for (const record of records) {
        if (record.state !== 'succeeded') {
          if (record.state === 'dead' || record.state === 'cancelled') throw new Error(`job ${record.id} ended ${record.state}`);
          continue;
        }
        pending.delete(record.id);
        if (record.startedAt) latencies.push(Date.parse(record.startedAt) - Date.parse(record.createdAt));
        if (record.finishedAt) lastFinished = Math.max(lastFinished, Date.parse(record.finishedAt));
      }
    }
    return { jobs: n, done: n - pending.size, seconds: (lastFinished - started) / 1_000, latenciesMs: latencies };
  };
  await run(WARMUP_JOBS, 120_000);
  // Measured after the warm-up, so a cold start (a freshly deployed function) does not count as queue latency.
  const idle = await run(IDLE_JOBS, 120_000);
  return { ...(await run(jobs, timeoutMs)), idleLatenciesMs: idle.latenciesMs };
}

/** (b)+(c) for the bare consumer: send the same bodies raw, then count what its batches recorded. */
async function bareEndToEnd(
  sqs: SQSClient,
  documents: DynamoDBDocumentClient,
  bare: { queueUrl: string; tableName: string },
  jobs: number,
  timeoutMs: number,
): Promise<E2eResult> {
  await waitForEmptyQueue(sqs, bare.queueUrl, 60_000);
  const run = async (n: number, limitMs: number): Promise<E2eResult> => {
    const started = Date.now();
    await sendRaw(
      sqs,
      bare.queueUrl,
      Array.from({ length: n }, (_, i) => envelopeBody(i)),
    );
    const deadline = started + limitMs;
    let done = 0;
    let lastReceived = started;
    let latencies: number[] = [];
    while (done < n && Date.now() < deadline) {
      await sleep(1_000);
      done = 0;
      latencies = [];
      for await (const page of paginateScan({ client: documents }, { TableName: bare.tableName })) {
        for (const item of page.Items ?? []) {
          const receivedAt = Number(item.receivedAt);
          // Items from earlier runs (or anything else in the table) are not this run's batches.
          if (!(receivedAt >= started) || typeof item.latenciesMs !== 'string') continue;
          done += Number(item.records);
          latencies.push(...(JSON.parse(String(item.latenciesMs)) as number[]));
          lastReceived = Math.max(lastReceived, receivedAt);
        }
      }
    }
    return { jobs: n, done: Math.min(done, n), seconds: (lastReceived - started) / 1_000, latenciesMs: latencies };
  };
  await run(WARMUP_JOBS, 120_000);
  // Measured after the warm-up, so a cold start (a freshly deployed function) does not count as queue latency.
  const idle = await run(IDLE_JOBS, 120_000);
  return { ...(await run(jobs, timeoutMs)), idleLatenciesMs: idle.latenciesMs };
}

function render(
  enqueue: { jobs: number; enqueueManySeconds: number; rawSeconds: number },
  jobstack: E2eResult,
  bare: E2eResult,
): string {
  const rate = (r: E2eResult) => (r.seconds > 0 ? r.done / r.seconds : 0);
  const manyRate = enqueue.jobs / enqueue.enqueueManySeconds;
  const rawRate = enqueue.jobs / enqueue.rawSeconds;
  const ratio = rate(jobstack) / rate(bare);
  const p = (values: number[], q: number) => (values.length > 0 ? num(quantile(values, q), 0) : 'n/a');
  const idle = (r: E2eResult) => `${p(r.idleLatenciesMs ?? [], 0.5)} / ${p(r.idleLatenciesMs ?? [], 0.99)}`;
  const complete = (r: E2eResult) => (r.done === r.jobs ? `${r.done}` : `**${r.done} of ${r.jobs} (timed out)**`);
  return `
### Throughput on the emulator

MiniStack runs one Lambda invocation at a time and every service in one Python process, so absolute rates describe the
emulator on this machine; the ratios are the figures that carry over.

(a) Enqueue, ${enqueue.jobs} jobs, one caller, sequential requests:

${markdownTable(
  ['path', 'seconds', 'jobs/s', 'requests'],
  [
    ['raw SendMessageBatch loop (10 a request)', num(enqueue.rawSeconds, 1), num(rawRate, 0), 'SQS ÷ 10'],
    [
      '`enqueueMany` (BatchWriteItem 25 + SendMessageBatch 10)',
      num(enqueue.enqueueManySeconds, 1),
      num(manyRate, 0),
      'DynamoDB ÷ 25 + SQS ÷ 10',
    ],
    ['ratio enqueueMany / raw', '', num(manyRate / rawRate, 2), ''],
  ],
)}

(b) End to end and (c) enqueue→start latency (after a warm-up of ${WARMUP_JOBS} jobs each, whose figures are not
kept; the idle-queue latency is a further ${IDLE_JOBS} jobs on the warm, idle consumer; the window runs from the first
enqueue call to the last job finished):

${markdownTable(
  [
    'consumer',
    'jobs done',
    'seconds',
    'jobs/s',
    'latency p50 ms',
    'latency p99 ms',
    `idle queue (${IDLE_JOBS} jobs) p50 / p99 ms`,
  ],
  [
    [
      'jobstack (`enqueueMany`, worker, records)',
      complete(jobstack),
      num(jobstack.seconds, 1),
      num(rate(jobstack), 1),
      p(jobstack.latenciesMs, 0.5),
      p(jobstack.latenciesMs, 0.99),
      idle(jobstack),
    ],
    [
      'bare consumer (raw send, acknowledge only)',
      complete(bare),
      num(bare.seconds, 1),
      num(rate(bare), 1),
      p(bare.latenciesMs, 0.5),
      p(bare.latenciesMs, 0.99),
      idle(bare),
    ],
  ],
)}

${markdownTable(['target', 'goal', 'measured', 'verdict'], [['end-to-end jobs/s, jobstack ÷ bare consumer', `≥ ${RATIO_TARGET}`, num(ratio, 2), ratio >= RATIO_TARGET ? 'met' : '**missed**']])}
`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
