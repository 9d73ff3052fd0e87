import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@aws-lambda-powertools/logger';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSqsPoller, startSqsPoller } from '../../cli/dev/sqs-poller.js';
import { ordered, type Registry, registry } from '../../functions/jobs/contracts.js';
import { createRecordProcessor } from '../../functions/worker/process-record.js';
import {
  createAwsClients,
  createJobClient,
  defineRegistry,
  IdempotencyStore,
  implementJob,
  type JobClient,
  JobQueue,
  JobStore,
  localConnection,
} from '../../shared/index.js';
import { connectTestClient, testEndpoint, uniqueName } from './helpers.js';

// Ordering per key, proven two ways. In-process: several pollers (an event source mapping each, see
// cli/dev/sqs-poller.ts) run the real record processor and JobStore against a FIFO queue of this
// test's own on the emulator and the deployed job table, recording when every job of demo.ordered starts
// and ends. Deployed: the stack's own FIFO queue `ordered` and its worker (processFifoBatch), for the
// strict hold-back of a dying job and redrive from the FIFO dead-letter queue.

interface Run {
  readonly key: string;
  readonly seq: number;
  readonly attempt: number;
  readonly start: number;
  end?: number;
  failed?: boolean;
}

const runs: Run[] = [];
const handlers = defineRegistry(
  implementJob(ordered, async ({ key, seq, sleepMs, failTimes }, { attempt }) => {
    const run: Run = { key, seq, attempt, start: Date.now() };
    runs.push(run);
    await sleep(sleepMs);
    run.end = Date.now();
    if (attempt <= failTimes) {
      run.failed = true;
      throw new Error(`${key}#${seq} failing on purpose (attempt ${attempt})`);
    }
    return { key, seq, attempt };
  }),
);

const aws = () => localConnection(testEndpoint());
let deployed: JobClient<Registry>;
let jobs: JobClient<Registry>;
let poller: RunningSqsPoller;
const queues: string[] = [];

