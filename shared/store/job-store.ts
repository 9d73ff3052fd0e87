import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { ATTENTION_INDEX_NAME } from '../config.js';
import type { PayloadRef } from '../payload-store.js';
import type { JobErrorInfo, JobHistoryEntry, JobProgress, JobRecord } from '../record.js';
import { type JobState, needsAttention, sourcesOf } from '../states.js';
import { attentionKey, attentionKeysOf } from './attention.js';
import { decodeCursor, encodeCursor } from './cursor.js';

/** Attempt series kept on a record; older ones are dropped to keep the item small. */
export const MAX_HISTORY_ENTRIES = 10;

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
  readonly state: Extract<JobState, 'queued' | 'scheduled'>;
  readonly runAt?: string;
  readonly idempotencyKey?: string;
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
  /** @default 50 */
  readonly limit?: number;
  readonly cursor?: string;
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

/**
 * All reads and writes of job records. Every state change is one conditional
 * UpdateItem whose condition is "the current state is a source of the target
 * state" (from the state machine), plus, for the worker, "the attempt is still
 * mine" (a fencing token), so two deliveries can never both move a job.
 *
 * Cost layout: a plain job costs 3 writes of a ≤ 1 KB item (create, claim,
 * succeed) and no index writes, because only states that need attention carry
 * `attentionState`, the key of the sparse index.
 */
