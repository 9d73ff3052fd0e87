import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { JobErrorInfo, JobProgress, JobRecord } from '../record.js';
import { allOf, fromSourcesOf, ownedByAttempt, term, withCondition } from '../store/conditions.js';
import { JobStore, type JobStoreOptions } from '../store/job-store.js';

/** What a completed step writes to the record. */
export interface CheckpointUpdate {
  readonly checkpoint: unknown;
  /** Steps completed over the job's life, this one included. */
  readonly steps: number;
  readonly progress?: JobProgress;
  readonly executionArn: string;
}

/** The record operations the step runner needs (the DynamoDB implementation is `LongJobStore`). */
export interface LongJobRecords {
  /** Strongly consistent unless `consistent: false` (half the read cost: the cancellation watch). */
  get(id: string, options?: { consistent?: boolean }): Promise<JobRecord | undefined>;
  /** Starts an attempt: `queued`/`scheduled`/`retrying` → `running`, attempts + 1. @returns the record, or undefined when the job was not in one of those states. */
  beginAttempt(id: string, executionArn: string): Promise<JobRecord | undefined>;
  /** Stores a step's checkpoint if `attempt` still owns the job. @returns the record after the write, or undefined when it no longer owns it. */
  saveCheckpoint(id: string, attempt: number, update: CheckpointUpdate): Promise<JobRecord | undefined>;
  succeed(id: string, attempt: number, result: unknown, steps: number, executionArn: string): Promise<boolean>;
  scheduleRetry(id: string, attempt: number, error: JobErrorInfo, nextAttemptAt: number): Promise<boolean>;
  markDead(id: string, error: JobErrorInfo, options: { attempt?: number }): Promise<boolean>;
  markCancelledByRun(id: string, attempt: number): Promise<boolean>;
}

/**
 * Job record writes of long jobs. Like every write in `JobStore`, each is one
 * conditional UpdateItem: a step writes only while its attempt (the fencing
 * token `attempts`) still owns the running job, so a cancelled job or a
 * stale step can never overwrite what came after it.
 *
 * Cost: a step costs one strongly consistent read and one write; the first
 * step of an attempt one write more; a step running past 5 s one eventually
 * consistent read every 5 s (the cancellation watch, see CANCEL_WATCH_INTERVAL_MS).
 */
export class LongJobStore implements LongJobRecords {
  private readonly jobStore: JobStore;
  private readonly clock: () => number;

  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    readonly tableName: string,
    options: JobStoreOptions = {},
  ) {
    this.jobStore = new JobStore(documentClient, tableName, options);
    this.clock = options.clock ?? Date.now;
  }

  get(id: string, options: { consistent?: boolean } = {}): Promise<JobRecord | undefined> {
    return this.jobStore.get(id, options);
  }

  async beginAttempt(id: string, executionArn: string): Promise<JobRecord | undefined> {
    const now = new Date(this.clock()).toISOString();
    return this.update({
      Key: { id },
      UpdateExpression:
        'SET #state = :running, startedAt = :now, updatedAt = :now, executionArn = :arn ADD attempts :one REMOVE attentionState, nextAttemptAt',
      // Any source of `running` but a takeover: a long job's run is its execution, not a lease.
      ...withCondition(
        allOf(fromSourcesOf('running', { except: ['running'] }), term('NOT cancelRequested = :true', {}, { ':true': true })),
        { values: { ':running': 'running', ':now': now, ':arn': executionArn, ':one': 1 } },
      ),
    });
  }

  /**
   * Written only over the checkpoint the step started from (`steps` is one
   * less than `update.steps`): `steps` versions the checkpoint, so when a step
   * runs twice at once (an Express execution run twice, a stray run of the same
   * chain) only the first to finish records its outcome, and the other finds
   * the record moved on.
   */
  async saveCheckpoint(id: string, attempt: number, update: CheckpointUpdate): Promise<JobRecord | undefined> {
    const now = new Date(this.clock()).toISOString();
    return this.update({
      Key: { id },
      UpdateExpression: `SET #checkpoint = :checkpoint, steps = :steps, executionArn = :arn, updatedAt = :now${
        update.progress === undefined ? '' : ', progress = :progress'
      }`,
      ...withCondition(allOf(ownedByAttempt(attempt), followsStep(update.steps - 1)), {
        names: { '#checkpoint': 'checkpoint' },
        values: {
          ':checkpoint': update.checkpoint ?? null,
          ':steps': update.steps,
          ':arn': update.executionArn,
          ':now': now,
          ...(update.progress === undefined ? {} : { ':progress': update.progress }),
        },
      }),
    });
  }

  /** Like `saveCheckpoint`, only over the checkpoint the last step started from. */
  async succeed(id: string, attempt: number, result: unknown, steps: number, executionArn: string): Promise<boolean> {
    const now = this.clock();
    const record = await this.update({
      Key: { id },
      UpdateExpression:
        'SET #state = :succeeded, #result = :result, steps = :steps, executionArn = :arn, progress = :done, finishedAt = :now, updatedAt = :now, expiresAt = :expiresAt REMOVE #error, cancelRequested',
      ...withCondition(allOf(ownedByAttempt(attempt, 'succeeded'), followsStep(steps - 1)), {
        names: { '#result': 'result', '#error': 'error' },
        values: {
          ':succeeded': 'succeeded',
          ':result': result ?? null,
          ':steps': steps,
          ':arn': executionArn,
          ':done': { percent: 100 },
          ':now': new Date(now).toISOString(),
          ':expiresAt': this.jobStore.expiresAt(now),
        },
      }),
    });
    return record !== undefined;
  }

  scheduleRetry(id: string, attempt: number, error: JobErrorInfo, nextAttemptAt: number): Promise<boolean> {
    return this.jobStore.scheduleRetry(id, attempt, error, nextAttemptAt);
  }

  markDead(id: string, error: JobErrorInfo, options: { attempt?: number }): Promise<boolean> {
    return this.jobStore.markDead(id, error, options);
  }

  markCancelledByRun(id: string, attempt: number): Promise<boolean> {
    return this.jobStore.markCancelledByRun(id, attempt);
  }

  private async update(input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>): Promise<JobRecord | undefined> {
    try {
      const output = await this.documentClient.send(
        new UpdateCommand({ TableName: this.tableName, ReturnValues: 'ALL_NEW', ...input }),
      );
      return output.Attributes as JobRecord;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }
}

/** "The record's last checkpoint is the `steps`-th": no step has been recorded since the one this step started from. */
function followsStep(steps: number) {
  return steps === 0
    ? term('(attribute_not_exists(steps) OR steps = :previousSteps)', {}, { ':previousSteps': 0 })
    : term('steps = :previousSteps', {}, { ':previousSteps': steps });
}