beforeAll(async () => {
  deployed = await connectTestClient();
  const clients = createAwsClients(aws());
  // A FIFO queue like the construct's (content-based deduplication for Scheduler's sends), only this test's.
  const create = async (name: string, attributes: Record<string, string>) => {
    const output = await clients.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    queues.push(output.QueueUrl as string);
    return output.QueueUrl as string;
  };
  const base = uniqueName('ordering');
  const deadLetterUrl = await create(`${base}-dlq.fifo`, { FifoQueue: 'true' });
  const url = await create(`${base}.fifo`, { FifoQueue: 'true', ContentBasedDeduplication: 'true', VisibilityTimeout: '30' });
  const arn = (await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes
    ?.QueueArn as string;
  const config = { ...deployed.config, queues: { ...deployed.config.queues, ordered: { url, deadLetterUrl, arn } } };
  // Delays of a few seconds, so the scheduler route is visible within the test.
  jobs = createJobClient({ registry, config, clients, schedulerThreshold: '0s' });
  const store = new JobStore(clients.documentClient, config.jobsTable);
  const processRecord = createRecordProcessor({
    registry: handlers,
    store,
    queue: new JobQueue(clients.sqs, url, deadLetterUrl),
    queueName: 'ordered',
    idempotency: new IdempotencyStore(clients.documentClient, config.idempotencyTable),
    logger: new Logger({ logLevel: 'SILENT' }),
  });
  poller = startSqsPoller({ sqs: clients.sqs, queueUrl: url, processRecord, concurrency: 4, batchSize: 3 });
});

afterAll(async () => {
  await poller?.stop();
  const clients = createAwsClients(aws());
  for (const url of queues) await clients.sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
});

/** The successful runs of `key`, by seq. */
function finished(key: string): Run[] {
  return runs.filter((run) => run.key === key && !run.failed).sort((a, b) => a.seq - b.seq);
}

describe('ordering per key (in-process workers on a FIFO queue)', () => {
  it('runs the jobs of one key in enqueue order, never two at once, while different keys overlap', async () => {
    const prefix = uniqueName('k');
    const keys = [0, 1, 2, 3].map((index) => `${prefix}-${index}`);
    const ids: string[] = [];
    // Interleaved: k0#0, k1#0, k2#0, k3#0, k0#1, ...
    for (let seq = 0; seq < 4; seq++) {
      for (const key of keys) ids.push((await jobs.enqueue('demo.ordered', { key, seq, sleepMs: 250 })).jobId);
    }
    const records = await Promise.all(ids.map((id) => jobs.wait(id, { timeout: '90s' })));
    expect(records.every((record) => record.state === 'succeeded')).toBe(true);
    expect(records.every((record) => record.orderingKey?.startsWith(prefix))).toBe(true);

    for (const key of keys) {
      const ofKey = runs.filter((run) => run.key === key).sort((a, b) => a.start - b.start);
      expect(ofKey.map((run) => run.seq)).toEqual([0, 1, 2, 3]);
      for (let i = 1; i < ofKey.length; i++) {
        expect(ofKey[i]?.start).toBeGreaterThanOrEqual(ofKey[i - 1]?.end ?? Number.POSITIVE_INFINITY);
      }
    }
    const all = runs.filter((run) => run.key.startsWith(prefix));
    const overlapping = all.some((a) => all.some((b) => a.key !== b.key && a.start < (b.end ?? 0) && b.start < (a.end ?? 0)));
    expect(overlapping).toBe(true);
  });

  it("holds back a key's later jobs while an earlier one fails and retries; other keys go on", async () => {
    const key = uniqueName('hold');
    const other = uniqueName('free');
    const first = await jobs.enqueue('demo.ordered', { key, seq: 0, sleepMs: 400, failTimes: 2 });
    const later = [1, 2];
    const laterIds: string[] = [];
    for (const seq of later) laterIds.push((await jobs.enqueue('demo.ordered', { key, seq, sleepMs: 50 })).jobId);
    const free = await jobs.enqueue('demo.ordered', { key: other, seq: 0, sleepMs: 50 });

    const firstRecord = await jobs.wait(first, { timeout: '90s' });
    await Promise.all(laterIds.map((id) => jobs.wait(id, { timeout: '90s' })));
    expect(firstRecord).toMatchObject({ state: 'succeeded', attempts: 3 });
    const ofKey = runs.filter((run) => run.key === key).sort((a, b) => a.start - b.start);
    // Three attempts of seq 0 (two failed), and only then seq 1 and 2.
    expect(ofKey.map((run) => [run.seq, run.attempt])).toEqual([
      [0, 1],
      [0, 2],
      [0, 3],
      [1, 1],
      [2, 1],
    ]);
    const firstSuccess = finished(key)[0];
    expect(finished(key)[1]?.start).toBeGreaterThanOrEqual(firstSuccess?.end ?? Number.POSITIVE_INFINITY);
    // The other key was not held back by the failing one: it started before seq 0 of the held key succeeded.
    expect((await jobs.wait(free, { timeout: '30s' })).state).toBe('succeeded');
    expect(finished(other)[0]?.start).toBeLessThan(firstSuccess?.start ?? 0);
  });

  it('sends a delayed ordered job through a one-time schedule into its group, and runs it after its delay', async () => {
    const key = uniqueName('delay');
    const enqueuedAt = Date.now();
    const delayed = await jobs.enqueue('demo.ordered', { key, seq: 0, sleepMs: 0 }, { delay: '3s' });
    expect(delayed.state).toBe('scheduled');
    const record = await jobs.wait(delayed, { timeout: '60s' });
    expect(record).toMatchObject({ state: 'succeeded', orderingKey: key, result: { key, seq: 0 } });
    expect(finished(key)[0]?.start).toBeGreaterThanOrEqual(enqueuedAt + 3_000 - 1_000);
  });
});

describe('ordering per key (the deployed worker and its FIFO queue)', () => {
  it('holds back the next job of a key until the failing one dies; redrive from the FIFO dead-letter queue runs it', async () => {
    const key = uniqueName('redrive');
    // demo.ordered has 3 attempts: failTimes 3 dies; after a redrive its 4th attempt succeeds.
    const dying = await deployed.enqueue('demo.ordered', { key, seq: 0, failTimes: 3 });
    const next = await deployed.enqueue('demo.ordered', { key, seq: 1 });

    const dead = await deployed.wait(dying, { timeout: '120s' });
    expect(dead).toMatchObject({ state: 'dead', attempts: 3, orderingKey: key });
    const nextRecord = await deployed.wait(next, { timeout: '60s' });
    expect(nextRecord.state).toBe('succeeded');
    expect(Date.parse(nextRecord.startedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(dead.finishedAt ?? dead.updatedAt));

    let moved = 0;
    for (let round = 0; round < 20 && moved === 0; round++) {
      // The dead-letter copy may land a moment after the record says dead.
      moved = (await deployed.redrive({ queue: 'ordered' })).moved;
      if (moved === 0) await sleep(500);
    }
    expect(moved).toBeGreaterThanOrEqual(1);
    const redriven = await deployed.wait(dying, { timeout: '60s' });
    expect(redriven).toMatchObject({ state: 'succeeded', attempts: 4, result: { key, seq: 0, attempt: 4 } });
    expect(redriven.history?.[0]).toMatchObject({ reason: 'redrive', state: 'dead', attempts: 3 });
  });
});
