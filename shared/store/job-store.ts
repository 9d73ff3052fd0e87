import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchExecuteStatementCommand,
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { JobstackError } from '../errors.js';
import type { JobErrorInfo, JobHistoryEntry, JobProgress, JobRecord } from '../record.js';
import { assertTransition, needsAttention } from '../states.js';
import { attentionKey } from './attention.js';
import {
  allOf,
  anyOf,
  type Condition,
  fromSourcesOf,
  ownedByAttempt,
  recordAbsent,
  stateIn,
  term,
  transitionFrom,
  unchangedSince,
  withCondition,
} from './conditions.js';
import { conditionalUpdate, conditionFailureItem, delay } from './dynamo.js';
import { JobReader } from './job-reads.js';
import type { CancelResult, ClaimRequest, ClaimResult, JobStoreOptions, NewJobRecord } from './types.js';

// Callers that imported these from here before the split keep working.
export type { CancelResult, ClaimRequest, ClaimResult, JobStoreOptions, ListPage, ListQuery, NewJobRecord } from './types.js';

/** Statements DynamoDB takes in one BatchExecuteStatement. */
export const MAX_SUCCESSES_PER_BATCH = 25;

/** One attempt's success for `succeedMany`. */
export interface SuccessEntry {
  readonly id: string;
  readonly attempt: number;
  /** The storable result (see functions/attempt/outcome.ts `storableResult`). */
  readonly result: unknown;
}

/** Attempt series kept on a record; older ones are dropped to keep the item small. */
export const MAX_HISTORY_ENTRIES = 10;

/** What a job marked dead outside a run records about itself when its record may not exist yet. */
export interface DeadJobOptions {
  readonly type?: string;
  readonly queue?: string;
  readonly maxAttempts?: number;
  /**
   * Leave `deadLetterPending` on the record: the caller sends the dead-letter
   * copy next and clears the flag with `confirmDeadLetter`, so a copy that could
   * not be sent is visible and sent again later.
   */
  readonly deadLetterPending?: boolean;
}

/**
 * The state transitions of job records (the reads are inherited from
 * `JobReader`). Every state change is one conditional write whose condition is
 * built from the state table in shared/states.ts (`fromSourcesOf`,
 * `transitionFrom`, see ./conditions.ts), plus a fencing term: for a run,
 * "the attempt is still mine" (`attempts = :attempt`); for a write that acts on
 * what it read (retry, the undeliverable consumer), "the record is still the
 * version I read" (`unchangedSince`). So two deliveries can never both move a
 * job, and no write moves a job the table does not allow to move.
 *
 * Writes that are not transitions (create, progress, the cancel request on a
 * running job, confirming a dead-letter copy, deleting an unsent record) have
 * conditions of their own, stated at each method.
 *
 * Cost layout: a plain job costs 3 writes of a ≤ 1 KB item (create, claim,
 * succeed) and no index writes, because only states that need attention carry
 * `attentionState`, the key of the sparse index. A lean job (enqueued without
 * `create`: the claim creates its record) costs 2.
 */
export class JobStore extends JobReader {
  private readonly retentionSeconds: number;

  constructor(documentClient: DynamoDBDocumentClient, tableName: string, options: JobStoreOptions = {}) {
    super(documentClient, tableName, options);
    this.retentionSeconds = Math.round((options.retentionDays ?? 30) * 86_400);
  }

