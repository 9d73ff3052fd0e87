import type { Logger } from '@aws-lambda-powertools/logger';
import type { z } from 'zod';
import { DEFAULT_QUEUE_NAME } from './config.js';
import { type DurationInput, parseDuration } from './duration.js';
import { type KeyedPeriod, type KeyedPeriodInput, resolveKeyedFlow } from './flow/debounce.js';
import { checkFairnessOption, type FairnessOption } from './flow/fairness.js';
import {
  type ConcurrencyLimit,
  type ConcurrencyLimitInput,
  type RateLimit,
  type RateLimitInput,
  resolveFlowLimits,
} from './flow/limits.js';
import { checkPriorityOption } from './flow/priorities.js';
import type { ChildDeadPolicy, ChildJob } from './flows/types.js';
import { type JobOrdering, type OrderingOptions, resolveOrdering } from './ordering/ordering.js';
import { type RetryPolicy, type RetryPolicyInput, resolveRetryPolicy } from './retry.js';
import { type DeclaredSchedule, resolveDeclaredSchedules, type ScheduleDeclaration } from './scheduling/declared.js';
import { type JobTrigger, type JobTriggerInput, resolveTrigger } from './triggers/trigger.js';

/** What a job handler gets besides its payload. */
export interface JobContext {
  readonly jobId: string;
  readonly jobType: string;
  /** 1 on the first run; counts every attempt in the job's life. */
  readonly attempt: number;
  /** Correlation id carried from `enqueue` through every log line of the job. */
  readonly correlationId: string;
  /** A logger with the job id, type and attempt already attached. */
  readonly logger: Logger;
  /**
   * Aborts when the job's timeout or the Lambda deadline (whichever is first) is
   * near, with JobTimeoutError as its reason, or within about 5 s of `cancel()`
   * (checked from the fifth second of a run on), with JobCancelledError. Pass it
   * to fetch/SDK calls: a handler that then throws ends the job `cancelled`.
   */
  readonly signal: AbortSignal;
  /** Epoch milliseconds at which `signal` aborts. */
  readonly deadline: number;
  /**
   * Runs `step` at most once per job and remembers its result: a later attempt
   * (retry, redelivery, manual retry) gets the stored result instead of running
   * it again. Use it for side effects that must not repeat (charging a card,
   * sending an email) inside a job that may be retried.
   *
   * What is promised, per job and step `name`:
   * - A step that returned is never run again; every later call returns its
   *   result as stored: the JSON round-trip of the value (any JSON value,
   *   numbers beyond 2^53 included; `undefined` becomes `null`, Dates become
   *   strings), the same value in the attempt that ran it. The result must
   *   serialize to at most 300 KB; otherwise, or if it is not JSON (a BigInt),
   *   the job fails for good and the step is treated as interrupted.
   * - A step that threw is known not to have completed: the error propagates
   *   (retried like any handler error) and the next attempt runs it again.
   * - A step whose attempt ended between starting it and storing its result
   *   (a timeout, a crash, a lost lease) has an unknown outcome. It is never
   *   silently run again: `onInterrupted` decides. `'fail'` (the default) ends
   *   the job `dead` with `StepOutcomeUnknownError` for a person to resolve
   *   (`jobs.resolveStep(jobId, name, { result } | { rerun: true })`, then
   *   `jobs.retry(jobId)`); `'rerun'` runs the step again (choose it only when
   *   repeating is harmless, e.g. the step passes its own idempotency key
   *   downstream: the earlier run may even still be finishing it, if it ignored
   *   its signal past its deadline); a function is
   *   called instead of the step, to look the side effect up (by that key) and
   *   return its result, which is stored like the step's. If it throws, the
   *   step stays unresolved and the next attempt asks again.
   * - Two overlapping attempts of the job (a takeover after a lease expired)
   *   never both run or resolve the step: one conditional write decides, and
   *   the other attempt stops with `LeaseLostError`.
   * - Results are kept 30 days (the job's whole life in practice).
   *
   * @example
   * const charge = await ctx.once('charge', () => payments.charge(order, { idempotencyKey: order.id }), {
   *   onInterrupted: async () => payments.findCharge({ idempotencyKey: order.id }),
   * });
   * @throws StepOutcomeUnknownError, LeaseLostError, or what `step` throws
   */
  once<T>(name: string, step: () => Promise<T>, options?: OnceOptions<T>): Promise<T>;
  /**
   * Records progress on the job record (one write: call it every few seconds at
   * most, not per item) and checks for cancellation: throws JobCancelledError
   * when `cancel()` was called, so the job stops at a safe point.
   */
  progress(percent: number, message?: string): Promise<void>;
  /**
   * Starts a follow-up job when this attempt succeeds: it is created in the same
   * DynamoDB transaction that records the success (or the move to `waiting`), so
   * it exists if and only if the attempt's outcome was recorded. Nothing is
   * created if the attempt fails, and a retried job creates each follow-up once
   * (ids are derived from this job's id and the call's index: `<jobId>.then<n>`).
   * The payload is checked against the type's schema now; debounced and
   * throttled types are refused. The flow coordinator sends its message.
   * @returns the id the follow-up will have
   * @throws InvalidFlowJobError, TooManyFlowJobsError, FlowJobsTooLargeError (all non-retryable)
   */
  enqueue(type: string, payload: unknown, options?: FlowJobOptions): { readonly jobId: string };
  /**
   * Starts `children` and ends this attempt in `waiting` without holding the
   * Lambda: the job runs again (a new attempt, not counted against its
   * retries) when the last child has ended, with their outcomes in
   * `ctx.children`. Call it as `return ctx.spawnAndWait(...)`: it never
   * resolves (it throws a signal the worker catches; do not catch it).
   * @example
   * if (ctx.children === undefined) return ctx.spawnAndWait(parts.map((part) => ({ type: 'resize', payload: part })));
   * return { sizes: ctx.children.map((child) => child.result) };
   */
  spawnAndWait(children: readonly FlowJobRequest[], options?: SpawnOptions): Promise<never>;
  /**
   * On an attempt that resumed after `spawnAndWait`: the children in the order
   * they were given, with state, result or error. Undefined otherwise.
   */
  readonly children?: readonly ChildJob[];
}

