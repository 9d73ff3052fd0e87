import { defineJobContract, defineLongJobContract, defineRegistry, type RetryPolicyInput } from 'jobstack';
import * as z from 'zod';

/**
 * The demo's job types without their handlers: what the client, the CLI and
 * the CDK stack need. The handlers live in `./handlers.ts`; an app that only
 * enqueues imports this module and none of their code.
 */

/** Short delays so the demo and the integration tests see retries within seconds. */
export const DEMO_RETRY: RetryPolicyInput = {
  maxAttempts: 3,
  backoff: 'exponential',
  baseDelay: '1s',
  maxDelay: '5s',
  jitter: 'full',
};

/**
 * Environment variable with the demo ledger table's name, set on the worker by
 * the demo stack; `demo.effect` (and the jobs built on it) count into that table.
 */
export const DEMO_LEDGER_TABLE_ENV = 'JOBSTACK_DEMO_LEDGER_TABLE';

/** Returns its message: the smallest possible job, used for overhead and throughput figures. */
export const echo = defineJobContract({
  name: 'demo.echo',
  description: 'Returns its message.',
  schema: z.object({ message: z.string() }),
  result: z.object({ message: z.string() }),
  retry: DEMO_RETRY,
});

/** Sleeps `ms` milliseconds; stops early (and fails the attempt) when the run's signal aborts. */
export const sleep = defineJobContract({
  name: 'demo.sleep',
  description: 'Sleeps for the given milliseconds.',
  schema: z.object({
    ms: z
      .number()
      .int()
      .min(0)
      .max(14 * 60_000),
  }),
  result: z.object({ sleptMs: z.number() }),
  retry: DEMO_RETRY,
  timeout: '60s',
});

/** Fails (retryably) on attempts 1..failTimes, then succeeds: shows retries with backoff. */
export const flaky = defineJobContract({
  name: 'demo.flaky',
  description: 'Throws a retryable error on the first failTimes attempts, then succeeds.',
  schema: z.object({ failTimes: z.number().int().min(0).max(100) }),
  result: z.object({ attempts: z.number() }),
  retry: DEMO_RETRY,
});

/** Always fails with a retryable error: ends `dead` after its last attempt. */
export const fail = defineJobContract({
  name: 'demo.fail',
  description: 'Always throws a retryable error.',
  schema: z.object({}),
  retry: DEMO_RETRY,
});

/**
 * Fails with a non-retryable error: ends `dead` after one attempt. `message`
 * replaces the error message (the soak sends control characters through it,
 * which SQS refuses in the dead-letter copy's attributes unless they are cleaned).
 */
export const fatal = defineJobContract({
  name: 'demo.fatal',
  description: 'Throws a non-retryable error.',
  schema: z.object({ message: z.string().max(2_000).optional() }),
  retry: DEMO_RETRY,
});

/**
 * Atomically adds 1 to the ledger item `key` and returns the new count. The
 * tests use it to prove a job's side effect ran exactly once.
 */
export const effect = defineJobContract({
  name: 'demo.effect',
  description: 'Increments a counter in the demo ledger table.',
  schema: z.object({ key: z.string().min(1).max(512) }),
  result: z.object({ count: z.number() }),
  retry: DEMO_RETRY,
});

/** Works in `steps` steps of `stepMs`, reporting progress after each; `cancel()` stops it at the next report. */
export const progress = defineJobContract({
  name: 'demo.progress',
  description: 'Reports progress step by step and stops when cancelled.',
  schema: z.object({ steps: z.number().int().min(1).max(1_000), stepMs: z.number().int().min(0).max(60_000) }),
  result: z.object({ steps: z.number() }),
  retry: DEMO_RETRY,
  timeout: '5m',
});

/**
 * Increments the ledger key inside `ctx.once`, then fails on attempts
 * 1..failTimes: the retries get the stored count, so the key counts 1.
 */
export const once = defineJobContract({
  name: 'demo.once',
  description: 'A side effect inside ctx.once followed by retryable failures.',
  schema: z.object({ key: z.string().min(1).max(512), failTimes: z.number().int().min(0).max(10) }),
  result: z.object({ count: z.number(), attempts: z.number() }),
  retry: DEMO_RETRY,
});

/**
 * Processes `steps` steps of `stepMs` each on Step Functions, checkpointing
 * after every step. `failAtStep` makes the first attempt at that step fail
 * (a transient error), to show a retry resuming from the last checkpoint;
 * `failAttempts` makes that many attempts fail there (all of them: a failed
 * long job, whose execution ends FAILED).
 */
