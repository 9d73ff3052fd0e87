import * as z from 'zod';
import { JobIdSchema } from './envelope.js';
import { JobState } from './states.js';

/** An error as stored on a job record: enough to act on without the logs. */
export const JobErrorInfoSchema = z.object({
  name: z.string(),
  message: z.string(),
  stack: z.string().optional(),
  retryable: z.boolean(),
});
export type JobErrorInfo = z.infer<typeof JobErrorInfoSchema>;

export const JobProgressSchema = z.object({
  /** 0..100 */
  percent: z.number().min(0).max(100),
  message: z.string().optional(),
});
export type JobProgress = z.infer<typeof JobProgressSchema>;

/** What a job went through before a manual retry or redrive started a new attempt series. */
export const JobHistoryEntrySchema = z.object({
  /** When the new series started. */
  at: z.string(),
  /** Why: `retry` (one job) or `redrive` (from the dead-letter queue). */
  reason: z.enum(['retry', 'redrive']),
  state: z.string(),
  attempts: z.number().int(),
  error: JobErrorInfoSchema.optional(),
});
export type JobHistoryEntry = z.infer<typeof JobHistoryEntrySchema>;

/**
 * The job record in the job-status table: the single source of truth for a job,
 * outliving SQS retention. Times are ISO-8601 strings except `leaseUntil`
 * (epoch ms, compared in conditions) and `expiresAt` (epoch seconds, for TTL).
 */
export const JobRecordSchema = z.object({
  id: JobIdSchema,
  type: z.string(),
  state: z.enum(JobState),
  queue: z.string(),
  /** Attempts started so far, over the job's whole life (a manual retry continues the count). */
  attempts: z.number().int().min(0),
  maxAttempts: z.number().int().min(1),
  payload: z.unknown().optional(),
  /** Where the payload is when it was too large to keep inline. */
  payloadRef: z.object({ bucket: z.string(), key: z.string(), sizeBytes: z.number() }).optional(),
  correlationId: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  runAt: z.string().optional(),
  nextAttemptAt: z.string().optional(),
  /** Epoch ms until which the current run owns the job; a later delivery may take over after it. */
  leaseUntil: z.number().optional(),
  result: z.unknown().optional(),
  error: JobErrorInfoSchema.optional(),
  progress: JobProgressSchema.optional(),
  /** Long jobs: ARN of the Step Functions execution running the job (the latest, after a continue-as-new). */
  executionArn: z.string().optional(),
  /** Long jobs: what the last completed step returned to resume from. */
  checkpoint: z.unknown().optional(),
  /** Long jobs: steps completed over the job's life. */
  steps: z.number().int().min(0).optional(),
  idempotencyKey: z.string().optional(),
  /** Ordering key of a job type with `ordering`: the FIFO message group every send of the job uses. */
  orderingKey: z.string().optional(),
  /** Set by `cancel()` on a running job; the run sees it at its next check. */
  cancelRequested: z.boolean().optional(),
  /** Epoch seconds; DynamoDB TTL deletes the record after it (set on terminal states). */
  expiresAt: z.number().optional(),
  /** How often the stuck-job sweeper re-sent this job's message, and when it last did. */
  sweeps: z.number().int().optional(),
  sweptAt: z.string().optional(),
  /** Earlier attempt series, oldest first (kept short: see MAX_HISTORY_ENTRIES). */
  history: z.array(JobHistoryEntrySchema).optional(),
  /**
   * Set on a `dead` job whose dead-letter copy could not be sent yet; the next
   * delivery of its message (or the undeliverable consumer) sends it and clears this.
   */
  deadLetterPending: z.boolean().optional(),
  /** The priority level the job was sent to (on a queue with levels); every re-send goes to that level's queue. */
  priority: z.string().optional(),
  /** The job's tenant (`fairness.key`), sent as SQS `MessageGroupId` on every send and re-send. */
  fairnessKey: z.string().optional(),
  /** The batch this job is a member of (`jobs.batch`, or the children a parent waits for). */
  batchId: z.string().optional(),
  /** The job that started this one with `ctx.spawnAndWait` and waits for it. */
  parentId: z.string().optional(),
  /** The job whose success created this one (`ctx.enqueue`, a follow-up). */
  enqueuedBy: z.string().optional(),
  /** The batch whose end created this job (its `onComplete` or `onSuccess` callback). */
  callbackOf: z.string().optional(),
  /** A parent's children batch: set when it started waiting, kept so the resumed attempt reads its children. */
  waitingFor: z.string().optional(),
  /** The outcome a batch member was counted as (written by the flow coordinator; see shared/flows/). */
  countedAs: z.string().optional(),
  /** Present only in states that need attention: the sparse index key. */
  attentionState: z.string().optional(),
});

/**
 * A job record. `Result` types `result` when the job type is known (`get` and
 * `wait` with an enqueued job's handle); it is `unknown` otherwise.
 */
export interface JobRecord<Result = unknown> extends Omit<z.infer<typeof JobRecordSchema>, 'result'> {
  /** What the handler (or a long job's last step) returned, after a JSON round trip; set when `succeeded`. */
  result?: Result;
}