/** Options of a follow-up or child job. */
export interface FlowJobOptions {
  /** Carried into every log line of the job. @default this job's correlation id */
  readonly correlationId?: string;
}

/** One job a handler starts with `ctx.spawnAndWait`. */
export interface FlowJobRequest {
  readonly type: string;
  readonly payload: unknown;
  readonly options?: FlowJobOptions;
}

export interface SpawnOptions {
  /**
   * When a child ends `dead` or `cancelled`: `'fail'` ends this job `dead` with
   * ChildJobsFailedError (after every child ended) without running it again;
   * `'continue'` runs it again with every outcome in `ctx.children`.
   * @default 'fail'
   */
  readonly onChildDead?: ChildDeadPolicy;
}

/** The step an interrupted earlier attempt left behind, as `onInterrupted` gets it. */
export interface InterruptedStep {
  readonly jobId: string;
  readonly step: string;
  /** The attempt that started the step and never recorded its outcome. */
  readonly startedByAttempt: number;
}

export interface OnceOptions<T> {
  /**
   * What to do when an earlier attempt started this step and never recorded its
   * outcome: `'fail'` the job (StepOutcomeUnknownError, non-retryable), `'rerun'`
   * the step, or call a function that finds out and returns the step's result.
   * @default 'fail'
   */
  readonly onInterrupted?: 'fail' | 'rerun' | ((step: InterruptedStep) => Promise<T>);
}

export type JobHandler<Payload, Result> = (payload: Payload, context: JobContext) => Promise<Result>;

/**
 * Carries a contract's Result type. Type-only: no contract object has this
 * key at runtime; it lets `ResultOf` and the client read the Result back.
 */
declare const resultType: unique symbol;