export const long = defineLongJobContract({
  name: 'demo.long',
  description: 'Runs steps of stepMs each on Step Functions, with a checkpoint and progress after each.',
  schema: z.object({
    steps: z.number().int().min(1).max(10_000),
    stepMs: z
      .number()
      .int()
      .min(0)
      .max(10 * 60_000),
    failAtStep: z.number().int().min(1).optional(),
    /** How many attempts fail at `failAtStep` (default 1: a transient failure); 3 or more make the job dead. */
    failAttempts: z.number().int().min(1).max(10).optional(),
  }),
  result: z.object({ steps: z.number() }),
  retry: DEMO_RETRY,
  stepTimeout: '11m',
});

/**
 * `demo.long` declared to take at most 2 minutes (`maxDuration`), so it runs
 * on the Express state machine: the same steps, billed per execution and
 * duration instead of per state transition.
 */
export const longExpress = defineLongJobContract({
  name: 'demo.long-express',
  description: 'demo.long on the Express workflow: at most 2 minutes, steps of at most 30 s.',
  schema: long.schema,
  result: z.object({ steps: z.number() }),
  retry: DEMO_RETRY,
  stepTimeout: '30s',
  maxDuration: '2m',
});

/**
 * A side effect inside `ctx.once` whose stored result, and the job's result,
 * hold numbers beyond 2^53 — which the DynamoDB document client refuses. The
 * soak checks that such a job succeeds once and its side effect runs once:
 * recording an outcome must never be what re-runs a handler. No result schema:
 * such a result is stored as a stand-in object, not as the numbers returned.
 */
export const largeNumbers = defineJobContract({
  name: 'demo.large-numbers',
  description: 'Returns numbers beyond 2^53 from ctx.once and from the handler.',
  schema: z.object({ key: z.string().min(1).max(512) }),
  retry: DEMO_RETRY,
});

/** What the flow-control demo jobs take: how long to work, and a label to find the job by. */
const workSchema = z.object({
  ms: z.number().int().min(0).max(60_000),
  label: z.string().max(128).optional(),
});

/**
 * Sleeps `ms` on the queue `ranked`, which the demo stack gives priority levels `high` and `low`: a job
 * enqueued with `{ priority: 'high' }` starts ahead of the low backlog already waiting.
 */
export const ranked = defineJobContract({
  name: 'demo.ranked',
  description: 'Sleeps for the given milliseconds on the prioritized queue `ranked`.',
  schema: workSchema,
  queue: 'ranked',
  retry: DEMO_RETRY,
  timeout: '90s',
});

/**
 * Sleeps `ms` for a tenant on the queue `tenants`, sent with the tenant as its SQS message group (fair
 * queues): one tenant's backlog does not hold up another tenant's jobs.
 */
export const tenantWork = defineJobContract({
  name: 'demo.tenant',
  description: "Sleeps for the given milliseconds on the queue `tenants`, fair between the payload's tenants.",
  schema: workSchema.extend({ tenant: z.string().min(1).max(64) }),
  queue: 'tenants',
  retry: DEMO_RETRY,
  timeout: '90s',
  fairness: { key: (payload) => payload.tenant },
});

/** `demo.tenant` without fairness (no message group): the comparison the flow-control benchmark measures. */
export const tenantWorkUnfair = defineJobContract({
  name: 'demo.tenant-unfair',
  description: 'demo.tenant without a fairness key.',
  schema: workSchema.extend({ tenant: z.string().min(1).max(64) }),
  queue: 'tenants',
  retry: DEMO_RETRY,
  timeout: '90s',
});

/** Payload of the flow-control demos: the key jobs are grouped by, and the ledger item each run counts into. */
const keyedRunSchema = z.object({ key: z.string().min(1).max(128), ledgerKey: z.string().min(1).max(512), n: z.number().int() });

/**
 * Debounced per `key` for 2 s: of a burst of enqueues of one key, only the last
 * runs (the others end `cancelled`, superseded). Each run counts into the
 * ledger item `ledgerKey` and returns its `n`.
 */
export const debounced = defineJobContract({
  name: 'demo.debounced',
  description: 'Counts a run in the ledger; debounced per key for 2 s.',
  schema: keyedRunSchema,
  result: z.object({ n: z.number(), count: z.number() }),
  retry: DEMO_RETRY,
  debounce: { key: (payload) => payload.key, period: '2s' },
});

/**
 * Throttled per `key` for 10 s: the first enqueue of a key runs, the others
 * within 10 s end `cancelled` at once. Counts into the ledger like `demo.debounced`.
 */
export const throttled = defineJobContract({
  name: 'demo.throttled',
  description: 'Counts a run in the ledger; throttled per key for 10 s.',
  schema: keyedRunSchema,
  result: z.object({ n: z.number(), count: z.number() }),
  retry: DEMO_RETRY,
  throttle: { key: (payload) => payload.key, period: '10s' },
});

