import type { Logger } from '@aws-lambda-powertools/logger';
import type { z } from 'zod';
import type { DurationInput } from '../duration.js';
import type { JobContract, JobHandler } from '../job-definition.js';
import type { JobProgress } from '../record.js';
import type { RetryPolicyInput } from '../retry.js';
import type { ScheduleDeclaration } from '../scheduling/declared.js';

/** What one step of a long job gets besides its payload. */
export interface LongJobStepContext<Checkpoint> {
  readonly jobId: string;
  readonly jobType: string;
  /** 1 on the first attempt; a failed step that is retried starts the next attempt from the last checkpoint. */
  readonly attempt: number;
  /** Steps completed so far over the job's life (0 on the first step). */
  readonly step: number;
  /** What the last completed step returned as `checkpoint`; undefined on the first step. */
  readonly checkpoint: Checkpoint | undefined;
  readonly correlationId: string;
  /** A logger with the job id, type, attempt and step attached. */
  readonly logger: Logger;
  /**
   * Aborts when the step's time is up (stop, and return a checkpoint soon after),
   * or within about 5 s of `cancel()` with JobCancelledError as its reason (a step
   * that then throws ends the job `cancelled`).
   */
  readonly signal: AbortSignal;
  /** Epoch ms at which `signal` aborts; a step still running then fails and is retried from the last checkpoint. */
  readonly deadline: number;
}

/**
 * What a step returns: either the job's result, or a checkpoint to resume from
 * in the next step (stored on the job record; keep it small, at most 100 KB as
 * JSON), with optional progress and an optional pause before the next step.
 */
export type LongJobStepResult<Checkpoint, Result> =
  | { readonly done: true; readonly result: Result }
  | {
      readonly done?: false;
      readonly checkpoint: Checkpoint;
      /** 0..100, or `{ percent, message }`; shown by `get` and `jobstack wait`. */
      readonly progress?: number | JobProgress;
      /** Pause before the next step (a Step Functions Wait: no Lambda runs meanwhile). */
      readonly waitFor?: DurationInput;
    };

export type LongJobStep<Payload, Checkpoint, Result> = (
  payload: Payload,
  context: LongJobStepContext<Checkpoint>,
) => Promise<LongJobStepResult<Checkpoint, Result>>;

/** What `defineLongJobContract` takes: everything about a long job type but its step. */
export interface LongJobContractInput<Name extends string, Schema extends z.ZodType, ResultSchema extends z.ZodType | undefined> {
  /** Unique job type name. */
  readonly name: Name;
  /** zod schema of the payload; checked at enqueue and before every step. */
  readonly schema: Schema;
  /** zod schema of the final result, for typing only (see `JobContractInput.result`). @default - the result is `unknown` */
  readonly result?: ResultSchema;
  /**
   * Longest one step may run. The step Lambda's timeout is derived from it, so
   * the step always ends (and its failure is recorded) before Lambda stops it.
   * @default '10m'
   */
  readonly stepTimeout?: DurationInput;
  /**
   * Longest the whole job is expected to take, from its first step to its
   * result, waits and retry backoffs included. Up to 5 minutes, the job runs on
   * an Express workflow, billed per execution and duration (about $2 per
   * million short jobs) instead of per state transition ($25 per million
   * transitions); a job that overruns it is handed over to the Standard workflow
   * and finishes there, nothing lost. Longer, or not given: Standard.
   * At least `stepTimeout`.
   * @default - not declared: the Standard workflow
   */
  readonly maxDuration?: DurationInput;
  /** Retries of a failing step, from the last checkpoint, with the same semantics as short jobs. @default DEFAULT_RETRY_POLICY */
  readonly retry?: RetryPolicyInput;
  /** The queue delayed and scheduled starts of this job arrive on. @default 'default' */
  readonly queue?: string;
  readonly description?: string;
  readonly schedule?: ScheduleDeclaration<z.input<Schema>> | readonly ScheduleDeclaration<z.input<Schema>>[];
}

export interface LongJobDefinitionInput<Name extends string, Schema extends z.ZodType, Checkpoint, Result>
  extends Omit<LongJobContractInput<Name, Schema, undefined>, 'result'> {
  /** Does one step of the work and returns a checkpoint, or the result when done. */
  readonly step: LongJobStep<z.output<Schema>, Checkpoint, Result>;
}

/**
 * A long job type without its step: `mode: 'long'` and the step timeout are on
 * the contract, so the CDK construct plans the state machine from contracts alone.
 */
export interface LongJobContract<Name extends string = string, Schema extends z.ZodType = z.ZodType, Result = unknown>
  extends JobContract<Name, Schema, Result> {
  readonly mode: 'long';
  readonly stepTimeoutMs: number;
  /** The declared `maxDuration` in ms, when given. */
  readonly maxDurationMs?: number;
  /** Where its steps run: `express` when `maxDuration` fits an Express execution (5 minutes), else `standard`. */
  readonly workflow: LongJobWorkflow;
}

/** The Step Functions workflow type a long job runs on. */
export type LongJobWorkflow = 'standard' | 'express';

/**
 * A long job type with its step. It is a `JobDefinition` too (its `handler`
 * only fails loudly, since the worker hands long jobs to Step Functions).
 */
export interface LongJobDefinition<
  Name extends string = string,
  Schema extends z.ZodType = z.ZodType,
  Checkpoint = unknown,
  Result = unknown,
> extends LongJobContract<Name, Schema, Result> {
  readonly handler: JobHandler<z.output<Schema>, Result>;
  readonly step: LongJobStep<z.output<Schema>, Checkpoint, Result>;
}
