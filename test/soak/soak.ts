import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Registry } from '../../functions/jobs/contracts.js';
import { DEMO_LEDGER_OUTPUT } from '../../infra/jobstack-stack.js';
import {
  type AwsConnection,
  controlItemId,
  ENVELOPE_VERSION,
  FlowStore,
  type JobClient,
  type JobState,
  newJobId,
  serializeEnvelope,
} from '../../shared/index.js';
import { overrideSweeperEnvironment, pauseWorkers, stackFunctions, stackOutput } from './stack-controls.js';

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
  | 'poison-payload'
  | 'crash-inside-once'
  | 'crash-after-once'
  | 'control-characters'
  | 'large-numbers'
  | 'tenant-limited'
  | 'crash-holding-slot';

export interface SoakOptions {
  readonly jobs: JobClient<Registry>;
  readonly aws: AwsConnection;
  readonly count: number;
  readonly seed?: number;
  readonly timeoutMs?: number;
  readonly log?: (line: string) => void;
  /**
   * Enqueue everything while the workers are paused and hold the backlog this
   * long, sweeping with thresholds of a second, before resuming them: a backlog
   * older than every sweeper threshold must kill, re-send and delay nothing.
   * @default 0 (no backlog phase)
   */
  readonly backlogMs?: number;
}

/** What the sweeper did while the backlog was held: every figure must be 0. */
export interface BacklogReport {
  readonly heldMs: number;
  readonly sweeps: number;
  /** Jobs the sweeper re-sent although their message was waiting in the queue. */
  readonly resent: number;
  /** Jobs that ended (dead or otherwise) while no worker ran. */
  readonly ended: number;
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
  /** Dead jobs whose dead-letter copy was never confirmed (`deadLetterPending` left set). */
  readonly deadWithoutCopy: number;
  readonly backlog?: BacklogReport;
  readonly flow: FlowReport;
  readonly elapsedMs: number;
}

/**
 * The flow-control mix's own checks (demo.tenant-report: at most 2 running and
 * 20 starts per 10 s per tenant, one tenant noisy): waiting on a limit must cost
 * no attempt and kill nothing, and no slot may outlive its job.
 */
export interface FlowReport {
  /** Limited jobs that needed more than one attempt although nothing failed them: a wait used up an attempt. */
  readonly extraAttempts: number;
  /** Slots still live after every job settled: a leak (the counter must be back to zero). */
  readonly liveSlots: number;
  /** Holder entries of jobs that finished normally: a release that never happened (a crash's entry may stay, expired). */
  readonly unreleased: string[];
}

interface PlannedJob {
  readonly jobId: string;
  readonly fault: Fault;
  readonly expected: JobState;
  readonly effectKey?: string;
  /** How many times the side effect must have run: 1 for a job that succeeds, 0 where a crash hid the outcome. @default 1 when expected succeeded */
  readonly effectRuns?: number;
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
 * - cancellation before the job started;
 * - a flow-control mix: jobs limited per tenant (one tenant noisy) and runs
 *   that crashed while holding a tenant's slot; none may die or use an attempt
 *   because of a limit, and no slot may stay held.
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
  const flowStore = new FlowStore(documentClient, jobs.config.jobsTable);
  const tenants = new Set<string>();
  const limited: string[] = [];
  const crashedHolders = new Set<string>();
  const faults = Object.fromEntries(FAULTS.map((fault) => [fault, 0])) as Record<Fault, number>;