export class JobStore {
  private readonly retentionSeconds: number;
  private readonly clock: () => number;

  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    readonly tableName: string,
    options: JobStoreOptions = {},
  ) {
    this.retentionSeconds = Math.round((options.retentionDays ?? 30) * 86_400);
    this.clock = options.clock ?? Date.now;
  }

  /** Writes a new record. @returns false when a record with this id already exists. */
  async create(job: NewJobRecord): Promise<boolean> {
    try {
      await this.documentClient.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.newItem(job),
          ConditionExpression: 'attribute_not_exists(id)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * Writes many new records with BatchWriteItem (25 a request), retrying
   * unprocessed items with backoff. No condition is possible in a batch; ids
   * are fresh ULIDs, so there is nothing to overwrite.
   */
  async createMany(jobs: readonly NewJobRecord[]): Promise<void> {
    for (let start = 0; start < jobs.length; start += 25) {
      let requests = jobs.slice(start, start + 25).map((job) => ({ PutRequest: { Item: this.newItem(job) } }));
      for (let round = 0; requests.length > 0; round++) {
        if (round > 0) await delay(Math.min(1_000, 25 * 2 ** round));
        if (round > 8) throw new Error(`DynamoDB left ${requests.length} job records unprocessed after ${round} rounds`);
        const output = await this.documentClient.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }));
        requests = (output.UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
      }
    }
  }

  /** Removes a record that never reached its queue (rollback of a failed enqueue). */
  async deleteUnsent(id: string): Promise<void> {
    await this.documentClient
      .send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { id },
          ConditionExpression: '#state IN (:queued, :scheduled) AND attempts = :zero',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':queued': 'queued', ':scheduled': 'scheduled', ':zero': 0 },
        }),
      )
      .catch((error: unknown) => {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      });
  }

  async get(id: string, options: { consistent?: boolean } = {}): Promise<JobRecord | undefined> {
    const output = await this.documentClient.send(
      new GetCommand({ TableName: this.tableName, Key: { id }, ConsistentRead: options.consistent ?? true }),
    );
    return output.Item as JobRecord | undefined;
  }

  /**
   * Reads many records with BatchGetItem (100 keys a request), retrying
   * unprocessed keys. Missing ids are simply absent from the result.
   */
  async getMany(ids: readonly string[], options: { attributes?: readonly string[] } = {}): Promise<JobRecord[]> {
    const records: JobRecord[] = [];
    const projection =
      options.attributes === undefined
        ? {}
        : {
            ProjectionExpression: options.attributes.map((_, i) => `#a${i}`).join(', '),
            ExpressionAttributeNames: Object.fromEntries(options.attributes.map((name, i) => [`#a${i}`, name])),
          };
    for (let start = 0; start < ids.length; start += 100) {
      let keys: Record<string, unknown>[] = [...new Set(ids.slice(start, start + 100))].map((id) => ({ id }));
      for (let round = 0; keys.length > 0; round++) {
        if (round > 0) await delay(Math.min(1_000, 25 * 2 ** round));
        if (round > 8) throw new Error(`DynamoDB left ${keys.length} keys unprocessed after ${round} rounds`);
        const output = await this.documentClient.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true, ...projection } } }),
        );
        records.push(...((output.Responses?.[this.tableName] ?? []) as JobRecord[]));
        keys = (output.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return records;
  }

  /**
   * Moves the job to `running` for this delivery and counts the attempt. Creates
   * the record when none exists (a message sent by a schedule, or straight to
   * the queue). Takes over a `running` job whose lease has expired: its run died.
   */
  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const now = this.clock();
    const nowIso = new Date(now).toISOString();
    // `running` (a takeover) and `retrying` (a backoff) have a time condition of their own below.
    const sources = sourcesOf('running').filter((state) => state !== 'running' && state !== 'retrying');
    try {
      const output = await this.documentClient.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: request.id },
          UpdateExpression: [
            'SET #state = :running, startedAt = :now, updatedAt = :now, leaseUntil = :lease,',
            '#type = if_not_exists(#type, :type), #queue = if_not_exists(#queue, :queue),',
            'createdAt = if_not_exists(createdAt, :enqueuedAt), maxAttempts = if_not_exists(maxAttempts, :maxAttempts),',
            'payload = if_not_exists(payload, :payload), correlationId = if_not_exists(correlationId, :correlationId)',
            'ADD attempts :one',
            'REMOVE attentionState, nextAttemptAt, sweeps, sweptAt',
          ].join(' '),
          ConditionExpression: `attribute_not_exists(id) OR #state IN (${sources.map((_, i) => `:from${i}`).join(', ')}) OR (#state = :running AND leaseUntil < :nowMs) OR (#state = :retrying AND nextAttemptAt <= :now)`,
          ExpressionAttributeNames: { '#state': 'state', '#type': 'type', '#queue': 'queue' },
          ExpressionAttributeValues: {
            ':running': 'running',
            ':retrying': 'retrying',
            ':now': nowIso,
            ':nowMs': now,
            ':lease': request.leaseUntil,
            ':type': request.type,
            ':queue': request.queue,
            ':enqueuedAt': request.enqueuedAt,
            ':maxAttempts': request.maxAttempts,
            ':payload': request.payload ?? null,
            ':correlationId': request.correlationId,
            ':one': 1,
            ...Object.fromEntries(sources.map((state, i) => [`:from${i}`, state])),
          },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { outcome: 'claimed', record: output.Attributes as JobRecord };
    } catch (error) {
      const current = conditionFailureItem(error);
      if (!current) throw error;
      if (current.state === 'running') return { outcome: 'busy', record: current, retryAt: current.leaseUntil ?? now };
      if (current.state === 'retrying') {
        const retryAt = current.nextAttemptAt === undefined ? now : Date.parse(current.nextAttemptAt);
        return { outcome: 'busy', record: current, retryAt };
      }
      return { outcome: 'finished', record: current };
    }
  }

  /** Records success of attempt `attempt`. @returns false if the attempt no longer owns the job. */
  async succeed(id: string, attempt: number, result: unknown): Promise<boolean> {
    const now = this.clock();
    return this.conditionalUpdate({
      Key: { id },
      UpdateExpression:
        'SET #state = :succeeded, #result = :result, finishedAt = :now, updatedAt = :now, expiresAt = :expiresAt REMOVE leaseUntil, #error, cancelRequested',
      ConditionExpression: '#state = :running AND attempts = :attempt',
      ExpressionAttributeNames: { '#state': 'state', '#result': 'result', '#error': 'error' },
      ExpressionAttributeValues: {
        ':succeeded': 'succeeded',
        ':running': 'running',
        ':attempt': attempt,
        ':result': result ?? null,
        ':now': new Date(now).toISOString(),
        ':expiresAt': this.expiresAt(now),
      },
    });
  }

  /** Records a failed attempt that will be retried at `nextAttemptAt`. @returns false if the attempt no longer owns the job. */
  async scheduleRetry(id: string, attempt: number, error: JobErrorInfo, nextAttemptAt: number): Promise<boolean> {
    return this.conditionalUpdate({
      Key: { id },
      UpdateExpression:
        'SET #state = :retrying, attentionState = :attention, #error = :error, nextAttemptAt = :next, updatedAt = :now REMOVE leaseUntil',
      ConditionExpression: '#state = :running AND attempts = :attempt',
      ExpressionAttributeNames: { '#state': 'state', '#error': 'error' },
      ExpressionAttributeValues: {
        ':retrying': 'retrying',
        ':attention': attentionKey('retrying', id),
        ':running': 'running',
        ':attempt': attempt,
        ':error': error,
        ':next': new Date(nextAttemptAt).toISOString(),
        ':now': new Date(this.clock()).toISOString(),
      },
    });
  }

  /**
   * Marks the job `dead`. With `attempt`, only if that attempt still owns the
   * job; without (poison input found before any claim), from any non-terminal
   * state, creating the record when none exists so the failure is visible.
   * @returns false when the condition did not hold.
   */
  async markDead(
    id: string,
    error: JobErrorInfo,
    options: { attempt?: number; type?: string; queue?: string; maxAttempts?: number; deadLetterPending?: boolean } = {},
  ): Promise<boolean> {
    const now = this.clock();
    const nowIso = new Date(now).toISOString();
    const values: Record<string, unknown> = {
      ':dead': 'dead',
      ':attention': attentionKey('dead', id),
      ':error': error,
      ':now': nowIso,
      ':expiresAt': this.expiresAt(now),
    };
    const set = [
      '#state = :dead',
      'attentionState = :attention',
      '#error = :error',
      'finishedAt = :now',
      'updatedAt = :now',
      'expiresAt = :expiresAt',
    ];
    if (options.deadLetterPending) {
      set.push('deadLetterPending = :pending');
      values[':pending'] = true;
    }
    let condition: string;
    if (options.attempt !== undefined) {
      condition = '#state = :running AND attempts = :attempt';
      values[':running'] = 'running';
      values[':attempt'] = options.attempt;
    } else {
      const sources = sourcesOf('dead');
      condition = `attribute_not_exists(id) OR #state IN (${sources.map((_, i) => `:from${i}`).join(', ')})`;
      sources.forEach((state, i) => {
        values[`:from${i}`] = state;
      });
      set.push(
        '#type = if_not_exists(#type, :type)',
        '#queue = if_not_exists(#queue, :queue)',
        'createdAt = if_not_exists(createdAt, :now)',
        'attempts = if_not_exists(attempts, :zero)',
        'maxAttempts = if_not_exists(maxAttempts, :maxAttempts)',
      );
      values[':type'] = options.type ?? 'unknown';
      values[':queue'] = options.queue ?? 'unknown';
      values[':zero'] = 0;
      values[':maxAttempts'] = options.maxAttempts ?? 1;
    }
    return this.conditionalUpdate({
      Key: { id },
      UpdateExpression: `SET ${set.join(', ')} REMOVE leaseUntil, nextAttemptAt`,
      ConditionExpression: condition,
      ExpressionAttributeNames: {
        '#state': 'state',
        '#error': 'error',
        ...(options.attempt === undefined ? { '#type': 'type', '#queue': 'queue' } : {}),
      },
      ExpressionAttributeValues: values,
    });
  }

  /** Records that a dead job's dead-letter copy was sent after all (clears `deadLetterPending`). */
  async confirmDeadLetter(id: string): Promise<boolean> {
    return this.conditionalUpdate({
      Key: { id },
      UpdateExpression: 'REMOVE deadLetterPending',
      ConditionExpression: '#state = :dead AND deadLetterPending = :true',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: { ':dead': 'dead', ':true': true },
    });
  }

  /**
   * Starts a new attempt series for a dead job: back to `queued` with the same
   * id and `extraAttempts` more attempts. The attempt count goes on, so
   * `ctx.attempt` keeps counting over the job's whole life, and the outcome of
   * the previous series is appended to `history` (the last MAX_HISTORY_ENTRIES).
   *
   * Reads the record, then updates it on the condition that it is still dead and
   * unchanged since the read, so two concurrent retries requeue it once.
   * @returns the requeued record, or `requeued: false` with the current record
   * when the job is not dead (or, without a record, does not exist).
   */
  async requeueDead(
    id: string,
    options: { extraAttempts: number; reason: 'retry' | 'redrive' },
  ): Promise<{ requeued: true; record: JobRecord } | { requeued: false; record?: JobRecord }> {
    const current = await this.get(id);
    if (current?.state !== 'dead') return current ? { requeued: false, record: current } : { requeued: false };
    const now = new Date(this.clock()).toISOString();
    const entry: JobHistoryEntry = {
      at: now,
      reason: options.reason,
      state: current.state,
      attempts: current.attempts,
      ...(current.error ? { error: current.error } : {}),
    };
    const history = [...(current.history ?? []), entry].slice(-MAX_HISTORY_ENTRIES);
    try {
      const output = await this.documentClient.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression:
            'SET #state = :queued, maxAttempts = :maxAttempts, updatedAt = :now, #history = :history REMOVE attentionState, #error, finishedAt, expiresAt, nextAttemptAt, leaseUntil, cancelRequested, sweeps, sweptAt',
          ConditionExpression: '#state = :dead AND updatedAt = :seen',
          ExpressionAttributeNames: { '#state': 'state', '#error': 'error', '#history': 'history' },
          ExpressionAttributeValues: {
            ':queued': 'queued',
            ':dead': 'dead',
            ':seen': current.updatedAt,
            ':maxAttempts': current.attempts + options.extraAttempts,
            ':now': now,
            ':history': history,
          },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { requeued: true, record: output.Attributes as JobRecord };
    } catch (error) {
      const latest = conditionFailureItem(error);
      if (!latest) throw error;
      return { requeued: false, record: latest };
    }
  }

  /**
   * Stores progress of the attempt that owns the job.
   * @returns `cancelRequested` from the record, or `lost` when the attempt no
   * longer owns the job (cancelled, taken over).
   */
  async reportProgress(id: string, attempt: number, progress: JobProgress): Promise<'ok' | 'cancel-requested' | 'lost'> {
    try {
      const output = await this.documentClient.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression: 'SET progress = :progress, updatedAt = :now',
          ConditionExpression: '#state = :running AND attempts = :attempt',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':progress': progress,
            ':now': new Date(this.clock()).toISOString(),
            ':running': 'running',
            ':attempt': attempt,
          },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return output.Attributes?.cancelRequested === true ? 'cancel-requested' : 'ok';
    } catch (error) {
      const current = conditionFailureItem(error);
      if (!current) throw error;
      return current.state === 'cancelled' ? 'cancel-requested' : 'lost';
    }
  }

  /**
   * One page of records not yet finished (queued, scheduled, running,
   * retrying), for the stuck-job sweeper. A Scan: the sweeper bounds it per
   * run and resumes from `cursor`, so each record is read once per full pass.
   */
  async scanUnfinished(options: { cursor?: Record<string, unknown>; limit: number }): Promise<{
    records: JobRecord[];
    cursor?: Record<string, unknown>;
  }> {
    const output = await this.documentClient.send(
      new ScanCommand({
        TableName: this.tableName,
        Limit: options.limit,
        ExclusiveStartKey: options.cursor,
        FilterExpression: '#state IN (:queued, :scheduled, :running, :retrying)',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: {
          ':queued': 'queued',
          ':scheduled': 'scheduled',
          ':running': 'running',
          ':retrying': 'retrying',
        },
      }),
    );
    const records = (output.Items ?? []) as JobRecord[];
    return output.LastEvaluatedKey ? { records, cursor: output.LastEvaluatedKey } : { records };
  }

  /**
   * Counts a sweeper re-send, on the condition that the job has not moved since
   * the sweeper read it (so a worker that just picked it up is never raced).
   */
  async markSwept(record: JobRecord): Promise<boolean> {
    return this.conditionalUpdate({
      Key: { id: record.id },
      UpdateExpression: 'SET sweptAt = :now, sweeps = if_not_exists(sweeps, :zero) + :one',
      ConditionExpression: '#state = :state AND updatedAt = :seen',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: {
        ':now': new Date(this.clock()).toISOString(),
        ':zero': 0,
        ':one': 1,
        ':state': record.state,
        ':seen': record.updatedAt,
      },
    });
  }

  /** Records that a running job stopped because cancellation was requested. */
  async markCancelledByRun(id: string, attempt: number): Promise<boolean> {
    const now = this.clock();
    return this.conditionalUpdate({
      Key: { id },
      UpdateExpression:
        'SET #state = :cancelled, attentionState = :attention, finishedAt = :now, updatedAt = :now, expiresAt = :expiresAt REMOVE leaseUntil',
      ConditionExpression: '#state = :running AND attempts = :attempt',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: {
        ':cancelled': 'cancelled',
        ':attention': attentionKey('cancelled', id),
        ':running': 'running',
        ':attempt': attempt,
        ':now': new Date(now).toISOString(),
        ':expiresAt': this.expiresAt(now),
      },
    });
  }

  /**
   * Cancels a job that has not started (or is waiting to retry); asks a running
   * one to stop. A finished job is left as it is.
   */
  async cancel(id: string): Promise<CancelResult> {
    const now = this.clock();
    const nowIso = new Date(now).toISOString();
    try {
      const output = await this.documentClient.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression:
            'SET #state = :cancelled, attentionState = :attention, finishedAt = :now, updatedAt = :now, expiresAt = :expiresAt REMOVE nextAttemptAt',
          ConditionExpression: '#state IN (:scheduled, :queued, :retrying)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':cancelled': 'cancelled',
            ':attention': attentionKey('cancelled', id),
            ':scheduled': 'scheduled',
            ':queued': 'queued',
            ':retrying': 'retrying',
            ':now': nowIso,
            ':expiresAt': this.expiresAt(now),
          },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { outcome: 'cancelled', record: output.Attributes as JobRecord };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = conditionFailureItem(error);
      if (!current) return { outcome: 'not-found' };
      if (current.state !== 'running') return { outcome: 'finished', record: current };
    }
    try {
      const output = await this.documentClient.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression: 'SET cancelRequested = :true, updatedAt = :now',
          ConditionExpression: '#state = :running',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':true': true, ':running': 'running', ':now': nowIso },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { outcome: 'requested', record: output.Attributes as JobRecord };
    } catch (error) {
      const current = conditionFailureItem(error);
      if (!current) throw error;
      // It finished (or was taken over) between the two writes: report what it is now.
      return { outcome: 'finished', record: current };
    }
  }

  /**
   * Lists jobs, newest first. States that need attention (scheduled, retrying,
   * dead, cancelled) are read from the sparse index; the others (queued,
   * running, succeeded, or no state filter) need a Scan, whose cost grows with
   * the table: that is the price of keeping plain jobs out of the index. TTL
   * keeps the table to the retention window.
   */
  async list(query: ListQuery = {}): Promise<ListPage> {
    const limit = query.limit ?? 50;
    if (query.state !== undefined && needsAttention(query.state))
      return this.listNeedingAttention(query.state, query.type, limit, query.cursor);
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const filters: string[] = [];
    if (query.type !== undefined) {
      names['#type'] = 'type';
      values[':type'] = query.type;
      filters.push('#type = :type');
    }
    if (query.state !== undefined) {
      names['#state'] = 'state';
      values[':state'] = query.state;
      filters.push('#state = :state');
    }
    const jobs: JobRecord[] = [];
    let startKey = decodeCursor(query.cursor);
    do {
      const output = await this.documentClient.send(
        new ScanCommand({
          TableName: this.tableName,
          // Limit counts items read before the filter, so a filtered page may take several rounds.
          Limit: limit - jobs.length,
          ExclusiveStartKey: startKey,
          ...(filters.length > 0 ? { FilterExpression: filters.join(' AND ') } : {}),
          ExpressionAttributeNames: Object.keys(names).length > 0 ? names : undefined,
          ExpressionAttributeValues: Object.keys(values).length > 0 ? values : undefined,
        }),
      );
      jobs.push(...((output.Items ?? []) as JobRecord[]));
      startKey = output.LastEvaluatedKey;
    } while (startKey !== undefined && jobs.length < limit);
    // A Scan returns items in hash order; sorting within the page is the best it can do.
    jobs.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    const cursor = encodeCursor(startKey);
    return cursor === undefined ? { jobs } : { jobs, cursor };
  }

  /**
   * Newest first across the state's index shards: each shard is read in order
   * from where the previous page left it, the reads are merged, and the cursor
   * remembers, per shard, the last job shown (or that the shard is exhausted).
   */
  private async listNeedingAttention(
    state: JobState,
    type: string | undefined,
    limit: number,
    cursor: string | undefined,
  ): Promise<ListPage> {
    const positions = (decodeCursor(cursor) ?? {}) as Record<string, Record<string, unknown> | 'done' | undefined>;
    const candidates: { shard: string; record: JobRecord }[] = [];
    const exhausted = new Set<string>();
    for (const shard of attentionKeysOf(state)) {
      const position = positions[shard];
      if (position === 'done') {
        exhausted.add(shard);
        continue;
      }
      let startKey = position;
      let read = 0;
      do {
        const output = await this.documentClient.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: ATTENTION_INDEX_NAME,
            KeyConditionExpression: 'attentionState = :attention',
            ScanIndexForward: false,
            Limit: limit - read,
            ExclusiveStartKey: startKey,
            ...(type === undefined
              ? { ExpressionAttributeValues: { ':attention': shard } }
              : {
                  FilterExpression: '#type = :type',
                  ExpressionAttributeNames: { '#type': 'type' },
                  ExpressionAttributeValues: { ':attention': shard, ':type': type },
                }),
          }),
        );
        const items = (output.Items ?? []) as JobRecord[];
        read += items.length;
        candidates.push(...items.map((record) => ({ shard, record })));
        startKey = output.LastEvaluatedKey;
      } while (startKey !== undefined && read < limit);
      if (startKey === undefined) exhausted.add(shard);
    }
    // Merge the shards newest first, taking from each only in its own order: what is shown from a
    // shard is always a prefix of what the index returned, so its cursor never skips a job (even on
    // equal timestamps, whose order only the index knows).
    const queues = attentionKeysOf(state).map((shard) => candidates.filter((candidate) => candidate.shard === shard));
    const heads = queues.map(() => 0);
    const shown: typeof candidates = [];
    while (shown.length < limit) {
      let best = -1;
      for (const [i, queue] of queues.entries()) {
        const head = queue[heads[i] ?? 0];
        const current = best < 0 ? undefined : queues[best]?.[heads[best] ?? 0];
        if (head && (!current || head.record.updatedAt > current.record.updatedAt)) best = i;
      }
      const pick = best < 0 ? undefined : queues[best]?.[heads[best] ?? 0];
      if (!pick) break;
      shown.push(pick);
      heads[best] = (heads[best] ?? 0) + 1;
    }
    const next: Record<string, unknown> = {};
    for (const shard of attentionKeysOf(state)) {
      const lastShown = shown.filter((candidate) => candidate.shard === shard).at(-1)?.record;
      const allShown = !candidates.some((candidate) => candidate.shard === shard && !shown.includes(candidate));
      if (exhausted.has(shard) && allShown) next[shard] = 'done';
      else if (lastShown) next[shard] = { id: lastShown.id, attentionState: shard, updatedAt: lastShown.updatedAt };
      else next[shard] = positions[shard];
    }
    const more = Object.values(next).some((position) => position !== 'done');
    const jobs = shown.map((candidate) => candidate.record);
    return more ? { jobs, cursor: encodeCursor(next) as string } : { jobs };
  }

  private newItem(job: NewJobRecord): Record<string, unknown> {
    const now = new Date(this.clock()).toISOString();
    return {
      id: job.id,
      type: job.type,
      state: job.state,
      queue: job.queue,
      attempts: 0,
      maxAttempts: job.maxAttempts,
      payload: job.payload ?? null,
      correlationId: job.correlationId,
      createdAt: now,
      updatedAt: now,
      ...(needsAttention(job.state) ? { attentionState: attentionKey(job.state, job.id) } : {}),
      ...(job.runAt === undefined ? {} : { runAt: job.runAt }),
      ...(job.payloadRef === undefined ? {} : { payloadRef: job.payloadRef }),
      ...(job.idempotencyKey === undefined ? {} : { idempotencyKey: job.idempotencyKey }),
    };
  }

  /** The TTL (epoch seconds) of a record that reaches a terminal state at `now`. */
  expiresAt(now: number): number {
    return Math.floor(now / 1_000) + this.retentionSeconds;
  }

  private async conditionalUpdate(input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>): Promise<boolean> {
    try {
      await this.documentClient.send(new UpdateCommand({ TableName: this.tableName, ...input }));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

function conditionFailureItem(error: unknown): JobRecord | undefined {
  if (!(error instanceof ConditionalCheckFailedException)) return undefined;
  // lib-dynamodb does not unmarshall the item attached to the exception.
  return error.Item ? (unmarshall(error.Item) as JobRecord) : undefined;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
