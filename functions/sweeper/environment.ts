import { ConfigurationError, FunctionEnv } from '../../shared/index.js';
import { DEFAULT_EVIDENCE_RULES, DEFAULT_STALE_THRESHOLDS, type EvidenceRules, type StaleThresholds } from './decide.js';

/** Environment variables of the sweeper beyond the common ones in FunctionEnv. */
export const SweeperEnv = {
  /** JSON `{ "<queue>": { "url": ..., "deadLetterUrl": ..., "undeliverableUrl": ..., "eventSourceMappingIds": [...] } }`. */
  queues: 'JOBSTACK_QUEUES',
  /** The sweeper's own stack: its last update time decides whether a queue's pause outlived a deploy. */
  stackName: 'JOBSTACK_STACK_NAME',
  /** Milliseconds after a lease expires before a running job counts as stale (≥ the queue's visibility timeout). */
  runningGraceMs: 'JOBSTACK_SWEEP_RUNNING_GRACE_MS',
  /** Milliseconds a `queued` job may wait before it counts as stale. @default 1200000 (20 min) */
  queuedMs: 'JOBSTACK_SWEEP_QUEUED_MS',
  /** Milliseconds past its next attempt time before a `retrying` job counts as stale. @default 300000 (5 min) */
  retryingGraceMs: 'JOBSTACK_SWEEP_RETRYING_GRACE_MS',
  /** Milliseconds past its run time before a `scheduled` job counts as stale. @default 300000 (5 min) */
  scheduledGraceMs: 'JOBSTACK_SWEEP_SCHEDULED_GRACE_MS',
  /** Re-sends consumed without moving a job before it is marked dead. @default 3 */
  maxSweeps: 'JOBSTACK_SWEEP_MAX_SWEEPS',
  /** Milliseconds after a send before an empty queue count proves its message gone. @default 120000 (2 min) */
  countSettleMs: 'JOBSTACK_SWEEP_COUNT_SETTLE_MS',
  /** Milliseconds beyond the queue's retention period before a sent message is certainly deleted. @default 3600000 (1 h) */
  retentionMarginMs: 'JOBSTACK_SWEEP_RETENTION_MARGIN_MS',
} as const;

/** The URLs of one logical queue, as JOBSTACK_QUEUES lists them. */
export interface SweptQueueUrls {
  readonly url: string;
  readonly deadLetterUrl: string;
  /** Absent in stacks deployed before the sweeper read queue counts: it then relies on retention alone. */
  readonly undeliverableUrl?: string;
  /** A prioritized queue's levels (highest first; the last one's URL is `url`): re-sends go to the job's level. */
  readonly levels?: readonly { readonly name: string; readonly url: string }[];
  /** The worker's event source mappings; absent in stacks deployed before pausing existed. */
  readonly eventSourceMappingIds?: readonly string[];
}

export interface SweeperEnvironment {
  readonly jobsTable: string;
  readonly idempotencyTable: string;
  readonly recordRetentionDays: number;
  readonly queues: Record<string, SweptQueueUrls>;
  readonly thresholds: StaleThresholds;
  readonly maxSweeps: number;
  readonly evidence: EvidenceRules;
  /** Absent in stacks deployed before pausing existed: the sweeper then does not reconcile pauses. */
  readonly stackName?: string;
}

export function readSweeperEnvironment(env: NodeJS.ProcessEnv = process.env): SweeperEnvironment {
  const required = [FunctionEnv.jobsTable, FunctionEnv.idempotencyTable, SweeperEnv.queues, SweeperEnv.runningGraceMs];
  const missing = required.filter((name) => !env[name]);
  if (missing.length > 0) throw new ConfigurationError(`sweeper environment is missing ${missing.join(', ')}`);
  let queues: Record<string, SweptQueueUrls>;
  try {
    queues = JSON.parse(env[SweeperEnv.queues] as string) as typeof queues;
  } catch (error) {
    throw new ConfigurationError(`${SweeperEnv.queues} is not JSON`, { cause: error });
  }
  const number = (name: string, fallback: number | undefined, options: { integer?: boolean } = {}): number => {
    const given = env[name];
    if (given === undefined || given === '') {
      if (fallback === undefined) throw new ConfigurationError(`sweeper environment is missing ${name}`);
      return fallback;
    }
    const value = Number(given);
    if (!Number.isFinite(value) || value <= 0 || (options.integer && !Number.isInteger(value))) {
      throw new ConfigurationError(`${name} must be a positive ${options.integer ? 'integer' : 'number'} (given ${given})`);
    }
    return value;
  };
  return {
    jobsTable: env[FunctionEnv.jobsTable] as string,
    idempotencyTable: env[FunctionEnv.idempotencyTable] as string,
    recordRetentionDays: Number(env[FunctionEnv.recordRetentionDays] ?? '30'),
    queues,
    thresholds: {
      queuedMs: number(SweeperEnv.queuedMs, DEFAULT_STALE_THRESHOLDS.queuedMs),
      runningGraceMs: number(SweeperEnv.runningGraceMs, undefined),
      retryingGraceMs: number(SweeperEnv.retryingGraceMs, DEFAULT_STALE_THRESHOLDS.retryingGraceMs),
      scheduledGraceMs: number(SweeperEnv.scheduledGraceMs, DEFAULT_STALE_THRESHOLDS.scheduledGraceMs),
    },
    maxSweeps: number(SweeperEnv.maxSweeps, 3, { integer: true }),
    ...(env[SweeperEnv.stackName] ? { stackName: env[SweeperEnv.stackName] as string } : {}),
    evidence: {
      countSettleMs: number(SweeperEnv.countSettleMs, DEFAULT_EVIDENCE_RULES.countSettleMs),
      retentionMarginMs: number(SweeperEnv.retentionMarginMs, DEFAULT_EVIDENCE_RULES.retentionMarginMs),
    },
  };
}
