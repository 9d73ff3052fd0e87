import type { PayloadRef } from '../payload-store.js';
import type { JobErrorInfo, JobRecord } from '../record.js';
import type { JobState } from '../states.js';

/** What `create` writes for a new job. */
export interface NewJobRecord {
  readonly id: string;
  readonly type: string;
  readonly queue: string;
  readonly maxAttempts: number;
  readonly payload: unknown;
  /** Set (with `payload: null`) when the payload is in S3. */
  readonly payloadRef?: PayloadRef;
  readonly correlationId: string;
  /**
   * `cancelled` (with `error` saying why) records a job refused at enqueue, e.g. by a throttle window;
   * `dead` (with `error`) one that could never run, e.g. an event whose payload fails the schema.
   */
  readonly state: Extract<JobState, 'queued' | 'scheduled' | 'cancelled' | 'dead'>;
  readonly runAt?: string;
  readonly idempotencyKey?: string;
  /** The priority level the job is sent to (queues with levels only). */
  readonly priority?: string;
  /** The job's fairness key (its SQS message group). */
  readonly fairnessKey?: string;
  /** Why a job created `cancelled` or `dead` was refused. */
  readonly error?: JobErrorInfo;
  /** Ordering key (job types with `ordering`): kept so every re-send uses the same FIFO message group. */
  readonly orderingKey?: string;
  /** Flows (shared/flows/): the batch the job is a member of, the parent waiting for it, the job or batch that created it. */
  readonly batchId?: string;
  readonly parentId?: string;
  readonly enqueuedBy?: string;
  readonly callbackOf?: string;
}

/** What the worker knows about a delivery when it claims it. */
export interface ClaimRequest {
  readonly id: string;
  readonly type: string;
  readonly queue: string;
  readonly maxAttempts: number;
  readonly payload: unknown;
  readonly correlationId: string;
  readonly enqueuedAt: string;
  /** Epoch ms the claim lasts; past it another delivery may take the job over. */
  readonly leaseUntil: number;
  /** Ordering key of the delivery (its FIFO message group), kept on a record the claim creates (a recurring fire). */
  readonly orderingKey?: string;
}

export type ClaimResult =
  | { readonly outcome: 'claimed'; readonly record: JobRecord }
  /** The job is already in a terminal state: this delivery is a duplicate. */
  | { readonly outcome: 'finished'; readonly record: JobRecord }
  /**
   * Not this delivery's turn: another delivery holds a live lease, or the job is
   * `retrying` and its backoff has not passed. Check again at `retryAt` (epoch ms).
   */
  | { readonly outcome: 'busy'; readonly record: JobRecord; readonly retryAt: number };

export type CancelResult =
  | { readonly outcome: 'cancelled'; readonly record: JobRecord }
  /** Running: the run was asked to stop and ends `cancelled` at its next check. */
  | { readonly outcome: 'requested'; readonly record: JobRecord }
  | { readonly outcome: 'finished'; readonly record: JobRecord }
  | { readonly outcome: 'not-found' };

export interface ListQuery {
  readonly state?: JobState;
  readonly type?: string;
  /** Only jobs of this logical queue. */
  readonly queue?: string;
  /** Only jobs whose id starts with this (case-sensitive): a search by id prefix. */
  readonly idPrefix?: string;
  /** @default 50 */
  readonly limit?: number;
  readonly cursor?: string;
  /**
   * Scanned listings (no state, `queued`, `running`, `succeeded`) newest created first across pages. Each page
   * then reads the keys of the whole table (a full Scan per page), where by default a page reads only until it
   * is full and is sorted within itself. Listings of the other states are always newest first (from the index).
   * @default false
   */
  readonly newestFirst?: boolean;
}

export interface ListPage {
  readonly jobs: JobRecord[];
  readonly cursor?: string;
}

export interface JobStoreOptions {
  /** Days a terminal record is kept before TTL removes it. @default 30 */
  readonly retentionDays?: number;
  readonly clock?: () => number;
}

/** One page of a maintenance scan; `cursor` is DynamoDB's LastEvaluatedKey, absent at the end of the table. */
export interface ScanPage {
  readonly records: JobRecord[];
  readonly cursor?: Record<string, unknown>;
}
