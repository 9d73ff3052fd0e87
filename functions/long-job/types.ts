/** The state the state machine carries between steps: small and fixed-size, whatever the job's checkpoint. */
export interface LongJobState {
  readonly jobId: string;
  /** Attempts the job had when this chain of executions started (names the executions). */
  readonly startAttempt: number;
  /** 0 for the first execution of the chain; +1 at every continue-as-new. */
  readonly generation: number;
  /** Step invocations in the current execution; the runner continues as new past the limit. */
  readonly executionSteps: number;
}

/** What the step Lambda gets: the state plus the current execution's ARN (`$$.Execution.Id`). */
export interface StepInput extends LongJobState {
  readonly executionArn: string;
  /** `express` from the Express state machine, whose executions end after 5 minutes. @default 'standard' */
  readonly workflow?: 'standard' | 'express';
  /** When the current execution started (`$$.Execution.StartTime`): an Express execution's deadline counts from it. */
  readonly executionStartedAt?: string;
  /** The current execution's input (`$$.Execution.Input`): a handover from Express carries `resumeAt` in it. */
  readonly executionInput?: { readonly resumeAt?: number };
}

/**
 * Where the state machine goes next, decided by the step Lambda. Handler
 * failures are reported here as `retry` or `dead`, never as thrown errors:
 * error names do not survive every runtime (the local emulator reports them
 * all as `Runtime.HandlerError`), a returned status does.
 */
export const StepStatus = {
  /** Run the next step now. */
  continue: 'continue',
  /** Wait `waitSeconds` (the step asked to pause), then run the next step. */
  wait: 'wait',
  /** The step failed and is retried after `waitSeconds` of backoff. */
  retry: 'retry',
  /** Start a new execution named `nextExecutionName` with the returned state, and end this one. */
  continueAsNew: 'continue-as-new',
  succeeded: 'succeeded',
  /** The job failed for good (out of attempts, non-retryable error, bad payload). */
  dead: 'dead',
  cancelled: 'cancelled',
  /** The job was already finished or is gone: nothing to do. */
  finished: 'finished',
} as const;
export type StepStatus = (typeof StepStatus)[keyof typeof StepStatus];

export interface StepOutput extends LongJobState {
  readonly status: StepStatus;
  /** Seconds to wait before the next step, with `wait` and `retry` (0 otherwise). */
  readonly waitSeconds: number;
  /** With `continue-as-new`: the name of the next execution. */
  readonly nextExecutionName?: string;
  /**
   * With `continue-as-new`: epoch ms before which the next execution runs no
   * step (the wait or retry backoff an Express execution had no time left for);
   * 0 when it may start at once.
   */
  readonly resumeAt?: number;
  /** Steps this invocation ran (several when they were short enough to share it). */
  readonly stepsRun?: number;
}

/** Input of the state machine's failure handler (the step task failed even after its infrastructure retries). */
export interface FailureInput {
  readonly action: 'record-failure';
  readonly jobId: string;
  readonly error: { readonly Error?: string; readonly Cause?: string };
}

/** Name of the Express state machine beside the Standard one named `standardName`. */
export function expressStateMachineName(standardName: string): string {
  return `${standardName}-express`;
}

/**
 * ARN of the Express state machine beside the Standard one: the worker gets
 * the Standard ARN only (JOBSTACK_LONG_JOB_STATE_MACHINE_ARN) and derives this
 * one, as the construct names it.
 */
export function expressStateMachineArn(standardArn: string): string {
  return expressStateMachineName(standardArn);
}