/** What `defineJobContract` takes: everything about a job type but the code that runs it. */
export interface JobContractInput<Name extends string, Schema extends z.ZodType, ResultSchema extends z.ZodType | undefined> {
  /** Unique job type name, e.g. `'email.send'`. */
  readonly name: Name;
  /** zod schema of the payload; checked at enqueue and again when the job is consumed. */
  readonly schema: Schema;
  /**
   * zod schema of the handler's result. It types the result only: the handler
   * must return `z.output<result>`, and `get`/`wait` on an enqueued job's handle
   * type `record.result` with it. Nothing checks results against it at runtime;
   * the stored result is the handler's return value after a JSON round trip
   * (Dates become strings).
   * @default - the result is `unknown`
   */
  readonly result?: ResultSchema;
  /** @default DEFAULT_RETRY_POLICY */
  readonly retry?: RetryPolicyInput;
  /** Longest one attempt may run; its signal aborts then and the attempt fails. @default '60s' */
  readonly timeout?: DurationInput;
  /** Logical queue (one SQS queue and worker each). @default 'default' */
  readonly queue?: string;
  readonly description?: string;
  /** Recurring schedules that enqueue this job type; the stack creates one EventBridge Scheduler schedule each. */
  readonly schedule?: ScheduleDeclaration<z.input<Schema>> | readonly ScheduleDeclaration<z.input<Schema>>[];
  /**
   * Default priority level of this job type's jobs, on a queue with `priorities` (the construct's per-queue
   * setting); `enqueue(..., { priority })` overrides it. @default - the queue's lowest level
   */
  readonly priority?: string;
  /**
   * Fairness between tenants: every job is sent with SQS `MessageGroupId` = `key(payload)`, so a fair queue
   * serves a quiet tenant's jobs ahead of a noisy tenant's backlog. @default - no message group
   */
  readonly fairness?: FairnessOption<z.output<Schema>>;
  /**
   * Runs only the last job enqueued for a key within `period`: each enqueue
   * waits `period` and cancels the job of its key still waiting (see README,
   * "Flow control"). Not with `throttle`.
   * @default - no debounce
   */
  readonly debounce?: KeyedPeriodInput<z.output<Schema>>;
  /**
   * Keeps the first job enqueued for a key within `period`; later ones are
   * recorded `cancelled` with the reason and never run. Not with `debounce`.
   * @default - no throttle
   */
  readonly throttle?: KeyedPeriodInput<z.output<Schema>>;
  /** At most `limit` jobs per key run at once, across all workers; the rest wait without using attempts. @default - no limit */
  readonly concurrency?: ConcurrencyLimitInput<z.output<Schema>>;
  /** At most `limit` jobs per key start within any window of `per`; the rest wait without using attempts. @default - no limit */
  readonly rateLimit?: RateLimitInput<z.output<Schema>>;
  /**
   * Run the jobs of one key strictly in enqueue order, one at a time; different keys in parallel. The
   * job type's queue becomes an SQS FIFO queue (the key is the message group). A failing job holds back
   * the later jobs of its key until it succeeds or dies. Not for long jobs.
   * @default - no ordering
   */
  readonly ordering?: OrderingOptions<z.output<Schema>>;
  /**
   * Starts a job of this type on every matching EventBridge event on the job system's bus: the
   * stack creates a rule for it, and `payload(event)` maps the event to the job's payload. The job id
   * comes from the event id, so an event delivered twice runs once; an event whose payload does not
   * fit the schema (or whose mapping throws) ends as a `dead` job with the reason (see README,
   * "Jobs started by events").
   * @default - no trigger
   */
  readonly trigger?: JobTriggerInput<z.input<Schema>>;
}

export interface JobDefinitionInput<Name extends string, Schema extends z.ZodType, Result>
  extends Omit<JobContractInput<Name, Schema, undefined>, 'result'> {
  readonly handler: JobHandler<z.output<Schema>, Result>;
}

/**
 * A job type without its handler: what the client, the CDK construct and the
 * CLI need. An API server imports contracts to enqueue with full typing without
 * bundling the worker's code and its dependencies.
 */
