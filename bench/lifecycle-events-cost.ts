/**
 * What lifecycle events cost per job. Each job shape is the sequence of job-table stream records its
 * transitions write; the records go through the event source's real filters (evaluated by
 * bench/lib/event-filter.ts) and the ones that pass through the real publisher (`createStreamPublisher`)
 * in batches of 100, putting to the emulator's EventBridge, with every PutEvents entry counted and its
 * billed 64 KB chunks summed. Lambda compute is the publisher's measured time per batch at 256 MB.
 *
 * Billing (us-east-1 list prices): Lambda reading a DynamoDB stream pays no stream read requests
 * ("GetRecords API calls invoked by Lambda as part of DynamoDB triggers are free"), filtered-out records
 * invoke nothing, each invocation is $0.20/M plus its GB-seconds, and PutEvents is $1.00 per million
 * events, each 64 KB chunk of an entry counting as one event.
 *
 * Run: `npx tsx bench/lifecycle-events-cost.ts --endpoint http://127.0.0.1:4566 --jobs 200`.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { ensureEmulator } from '../cli/local/index.js';
import { createStreamPublisher } from '../functions/event-publisher/publish-changes.js';
import { entrySizeBytes } from '../functions/event-publisher/put-entries.js';
import { lifecycleEventFilters } from '../infra/lifecycle-events.js';
import { type LifecycleEventName, resolveLifecycleEvents } from '../shared/events/lifecycle-events.js';
import type { JobRecord, JobState } from '../shared/index.js';
import { benchEndpoint, emulatorClientConfig } from './lib/emulator.js';
import { passesFilters } from './lib/event-filter.js';
import { PRICES } from './lib/prices.js';
import { intOption, markdownTable, num, writeSection } from './lib/report.js';

/** EventBridge PutEvents, per million events (64 KB chunks). */
const EVENTS_PER_MILLION = 1;
const PUBLISHER_MEMORY_GB = 256 / 1024;
const BATCH_SIZE = 100;
const CHUNK_BYTES = 64 * 1024;

interface Shape {
  readonly name: string;
  /** The states the job's record goes through, first one written by the create. */
  readonly states: readonly JobState[];
  /** Progress updates while running (writes that keep the state). */
  readonly progressUpdates?: number;
  /** Bytes of the handler's result. */
  readonly resultBytes?: number;
}

const SHAPES: readonly Shape[] = [
  { name: 'plain (queued → running → succeeded)', states: ['queued', 'running', 'succeeded'] },
  {
    name: 'plain with 5 progress updates and a 4 KB result',
    states: ['queued', 'running', 'succeeded'],
    progressUpdates: 5,
    resultBytes: 4_096,
  },
  { name: 'retried once, then succeeded', states: ['queued', 'running', 'retrying', 'running', 'succeeded'] },
  {
    name: 'dead after 3 attempts',
    states: ['queued', 'running', 'retrying', 'running', 'retrying', 'running', 'dead'],
  },
  { name: 'cancelled while scheduled', states: ['scheduled', 'cancelled'] },
];

const OPTIONS: readonly [string, unknown][] = [
  ['terminal (lifecycleEvents: true)', true],
  ["all (include: ['started', 'retrying'])", { include: ['started', 'retrying'] }],
];

let sequence = 0;

function recordOf(before: JobRecord | undefined, after: JobRecord): DynamoDBRecord {
  sequence += 1;
  const image = (job: JobRecord) => marshall(job, { removeUndefinedValues: true }) as never;
  return {
    eventID: `bench-${sequence}`,
    eventName: before === undefined ? 'INSERT' : 'MODIFY',
    dynamodb: {
      SequenceNumber: String(sequence),
      ...(before === undefined ? {} : { OldImage: image(before) }),
      NewImage: image(after),
    },
  };
}

/** The stream records one job of `shape` writes. */
function streamOf(shape: Shape, index: number): DynamoDBRecord[] {
  const now = new Date().toISOString();
  const records: DynamoDBRecord[] = [];
  let attempts = 0;
  let previous: JobRecord | undefined;
  const write = (state: JobState, extra: Partial<JobRecord> = {}) => {
    const job = {
      id: `bench-${index}`,
      type: 'demo.echo',
      queue: 'default',
      state,
      attempts,
      maxAttempts: 3,
      createdAt: now,
      updatedAt: now,
      ...extra,
    } as JobRecord;
    records.push(recordOf(previous, job));
    previous = job;
  };
  for (const state of shape.states) {
    if (state === 'running') attempts += 1;
    const result = state === 'succeeded' && shape.resultBytes ? { text: 'r'.repeat(shape.resultBytes) } : undefined;
    const error = state === 'retrying' || state === 'dead' ? { name: 'Error', message: 'failed', retryable: true } : undefined;
    write(state, {
      ...(state === 'running' ? { startedAt: now } : {}),
      ...(state === 'succeeded' || state === 'dead' || state === 'cancelled' ? { startedAt: now, finishedAt: now } : {}),
      ...(result ? { result } : {}),
      ...(error ? { error } : {}),
    });
    if (state === 'running') for (let p = 0; p < (shape.progressUpdates ?? 0); p++) write('running', { startedAt: now });
  }
  return records;
}

