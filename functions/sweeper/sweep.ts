import type { Logger } from '@aws-lambda-powertools/logger';
import {
  envelopeFromRecord,
  type IdempotencyStore,
  type JobErrorInfo,
  type JobMaintenance,
  type JobQueue,
  type JobRecord,
  serializeEnvelope,
} from '../../shared/index.js';

/** When an unfinished job counts as stuck, by state. */
export interface StaleThresholds {
  /** A `queued` job not picked up this long after its last change (longer than any SQS delay). @default 20 min */
  readonly queuedMs: number;
  /** A `running` job whose lease expired this long ago (its message should have come back by then). */
  readonly runningGraceMs: number;
  /** A `retrying` job this long past its next attempt time. @default 5 min */
  readonly retryingGraceMs: number;
  /** A `scheduled` job this long past its run time. @default 5 min */
  readonly scheduledGraceMs: number;
}

export interface SweepDeps {
  readonly store: JobMaintenance;
  readonly cursors: IdempotencyStore;
  readonly queues: ReadonlyMap<string, JobQueue>;
  readonly logger: Logger;
  readonly thresholds: StaleThresholds;
  /** Records read per run, at most. @default 2000 */
  readonly maxRecordsPerRun?: number;
  /** Re-sends before a stuck job is declared dead. @default 3 */
  readonly maxSweeps?: number;
  readonly clock?: () => number;
}

export interface SweepResult {
  readonly scanned: number;
  readonly resent: number;
  readonly killed: number;
  /** True when this run reached the end of the table (the next starts over). */
  readonly passComplete: boolean;
}

const CURSOR_NAME = 'sweeper';

/**
 * Finds jobs that stopped moving with no live message to move them — a record
 * written by an enqueue whose send then failed, a run whose message was lost,
 * a schedule that never fired — and re-sends their message (the worker's claim
 * makes a spurious re-send harmless). After `maxSweeps` re-sends without
 * progress the job is marked dead, so nothing stays stuck silently.
 */
export async function sweep(deps: SweepDeps): Promise<SweepResult> {
  const clock = deps.clock ?? Date.now;
  const budget = deps.maxRecordsPerRun ?? 2_000;
  const maxSweeps = deps.maxSweeps ?? 3;
  let cursor = await deps.cursors.loadCursor(CURSOR_NAME);
  let scanned = 0;
  let resent = 0;
  let killed = 0;
  let passComplete = false;
  while (scanned < budget) {
    const page = await deps.store.scanUnfinished({ limit: Math.min(500, budget - scanned), ...(cursor ? { cursor } : {}) });
    scanned += Math.max(page.records.length, 1);
    for (const record of page.records) {
      if (!isStuck(record, deps.thresholds, clock())) continue;
      if ((record.sweeps ?? 0) >= maxSweeps) {
        if (await killStuck(deps, record, maxSweeps)) killed++;
      } else if (await resend(deps, record)) {
        resent++;
      }
    }
    cursor = page.cursor;
    if (cursor === undefined) {
      passComplete = true;
      break;
    }
  }
  await deps.cursors.saveCursor(CURSOR_NAME, cursor);
  deps.logger.info('Sweep finished', { scanned, resent, killed, passComplete });
  return { scanned, resent, killed, passComplete };
}

export function isStuck(record: JobRecord, thresholds: StaleThresholds, now: number): boolean {
  const since = (iso: string | undefined) => (iso === undefined ? Number.POSITIVE_INFINITY : now - Date.parse(iso));
  // A job re-sent recently gets time for that message to arrive before it counts as stuck again.
  if (record.sweptAt !== undefined && since(record.sweptAt) < thresholds.queuedMs) return false;
  switch (record.state) {
    case 'queued':
      return since(record.updatedAt) > thresholds.queuedMs;
    case 'running':
      return record.leaseUntil !== undefined && now - record.leaseUntil > thresholds.runningGraceMs;
    case 'retrying':
      return since(record.nextAttemptAt ?? record.updatedAt) > thresholds.retryingGraceMs;
    case 'scheduled':
      return since(record.runAt ?? record.updatedAt) > thresholds.scheduledGraceMs;
    default:
      return false;
  }
}

async function resend(deps: SweepDeps, record: JobRecord): Promise<boolean> {
  const queue = deps.queues.get(record.queue);
  if (!queue) {
    deps.logger.warn('Stuck job belongs to a queue this stack does not have', { jobId: record.id, queue: record.queue });
    return false;
  }
  if (!(await deps.store.markSwept(record))) return false;
  await queue.send({ envelope: envelopeFromRecord(record) });
  deps.logger.warn('Re-sent the message of a stuck job', {
    jobId: record.id,
    state: record.state,
    sweeps: (record.sweeps ?? 0) + 1,
  });
  return true;
}

async function killStuck(deps: SweepDeps, record: JobRecord, maxSweeps: number): Promise<boolean> {
  const error: JobErrorInfo = {
    name: 'StuckJobError',
    message: `the job made no progress after ${maxSweeps} re-sends of its message by the sweeper (last state: ${record.state})`,
    retryable: true,
  };
  if (!(await deps.store.markDead(record.id, error))) return false;
  const queue = deps.queues.get(record.queue);
  await queue?.sendToDeadLetter(serializeEnvelope(envelopeFromRecord(record)), {
    jobId: record.id,
    errorName: error.name,
    errorMessage: error.message,
  });
  deps.logger.error('Stuck job marked dead', { jobId: record.id, state: record.state });
  return true;
}
