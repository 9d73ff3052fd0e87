import { ConfigurationError, FunctionEnv } from '../../shared/index.js';
import type { StaleThresholds } from './sweep.js';

/** Environment variables of the sweeper beyond the common ones in FunctionEnv. */
export const SweeperEnv = {
  /** JSON `{ "<queue>": { "url": ..., "deadLetterUrl": ... } }`. */
  queues: 'JOBSTACK_QUEUES',
  /** Milliseconds after a lease expires before a running job counts as stuck (≥ the queue's visibility timeout). */
  runningGraceMs: 'JOBSTACK_SWEEP_RUNNING_GRACE_MS',
} as const;

export interface SweeperEnvironment {
  readonly jobsTable: string;
  readonly idempotencyTable: string;
  readonly recordRetentionDays: number;
  readonly queues: Record<string, { url: string; deadLetterUrl: string }>;
  readonly thresholds: StaleThresholds;
}

export function readSweeperEnvironment(env: NodeJS.ProcessEnv = process.env): SweeperEnvironment {
  const required = [FunctionEnv.jobsTable, FunctionEnv.idempotencyTable, SweeperEnv.queues, SweeperEnv.runningGraceMs];
  const missing = required.filter((name) => !env[name]);
  if (missing.length > 0) throw new ConfigurationError(`sweeper environment is missing ${missing.join(', ')}`);
  let queues: Record<string, { url: string; deadLetterUrl: string }>;
  try {
    queues = JSON.parse(env[SweeperEnv.queues] as string) as typeof queues;
  } catch (error) {
    throw new ConfigurationError(`${SweeperEnv.queues} is not JSON`, { cause: error });
  }
  const runningGraceMs = Number(env[SweeperEnv.runningGraceMs]);
  if (!Number.isFinite(runningGraceMs) || runningGraceMs <= 0) {
    throw new ConfigurationError(
      `${SweeperEnv.runningGraceMs} must be a positive number (given ${env[SweeperEnv.runningGraceMs]})`,
    );
  }
  return {
    jobsTable: env[FunctionEnv.jobsTable] as string,
    idempotencyTable: env[FunctionEnv.idempotencyTable] as string,
    recordRetentionDays: Number(env[FunctionEnv.recordRetentionDays] ?? '30'),
    queues,
    thresholds: { queuedMs: 20 * 60_000, runningGraceMs, retryingGraceMs: 5 * 60_000, scheduledGraceMs: 5 * 60_000 },
  };
}