/**
 * Runs the jobs of one `key` strictly one after another in enqueue order (its
 * own FIFO queue, `ordered`); sleeps `sleepMs` and fails retryably on attempts
 * 1..failTimes, so a failing job visibly holds back the later jobs of its key.
 */
export const ordered = defineJobContract({
  name: 'demo.ordered',
  description: 'One job of a key at a time, in enqueue order; sleeps, and fails on its first failTimes attempts.',
  schema: z.object({
    key: z.string().min(1).max(100),
    seq: z.number().int().min(0),
    sleepMs: z.number().int().min(0).max(30_000).default(0),
    failTimes: z.number().int().min(0).max(100).default(0),
  }),
  result: z.object({ key: z.string(), seq: z.number(), attempt: z.number() }),
  queue: 'ordered',
  ordering: { key: (payload) => payload.key },
  retry: DEMO_RETRY,
});

/**
 * A tenant's report: sleeps `ms`, at most 2 at once per tenant and at most 20
 * starts per tenant in any 10 seconds, across all workers. Jobs over a limit
 * wait (a delayed copy of the message) without using an attempt.
 */
export const tenantReport = defineJobContract({
  name: 'demo.tenant-report',
  description: 'Sleeps ms; at most 2 running and 20 starts per 10 s per tenant.',
  schema: z.object({ tenant: z.string().min(1).max(128), ms: z.number().int().min(0).max(60_000) }),
  result: z.object({ tenant: z.string() }),
  retry: DEMO_RETRY,
  concurrency: { key: (payload) => payload.tenant, limit: 2 },
  rateLimit: { key: (payload) => payload.tenant, limit: 20, per: '10s' },
});

/** Squares `n` (a child of `demo.fanout`); fails for good when `fail` is set. */
export const square = defineJobContract({
  name: 'demo.square',
  description: 'Squares a number; a child job of demo.fanout.',
  schema: z.object({ n: z.number().int(), fail: z.boolean().optional() }),
  result: z.object({ square: z.number() }),
  retry: DEMO_RETRY,
});

/**
 * A parent with children: starts one `demo.square` per number and waits for
 * them without holding a Lambda (`ctx.spawnAndWait`), then sums their results
 * and enqueues a `demo.echo` follow-up with the sum (`ctx.enqueue`).
 */
export const fanout = defineJobContract({
  name: 'demo.fanout',
  description: 'Squares numbers in child jobs, waits for them, sums the squares and enqueues a follow-up.',
  schema: z.object({
    numbers: z.array(z.number().int()).min(1).max(20),
    /** Numbers whose child fails for good; the parent goes on without them. */
    failing: z.array(z.number().int()).optional(),
  }),
  result: z.object({ sum: z.number(), failed: z.number().int(), followUp: z.string() }),
  retry: DEMO_RETRY,
});

/** A batch's callback: returns its label (the demo's `npm start` batch calls it on completion). */
export const batchDone = defineJobContract({
  name: 'demo.batch-done',
  description: "A batch's onComplete callback: returns its label.",
  schema: z.object({ label: z.string() }),
  result: z.object({ label: z.string() }),
  retry: DEMO_RETRY,
});

/**
 * Every demo job type, by name. The client validates payloads against it and
 * the CDK stack derives its queues, retry limits and the long-job state machine
 * from it. Replace the demo jobs with your own.
 */
/**
 * Started by events, not by `enqueue`: every `CustomerSignedUp` event from `demo.shop` on the job
 * system's bus enqueues one (its job id from the event id), with the customer's name as payload.
 * An event without a name ends as a dead job saying so.
 */
export const greet = defineJobContract({
  name: 'demo.greet',
  description: 'Greets a customer who signed up (started by a CustomerSignedUp event).',
  schema: z.object({ name: z.string().min(1).max(200) }),
  result: z.object({ greeting: z.string() }),
  retry: DEMO_RETRY,
  trigger: {
    source: 'demo.shop',
    detailType: 'CustomerSignedUp',
    payload: (event) => ({ name: (event.detail as { name?: unknown }).name as string }),
  },
});

export const registry = defineRegistry(
  echo,
  sleep,
  flaky,
  fail,
  fatal,
  effect,
  progress,
  once,
  long,
  longExpress,
  largeNumbers,
  debounced,
  throttled,
  tenantReport,
  ordered,
  ranked,
  tenantWork,
  tenantWorkUnfair,
  greet,
  square,
  fanout,
  batchDone,
);

export type Registry = typeof registry;

export default registry;