export interface JobContract<Name extends string = string, Schema extends z.ZodType = z.ZodType, Result = unknown> {
  readonly name: Name;
  readonly schema: Schema;
  /** The result schema given to `defineJobContract`, if any (for typing; see `JobContractInput.result`). */
  readonly result?: z.ZodType;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number;
  readonly queue: string;
  readonly description?: string;
  /** `long`: runs in checkpointed steps on Step Functions (see `defineLongJobContract`). @default 'short' */
  readonly mode?: 'short' | 'long';
  /** Recurring schedules the stack creates for this job type. */
  readonly schedules?: readonly DeclaredSchedule[];
  /** Default priority level (see `JobContractInput.priority`). */
  readonly priority?: string;
  /** Fairness key of each job (see `JobContractInput.fairness`). */
  readonly fairness?: FairnessOption<z.output<Schema>>;
  /** Debounce per key (validated `debounce` of the input). */
  readonly debounce?: KeyedPeriod;
  /** Throttle per key (validated `throttle` of the input). */
  readonly throttle?: KeyedPeriod;
  /** The checked `concurrency` option (see `JobContractInput.concurrency`). */
  readonly concurrency?: ConcurrencyLimit<z.output<Schema>>;
  /** The checked `rateLimit` option (see `JobContractInput.rateLimit`). */
  readonly rateLimit?: RateLimit<z.output<Schema>>;
  /** Ordering per key (see `JobContractInput.ordering`); its queue is a FIFO queue. */
  readonly ordering?: JobOrdering;
  /** The checked `trigger` option (see `JobContractInput.trigger`). */
  readonly trigger?: JobTrigger;
  /** Type-only: carries `Result` for `ResultOf` and the client's typed `get`/`wait`; never set at runtime. */
  readonly [resultType]?: Result;
}

/** A job type with its handler, as the worker runs it. Every definition is also a contract. */
export interface JobDefinition<Name extends string = string, Schema extends z.ZodType = z.ZodType, Result = unknown>
  extends JobContract<Name, Schema, Result> {
  readonly handler: JobHandler<z.output<Schema>, Result>;
}

// biome-ignore lint/suspicious/noExplicitAny: a registry holds job types of any payload and result.
export type AnyJobContract = JobContract<string, any, any>;
// biome-ignore lint/suspicious/noExplicitAny: a registry holds job types of any payload and result.
export type AnyJobDefinition = JobDefinition<string, any, any>;

/** Job types by name; contracts suffice (the client, the CDK construct, the CLI). Build one with `defineRegistry`. */
export type JobRegistry = { readonly [name: string]: AnyJobContract };

/** Job types by name, each with its handler (or a long job's step): what the worker and the long-job step function run. */
export type HandlerRegistry = { readonly [name: string]: AnyJobDefinition };

/**
 * The entry of `type`, or undefined. Only the registry's own keys count, so a
 * type named `constructor`, `toString` or `__proto__` is unknown, not an Object method.
 */
export function findJobDefinition<Entry>(registry: { readonly [name: string]: Entry }, type: string): Entry | undefined {
  return Object.hasOwn(registry, type) ? registry[type] : undefined;
}

/** Payload type a job type accepts at enqueue (the schema's input). */
export type PayloadOf<R extends JobRegistry, T extends keyof R> = z.input<R[T]['schema']>;
/** Result type of a job type: its contract's `result` schema output, or what its handler returns; else unknown. */
export type ResultOf<R extends JobRegistry, T extends keyof R> = ContractResult<R[T]>;
/** The Result type parameter of a contract or definition. */
// biome-ignore lint/suspicious/noExplicitAny: only the Result parameter is read.
export type ContractResult<C> = C extends JobContract<string, any, infer Result> ? Result : unknown;

/** Lambda's hard limit; a job needing longer belongs on the long-job path. */
export const MAX_JOB_TIMEOUT_MS = 15 * 60_000;
const DEFAULT_JOB_TIMEOUT_MS = 60_000;
const JOB_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const QUEUE_NAME_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;

/**
 * Declares a job type's contract: everything but its handler. Give the handler
 * with `implementJob` in the worker's code; enqueue with the contract alone.
 *
 * @example
 * export const sendEmail = defineJobContract({
 *   name: 'email.send',
 *   schema: z.object({ to: z.email() }),
 *   result: z.object({ messageId: z.string() }),
 *   retry: { maxAttempts: 5 },
 * });
 * @throws RangeError naming the job and the value for a bad name, queue, timeout or schedule;
 * InvalidFlowOptionError for a bad `debounce`/`throttle`; InvalidTriggerError for a bad `trigger`
 */
export function defineJobContract<
  const Name extends string,
  Schema extends z.ZodType,
  ResultSchema extends z.ZodType | undefined = undefined,
