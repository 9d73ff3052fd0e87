import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { JobRecord } from '../record.js';
import { attentionKey } from '../store/attention.js';
import { allOf, ownedByAttempt, term, withCondition } from '../store/conditions.js';
import type { JobStore } from '../store/job-store.js';
import type { NewJobRecord } from '../store/types.js';
import { BatchError } from './errors.js';
import { batchItemId, memberId } from './ids.js';
import type { BatchInfo, BatchOutcome, NewBatch } from './types.js';

/**
 * Items one TransactWriteItems takes (AWS: "up to 100 action requests"):
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html
 */
export const MAX_TRANSACTION_ITEMS = 100;
/** Follow-up and child jobs one attempt may create: the transaction also holds the parent and a children batch. */
export const MAX_FLOW_JOBS_PER_ATTEMPT = MAX_TRANSACTION_ITEMS - 2;
/** Bytes of job items one attempt may create: a transaction takes 4 MB in all; the rest is the parent's room. */
export const MAX_FLOW_JOB_BYTES = 3_500_000;
/** Members of one `jobs.batch`. Each is one conditional write; the batch item is written first. */
export const MAX_BATCH_MEMBERS = 10_000;

/** How the flow coordinator's count of one member's terminal transition went. */
export type CountOutcome =
  /** Counted for the first time: `pending` went down by one. */
  | 'counted'
  /** Counted before in another outcome (it was redriven since): moved between outcome counts, `pending` unchanged. */
  | 'recounted'
  /** Already counted in this outcome: a duplicated or replayed stream record. */
  | 'duplicate'
  /** The member is not in that state any more (redriven since): its later terminal transition counts it. */
  | 'stale'
  /** No such member, or no batch item (expired): nothing to count. */
  | 'no-batch';

export type CompleteOutcome =
  | { readonly outcome: 'completed'; readonly callbacks: readonly string[]; readonly resumedParent?: string }
  | { readonly outcome: 'open' | 'already-complete' | 'no-batch' };

/** The batch item as stored (a control item: `id` is `batch#<batchId>`, no `state`). */
interface BatchItem {
  readonly id: string;
  readonly batchId: string;
  readonly kind: 'batch' | 'children';
  readonly status: 'open' | 'complete';
  readonly total: number;
  readonly pending: number;
  readonly succeeded: number;
  readonly dead: number;
  readonly cancelled: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly completedAt?: string;
  readonly parentId?: string;
  readonly onChildDead?: 'fail' | 'continue';
  readonly onComplete?: NewJobRecord;
  readonly onSuccess?: NewJobRecord;
}

/**
 * The writes of flows — follow-ups, children a parent waits for, batches —
 * each one DynamoDB transaction or conditional write on the job table:
 *
 * - A parent's success and its follow-ups, or its move to `waiting` and its
 *   children, are one transaction under the attempt's fencing condition: either
 *   all are written or none (a failed or lost attempt creates nothing).
 * - A member is counted by one transaction that marks it `countedAs` (on the
 *   condition that it is in that outcome and was not counted in it) and moves
 *   the batch's counters, so a duplicated stream record counts nothing.
 * - A batch completes by one transaction that flips it `open → complete` (on
 *   the condition that it is open with nothing pending) and creates its callback
 *   jobs, or queues its waiting parent: so that happens once.
 *
 * Counting rule: every member is counted exactly once, in the outcome of its
 * latest terminal state seen; a member counted `dead` and then redriven to
 * success moves from `dead` to `succeeded` (`pending` unchanged), and since the
 * batch completes only when `pending` reaches 0, a redrive after completion
 * never runs a callback or resumes a parent again.
 */