  /** Writes a new record. @returns false when a record with this id already exists. */
  async create(job: NewJobRecord): Promise<boolean> {
    try {
      await this.documentClient.send(
        new PutCommand({ TableName: this.tableName, Item: this.newItem(job), ...withCondition(recordAbsent) }),
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

  /**
   * Removes a record that never reached its queue (rollback of a failed
   * enqueue): only while it is still waiting and no attempt has started.
   */
  async deleteUnsent(id: string): Promise<void> {
    const condition = allOf(stateIn(['queued', 'scheduled']), term('attempts = :zero', {}, { ':zero': 0 }));
    await this.documentClient
      .send(new DeleteCommand({ TableName: this.tableName, Key: { id }, ...withCondition(condition) }))
      .catch((error: unknown) => {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      });
  }

  /**
   * Moves the job to `running` for this delivery and counts the attempt. Creates
   * the record when none exists (a message sent by a schedule, or straight to
   * the queue). Takes over a `running` job whose lease has expired: its run died.
   * Claims a `retrying` job only once its `nextAttemptAt` has passed. Removes the
   * sweeper's re-send count: a claimed job has moved, so earlier re-sends say
   * nothing about it any more.
   */
  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const now = this.clock();
    const nowIso = new Date(now).toISOString();
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
            ...(request.orderingKey === undefined ? [] : [', orderingKey = if_not_exists(orderingKey, :orderingKey)']),
            'ADD attempts :one',
            'REMOVE attentionState, nextAttemptAt, sweeps, sweptAt',
          ].join(' '),
          // claimCondition(now), built once: only its two times change from claim to claim.
          ConditionExpression: claimTemplate().expression,
          ExpressionAttributeNames: { ...claimTemplate().names, '#type': 'type', '#queue': 'queue' },
          ExpressionAttributeValues: {
            ...claimTemplate().values,
            ':nowMs': now,
            ':running': 'running',
            ':now': nowIso,
            ':lease': request.leaseUntil,
            ':type': request.type,
            ':queue': request.queue,
            ':enqueuedAt': request.enqueuedAt,
            ':maxAttempts': request.maxAttempts,
            ':payload': request.payload ?? null,
            ':correlationId': request.correlationId,
            ...(request.orderingKey === undefined ? {} : { ':orderingKey': request.orderingKey }),
            ':one': 1,
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
    return conditionalUpdate(this.documentClient, this.tableName, this.succeedUpdate(id, attempt, result));
  }

  /** The conditional update `succeed` sends (flows send it inside a transaction with the jobs the success creates). */
  succeedUpdate(id: string, attempt: number, result: unknown) {
    const now = this.clock();
    return {
      Key: { id },
      UpdateExpression:
        'SET #state = :succeeded, #result = :result, finishedAt = :now, updatedAt = :now, expiresAt = :expiresAt REMOVE leaseUntil, #error, cancelRequested',
      // ownedByAttempt(attempt, 'succeeded'), built once: only the attempt changes.
      ConditionExpression: succeedTemplate().expression,
      ExpressionAttributeNames: { ...succeedTemplate().names, '#result': 'result', '#error': 'error' },
      ExpressionAttributeValues: {
        ...succeedTemplate().values,
        ':attempt': attempt,
        ':succeeded': 'succeeded',
        ':result': result ?? null,
        ':now': new Date(now).toISOString(),
        ':expiresAt': this.expiresAt(now),
      },
    };
  }

  /**
   * Records the success of several attempts in one request: a PartiQL
   * BatchExecuteStatement of up to MAX_SUCCESSES_PER_BATCH conditional UPDATEs.
   * Each statement is its own write with its own condition — the same as
   * `succeed`'s: the record exists, is `running`, and is still this attempt's —
   * and costs what `succeed` costs (standard write units, not transactional
   * ones); one failing condition does not affect the others.
   * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchExecuteStatement.html
   * @returns per entry, in order: true when written, false when the attempt no longer owns the job, or the error
   *   DynamoDB reported for that statement (throttling, an internal error), for the caller to try again
   * @throws when the request itself fails
   */
  async succeedMany(entries: readonly SuccessEntry[]): Promise<(boolean | Error)[]> {
    if (entries.length === 0) return [];
    if (entries.length > MAX_SUCCESSES_PER_BATCH)
      throw new RangeError(`succeedMany takes at most ${MAX_SUCCESSES_PER_BATCH} entries (given ${entries.length})`);
    const now = this.clock();
    const nowIso = new Date(now).toISOString();
    const expiresAt = this.expiresAt(now);
    const statement = this.succeedStatement;
    const output = await this.documentClient.send(
      new BatchExecuteStatementCommand({
        Statements: entries.map((entry) => ({
          Statement: statement,
          Parameters: [entry.result ?? null, nowIso, nowIso, expiresAt, entry.id, entry.attempt],
        })),
      }),
    );
    const responses = output.Responses ?? [];
    if (responses.length !== entries.length) {
      throw new JobstackError(`BatchExecuteStatement answered ${responses.length} of ${entries.length} statements`, {});
    }
    return responses.map((response, index): boolean | Error => {
      const code = response.Error?.Code;
      if (code === undefined) return true;
      if (code === 'ConditionalCheckFailed') return false;
      const entry = entries[index] as SuccessEntry;
      return new JobstackError(`could not record the success of job ${entry.id}: ${code}: ${response.Error?.Message ?? ''}`, {
        jobId: entry.id,
      });
    });
  }

  /**
   * The PartiQL form of `succeedUpdate` (same changes, same condition; the
   * transition `running → succeeded` checked against the state table once).
   * Parameters: result, finishedAt, updatedAt, expiresAt, id, attempt.
   */
  private get succeedStatement(): string {
    if (this.#succeedStatement === undefined) {
      assertTransition('running', 'succeeded');
      this.#succeedStatement =
        `UPDATE "${this.tableName.replaceAll('"', '""')}"` +
        ` SET "state" = 'succeeded' SET "result" = ? SET finishedAt = ? SET updatedAt = ? SET expiresAt = ?` +
        ` REMOVE leaseUntil REMOVE "error" REMOVE cancelRequested` +
        ` WHERE id = ? AND "state" = 'running' AND attempts = ?`;
    }
    return this.#succeedStatement;
  }

  #succeedStatement: string | undefined;

  /** Records a failed attempt that will be retried at `nextAttemptAt`. @returns false if the attempt no longer owns the job. */
  async scheduleRetry(id: string, attempt: number, error: JobErrorInfo, nextAttemptAt: number): Promise<boolean> {
    return conditionalUpdate(this.documentClient, this.tableName, {
      Key: { id },
      UpdateExpression:
        'SET #state = :retrying, attentionState = :attention, #error = :error, nextAttemptAt = :next, updatedAt = :now REMOVE leaseUntil',
      ...withCondition(ownedByAttempt(attempt, 'retrying'), {
        names: { '#state': 'state', '#error': 'error' },
        values: {
          ':retrying': 'retrying',
          ':attention': attentionKey('retrying', id),
          ':error': error,
          ':next': new Date(nextAttemptAt).toISOString(),
          ':now': new Date(this.clock()).toISOString(),
        },
      }),
    });
  }

  /**
   * Marks the job `dead`. With `attempt`, only if that attempt still owns the
   * job; without (poison input found before any claim), from any state the
   * table lets move to `dead`, creating the record when none exists so the
   * failure is visible.
   * @returns false when the condition did not hold.
   */
  async markDead(id: string, error: JobErrorInfo, options: DeadJobOptions & { attempt?: number } = {}): Promise<boolean> {
    if (options.attempt !== undefined) {
      return this.writeDead(id, error, ownedByAttempt(options.attempt, 'dead'), { deadLetterPending: options.deadLetterPending });
    }
    return this.writeDead(id, error, anyOf(recordAbsent, fromSourcesOf('dead')), { ...options, createIfAbsent: true });
  }

  /**
   * Marks the job `dead` only if its record is still exactly the version `seen`
   * (state, updatedAt, attempts, sweeps), or, with `seen` undefined, only if it
   * still has no record. For writers that decided from a read — the sweeper and
   * the undeliverable-queue consumer — so a job that moved after the read (a
   * claim, a retry) is never killed on stale evidence.
   * @returns false when the job moved (or appeared) since the read.
   * @throws IllegalTransitionError when `seen` is in a state that cannot become `dead`.
   */
  async markDeadIfUnchanged(
    seen: JobRecord | undefined,
    id: string,
    error: JobErrorInfo,
    options: DeadJobOptions = {},
  ): Promise<boolean> {
    if (seen === undefined) return this.writeDead(id, error, recordAbsent, { ...options, createIfAbsent: true });
    assertTransition(seen.state, 'dead', seen.id);
    return this.writeDead(seen.id, error, unchangedSince(seen), { deadLetterPending: options.deadLetterPending });
  }

  /**
   * Records that a dead job's dead-letter copy was sent after all (clears
   * `deadLetterPending`). Not a transition: only a dead job that has the flag.
   */
  async confirmDeadLetter(id: string): Promise<boolean> {
    return conditionalUpdate(this.documentClient, this.tableName, {
      Key: { id },
      UpdateExpression: 'REMOVE deadLetterPending',
      ...withCondition(allOf(stateIn(['dead']), term('deadLetterPending = :true', {}, { ':true': true }))),
    });
  }

  /**
   * Starts a new attempt series for a dead job: back to `queued` with the same
   * id and `extraAttempts` more attempts. The attempt count goes on, so
   * `ctx.attempt` keeps counting over the job's whole life, and the outcome of
   * the previous series is appended to `history` (the last MAX_HISTORY_ENTRIES).
   * The sweeper's re-send count starts afresh, and a dead-letter copy the
   * previous series still owed (`deadLetterPending`) is owed no more: the job
   * lives again, and a copy owed later must not be confused with it.
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
            'SET #state = :queued, maxAttempts = :maxAttempts, updatedAt = :now, #history = :history REMOVE attentionState, #error, finishedAt, expiresAt, nextAttemptAt, leaseUntil, cancelRequested, sweeps, sweptAt, deadLetterPending',
          ...withCondition(allOf(transitionFrom('dead', 'queued'), unchangedSince(current)), {
            names: { '#state': 'state', '#error': 'error', '#history': 'history' },
            values: {
              ':queued': 'queued',
              ':maxAttempts': current.attempts + options.extraAttempts,
              ':now': now,
              ':history': history,
            },
          }),
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
   * Stores progress of the attempt that owns the job (not a transition).
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
          ...withCondition(ownedByAttempt(attempt), {
            values: { ':progress': progress, ':now': new Date(this.clock()).toISOString() },
          }),
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

  /** Records that a running job stopped because cancellation was requested. */
  async markCancelledByRun(id: string, attempt: number): Promise<boolean> {
    const now = this.clock();
    return conditionalUpdate(this.documentClient, this.tableName, {
      Key: { id },
      UpdateExpression:
        'SET #state = :cancelled, attentionState = :attention, finishedAt = :now, updatedAt = :now, expiresAt = :expiresAt REMOVE leaseUntil',
      ...withCondition(ownedByAttempt(attempt, 'cancelled'), {
        values: {
          ':cancelled': 'cancelled',
          ':attention': attentionKey('cancelled', id),
          ':now': new Date(now).toISOString(),
          ':expiresAt': this.expiresAt(now),
        },
      }),
    });
  }

  /**
   * Cancels a job that has not started (or is waiting to retry); asks a running
   * one to stop. A finished job is left as it is.
   *
   * With `tombstone` (a job enqueued lean, whose record the claim creates), a
   * job with no record yet is cancelled by creating its record `cancelled` in
   * the same conditional write (`attribute_not_exists(id)`): the claim's
   * condition refuses a `cancelled` record, so the job never runs. The
   * tombstone knows only the id: `type` and `queue` are `unknown`. Without
   * `tombstone`, a missing record is `not-found` and nothing is written.
   */
  async cancel(id: string, options: { tombstone?: boolean } = {}): Promise<CancelResult> {
    const now = this.clock();
    const nowIso = new Date(now).toISOString();
    // A running job is cancelled by its own run (markCancelledByRun), so it is asked below instead.
    const notRunning = fromSourcesOf('cancelled', { except: ['running'] });
    const tombstone = options.tombstone === true;
    try {
      const output = await this.documentClient.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression: [
            'SET #state = :cancelled, attentionState = :attention, finishedAt = :now, updatedAt = :now, expiresAt = :expiresAt',
            // On an existing record every if_not_exists keeps what is there; they only fill a tombstone.
            ...(tombstone ? [TOMBSTONE_FIELDS] : []),
            'REMOVE nextAttemptAt',
          ].join(' '),
          ...withCondition(tombstone ? anyOf(recordAbsent, notRunning) : notRunning, {
            ...(tombstone ? { names: { '#type': 'type', '#queue': 'queue' } } : {}),
            values: {
              ':cancelled': 'cancelled',
              ':attention': attentionKey('cancelled', id),
              ':now': nowIso,
              ':expiresAt': this.expiresAt(now),
              ...(tombstone ? { ':unknown': 'unknown', ':zero': 0, ':null': null, ':id': id } : {}),
            },
          }),
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
          ...withCondition(stateIn(['running']), { values: { ':true': true, ':now': nowIso } }),
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
   * Cancels a job that has not started, recording `reason` as its `error`: only
   * from `queued` or `scheduled` with no attempt begun, so a job that started
   * (or was retried) is left alone. Debounce uses it for a superseded job.
   * @returns the cancelled record, or `cancelled: false` with the record as it is (absent when there is none)
   */
  async cancelWaiting(
    id: string,
    reason: JobErrorInfo,
  ): Promise<{ cancelled: true; record: JobRecord } | { cancelled: false; record?: JobRecord }> {
    const now = this.clock();
    try {
      const output = await this.documentClient.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression:
            'SET #state = :cancelled, attentionState = :attention, #error = :error, finishedAt = :now, updatedAt = :now, expiresAt = :expiresAt',
          ...withCondition(allOf(stateIn(['queued', 'scheduled']), term('attempts = :zero', {}, { ':zero': 0 })), {
            names: { '#state': 'state', '#error': 'error' },
            values: {
              ':cancelled': 'cancelled',
              ':attention': attentionKey('cancelled', id),
              ':error': reason,
              ':now': new Date(now).toISOString(),
              ':expiresAt': this.expiresAt(now),
            },
          }),
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { cancelled: true, record: output.Attributes as JobRecord };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = conditionFailureItem(error);
      return current ? { cancelled: false, record: current } : { cancelled: false };
    }
  }

  /** The item `create` writes for `job` (flows write it inside their own transactions). */
  newItem(job: NewJobRecord): Record<string, unknown> {
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
      ...(job.priority === undefined ? {} : { priority: job.priority }),
      ...(job.fairnessKey === undefined ? {} : { fairnessKey: job.fairnessKey }),
      ...(job.error === undefined ? {} : { error: job.error }),
      ...(job.state === 'cancelled' || job.state === 'dead' ? { finishedAt: now, expiresAt: this.expiresAt(this.clock()) } : {}),
      ...(job.orderingKey === undefined ? {} : { orderingKey: job.orderingKey }),
      ...(job.batchId === undefined ? {} : { batchId: job.batchId }),
      ...(job.parentId === undefined ? {} : { parentId: job.parentId }),
      ...(job.enqueuedBy === undefined ? {} : { enqueuedBy: job.enqueuedBy }),
      ...(job.callbackOf === undefined ? {} : { callbackOf: job.callbackOf }),
    };
  }

  /** The TTL (epoch seconds) of a record that reaches a terminal state at `now`. */
  expiresAt(now: number): number {
    return Math.floor(now / 1_000) + this.retentionSeconds;
  }

  private async writeDead(
    id: string,
    error: JobErrorInfo,
    condition: Condition,
    options: DeadJobOptions & { createIfAbsent?: boolean },
  ): Promise<boolean> {
    const now = this.clock();
    const names: Record<string, string> = { '#state': 'state', '#error': 'error' };
    const values: Record<string, unknown> = {
      ':dead': 'dead',
      ':attention': attentionKey('dead', id),
      ':error': error,
      ':now': new Date(now).toISOString(),
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
    if (options.createIfAbsent) {
      set.push(
        '#type = if_not_exists(#type, :type)',
        '#queue = if_not_exists(#queue, :queue)',
        'createdAt = if_not_exists(createdAt, :now)',
        'attempts = if_not_exists(attempts, :zero)',
        'maxAttempts = if_not_exists(maxAttempts, :maxAttempts)',
      );
      names['#type'] = 'type';
      names['#queue'] = 'queue';
      values[':type'] = options.type ?? 'unknown';
      values[':queue'] = options.queue ?? 'unknown';
      values[':zero'] = 0;
      values[':maxAttempts'] = options.maxAttempts ?? 1;
    }
    return conditionalUpdate(this.documentClient, this.tableName, {
      Key: { id },
      UpdateExpression: `SET ${set.join(', ')} REMOVE leaseUntil, nextAttemptAt`,
      ...withCondition(condition, { names, values }),
    });
  }
}

let claimConditionTemplate: Condition | undefined;
let succeedConditionTemplate: Condition | undefined;

/** claimCondition's expression, names and fixed values; `:nowMs` and `:now` are set per claim. */
function claimTemplate(): Condition {
  claimConditionTemplate ??= claimCondition(0);
  return claimConditionTemplate;
}

/** ownedByAttempt(·, 'succeeded')'s expression, names and fixed values; `:attempt` is set per write. */
function succeedTemplate(): Condition {
  succeedConditionTemplate ??= ownedByAttempt(0, 'succeeded');
  return succeedConditionTemplate;
}

/**
 * What a tombstone (a lean job cancelled before its claim created its record)
 * holds beyond the cancel's own fields: only the id is known.
 */
const TOMBSTONE_FIELDS = [
  ', #type = if_not_exists(#type, :unknown), #queue = if_not_exists(#queue, :unknown),',
  'attempts = if_not_exists(attempts, :zero), maxAttempts = if_not_exists(maxAttempts, :zero),',
  'payload = if_not_exists(payload, :null), correlationId = if_not_exists(correlationId, :id),',
  'createdAt = if_not_exists(createdAt, :now)',
].join(' ');

/**
 * The claim's condition: no record yet, or a state the table lets move to
 * `running` — where a takeover of `running` needs an expired lease and a
 * `retrying` job needs its backoff to have passed.
 */
export function claimCondition(now: number): Condition {
  return anyOf(
    recordAbsent,
    fromSourcesOf('running', { except: ['running', 'retrying'] }),
    allOf(transitionFrom('running', 'running'), term('leaseUntil < :nowMs', {}, { ':nowMs': now })),
    allOf(transitionFrom('retrying', 'running'), term('nextAttemptAt <= :now', {}, { ':now': new Date(now).toISOString() })),
  );
}