>(
  input: JobContractInput<Name, Schema, ResultSchema>,
): JobContract<Name, Schema, ResultSchema extends z.ZodType ? z.output<ResultSchema> : unknown> {
  if (!JOB_NAME_PATTERN.test(input.name)) {
    throw new RangeError(`job name must match ${JOB_NAME_PATTERN} (given '${input.name}')`);
  }
  const queue = input.queue ?? DEFAULT_QUEUE_NAME;
  if (!QUEUE_NAME_PATTERN.test(queue)) {
    throw new RangeError(`job '${input.name}': queue must match ${QUEUE_NAME_PATTERN} (given '${queue}')`);
  }
  if (input.ordering !== undefined && (input.concurrency !== undefined || input.rateLimit !== undefined)) {
    throw new RangeError(
      `job '${input.name}': ordering cannot be combined with concurrency or rateLimit (given both): a job waiting on ` +
        'a limit goes back as a delayed copy of its message, which a FIFO queue refuses',
    );
  }
  if (input.ordering !== undefined && input.fairness !== undefined) {
    throw new RangeError(
      `job '${input.name}': ordering cannot be combined with fairness (given both): its queue becomes a FIFO queue, ` +
        'whose message group is the ordering key',
    );
  }
  const timeoutMs = input.timeout === undefined ? DEFAULT_JOB_TIMEOUT_MS : parseDuration(input.timeout);
  if (timeoutMs < 1_000 || timeoutMs > MAX_JOB_TIMEOUT_MS) {
    throw new RangeError(`job '${input.name}': timeout must be 1s..15m (given ${timeoutMs} ms)`);
  }
  return {
    name: input.name,
    schema: input.schema,
    ...(input.result === undefined ? {} : { result: input.result }),
    retry: resolveRetryPolicy(input.retry),
    timeoutMs,
    queue,
    ...(input.description === undefined ? {} : { description: input.description }),
    ...(input.schedule === undefined
      ? {}
      : { schedules: resolveDeclaredSchedules(input.name, input.schema, input.schedule as ScheduleDeclaration<unknown>) }),
    ...resolveKeyedFlow(input.name, input as Parameters<typeof resolveKeyedFlow>[1]),
    ...resolveFlowLimits(input.name, input),
    ...(input.ordering === undefined ? {} : { ordering: resolveOrdering(input.name, input.ordering) }),
    ...resolveFlowOptions(input),
    ...(input.trigger === undefined ? {} : { trigger: resolveTrigger(input.name, input.trigger as JobTriggerInput<unknown>) }),
  };
}

/** The priority and fairness options of a contract, checked. @throws RangeError naming the job and the value */
function resolveFlowOptions<Schema extends z.ZodType>(input: {
  readonly name: string;
  readonly priority?: string;
  readonly fairness?: FairnessOption<z.output<Schema>>;
}): { priority?: string; fairness?: FairnessOption<z.output<Schema>> } {
  if (input.priority !== undefined) checkPriorityOption(input.name, input.priority);
  if (input.fairness !== undefined) checkFairnessOption(input.name, input.fairness);
  return {
    ...(input.priority === undefined ? {} : { priority: input.priority }),
    ...(input.fairness === undefined ? {} : { fairness: input.fairness }),
  };
}

/**
 * Gives a contract its handler. The handler gets the payload as the schema
 * outputs it and must return the contract's Result.
 *
 * @example
 * export const sendEmailJob = implementJob(sendEmail, async ({ to }, { logger }) => {
 *   logger.info('sending', { to });
 *   return { messageId: await mailer.send(to) };
 * });
 * @throws RangeError when the contract is a long job's (use `implementLongJob`) or the handler is not a function
 */
export function implementJob<Name extends string, Schema extends z.ZodType, Result>(
  // A long job's contract (it has `stepTimeoutMs`) is refused at compile time: it needs a step, not a handler.
  contract: JobContract<Name, Schema, Result> & { readonly stepTimeoutMs?: never },
  handler: JobHandler<z.output<Schema>, Result>,
): JobDefinition<Name, Schema, Result> {
  if ((contract as JobContract).mode === 'long') {
    throw new RangeError(`job '${contract.name}' is a long job: give it a step with implementLongJob`);
  }
  if (typeof handler !== 'function') {
    throw new RangeError(`job '${contract.name}': the handler must be a function (given ${typeof handler})`);
  }
  return { ...contract, handler };
}

