import type { z } from 'zod';
import { parseDuration } from '../duration.js';
import { NonRetryableError } from '../errors.js';
import { type AnyJobDefinition, defineJob, type JobRegistry } from '../job-definition.js';
import type { LongJobDefinition, LongJobDefinitionInput } from './types.js';

/** Longest step: Lambda's 15 minutes less a minute for recording the outcome and a cold start. */
export const MAX_STEP_TIMEOUT_MS = 14 * 60_000;
const DEFAULT_STEP_TIMEOUT_MS = 10 * 60_000;

/**
 * Declares a long job: work that may take longer than Lambda's 15 minutes,
 * done in steps. A Standard Step Functions state machine calls `step` in a
 * loop; each call gets the payload and the last checkpoint and returns the
 * next checkpoint (with progress), or `{ done: true, result }`. A failing step
 * is retried from the last checkpoint by the job's retry policy. The job is
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
  const stepTimeoutMs = input.stepTimeout === undefined ? DEFAULT_STEP_TIMEOUT_MS : parseDuration(input.stepTimeout);
  if (stepTimeoutMs < 1_000 || stepTimeoutMs > MAX_STEP_TIMEOUT_MS) {
    throw new RangeError(`long job '${input.name}': stepTimeout must be 1s..14m (given ${stepTimeoutMs} ms)`);
  }
  const base = defineJob({
    name: input.name,
    schema: input.schema,
    // The worker hands long jobs to Step Functions and never calls this; it fails loudly if anything else does.
    handler: async () => {
      throw new NonRetryableError(`job '${input.name}' is a long job: it runs in steps on Step Functions, not as a handler`);
    },
    ...(input.retry === undefined ? {} : { retry: input.retry }),
    ...(input.queue === undefined ? {} : { queue: input.queue }),
    ...(input.description === undefined ? {} : { description: input.description }),
    ...(input.schedule === undefined ? {} : { schedule: input.schedule }),
  });
  return { ...base, mode: 'long', step: input.step, stepTimeoutMs } as LongJobDefinition<Name, Schema, Checkpoint, Result>;
}

/** True for job types declared with `defineLongJob`. */
export function isLongJob(definition: AnyJobDefinition): definition is LongJobDefinition<string, z.ZodType, unknown, unknown> {
  return definition.mode === 'long' && typeof (definition as Partial<LongJobDefinition>).step === 'function';
}

/** What the CDK stack needs to know about a registry's long jobs. */
export interface LongJobPlan {
  readonly jobTypes: readonly string[];
  /** Longest `stepTimeout` among them; the step Lambda's timeout is derived from it. */
  readonly longestStepTimeoutMs: number;
}

/** The long job types of a registry, or undefined when it has none (the stack then deploys no state machine). */
export function planLongJobs(registry: JobRegistry): LongJobPlan | undefined {
  const longJobs = Object.values(registry).filter(isLongJob);
  if (longJobs.length === 0) return undefined;
  return {
    jobTypes: longJobs.map((job) => job.name).sort(),
    longestStepTimeoutMs: Math.max(...longJobs.map((job) => job.stepTimeoutMs)),
  };
}
