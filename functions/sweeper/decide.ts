import { type JobRecord, MAX_SQS_DELAY_SECONDS } from '../../shared/index.js';

/** When an unfinished job counts as stale (it has not moved for a while), by state. */
export interface StaleThresholds {
  /**
   * A `queued` job not picked up this long after its last change; also how long a
   * job re-sent by the sweeper is given before it counts as stale again.
   * @default 20 min
   */
  readonly queuedMs: number;
  /** A `running` job whose lease expired this long ago (its message should have come back by then). */
  readonly runningGraceMs: number;
  /** A `retrying` job this long past its next attempt time. @default 5 min */
  readonly retryingGraceMs: number;
  /** A `scheduled` job this long past its run time. @default 5 min */
  readonly scheduledGraceMs: number;
}

/** The defaults of every threshold except `runningGraceMs`, which depends on the queue's visibility timeout. */
export const DEFAULT_STALE_THRESHOLDS = {
  queuedMs: 20 * 60_000,
  retryingGraceMs: 5 * 60_000,
  scheduledGraceMs: 5 * 60_000,
} as const;

/** What the sweeper knows about a job queue's messages, read at the start of its run. */
export interface QueueEvidence {
  /** Epoch ms just before the counts were requested. */
  readonly readAt: number;
  /**
   * True when the queue and its undeliverable queue held no message waiting or
   * in flight; undefined when that could not be read.
   */
  readonly empty: boolean | undefined;
  /**
   * True when some message was still delayed (`DelaySeconds`). A delayed message
   * can only belong to a job sent less than 15 minutes before the read, so it
   * keeps the evidence from younger jobs only: another job's delayed message
   * must not hide an older job whose message was lost.
   * @default false
   */
  readonly delayed?: boolean;
  /** The longest message retention of those queues, ms: past it SQS has deleted any message. */
  readonly retentionMs: number;
}

/** How much the sweeper trusts its evidence. */
export interface EvidenceRules {
  /**
   * How long after a send an empty count proves the message is gone. SQS's
   * counts are approximate and settle about a minute after a send.
   * @default 2 min
   */
  readonly countSettleMs: number;
  /** Margin beyond the queue's retention period before a send is certainly deleted. @default 1 h */
  readonly retentionMarginMs: number;
}

export const DEFAULT_EVIDENCE_RULES: EvidenceRules = { countSettleMs: 2 * 60_000, retentionMarginMs: 60 * 60_000 };

/** SQS's longest `DelaySeconds`: a message sent earlier than this before a count can no longer be delayed. */
const MAX_SQS_DELAY_MS = MAX_SQS_DELAY_SECONDS * 1_000;

/** SQS's longest retention period (14 days): the safe assumption when a queue's own could not be read. */
export const MAX_SQS_RETENTION_MS = 1_209_600_000;

export interface SweepConfig {
  readonly thresholds: StaleThresholds;
  /** Re-sends consumed without moving the job before it is declared dead. @default 3 */
  readonly maxSweeps: number;
  readonly evidence: EvidenceRules;
}

export type SweepDecision =
  | {
      readonly action: 'leave';
      /**
       * `fresh`: the job moved recently. `message-may-exist`: a message able to
       * move it may be in its queue (a backlog), so acting could only duplicate or
       * kill a healthy job. `driven-by-execution`: a long job held by its Step
       * Functions execution, not by a message.
       */
      readonly reason: 'fresh' | 'message-may-exist' | 'driven-by-execution';
    }
  /**
   * `resend` the job's message; `kill`: mark it dead after `maxSweeps` re-sends
   * did not move it; `forward`: send the missing dead-letter copy of a dead job
   * (`deadLetterPending`) whose own message, which would have sent it, is gone.
   */
  | { readonly action: 'resend' | 'kill' | 'forward'; readonly evidence: NoMessageEvidence };

/** Why the sweeper may conclude that no message for a job exists. */
export type NoMessageEvidence = 'queue-empty' | 'retention-passed';

/**
 * Whether a job has not moved for longer than its state allows. Stale alone is
 * not stuck: behind a backlog a healthy job's message may wait for hours; see
 * {@link noMessageEvidence}.
 */
