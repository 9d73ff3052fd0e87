import type { z } from 'zod';
import { parseDuration } from '../duration.js';
import { InvalidDurationError, NonRetryableError } from '../errors.js';
import { type AnyJobContract, defineJobContract, type JobContract, type JobRegistry } from '../job-definition.js';
import { InvalidLongJobError } from './errors.js';
import type { LongJobContract, LongJobContractInput, LongJobDefinition, LongJobDefinitionInput, LongJobStep } from './types.js';

/** Longest step: Lambda's 15 minutes less a minute for recording the outcome and a cold start. */
export const MAX_STEP_TIMEOUT_MS = 14 * 60_000;
const DEFAULT_STEP_TIMEOUT_MS = 10 * 60_000;
/**
 * Longest an Express workflow execution runs (AWS Step Functions quotas:
 * "Maximum execution time: 5 minutes" for Express). A long job declared to take
 * at most this long runs on the Express state machine.
 */
export const EXPRESS_MAX_DURATION_MS = 5 * 60_000;
/**
 * Time an Express execution keeps back from its 5-minute limit: its last step
 * ends, its outcome is written and the handover to Standard starts before Step
 * Functions ends the execution. A step of an Express job is at most the rest.
 */
export const EXPRESS_END_MARGIN_MS = 20_000;

/**
 * Declares a long job's contract: everything but its step. Give the step with
 * `implementLongJob` in the step function's code; enqueue with the contract alone.
 *
 * @example
 * export const reindex = defineLongJobContract({
 *   name: 'search.reindex',
 *   schema: z.object({ index: z.string() }),
 *   result: z.object({ total: z.number() }),
 *   stepTimeout: '5m',
 * });
 * @throws RangeError naming the job and the value for a bad name, queue, step timeout or schedule
 */
export function defineLongJobContract<
  const Name extends string,
  Schema extends z.ZodType,
  ResultSchema extends z.ZodType | undefined = undefined,
>(
  input: LongJobContractInput<Name, Schema, ResultSchema>,
): LongJobContract<Name, Schema, ResultSchema extends z.ZodType ? z.output<ResultSchema> : unknown> {
  const stepTimeoutMs = input.stepTimeout === undefined ? DEFAULT_STEP_TIMEOUT_MS : parseDuration(input.stepTimeout);
  if (stepTimeoutMs < 1_000 || stepTimeoutMs > MAX_STEP_TIMEOUT_MS) {
    throw new RangeError(`long job '${input.name}': stepTimeout must be 1s..14m (given ${stepTimeoutMs} ms)`);
  }
  for (const option of ['concurrency', 'rateLimit'] as const) {
    if ((input as unknown as Record<string, unknown>)[option] !== undefined) {
      throw new RangeError(
        `long job '${input.name}': ${option} is not supported on long jobs (given ${option} on a long job contract)`,
      );
    }
  }
  if ((input as { ordering?: unknown }).ordering !== undefined) {
    // The worker hands a long job to Step Functions and deletes its message, which frees its FIFO group:
    // the next job of the key would start while this one still runs.
    throw new RangeError(
      `long job '${input.name}': ordering cannot be kept for long jobs (their steps run on Step Functions, outside the ` +
        'FIFO message group); use a short job type with ordering, or order the work inside the long job',
    );
  }
  const maxDurationMs = declaredMaxDuration(input.name, input.maxDuration, stepTimeoutMs);
  const { stepTimeout: _stepTimeout, maxDuration: _maxDuration, ...contract } = input;
  // A long job's attempt is a step, limited by stepTimeout: the job-level timeout keeps its default and is not used.
  return {
    ...defineJobContract(contract),
    mode: 'long',
    stepTimeoutMs,
    ...(maxDurationMs === undefined ? {} : { maxDurationMs }),
    workflow: maxDurationMs !== undefined && maxDurationMs <= EXPRESS_MAX_DURATION_MS ? 'express' : 'standard',
  };
}

/** @throws InvalidLongJobError when `maxDuration` is not a duration or is shorter than one step may take */
function declaredMaxDuration(jobType: string, maxDuration: unknown, stepTimeoutMs: number): number | undefined {
  if (maxDuration === undefined) return undefined;
  let ms: number;
  try {
    ms = parseDuration(maxDuration as Parameters<typeof parseDuration>[0]);
  } catch (error) {
    if (!(error instanceof InvalidDurationError)) throw error;
    throw new InvalidLongJobError(jobType, 'maxDuration', `is not a duration (given ${JSON.stringify(maxDuration)})`);
  }
  if (ms < stepTimeoutMs) {
    // The first step alone may take stepTimeout: a job declared shorter cannot keep its word.
    throw new InvalidLongJobError(
      jobType,
      'maxDuration',
      `must be at least stepTimeout (given ${ms} ms, stepTimeout ${stepTimeoutMs} ms): set a shorter stepTimeout`,
    );
  }
  if (ms <= EXPRESS_MAX_DURATION_MS && stepTimeoutMs > EXPRESS_MAX_DURATION_MS - EXPRESS_END_MARGIN_MS) {
    throw new InvalidLongJobError(
      jobType,
      'stepTimeout',
      `must be at most ${(EXPRESS_MAX_DURATION_MS - EXPRESS_END_MARGIN_MS) / 1_000}s on an Express workflow ` +
        `(maxDuration ${ms} ms; given stepTimeout ${stepTimeoutMs} ms): a step must end before the execution's 5 minutes`,
    );
  }
  return ms;
}

