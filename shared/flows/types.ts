import type { JobErrorInfo } from '../record.js';
import type { JobState } from '../states.js';
import type { NewJobRecord } from '../store/types.js';

/** The terminal states a batch member is counted in. */
export const BatchOutcome = { succeeded: 'succeeded', dead: 'dead', cancelled: 'cancelled' } as const;
export type BatchOutcome = (typeof BatchOutcome)[keyof typeof BatchOutcome];

/** `open` until every member was counted once; `complete` after (its callback or the parent's resume was written). */
export type BatchStatus = 'open' | 'complete';

/**
 * What a waiting parent does when a child did not succeed (ended `dead` or
 * `cancelled`): `'fail'` ends the parent `dead` with ChildJobsFailedError
 * without running it again; `'continue'` runs it again with every child's
 * outcome in `ctx.children`.
 */
export type ChildDeadPolicy = 'fail' | 'continue';

/** A batch's members by outcome. `total = pending + succeeded + dead + cancelled` at every moment. */
export interface BatchCounts {
  readonly total: number;
  /** Members not counted yet: not terminal, or terminal but not yet seen by the flow coordinator. */
  readonly pending: number;
  readonly succeeded: number;
  readonly dead: number;
  readonly cancelled: number;
}

/** A batch as `jobs.getBatch` returns it. */
export interface BatchInfo extends BatchCounts {
  readonly batchId: string;
  /** `batch`: made by `jobs.batch`; `children`: the children a parent waits for. */
  readonly kind: 'batch' | 'children';
  readonly status: BatchStatus;
  readonly createdAt: string;
  readonly completedAt?: string;
  /** The waiting parent (children batches). */
  readonly parentId?: string;
  readonly onChildDead?: ChildDeadPolicy;
  /** The callback jobs and their ids (created when the batch completes; `onSuccess` only if every member succeeded). */
  readonly onComplete?: { readonly jobId: string; readonly type: string };
  readonly onSuccess?: { readonly jobId: string; readonly type: string };
  /** Member job ids, in the order given (derived from the batch id: `<batchId>.<index>`). */
  readonly memberIds: readonly string[];
}

/** A new batch, as its creator writes it. Callback records are prepared (validated) by the creator. */
export interface NewBatch {
  readonly batchId: string;
  readonly kind: 'batch' | 'children';
  readonly total: number;
  readonly parentId?: string;
  readonly onChildDead?: ChildDeadPolicy;
  readonly onComplete?: NewJobRecord;
  readonly onSuccess?: NewJobRecord;
}

/** One child of a resumed parent, as `ctx.children` lists it (in the order they were started). */
export interface ChildJob {
  readonly jobId: string;
  readonly type: string;
  readonly state: JobState;
  /** What the child returned, when it succeeded. */
  readonly result?: unknown;
  readonly error?: JobErrorInfo;
}
