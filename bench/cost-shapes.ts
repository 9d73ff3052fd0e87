import type { Registry } from '../functions/jobs/contracts.js';
import type { JobClient } from '../shared/index.js';

/**
 * One kind of job whose AWS cost `bench/cost.ts` measures. To add a shape when
 * a feature lands (a job with an idempotency key, a delay over 15 minutes, a
 * long job with steps), add an entry here: enqueue through the real client, and
 * say what the worker side should see.
 */
export interface CostShape {
  readonly name: string;
  /** One line for the table: what the job does. */
  readonly description: string;
  /** Enqueues `count` jobs of this shape through the real client and returns their ids. */
  enqueue(jobs: JobClient<Registry>, count: number): Promise<string[]>;
  /** The state every job of this shape ends in. */
  readonly expectedState: 'succeeded' | 'dead' | 'cancelled';
  /**
   * The job reaches its queue through a one-time EventBridge Scheduler
   * schedule: the benchmark fires it (sends the schedule's own target input to
   * the queue, as Scheduler would) instead of waiting for it.
   */
  readonly viaScheduler?: boolean;
  /** A long job: the worker starts a Step Functions execution, which the benchmark walks in-process (bench/lib/state-machine.ts). */
  readonly viaStepFunctions?: boolean;
}

/** The large-payload shape's attachment: over MAX_INLINE_PAYLOAD_BYTES (200 KB), so the client stores it in S3. */
const LARGE_ATTACHMENT_BYTES = 250_000;

async function one<T>(count: number, make: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < count; i++) out.push(await make(i));
  return out;
}

export const COST_SHAPES: readonly CostShape[] = [
  {
    name: 'plain (enqueue)',
    description: '`demo.echo`, one `enqueue` call per job',
    expectedState: 'succeeded',
    enqueue: (jobs, count) => one(count, async (i) => (await jobs.enqueue('demo.echo', { message: `bench ${i}` })).jobId),
  },
  {
    name: 'plain (enqueueMany)',
    description: '`demo.echo`, all jobs in one `enqueueMany` call',
    expectedState: 'succeeded',
    enqueue: async (jobs, count) => {
      const result = await jobs.enqueueMany(
        Array.from({ length: count }, (_, i) => ({ type: 'demo.echo' as const, payload: { message: `bench ${i}` } })),
      );
      if (result.failed.length > 0)
        throw new Error(`enqueueMany failed ${result.failed.length} jobs: ${result.failed[0]?.reason}`);
      return result.jobIds.filter((id): id is string => id !== undefined);
    },
  },
  {
    name: 'plain (lean enqueueMany)',
    description: '`demo.echo`, all jobs in one `enqueueMany(..., { lean: true })` call: no record before the claim',
    expectedState: 'succeeded',
    enqueue: async (jobs, count) => {
      const result = await jobs.enqueueMany(
        Array.from({ length: count }, (_, i) => ({ type: 'demo.echo' as const, payload: { message: `bench ${i}` } })),
        { lean: true },
      );
      if (result.failed.length > 0)
        throw new Error(`lean enqueueMany failed ${result.failed.length} jobs: ${result.failed[0]?.reason}`);
      return result.jobIds.filter((id): id is string => id !== undefined);
    },
  },
  {
    name: 'large payload (S3)',
    description: `\`demo.sleep\` (0 ms) whose payload carries a ${LARGE_ATTACHMENT_BYTES / 1_000} KB attachment, over the 200 KB inline limit: one \`enqueue\` each, the payload offloaded to the payload bucket and read back by the worker`,
    expectedState: 'succeeded',
    enqueue: (jobs, count) =>
      one(count, async () => {
        // The schema strips the attachment (zod objects drop unknown keys), so the handler's result stays small:
        // what is measured is the payload's trip through S3, not a large result written to DynamoDB.
        const payload = { ms: 0, attachment: 'x'.repeat(LARGE_ATTACHMENT_BYTES) };
        return (await jobs.enqueue('demo.sleep', payload)).jobId;
      }),
  },
  {
    name: 'with idempotency key',
    description: '`demo.echo` with an `idempotencyKey` (default window)',
    expectedState: 'succeeded',
    enqueue: (jobs, count) => {
      const run = Date.now().toString(36);
      return one(
        count,
        async (i) => (await jobs.enqueue('demo.echo', { message: `bench ${i}` }, { idempotencyKey: `bench-${run}-${i}` })).jobId,
      );
    },
  },
  {
    name: 'delayed 20 min',
    description: '`demo.echo` with `delay: 20m`: a one-time EventBridge Scheduler schedule, not SQS DelaySeconds',
    expectedState: 'succeeded',
    viaScheduler: true,
    enqueue: (jobs, count) =>
      one(count, async (i) => (await jobs.enqueue('demo.echo', { message: `bench ${i}` }, { delay: '20m' })).jobId),
  },
  {
    name: 'long job, 10 steps',
    description:
      '`demo.long` with 10 steps of 0 ms on the Standard state machine, as many steps per step Lambda call as fit its budget',
    expectedState: 'succeeded',
    viaStepFunctions: true,
    enqueue: (jobs, count) => one(count, async () => (await jobs.enqueue('demo.long', { steps: 10, stepMs: 0 })).jobId),
  },
  {
    name: 'long job, 10 steps (Express)',
    description: '`demo.long-express` (maxDuration 2m) with 10 steps of 0 ms on the Express state machine',
    expectedState: 'succeeded',
    viaStepFunctions: true,
    enqueue: (jobs, count) => one(count, async () => (await jobs.enqueue('demo.long-express', { steps: 10, stepMs: 0 })).jobId),
  },
  {
    name: 'retries twice',
    description: '`demo.flaky` with failTimes 2: fails, fails, succeeds',
    expectedState: 'succeeded',
    enqueue: (jobs, count) => one(count, async () => (await jobs.enqueue('demo.flaky', { failTimes: 2 })).jobId),
  },
];

/** Shapes from the issue whose feature has not landed yet; listed in the report so nobody mistakes absence for a figure. */
export const SHAPES_TO_ADD: readonly string[] = [];