/**
 * Declares a job type and its handler in one: `implementJob(defineJobContract(...), handler)`.
 * Split the two when the enqueuing side should not import the handler's code.
 *
 * @example
 * export const sendEmail = defineJob({
 *   name: 'email.send',
 *   schema: z.object({ to: z.email() }),
 *   retry: { maxAttempts: 5 },
 *   handler: async ({ to }, { logger }) => { logger.info('sending', { to }); return { sent: true }; },
 * });
 */
export function defineJob<const Name extends string, Schema extends z.ZodType, Result>(
  input: JobDefinitionInput<Name, Schema, Result>,
): JobDefinition<Name, Schema, Result> {
  const { handler, ...contract } = input;
  return implementJob(defineJobContract(contract) as JobContract<Name, Schema, Result>, handler);
}

/**
 * Builds the registry object from contracts or definitions (all definitions:
 * a `HandlerRegistry` for the worker). @throws RangeError on a duplicate name.
 */
export function defineRegistry<const Jobs extends readonly AnyJobContract[]>(
  ...jobs: Jobs
): { readonly [J in Jobs[number] as J['name']]: J } {
  const registry: Record<string, AnyJobContract> = {};
  for (const job of jobs) {
    if (Object.hasOwn(registry, job.name)) throw new RangeError(`job type '${job.name}' is defined twice`);
    registry[job.name] = job;
  }
  return registry as { readonly [J in Jobs[number] as J['name']]: J };
}

/**
 * The job types of `registry` that have no handler (or, for long jobs, no
 * step): a registry of bare contracts handed to the worker by mistake.
 */
export function jobsWithoutHandlers(registry: JobRegistry): string[] {
  return Object.values(registry)
    .filter((job) => {
      const code = job.mode === 'long' ? (job as { step?: unknown }).step : (job as { handler?: unknown }).handler;
      return typeof code !== 'function';
    })
    .map((job) => job.name)
    .sort();
}

/** What the CDK stack needs to know about one logical queue. */
export interface QueuePlan {
  readonly name: string;
  /** Highest `retry.maxAttempts` of the job types on this queue. */
  readonly maxAttempts: number;
  /** Longest `timeout` of the job types on this queue. */
  readonly longestJobTimeoutMs: number;
  readonly jobTypes: readonly string[];
  /** True when a job type on it has `ordering`: the queue is then an SQS FIFO queue. */
  readonly fifo: boolean;
}

/** Groups the registry's job types by queue, for the CDK stack. Sorted by queue name. */
export function planQueues(registry: JobRegistry): QueuePlan[] {
  const byQueue = new Map<string, AnyJobContract[]>();
  for (const job of Object.values(registry)) {
    byQueue.set(job.queue, [...(byQueue.get(job.queue) ?? []), job]);
  }
  return [...byQueue.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, jobs]) => ({
      name,
      maxAttempts: Math.max(...jobs.map((job) => job.retry.maxAttempts)),
      longestJobTimeoutMs: Math.max(...jobs.map((job) => job.timeoutMs)),
      jobTypes: jobs.map((job) => job.name).sort(),
      fifo: jobs.some((job) => job.ordering !== undefined),
    }))
    .map((plan) => {
      assertLimitsOffFifo(plan, byQueue.get(plan.name) ?? []);
      return plan;
    });
}

/**
 * A job over a concurrency or rate limit waits as a delayed copy of its
 * message, and a FIFO queue takes no per-message delay (nor could a copy keep
 * its place in the message group): limits and ordering cannot share a queue.
 */
function assertLimitsOffFifo(plan: QueuePlan, jobs: readonly AnyJobContract[]): void {
  if (!plan.fifo) return;
  const limited = jobs.filter((job) => job.concurrency !== undefined || job.rateLimit !== undefined).map((job) => job.name);
  if (limited.length === 0) return;
  const ordered = jobs.filter((job) => job.ordering !== undefined).map((job) => job.name);
  throw new RangeError(
    `queue '${plan.name}' is a FIFO queue (ordering on ${ordered.map((name) => `'${name}'`).join(', ')}) and cannot carry ` +
      `job types with concurrency or rate limits (given ${limited.map((name) => `'${name}'`).join(', ')}): ` +
      'their waiting jobs go back as delayed copies, which FIFO queues refuse; put them on another queue',
  );
}