async function main(): Promise<void> {
  const jobs = intOption('jobs', 'BENCH_EVENTS_JOBS', 200);
  const endpoint = benchEndpoint();
  await ensureEmulator({ endpoint, log: console.error });
  const real = new EventBridgeClient(emulatorClientConfig(endpoint));
  let entries = 0;
  let chunks = 0;
  let requests = 0;
  const client = {
    send: async (command: PutEventsCommand) => {
      requests += 1;
      for (const entry of command.input.Entries ?? []) {
        entries += 1;
        chunks += Math.max(1, Math.ceil(entrySizeBytes(entry) / CHUNK_BYTES));
      }
      return real.send(command);
    },
  } as unknown as EventBridgeClient;

  // One warm-up request: the first one pays for the client's connection set-up.
  await real.send(new PutEventsCommand({ Entries: [{ Source: 'jobstack.bench', DetailType: 'warm-up', Detail: '{}' }] }));

  const rows: (string | number)[][] = [];
  for (const [optionName, option] of OPTIONS) {
    const events = resolveLifecycleEvents(option) as readonly LifecycleEventName[];
    const filters = lifecycleEventFilters(events);
    const publish = createStreamPublisher({
      client,
      entries: { eventBusName: 'default', stack: 'bench', events: new Set(events) },
      logger: { info: () => undefined, error: (message) => console.error(message) },
    });
    for (const shape of SHAPES) {
      entries = 0;
      chunks = 0;
      requests = 0;
      const all = Array.from({ length: jobs }, (_, index) => streamOf(shape, index)).flat();
      const passing = all.filter((record) => passesFilters(record, filters));
      let busyMs = 0;
      let invocations = 0;
      for (let start = 0; start < passing.length; start += BATCH_SIZE) {
        const batch = passing.slice(start, start + BATCH_SIZE);
        const began = performance.now();
        const response = await publish({ Records: batch });
        busyMs += performance.now() - began;
        invocations += 1;
        if (response.batchItemFailures.length > 0) throw new Error(`${shape.name}: the emulator refused events`);
      }
      const recordsPerJob = all.length / jobs;
      const passingPerJob = passing.length / jobs;
      const eventsPerJob = chunks / jobs;
      const loadInvocations = invocations / jobs;
      const gbSecondsPerInvocation = invocations === 0 ? 0 : (busyMs / invocations / 1000) * PUBLISHER_MEMORY_GB;
      const computePerJob = loadInvocations * gbSecondsPerInvocation * PRICES.lambdaArmPerGbSecond;
      const atLoad =
        loadInvocations * PRICES.lambdaPerMillionInvocations + eventsPerJob * EVENTS_PER_MILLION + computePerJob * 1e6;
      // Idle: every passing record is an invocation of its own (nothing else arrives within the batching window),
      // which sends one PutEvents request of one entry.
      const gbSecondsPerRequest = requests === 0 ? 0 : (busyMs / requests / 1000) * PUBLISHER_MEMORY_GB;
      const idle =
        passingPerJob * PRICES.lambdaPerMillionInvocations +
        eventsPerJob * EVENTS_PER_MILLION +
        passingPerJob * gbSecondsPerRequest * PRICES.lambdaArmPerGbSecond * 1e6;
      rows.push([
        optionName,
        shape.name,
        num(recordsPerJob),
        num(passingPerJob),
        num(entries / jobs),
        num(eventsPerJob),
        num(invocations === 0 ? 0 : busyMs / invocations, 1),
        `$${num(atLoad, 3)}`,
        `$${num(idle, 3)}`,
      ]);
      console.error(`${optionName} / ${shape.name}: ${entries} entries, ${invocations} invocations`);
    }
  }

  const body = `### Lifecycle events: cost per job

${jobs} jobs per shape. Stream records are what the job's transitions write to the job table; the event source's
filters (the real ones, \`lifecycleEventFilters\`) decide which invoke the publisher; those run through the real
publisher in batches of ${BATCH_SIZE} against the emulator's EventBridge. Stream reads by a Lambda trigger are free;
PutEvents is $1.00 per million events (64 KB chunks); Lambda $0.20 per million invocations plus arm64 GB-seconds at
256 MB from the measured time (the emulator's PutEvents latency included). *At load* the mapping fills
batches of ${BATCH_SIZE} (one invocation per ${BATCH_SIZE} passing records, timed per batch); *idle* is the worst case,
one invocation per passing record (timed per PutEvents request).

${markdownTable(
  [
    'events',
    'job shape',
    'stream records/job',
    'records passing filters/job',
    'PutEvents entries/job',
    'billed events/job',
    'ms per batch',
    '$/M jobs at load',
    '$/M jobs idle',
  ],
  rows,
)}`;
  writeSection('lifecycle-events-cost', body, `npx tsx bench/lifecycle-events-cost.ts --jobs ${jobs}`);
  console.log(body);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