  const [sweeper] = await stackFunctions(options.aws, jobs.config.stackName, 'JobSystemSweeper');
  const ledgerTable = await stackOutput(options.aws, jobs.config.stackName, DEMO_LEDGER_OUTPUT);
  const lambda = new LambdaClient(options.aws);
  const runSweeper = async () => {
    await lambda.send(new InvokeCommand({ FunctionName: sweeper }));
  };
  const backlogMs = options.backlogMs ?? 0;
  const undo: (() => Promise<void>)[] = [];
  let backlog: BacklogReport | undefined;
  let states = new Map<string, string>();
  try {
    if (backlogMs > 0) {
      // Thresholds of a second: every job in the backlog is "stale" many times over while it waits.
      undo.push(await overrideSweeperEnvironment(options.aws, jobs.config.stackName, FAST_SWEEPER));
      undo.push(await pauseWorkers(options.aws, jobs.config.stackName));
    }
    for (let i = 0; i < options.count; i++) {
      const fault = pickFault(random());
      faults[fault]++;
      planned.push(await inject(fault, i));
    }
    log(`soak: enqueued ${planned.length} jobs with faults ${JSON.stringify(faults)}`);

    if (backlogMs > 0) {
      backlog = await holdBacklog(backlogMs);
      log(
        `soak: backlog held ${backlog.heldMs} ms over ${backlog.sweeps} sweeps: ${backlog.resent} re-sent, ${backlog.ended} ended`,
      );
      await (undo.pop() as () => Promise<void>)(); // resume the workers; the fast sweeper stays for the drain
    }

    const deadline = started + (options.timeoutMs ?? 600_000);
    for (let round = 0; ; round++) {
      states = await readStates(planned.map((job) => job.jobId));
      const unfinished = planned.filter((job) => !['succeeded', 'dead', 'cancelled'].includes(states.get(job.jobId) ?? ''));
      if (unfinished.length === 0 || Date.now() > deadline) break;
      if (round % 5 === 4) await runSweeper();
      log(`soak: ${planned.length - unfinished.length}/${planned.length} settled`);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
  } finally {
    for (const step of undo.reverse()) await step();
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
  const effects = planned.filter(
    (job) => job.effectKey !== undefined && (job.effectRuns !== undefined || job.expected === 'succeeded'),
  );
  const counts = await ledgerCounts(effects.map((job) => job.effectKey as string));
  const runs = (job: PlannedJob) => counts.get(job.effectKey as string) ?? 0;
  const duplicatedEffects = effects.filter((job) => runs(job) > (job.effectRuns ?? 1)).length;
  const missingEffects = effects.filter((job) => runs(job) < (job.effectRuns ?? 1)).length;
  const deadRecords = await jobs.getMany(planned.filter((job) => states.get(job.jobId) === 'dead').map((job) => job.jobId));
  const deadWithoutCopy = deadRecords.filter((record) => record.deadLetterPending === true).length;
  const flow = await checkFlow();
  return {
    enqueued: planned.length,
    faults,
    outcome,
    wrongOutcome,
    duplicatedEffects,
    missingEffects,
    deadWithoutCopy,
    ...(backlog === undefined ? {} : { backlog }),
    flow,
    elapsedMs: Date.now() - started,
  };

  /**
   * With the workers paused, sweeps every couple of seconds for `holdMs`. Every
   * job's message is in the queue, so the only right thing for the sweeper to do
   * is nothing: a re-send would duplicate, a kill would lose a healthy job.
   */
  async function holdBacklog(holdMs: number): Promise<BacklogReport> {
    const holdStarted = Date.now();
    const before = await readStates(planned.map((job) => job.jobId));
    let sweeps = 0;
    while (Date.now() - holdStarted < holdMs) {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      await runSweeper();
      sweeps++;
    }
    const records = await jobs.getMany(planned.map((job) => job.jobId));
    return {
      heldMs: Date.now() - holdStarted,
      sweeps,
      resent: records.filter((record) => (record.sweeps ?? 0) > 0).length,
      ended: records.filter((record) => record.state !== before.get(record.id)).length,
    };
  }

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
      case 'crash-inside-once': {
        // A run killed inside its ctx.once step: the step's marker is in progress and nobody knows
        // whether the side effect happened. The default is to end the job for a person to resolve,
        // never to run the step again.
        const jobId = newJobId();
        await putRecord(jobId, 'demo.once', { key: effectKey, failTimes: 0 }, crashedRun());
        await putStepMarker(jobId, 'ledger-increment', { status: 'in_progress', attempt: 1 });
        await sendRaw(jobId, 'demo.once', { key: effectKey, failTimes: 0 });
        return { jobId, fault, expected: 'dead', effectKey, effectRuns: 0 };
      }
      case 'crash-after-once': {
        // A run killed after its ctx.once step completed: the retry takes the stored result and
        // the side effect (done here, as the crashed run did it) stays at one.
        const jobId = newJobId();
        await putRecord(jobId, 'demo.once', { key: effectKey, failTimes: 0 }, crashedRun());
        await incrementLedger(effectKey);
        await putStepMarker(jobId, 'ledger-increment', {
          status: 'completed',
          attempt: 1,
          resultJson: JSON.stringify({ count: 1 }),
        });
        await sendRaw(jobId, 'demo.once', { key: effectKey, failTimes: 0 });
        return { jobId, fault, expected: 'succeeded', effectKey };
      }
      case 'control-characters': {
        // SQS refuses most control characters in message attributes; the dead-letter copy carries the message.
        const message = `refused \u0000 with \u0001\u0007\u001b[31m control characters \uFFFF\uFFFE`;
        return { jobId: (await jobs.enqueue('demo.fatal', { message })).jobId, fault, expected: 'dead' };
      }
      case 'large-numbers':
        return {
          jobId: (await jobs.enqueue('demo.large-numbers', { key: effectKey })).jobId,
          fault,
          expected: 'succeeded',
          effectKey,
        };
      case 'tenant-limited': {
        // Most limited jobs belong to one noisy tenant, so its limits are hit again and again.
        const tenant = random() < 0.7 ? NOISY_TENANT : (QUIET_TENANTS[Math.floor(random() * QUIET_TENANTS.length)] as string);
        tenants.add(tenant);
        const { jobId } = await jobs.enqueue(LIMITED_TYPE, { tenant, ms: 100 + Math.floor(random() * 300) });
        limited.push(jobId);
        return { jobId, fault, expected: 'succeeded' };
      }
      case 'crash-holding-slot': {
        // A run killed while holding one of the noisy tenant's two slots: its record and its slot both
        // carry a lease a few seconds out. Until then the slot counts; after, it must free itself.
        const jobId = newJobId();
        const payload = { tenant: NOISY_TENANT, ms: 100 };
        const leaseUntil = Date.now() + 3_000;
        tenants.add(NOISY_TENANT);
        crashedHolders.add(jobId);
        await putRecord(jobId, LIMITED_TYPE, payload, { state: 'running', attempts: 1, leaseUntil });
        await flowStore.acquireSlot({ jobType: LIMITED_TYPE, key: NOISY_TENANT, jobId, limit: 1_000, leaseUntil });
        await sendRaw(jobId, LIMITED_TYPE, payload);
        return { jobId, fault, expected: 'succeeded' };
      }
    }
  }