export function isStale(record: JobRecord, thresholds: StaleThresholds, now: number): boolean {
  const since = (iso: string | undefined) => (iso === undefined ? Number.POSITIVE_INFINITY : now - Date.parse(iso));
  // A job re-sent recently gets time for that message to arrive before it counts as stale again.
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
    case 'dead':
      // Dead with its dead-letter copy never confirmed: whoever marked it dead had time to send it.
      return record.deadLetterPending === true && since(record.updatedAt) > thresholds.queuedMs;
    default:
      return false;
  }
}

/**
 * The latest moment a message for the job can have been sent, epoch ms. Every
 * sender changes the record when it sends — enqueue and retry/redrive write
 * `updatedAt`, the sweeper `sweptAt`, a schedule fires at `runAt` — except a
 * retry of a message that stays in the queue (visibility changes), which sends
 * nothing new. Two exceptions are accepted: EventBridge Scheduler may retry a
 * failed fire for up to a day after `runAt`, and `redrive` re-sends a job that
 * is already `queued` without writing it; either message is absorbed by the
 * claim if the sweeper re-sent too.
 */
export function lastPossibleSendAt(record: JobRecord): number {
  const times = [record.updatedAt, record.sweptAt, record.runAt].filter((iso) => iso !== undefined).map(Date.parse);
  return Math.max(...times.filter(Number.isFinite));
}

/**
 * Evidence that no message able to move the job exists, or undefined when one
 * may exist:
 *
 * - `queue-empty`: the job's queue and its undeliverable queue held no message
 *   waiting or in flight, counted after every send for the job had time to show
 *   in the counts; delayed messages count too unless the job's last send is
 *   older than the longest delay (15 min), when none of them can be its own.
 * - `retention-passed`: the last possible send is older than the queue's
 *   retention period (plus a margin), so SQS has deleted any such message.
 *
 * A queue that is never empty therefore never has its jobs re-sent or killed by
 * the count rule; a message lost in a permanently busy queue is recovered only
 * by the retention rule, up to `retention + margin` (about 14 days) later. That
 * is the price of never duplicating or killing a job that waits in a backlog.
 */
export function noMessageEvidence(
  record: JobRecord,
  queue: QueueEvidence | undefined,
  rules: EvidenceRules,
  now: number,
): NoMessageEvidence | undefined {
  const lastSend = lastPossibleSendAt(record);
  const delayedMayBeIts = queue?.delayed === true && queue.readAt < lastSend + MAX_SQS_DELAY_MS + rules.countSettleMs;
  if (queue?.empty === true && !delayedMayBeIts && queue.readAt >= lastSend + rules.countSettleMs) return 'queue-empty';
  const retentionMs = queue?.retentionMs ?? MAX_SQS_RETENTION_MS;
  if (now >= lastSend + retentionMs + rules.retentionMarginMs) return 'retention-passed';
  return undefined;
}

/**
 * What the sweeper does with one scanned record: nothing unless the job is
 * stale and no message can move it; then re-send its message, or, when
 * `maxSweeps` re-sends were already consumed without moving it, mark it dead.
 * A dead job whose dead-letter copy is still pending gets that copy sent.
 */
export function decideSweep(
  record: JobRecord,
  queue: QueueEvidence | undefined,
  config: SweepConfig,
  now: number,
): SweepDecision {
  if (!isStale(record, config.thresholds, now)) return { action: 'leave', reason: 'fresh' };
  // A long job waits out its backoff inside its execution; no message exists to find, and a
  // re-sent one would be ignored by the long-job starter. The sweeper cannot see executions.
  if (record.executionArn !== undefined && (record.state === 'retrying' || record.state === 'running')) {
    return { action: 'leave', reason: 'driven-by-execution' };
  }
  const evidence = noMessageEvidence(record, queue, config.evidence, now);
  if (evidence === undefined) return { action: 'leave', reason: 'message-may-exist' };
  if (record.state === 'dead') return { action: 'forward', evidence };
  return { action: (record.sweeps ?? 0) >= config.maxSweeps ? 'kill' : 'resend', evidence };
}
