import { ConfigurationError, FunctionEnv } from '../../shared/index.js';
import { DEFAULT_INVOCATION_BUDGET_MS, DEFAULT_MAX_STEPS_PER_EXECUTION } from './step-runner.js';

/** Environment variable with the step invocations per execution before continuing as new. */
export const MAX_STEPS_PER_EXECUTION_ENV = 'JOBSTACK_MAX_STEPS_PER_EXECUTION';
/** Environment variable with the ms an invocation keeps starting steps (0: one step per invocation). */
export const INVOCATION_BUDGET_ENV = 'JOBSTACK_LONG_JOB_INVOCATION_BUDGET_MS';

export interface StepEnvironment {
  readonly jobsTable: string;
  /** Bucket of payloads over the inline limit, if the stack has one. */
  readonly payloadBucket?: string;
  readonly recordRetentionDays: number;
  readonly maxStepsPerExecution: number;
  readonly invocationBudgetMs: number;
}

/** Reads and checks the step Lambda's configuration once, at cold start. */
export function readStepEnvironment(env: NodeJS.ProcessEnv = process.env): StepEnvironment {
  const jobsTable = env[FunctionEnv.jobsTable];
  if (!jobsTable) throw new ConfigurationError(`long-job step environment is missing ${FunctionEnv.jobsTable}`);
  const retention = Number(env[FunctionEnv.recordRetentionDays] ?? '30');
  if (!Number.isFinite(retention) || retention <= 0) {
    throw new ConfigurationError(
      `${FunctionEnv.recordRetentionDays} must be a positive number (given ${env[FunctionEnv.recordRetentionDays]})`,
    );
  }
  const maxSteps = Number(env[MAX_STEPS_PER_EXECUTION_ENV] ?? DEFAULT_MAX_STEPS_PER_EXECUTION);
  if (!Number.isInteger(maxSteps) || maxSteps < 1) {
    throw new ConfigurationError(
      `${MAX_STEPS_PER_EXECUTION_ENV} must be a positive integer (given ${env[MAX_STEPS_PER_EXECUTION_ENV]})`,
    );
  }
  const budget = Number(env[INVOCATION_BUDGET_ENV] ?? DEFAULT_INVOCATION_BUDGET_MS);
  if (!Number.isInteger(budget) || budget < 0) {
    throw new ConfigurationError(
      `${INVOCATION_BUDGET_ENV} must be a whole number of ms, 0 or more (given ${env[INVOCATION_BUDGET_ENV]})`,
    );
  }
  const payloadBucket = env[FunctionEnv.payloadBucket];
  return {
    jobsTable,
    ...(payloadBucket ? { payloadBucket } : {}),
    recordRetentionDays: retention,
    maxStepsPerExecution: maxSteps,
    invocationBudgetMs: budget,
  };
}