  /** Reads every tenant's slot item once all jobs settled. */
  async function checkFlow(): Promise<FlowReport> {
    const records = await jobs.getMany(limited);
    const extraAttempts = records.filter((record) => record.state === 'succeeded' && record.attempts > 1).length;
    let liveSlots = 0;
    const unreleased: string[] = [];
    const now = Date.now();
    for (const tenant of tenants) {
      const output = await documentClient.send(
        new GetCommand({
          TableName: jobs.config.jobsTable,
          Key: { id: controlItemId('concurrency', LIMITED_TYPE, tenant) },
          ConsistentRead: true,
        }),
      );
      const holders = (output.Item?.holders ?? {}) as Record<string, number>;
      for (const [jobId, leaseUntil] of Object.entries(holders)) {
        if (leaseUntil > now) liveSlots++;
        if (!crashedHolders.has(jobId)) unreleased.push(jobId);
      }
    }
    return { extraAttempts, liveSlots, unreleased };
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

  /** What a run killed mid-attempt leaves: `running`, attempt 1, its lease already expired. */
  function crashedRun(): Record<string, unknown> {
    return { state: 'running', attempts: 1, leaseUntil: Date.now() - 1_000 };
  }

  async function putStepMarker(jobId: string, step: string, fields: Record<string, unknown>): Promise<void> {
    await documentClient.send(
      new PutCommand({
        TableName: jobs.config.idempotencyTable,
        Item: { id: `step#${jobId}#${step}`, expiresAt: Math.floor(Date.now() / 1_000) + 86_400, ...fields },
      }),
    );
  }

  async function incrementLedger(key: string): Promise<void> {
    await documentClient.send(
      new UpdateCommand({
        TableName: ledgerTable,
        Key: { key },
        UpdateExpression: 'ADD #count :one',
        ExpressionAttributeNames: { '#count': 'count' },
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
  }

  async function readStates(ids: readonly string[]): Promise<Map<string, string>> {
    const records = await jobs.getMany(ids);
    return new Map(records.map((record) => [record.id, record.state]));
  }

  async function ledgerCounts(keys: readonly string[]): Promise<Map<string, number>> {
    const table = ledgerTable;
    const counts = new Map<string, number>();
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
  'crash-inside-once',
  'crash-after-once',
  'control-characters',
  'large-numbers',
  'tenant-limited',
  'crash-holding-slot',
];

/** The flow-control mix's job type: concurrency 2 and 20 starts per 10 s, per tenant. */
const LIMITED_TYPE = 'demo.tenant-report';
const NOISY_TENANT = 'noisy';
const QUIET_TENANTS = ['quiet-a', 'quiet-b', 'quiet-c'];

/** Sweeper thresholds of a second (and counts trusted a second after a send), for the backlog phase. */
const FAST_SWEEPER: Record<string, string> = {
  JOBSTACK_SWEEP_QUEUED_MS: '1000',
  JOBSTACK_SWEEP_RUNNING_GRACE_MS: '1000',
  JOBSTACK_SWEEP_RETRYING_GRACE_MS: '1000',
  JOBSTACK_SWEEP_SCHEDULED_GRACE_MS: '1000',
  JOBSTACK_SWEEP_COUNT_SETTLE_MS: '1000',
};

/** The mix: mostly healthy jobs, every fault present in a run of a few dozen. */
function pickFault(roll: number): Fault {
  const weights: [Fault, number][] = [
    ['none', 0.14],
    ['tenant-limited', 0.1],
    ['crash-holding-slot', 0.03],
    ['transient-failures', 0.07],
    ['exhausted-retries', 0.05],
    ['non-retryable', 0.05],
    ['duplicate-delivery', 0.12],
    ['crashed-run', 0.08],
    ['lost-send', 0.07],
    ['cancelled-before-start', 0.06],
    ['poison-payload', 0.05],
    ['crash-inside-once', 0.05],
    ['crash-after-once', 0.05],
    ['control-characters', 0.04],
    ['large-numbers', 0.04],
  ];
  let acc = 0;
  for (const [fault, weight] of weights) {
    acc += weight;
    if (roll < acc) return fault;
  }
  return 'none';
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
