import type { Logger } from '@aws-lambda-powertools/logger';
import { resendOf } from '../../shared/flow/routing.js';
import {
  envelopeFromRecord,
  type IdempotencyStore,
  type JobErrorInfo,
  JobErrorName,
  type JobMaintenance,
  type JobQueue,
  type JobRecord,
  serializeEnvelope,
} from '../../shared/index.js';
import {
  DEFAULT_EVIDENCE_RULES,
  decideSweep,
  type EvidenceRules,
  MAX_SQS_RETENTION_MS,
  type QueueEvidence,
  type StaleThresholds,
} from './decide.js';

export type { StaleThresholds } from './decide.js';

/** One logical queue as the sweeper sees it. */
export interface SweptQueue {
  /** The job queue: re-sends go here, dead-letter copies to its dead-letter queue. */
  readonly queue: JobQueue;
  /**
   * Where SQS moves the queue's messages after too many receives; its consumer
   * still decides about those jobs, so its messages count as live. Without it
   * the sweeper cannot prove a queue empty and relies on retention alone.
   */
  readonly undeliverable?: JobQueue;
  /**
   * A prioritized queue's level queues by level name (the default level's is `queue`): a job is re-sent to its
   * record's level, and every level's messages count as live evidence.
   */
  readonly levels?: ReadonlyMap<string, JobQueue>;
}

export interface SweepDeps {
  readonly store: JobMaintenance;
  readonly cursors: IdempotencyStore;
  readonly queues: ReadonlyMap<string, SweptQueue>;
  readonly logger: Logger;
  readonly thresholds: StaleThresholds;
  /** @default DEFAULT_EVIDENCE_RULES */
  readonly evidence?: EvidenceRules;
  /** Records read per run, at most. @default 2000 */
  readonly maxRecordsPerRun?: number;
  /** Re-sends consumed without moving the job before it is declared dead. @default 3 */
  readonly maxSweeps?: number;
  readonly clock?: () => number;
  /**
   * Queues paused right now (`jobs.pause`): their jobs wait on purpose, and while a mapping still
   * delivers, the worker hands their messages back delayed, which can read as "no message", so the
   * sweeper leaves every job of them but dead ones alone until they are resumed. @default none
   */
  readonly pausedQueues?: ReadonlySet<string>;
}

export interface SweepResult {
  readonly scanned: number;
  readonly resent: number;
  readonly killed: number;
  /** Dead jobs whose missing dead-letter copy this run sent. */
  readonly forwarded: number;
  /** True when this run reached the end of the table (the next starts over). */
  readonly passComplete: boolean;
}

const CURSOR_NAME = 'sweeper';

/**
 * Finds jobs that stopped moving with no message able to move them — a record
 * written by an enqueue whose send then failed, a run whose message was lost,
 * a schedule that never fired — and re-sends their message (the worker's claim
 * makes a spurious re-send harmless). After `maxSweeps` re-sends consumed
 * without progress the job is marked dead, so nothing stays stuck silently.
 *
 * A job that is merely old is left alone: during a backlog a healthy job's
 * message may wait for hours. The sweeper acts only with evidence that no
 * message for the job exists (see `noMessageEvidence` in ./decide.ts): its
 * queue was read empty before the scan, or the queue's retention has passed
 * since the last possible send. Every write is conditional on the record
 * version the scan read, so a job claimed after the scan is never touched.
 * On the same evidence it also sends the dead-letter copy of a dead job that
 * never got one (`deadLetterPending`), so every dead job can be redriven.
 */