export class BatchStore {
  private readonly clock: () => number;

  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly jobs: JobStore,
    options: { readonly clock?: () => number } = {},
  ) {
    this.clock = options.clock ?? Date.now;
  }

  /**
   * Records success of attempt `attempt` and creates its follow-up jobs, in one
   * transaction. With no follow-ups it is the plain `succeed` write.
   * @returns false when the attempt no longer owns the job (nothing is written)
   */
  async succeedWithFollowUps(id: string, attempt: number, result: unknown, followUps: readonly NewJobRecord[]): Promise<boolean> {
    if (followUps.length === 0) return this.jobs.succeed(id, attempt, result);
    const parent = this.jobs.succeedUpdate(id, attempt, result);
    const outcome = await this.transact(
      [{ Update: { TableName: this.tableName, ...parent } }, ...followUps.map((job) => this.putNew(job))],
      token(id, attempt, 'succeed'),
    );
    if (outcome.ok) return true;
    if (outcome.failed.includes(0)) return false;
    throw new BatchError(`job ${id} could not create its follow-up jobs: ${describeFailed(outcome.failed, followUps, 1)}`, {
      jobId: id,
    });
  }

  /**
   * Ends attempt `attempt` of `parentId` in `waiting` and creates its children
   * batch, its children and its follow-ups, in one transaction. The wait does not
   * use up an attempt (`maxAttempts` grows by one), and a parent asked to cancel
   * during the run is not moved.
   * @returns false when the attempt no longer owns the job or it was asked to cancel (nothing is written)
   */
  async waitForChildren(
    parentId: string,
    attempt: number,
    batch: NewBatch,
    children: readonly NewJobRecord[],
    followUps: readonly NewJobRecord[],
  ): Promise<boolean> {
    const now = new Date(this.clock()).toISOString();
    const parent = {
      Update: {
        TableName: this.tableName,
        Key: { id: parentId },
        UpdateExpression:
          'SET #state = :waiting, waitingFor = :batchId, attentionState = :attention, maxAttempts = maxAttempts + :oneMore, updatedAt = :now REMOVE leaseUntil',
        ...withCondition(allOf(ownedByAttempt(attempt, 'waiting'), term('attribute_not_exists(cancelRequested)')), {
          names: { '#state': 'state' },
          values: {
            ':waiting': 'waiting',
            ':batchId': batch.batchId,
            ':attention': attentionKey('waiting', parentId),
            ':oneMore': 1,
            ':now': now,
          },
        }),
      },
    };
    const outcome = await this.transact(
      [parent, this.putBatch(batch, now), ...[...children, ...followUps].map((job) => this.putNew(job))],
      token(parentId, attempt, 'wait'),
    );
    if (outcome.ok) return true;
    if (outcome.failed.includes(0)) return false;
    throw new BatchError(
      `job ${parentId} could not start its children: ${outcome.failed.includes(1) ? `batch ${batch.batchId} exists already; ` : ''}${describeFailed(outcome.failed, [...children, ...followUps], 2)}`,
      { jobId: parentId, batchId: batch.batchId },
    );
  }

  /**
   * Writes a batch made by `jobs.batch`: its batch item first (pending = total),
   * then each member with a conditional put, so calling again with the same batch
   * id after a failure fills in what is missing and changes nothing else.
   * @returns the ids of the members this call created (the caller sends those)
   * @throws BatchError when the batch id is taken by a batch of another size or kind
   */
  async createBatch(batch: NewBatch, members: readonly NewJobRecord[]): Promise<{ created: string[] }> {
    if (members.length !== batch.total)
      throw new BatchError(`batch ${batch.batchId} has ${batch.total} members, given ${members.length}`);
    try {
      await this.documentClient.send(new PutCommand({ ...this.putBatch(batch, new Date(this.clock()).toISOString()).Put }));
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = await this.readItem(batch.batchId);
      if (existing?.total !== batch.total || existing.kind !== batch.kind) {
        throw new BatchError(
          `batch id '${batch.batchId}' is taken by a batch of ${existing?.total ?? 'unknown'} members (given ${batch.total}): use another batchId`,
          { batchId: batch.batchId },
        );
      }
    }
    const created: string[] = [];
    const queue = [...members];
    const worker = async () => {
      for (let job = queue.shift(); job !== undefined; job = queue.shift()) {
        if (await this.jobs.create(job)) created.push(job.id);
      }
    };
    await Promise.all(Array.from({ length: Math.min(16, members.length) }, worker));
    return { created };
  }

  /** A batch's counts and state, or undefined when there is no such batch (or it expired). */
  async getBatch(batchId: string): Promise<BatchInfo | undefined> {
    const item = await this.readItem(batchId);
    return item === undefined ? undefined : toInfo(item);
  }

  /**
   * Counts member `jobId` of `batchId` as having ended in `outcome` (see the
   * counting rule on the class). Safe to call any number of times for one
   * transition, in any order with others: the transaction's conditions decide.
   */
  async countMember(batchId: string, jobId: string, outcome: BatchOutcome): Promise<CountOutcome> {
    for (let round = 0; round < 5; round++) {
      const member = await this.jobs.get(jobId, { consistent: true });
      if (member?.batchId !== batchId) return 'no-batch';
      if (member.state !== outcome) return 'stale';
      if (member.countedAs === outcome) return 'duplicate';
      const previous = member.countedAs as BatchOutcome | undefined;
      const result = await this.transact([
        {
          Update: {
            TableName: this.tableName,
            Key: { id: jobId },
            UpdateExpression: 'SET countedAs = :outcome',
            ConditionExpression: `#state = :outcome AND ${previous === undefined ? 'attribute_not_exists(countedAs)' : 'countedAs = :previous'}`,
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: { ':outcome': outcome, ...(previous === undefined ? {} : { ':previous': previous }) },
          },
        },
        {
          Update: {
            TableName: this.tableName,
            Key: { id: batchItemId(batchId) },
            UpdateExpression: `ADD #${previous ?? 'pending'} :minusOne, #${outcome} :one SET updatedAt = :now`,
            ConditionExpression: 'attribute_exists(id)',
            ExpressionAttributeNames: { [`#${previous ?? 'pending'}`]: previous ?? 'pending', [`#${outcome}`]: outcome },
            ExpressionAttributeValues: { ':minusOne': -1, ':one': 1, ':now': new Date(this.clock()).toISOString() },
          },
        },
      ]);
      if (result.ok) return previous === undefined ? 'counted' : 'recounted';
      if (result.failed.includes(1)) return 'no-batch';
      // The member moved between the read and the write (another count, a redrive): read it again.
    }
    throw new BatchError(`member ${jobId} of batch ${batchId} kept changing while it was counted`, { jobId, batchId });
  }

  /**
   * Completes the batch if every member was counted: flips it `complete` and, in
   * the same transaction, creates its callback jobs or queues its waiting parent
   * (a parent no longer waiting, e.g. cancelled, is left alone). Any number of
   * calls complete it once.
   */
  async completeIfDone(batchId: string): Promise<CompleteOutcome> {
    const item = await this.readItem(batchId);
    if (item === undefined) return { outcome: 'no-batch' };
    if (item.status === 'complete') return { outcome: 'already-complete' };
    if (item.pending > 0) return { outcome: 'open' };
    const now = this.clock();
    const nowIso = new Date(now).toISOString();
    const callbacks = [
      ...(item.onComplete ? [item.onComplete] : []),
      ...(item.onSuccess && item.succeeded === item.total ? [item.onSuccess] : []),
    ];
    let resume = item.kind === 'children' && item.parentId !== undefined;
    for (let round = 0; round < 3; round++) {
      const writes: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = [
        {
          Update: {
            TableName: this.tableName,
            Key: { id: batchItemId(batchId) },
            UpdateExpression: 'SET #status = :complete, completedAt = :now, updatedAt = :now, expiresAt = :expiresAt',
            ConditionExpression: '#status = :open AND #pending = :zero',
            ExpressionAttributeNames: { '#status': 'status', '#pending': 'pending' },
            ExpressionAttributeValues: {
              ':complete': 'complete',
              ':open': 'open',
              ':zero': 0,
              ':now': nowIso,
              ':expiresAt': this.jobs.expiresAt(now),
            },
          },
        },
        ...callbacks.map((job) => this.putNew(job)),
      ];
      if (resume) {
        writes.push({
          Update: {
            TableName: this.tableName,
            Key: { id: item.parentId as string },
            UpdateExpression: 'SET #state = :queued, updatedAt = :now REMOVE attentionState',
            ConditionExpression: '#state = :waiting AND waitingFor = :batchId',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: { ':queued': 'queued', ':waiting': 'waiting', ':batchId': batchId, ':now': nowIso },
          },
        });
      }
      const result = await this.transact(writes);
      if (result.ok) {
        return {
          outcome: 'completed',
          callbacks: callbacks.map((job) => job.id),
          ...(resume ? { resumedParent: item.parentId as string } : {}),
        };
      }
      if (result.failed.includes(0)) return { outcome: 'already-complete' };
      // The parent is no longer waiting for this batch (cancelled): complete the batch without it.
      if (resume && result.failed.includes(writes.length - 1)) resume = false;
      else throw new BatchError(`batch ${batchId} could not create its callback jobs (an id is taken)`, { batchId });
    }
    throw new BatchError(`batch ${batchId} could not be completed`, { batchId });
  }

  private async readItem(batchId: string): Promise<BatchItem | undefined> {
    const output = await this.documentClient.send(
      new GetCommand({ TableName: this.tableName, Key: { id: batchItemId(batchId) }, ConsistentRead: true }),
    );
    return output.Item as BatchItem | undefined;
  }

  private putNew(job: NewJobRecord) {
    return {
      Put: { TableName: this.tableName, Item: this.jobs.newItem(job), ConditionExpression: 'attribute_not_exists(id)' },
    };
  }

  private putBatch(batch: NewBatch, now: string) {
    const item: BatchItem = {
      id: batchItemId(batch.batchId),
      batchId: batch.batchId,
      kind: batch.kind,
      status: 'open',
      total: batch.total,
      pending: batch.total,
      succeeded: 0,
      dead: 0,
      cancelled: 0,
      createdAt: now,
      updatedAt: now,
      ...(batch.parentId === undefined ? {} : { parentId: batch.parentId }),
      ...(batch.onChildDead === undefined ? {} : { onChildDead: batch.onChildDead }),
      ...(batch.onComplete === undefined ? {} : { onComplete: batch.onComplete }),
      ...(batch.onSuccess === undefined ? {} : { onSuccess: batch.onSuccess }),
    };
    return { Put: { TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(id)' } };
  }

  /**
   * Runs a transaction. @returns ok, or the indexes of the items whose condition failed.
   * Other errors (throttling, a conflict with a concurrent transaction) are thrown for the caller to retry.
   */
  private async transact(
    items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>,
    clientRequestToken?: string,
  ): Promise<{ ok: true } | { ok: false; failed: number[] }> {
    try {
      await this.documentClient.send(
        new TransactWriteCommand({
          TransactItems: items,
          ...(clientRequestToken === undefined ? {} : { ClientRequestToken: clientRequestToken }),
        }),
      );
      return { ok: true };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = error.CancellationReasons ?? [];
      const failed = reasons.flatMap((reason, index) => (reason.Code === 'ConditionalCheckFailed' ? [index] : []));
      if (failed.length === 0) throw error;
      return { ok: false, failed };
    }
  }
}

/** Names the jobs whose create failed (their id is taken), `offset` being where they start in the transaction. */
function describeFailed(failed: readonly number[], jobs: readonly NewJobRecord[], offset: number): string {
  const ids = failed.filter((index) => index >= offset).map((index) => jobs[index - offset]?.id);
  return ids.length === 0 ? 'a condition failed' : `job id taken: ${ids.join(', ')}`;
}

/**
 * TransactWriteItems' idempotency token (≤ 36 characters): a write retried after
 * an answer was lost succeeds again instead of failing its own condition.
 */
function token(jobId: string, attempt: number, kind: string): string {
  return createHash('sha256').update(`${jobId}\u0000${attempt}\u0000${kind}`).digest('hex').slice(0, 36);
}

function toInfo(item: BatchItem): BatchInfo {
  return {
    batchId: item.batchId,
    kind: item.kind,
    status: item.status,
    total: item.total,
    pending: item.pending,
    succeeded: item.succeeded,
    dead: item.dead,
    cancelled: item.cancelled,
    createdAt: item.createdAt,
    ...(item.completedAt === undefined ? {} : { completedAt: item.completedAt }),
    ...(item.parentId === undefined ? {} : { parentId: item.parentId }),
    ...(item.onChildDead === undefined ? {} : { onChildDead: item.onChildDead }),
    ...(item.onComplete === undefined ? {} : { onComplete: { jobId: item.onComplete.id, type: item.onComplete.type } }),
    ...(item.onSuccess === undefined ? {} : { onSuccess: { jobId: item.onSuccess.id, type: item.onSuccess.type } }),
    memberIds: Array.from({ length: item.total }, (_, index) => memberId(item.batchId, index)),
  };
}

/** The job records of a batch's members (absent ones left out), in member order. */
export async function readMembers(jobs: JobStore, batch: BatchInfo): Promise<JobRecord[]> {
  const records = await jobs.getMany(batch.memberIds);
  const byId = new Map(records.map((record) => [record.id, record]));
  return batch.memberIds.flatMap((id) => {
    const record = byId.get(id);
    return record === undefined ? [] : [record];
  });
}
