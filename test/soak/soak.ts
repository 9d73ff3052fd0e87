import { CloudFormationClient, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { BatchGetCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Registry } from '../../functions/jobs/registry.js';
import {
  type AwsConnection,
  ENVELOPE_VERSION,
  type JobClient,
  type JobState,
  newJobId,
  serializeEnvelope,
} from '../../shared/index.js';

/** What the soak injects, per job. */
export type Fault =
  | 'none'
  | 'transient-failures'
  | 'exhausted-retries'
  | 'non-retryable'
  | 'duplicate-delivery'
  | 'crashed-run'
  | 'lost-send'
  | 'cancelled-before-start'
  | 'poison-payload';

export interface SoakOptions {
  readonly jobs: JobClient<Registry>;
  readonly aws: AwsConnection;
  readonly count: number;
  readonly seed?: number;
  readonly timeoutMs?: number;
  readonly log?: (line: string) => void;
}

export interface SoakReport {
  readonly enqueued: number;
  readonly faults: Readonly<Record<Fault, number>>;
  readonly outcome: Readonly<Record<'succeeded' | 'dead' | 'cancelled' | 'unfinished' | 'missing', number>>;
  /** Jobs whose final state differs from what their fault implies. */
  readonly wrongOutcome: { jobId: string; fault: Fault; expected: JobState; actual: string }[];
  /** demo.effect side effects that ran more than once. */
  readonly duplicatedEffects: number;
  /** demo.effect jobs that succeeded without their side effect. */
  readonly missingEffects: number;
  readonly elapsedMs: number;
}

interface PlannedJob {
  readonly jobId: string;
  readonly fault: Fault;
  readonly expected: JobState;
  readonly effectKey?: string;
}

/**
 * Drives N jobs of mixed demo types through the deployed stack while injecting
 * the faults a job system meets in production, then checks that every job ended
 * where its fault says it must and that no side effect ran twice:
 * - transient failures (retried with backoff) and exhausted retries (dead);
 * - non-retryable errors and poison payloads (dead without retries);
 * - duplicate deliveries of the same message (SQS is at-least-once);
 * - a run that crashed mid-job (record left `running` with an expired lease, message redelivered);
 * - an enqueue whose send was lost after the record was written (rescued by the sweeper);
 * - cancellation before the job started.
 */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const started = Date.now();
  const random = mulberry32(options.seed ?? 42);
  const log = options.log ?? (() => undefined);
  const { jobs } = options;
  const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient(options.aws), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const sqs = new SQSClient(options.aws);
  const queueUrl = jobs.config.queues.default?.url;
  if (!queueUrl) throw new Error('the stack has no default queue');
  const runId = `soak-${Date.now().toString(36)}`;
  const planned: PlannedJob[] = [];
  const faults = Object.fromEntries(FAULTS.map((fault) => [fault, 0])) as Record<Fault, number>;

  for (let i = 0; i < options.count; i++) {
    const fault = pickFault(random());
    faults[fault]++;
    planned.push(await inject(fault, i));
  }
  log(`soak: enqueued ${planned.length} jobs with faults ${JSON.stringify(faults)}`);

  const sweeper = await sweeperFunction(options.aws, jobs.config.stackName);
  const lambda = new LambdaClient(options.aws);
  const deadline = started + (options.timeoutMs ?? 600_000);
  let states = new Map<string, string>();
  for (let round = 0; ; round++) {
    states = await readStates(planned.map((job) => job.jobId));
    const unfinished = planned.filter((job) => !['succeeded', 'dead', 'cancelled'].includes(states.get(job.jobId) ?? ''));
    if (unfinished.length === 0 || Date.now() > deadline) break;
    if (round % 5 === 4) await lambda.send(new InvokeCommand({ FunctionName: sweeper }));
    log(`soak: ${planned.length - unfinished.length}/${planned.length} settled`);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }

  const outcome = { succeeded: 0, dead: 0, cancelled: 0, unfinished: 0, missing: 0 };
  const wrongOutcome: SoakReport['wrongOutcome'] = [];
  for (const job of planned) {
    const state = states.get(job.jobId);
    if (state === undefined) outcome.missing++;
    else if (state === 'succeeded' || state === 'dead' || state === 'cancelled') outcome[state]++;
    else outcome.unfinished++;
    if (state !== job.expected)
      wrongOutcome.push({ jobId: job.jobId, fault: job.fault, expected: job.expected, actual: state ?? 'missing' });
  }
  const effects = planned.filter((job) => job.effectKey !== undefined && job.expected === 'succeeded');
  const counts = await ledgerCounts(effects.map((job) => job.effectKey as string));
  const duplicatedEffects = effects.filter((job) => (counts.get(job.effectKey as string) ?? 0) > 1).length;
  const missingEffects = effects.filter((job) => (counts.get(job.effectKey as string) ?? 0) < 1).length;
  return {
    enqueued: planned.length,
    faults,
    outcome,
    wrongOutcome,
    duplicatedEffects,
    missingEffects,
    elapsedMs: Date.now() - started,
  };

  async function inject(fault: Fault, index: number): Promise<PlannedJob> {
    const effectKey = `${runId}-${index}`;
    switch (fault) {
      case 'none':
        return { jobId: (await jobs.enqueue('demo.effect', { key: effectKey })).jobId, fault, expected: 'succeeded', effectKey };
      case 'transient-failures':
        return {
          jobId: (await jobs.enqueue('demo.flaky', { failTimes: 1 + Math.floor(random() * 2) })).jobId,
          fault,
          expected: 'succeeded',
        };
      case 'exhausted-retries':
        return { jobId: (await jobs.enqueue('demo.flaky', { failTimes: 3 })).jobId, fault, expected: 'dead' };
      case 'non-retryable':
        return { jobId: (await jobs.enqueue('demo.fatal', {})).jobId, fault, expected: 'dead' };
      case 'duplicate-delivery': {
        const { jobId } = await jobs.enqueue('demo.effect', { key: effectKey });
        await sendRaw(jobId, 'demo.effect', { key: effectKey });
        await sendRaw(jobId, 'demo.effect', { key: effectKey });
        return { jobId, fault, expected: 'succeeded', effectKey };
      }
      case 'crashed-run': {
        // What a run killed mid-job leaves: the record `running` with an expired lease; SQS then redelivers the message.
        const jobId = newJobId();
        await putRecord(
          jobId,
          'demo.effect',
          { key: effectKey },
          { state: 'running', attempts: 1, leaseUntil: Date.now() - 1_000 },
        );
        await sendRaw(jobId, 'demo.effect', { key: effectKey });
        return { jobId, fault, expected: 'succeeded', effectKey };
      }
      case 'lost-send': {
        // A client that wrote the record and died before sending: only the sweeper can notice.
        const jobId = newJobId();
        const longAgo = new Date(Date.now() - 3_600_000).toISOString();
        await putRecord(
          jobId,
          'demo.effect',
          { key: effectKey },
          { state: 'queued', attempts: 0, createdAt: longAgo, updatedAt: longAgo },
        );
        return { jobId, fault, expected: 'succeeded', effectKey };
      }
      case 'cancelled-before-start': {
        const { jobId } = await jobs.enqueue('demo.effect', { key: effectKey }, { delay: '10s' });
        await jobs.cancel(jobId);
        return { jobId, fault, expected: 'cancelled' };
      }
      case 'poison-payload': {
        const jobId = newJobId();
        await sendRaw(jobId, 'demo.sleep', { ms: 'not a number' });
        return { jobId, fault, expected: 'dead' };
      }
    }
  }

  async function sendRaw(jobId: string, type: string, payload: unknown): Promise<void> {
    const body = serializeEnvelope({ v: ENVELOPE_VERSION, id: jobId, type, payload, enqueuedAt: new Date().toISOString() });
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
  }

  async function putRecord(jobId: string, type: string, payload: unknown, fields: Record<string, unknown>): Promise<void> {
    const now = new Date().toISOString();
    await documentClient.send(
      new PutCommand({
        TableName: jobs.config.jobsTable,
        Item: {
          id: jobId,
          type,
          queue: 'default',
          maxAttempts: 3,
          payload,
          correlationId: jobId,
          createdAt: now,
          updatedAt: now,
          ...fields,
        },
      }),
    );
  }

  async function readStates(ids: readonly string[]): Promise<Map<string, string>> {
    const records = await jobs.getMany(ids);
    return new Map(records.map((record) => [record.id, record.state]));
  }

  async function ledgerCounts(keys: readonly string[]): Promise<Map<string, number>> {
    const table = jobs.config.demoLedgerTable;
    const counts = new Map<string, number>();
    if (!table) throw new Error('the stack has no demo ledger table');
    for (let start = 0; start < keys.length; start += 100) {
      let request: Record<string, unknown>[] = keys.slice(start, start + 100).map((key) => ({ key }));
      while (request.length > 0) {
        const output = await documentClient.send(
          new BatchGetCommand({ RequestItems: { [table]: { Keys: request, ConsistentRead: true } } }),
        );
        for (const item of output.Responses?.[table] ?? []) counts.set(String(item.key), Number(item.count ?? 0));
        request = (output.UnprocessedKeys?.[table]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return counts;
  }
}

const FAULTS: readonly Fault[] = [
  'none',
  'transient-failures',
  'exhausted-retries',
  'non-retryable',
  'duplicate-delivery',
  'crashed-run',
  'lost-send',
  'cancelled-before-start',
  'poison-payload',
];

/** The mix: mostly healthy jobs, every fault present in a run of a few dozen. */
function pickFault(roll: number): Fault {
  const weights: [Fault, number][] = [
    ['none', 0.3],
    ['transient-failures', 0.15],
    ['exhausted-retries', 0.05],
    ['non-retryable', 0.05],
    ['duplicate-delivery', 0.15],
    ['crashed-run', 0.1],
    ['lost-send', 0.08],
    ['cancelled-before-start', 0.07],
    ['poison-payload', 0.05],
  ];
  let acc = 0;
  for (const [fault, weight] of weights) {
    acc += weight;
    if (roll < acc) return fault;
  }
  return 'none';
}

async function sweeperFunction(aws: AwsConnection, stackName: string): Promise<string> {
  const output = await new CloudFormationClient(aws).send(new ListStackResourcesCommand({ StackName: stackName }));
  const sweeper = (output.StackResourceSummaries ?? []).find(
    (resource) => resource.ResourceType === 'AWS::Lambda::Function' && resource.LogicalResourceId?.startsWith('JobSystemSweeper'),
  );
  if (!sweeper?.PhysicalResourceId) throw new Error(`stack '${stackName}' has no sweeper function`);
  return sweeper.PhysicalResourceId;
}

/** A small seeded PRNG so a soak run can be repeated exactly. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