export async function sweep(deps: SweepDeps): Promise<SweepResult> {
  const clock = deps.clock ?? Date.now;
  const budget = deps.maxRecordsPerRun ?? 2_000;
  const config = {
    thresholds: deps.thresholds,
    maxSweeps: deps.maxSweeps ?? 3,
    evidence: deps.evidence ?? DEFAULT_EVIDENCE_RULES,
  };
  // Read before the scan: a count read after a record was scanned could miss a message sent in between.
  const evidence = await readEvidence(deps, clock);
  let cursor = await deps.cursors.loadCursor(CURSOR_NAME);
  let scanned = 0;
  let resent = 0;
  let killed = 0;
  let forwarded = 0;
  let passComplete = false;
  while (scanned < budget) {
    const page = await deps.store.scanUnfinished({ limit: Math.min(500, budget - scanned), ...(cursor ? { cursor } : {}) });
    scanned += Math.max(page.records.length, 1);
    for (const record of page.records) {
      if (record.state !== 'dead' && deps.pausedQueues?.has(record.queue)) continue;
      const swept = deps.queues.get(record.queue);
      const decision = decideSweep(record, evidence.get(record.queue), config, clock());
      if (decision.action === 'leave') continue;
      if (!swept) {
        deps.logger.warn('Stuck job belongs to a queue this stack does not have', { jobId: record.id, queue: record.queue });
        continue;
      }
      if (decision.action === 'kill') {
        if (await killStuck(deps, swept.queue, record, config.maxSweeps)) killed++;
      } else if (decision.action === 'forward') {
        if (await forwardPending(deps, swept.queue, record)) forwarded++;
      } else if (
        await resend(deps, (record.priority && swept.levels?.get(record.priority)) || swept.queue, record, decision.evidence)
      ) {
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
  deps.logger.info('Sweep finished', { scanned, resent, killed, forwarded, passComplete });
  return { scanned, resent, killed, forwarded, passComplete };
}

/** Reads every queue's message counts and retention; a queue that cannot be read gives no `empty` evidence. */
async function readEvidence(deps: SweepDeps, clock: () => number): Promise<Map<string, QueueEvidence>> {
  const entries = await Promise.all(
    [...deps.queues].map(async ([name, { queue, undeliverable, levels }]): Promise<[string, QueueEvidence]> => {
      const readAt = clock();
      const jobQueues = [queue, ...[...(levels?.values() ?? [])].filter((level) => level.url !== queue.url)];
      const queues = undeliverable ? [...jobQueues, undeliverable] : jobQueues;
      const [counts, retentions] = await Promise.all([
        Promise.all(queues.map((q) => q.messageCounts())).catch((error: unknown) => {
          deps.logger.warn('Could not read queue message counts; acting only on retention', { queue: name, error });
          return undefined;
        }),
        Promise.all(queues.map((q) => q.retentionPeriodSeconds())).catch((error: unknown) => {
          deps.logger.warn('Could not read queue retention; assuming the SQS maximum', { queue: name, error });
          return undefined;
        }),
      ]);
      const empty =
        counts === undefined || undeliverable === undefined
          ? undefined
          : counts.every((c) => c.visible === 0 && c.inFlight === 0);
      const delayed = counts === undefined || counts.some((c) => c.delayed > 0);
      const retentionMs = retentions === undefined ? MAX_SQS_RETENTION_MS : Math.max(...retentions) * 1_000;
      return [name, { readAt, empty, delayed, retentionMs }];
    }),
  );
  return new Map(entries);
}

async function resend(deps: SweepDeps, queue: JobQueue, record: JobRecord, evidence: string): Promise<boolean> {
  if (!(await deps.store.markSwept(record))) return false;
  // A re-send, to the job's level queue: on a FIFO queue it keeps the job's group and gets a fresh
  // deduplication id; on a standard queue it keeps its fairness group.
  await queue.send(resendOf(record));
  deps.logger.warn('Re-sent the message of a stuck job', {
    jobId: record.id,
    state: record.state,
    sweeps: (record.sweeps ?? 0) + 1,
    evidence,
  });
  return true;
}

/**
 * Marks the job dead on the version the scan read, then copies its message to
 * the dead-letter queue. The record carries `deadLetterPending` until the copy
 * is confirmed, so a copy that failed is visible on the record.
 */
async function killStuck(deps: SweepDeps, queue: JobQueue, record: JobRecord, maxSweeps: number): Promise<boolean> {
  const error: JobErrorInfo = {
    name: JobErrorName.stuckJob,
    message: `the job made no progress after ${maxSweeps} re-sends of its message by the sweeper (last state: ${record.state})`,
    retryable: true,
  };
  if (!(await deps.store.markDeadIfUnchanged(record, record.id, error, { deadLetterPending: true }))) return false;
  try {
    await queue.sendToDeadLetter(serializeEnvelope(envelopeFromRecord(record)), {
      jobId: record.id,
      errorName: error.name,
      errorMessage: error.message,
    });
    await deps.store.confirmDeadLetter(record.id);
  } catch (sendError) {
    deps.logger.error('Stuck job marked dead, but its dead-letter copy could not be sent; the record keeps deadLetterPending', {
      jobId: record.id,
      error: sendError,
    });
    return true;
  }
  deps.logger.error('Stuck job marked dead', { jobId: record.id, state: record.state });
  return true;
}

/**
 * Sends the dead-letter copy of a dead job that never got one (the writer that
 * marked it dead could not send it, and no message is left to try again), then
 * clears `deadLetterPending`, so every dead job has a copy to redrive.
 */
async function forwardPending(deps: SweepDeps, queue: JobQueue, record: JobRecord): Promise<boolean> {
  try {
    await queue.sendToDeadLetter(serializeEnvelope(envelopeFromRecord(record)), {
      jobId: record.id,
      errorName: record.error?.name ?? 'UnknownError',
      errorMessage: record.error?.message ?? 'the job was marked dead without a recorded error',
    });
    await deps.store.confirmDeadLetter(record.id);
  } catch (error) {
    deps.logger.error('Could not send the pending dead-letter copy of a dead job; the next sweep tries again', {
      jobId: record.id,
      error,
    });
    return false;
  }
  deps.logger.warn('Sent the pending dead-letter copy of a dead job', { jobId: record.id });
  return true;
}