/**
 * Gives a long job's contract its step. The step gets the payload as the
 * schema outputs it and the last checkpoint, and returns the next checkpoint
 * or `{ done: true, result }` with the contract's Result.
 *
 * @example
 * export const reindexJob = implementLongJob(reindex, async ({ index }, { checkpoint, signal }) => {
 *   const { next, total, done } = await reindexBatch(index, checkpoint?.cursor, signal);
 *   if (done) return { done: true, result: { total } };
 *   return { checkpoint: { cursor: next }, progress: (100 * next) / total };
 * });
 * @throws RangeError when the contract is not a long job's or the step is not a function
 */
export function implementLongJob<Name extends string, Schema extends z.ZodType, Result, Checkpoint = unknown>(
  contract: LongJobContract<Name, Schema, Result>,
  step: LongJobStep<z.output<Schema>, Checkpoint, Result>,
): LongJobDefinition<Name, Schema, Checkpoint, Result> {
  if ((contract as JobContract).mode !== 'long') {
    throw new RangeError(`job '${contract.name}' is not a long job: give it a handler with implementJob`);
  }
  if (typeof step !== 'function') {
    throw new RangeError(`long job '${contract.name}': the step must be a function (given ${typeof step})`);
  }
  return {
    ...contract,
    // The worker hands long jobs to Step Functions and never calls this; it fails loudly if anything else does.
    handler: async () => {
      throw new NonRetryableError(`job '${contract.name}' is a long job: it runs in steps on Step Functions, not as a handler`);
    },
    step,
  };
}

/**
 * Declares a long job and its step in one: `implementLongJob(defineLongJobContract(...), step)`.
 *
 * A long job is work that may take longer than Lambda's 15 minutes, done in
 * steps. A Step Functions state machine calls `step` in a loop; each
 * call gets the payload and the last checkpoint and returns the next
 * checkpoint (with progress), or `{ done: true, result }`; several short steps
 * run in one Lambda invocation, within its time budget. A job declared with
 * `maxDuration` of 5 minutes or less runs on an Express state machine instead. A failing step is
 * retried from the last checkpoint by the job's retry policy. The job is
 * enqueued, delayed, scheduled, waited for and cancelled like any other.
 *
 * @example
 * export const reindex = defineLongJob({
 *   name: 'search.reindex',
 *   schema: z.object({ index: z.string() }),
 *   step: async ({ index }, { checkpoint, signal }) => {
 *     const { next, total, done } = await reindexBatch(index, checkpoint?.cursor, signal);
 *     if (done) return { done: true, result: { total } };
 *     return { checkpoint: { cursor: next }, progress: (100 * next) / total };
 *   },
 * });
 */
export function defineLongJob<const Name extends string, Schema extends z.ZodType, Checkpoint, Result>(
  input: LongJobDefinitionInput<Name, Schema, Checkpoint, Result>,
): LongJobDefinition<Name, Schema, Checkpoint, Result> {
  const { step, ...contract } = input;
  return implementLongJob(defineLongJobContract(contract) as LongJobContract<Name, Schema, Result>, step);
}

/** True for long job contracts (`defineLongJobContract`, `defineLongJob`): they run on Step Functions. */
export function isLongJobContract(contract: AnyJobContract): contract is LongJobContract<string, z.ZodType, unknown> {
  return contract.mode === 'long';
}

/** True for long jobs with their step (`implementLongJob`, `defineLongJob`): what the step function runs. */
export function isLongJob(definition: AnyJobContract): definition is LongJobDefinition<string, z.ZodType, unknown, unknown> {
  return definition.mode === 'long' && typeof (definition as Partial<LongJobDefinition>).step === 'function';
}

/** What the CDK stack needs to know about a registry's long jobs. */
export interface LongJobPlan {
  readonly jobTypes: readonly string[];
  /** Those declared to fit an Express execution (`maxDuration` ≤ 5 minutes); the stack then deploys an Express state machine too. */
  readonly expressJobTypes: readonly string[];
  /** Longest `stepTimeout` among them; the step Lambda's timeout is derived from it. */
  readonly longestStepTimeoutMs: number;
}

/** The long job types of a registry (contracts suffice), or undefined when it has none (the stack then deploys no state machine). */
export function planLongJobs(registry: JobRegistry): LongJobPlan | undefined {
  const longJobs = Object.values(registry).filter(isLongJobContract);
  if (longJobs.length === 0) return undefined;
  return {
    jobTypes: longJobs.map((job) => job.name).sort(),
    expressJobTypes: longJobs
      .filter((job) => job.workflow === 'express')
      .map((job) => job.name)
      .sort(),
    longestStepTimeoutMs: Math.max(...longJobs.map((job) => job.stepTimeoutMs)),
  };
}
