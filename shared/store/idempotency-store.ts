import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';

/**
 * The idempotency table: enqueue keys (`enqueue#<type>#<key>` → job id, for
 * the key's window) and completed steps inside a job (`step#<jobId>#<name>` →
 * stored result, for `ctx.once`). Items expire by TTL on `expiresAt`.
 */
export class IdempotencyStore {
  private readonly clock: () => number;

  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    readonly tableName: string,
    options: { clock?: () => number } = {},
  ) {
    this.clock = options.clock ?? Date.now;
  }

  /**
   * Binds an enqueue idempotency key to `jobId` for `windowMs`, unless a live
   * binding exists. One conditional write; under concurrent calls exactly one
   * binding wins and every caller learns the winner's job id.
   * @returns the job id that owns the key, and whether this call bound it.
   */
  async bindEnqueueKey(
    jobType: string,
    key: string,
    jobId: string,
    windowMs: number,
  ): Promise<{ jobId: string; bound: boolean }> {
    const now = this.clock();
    try {
      await this.documentClient.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            id: enqueueKeyId(jobType, key),
            jobId,
            createdAt: new Date(now).toISOString(),
            expiresAt: toEpochSeconds(now + windowMs),
          },
          // TTL deletes lag by up to days: an expired binding counts as free.
          ConditionExpression: 'attribute_not_exists(id) OR expiresAt < :now',
          ExpressionAttributeValues: { ':now': toEpochSeconds(now) },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { jobId, bound: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException) || !error.Item) throw error;
      return { jobId: String(unmarshall(error.Item).jobId), bound: false };
    }
  }

  /**
   * The state of a `ctx.once` step: completed with its result (stored as JSON
   * text, so any JSON value round-trips, numbers beyond 2^53 included), started
   * by `attempt` and not finished, or never started (undefined).
   */
  async readStep(jobId: string, name: string): Promise<StepState | undefined> {
    const output = await this.documentClient.send(
      new GetCommand({ TableName: this.tableName, Key: { id: stepId(jobId, name) }, ConsistentRead: true }),
    );
    const item = output.Item;
    if (!item) return undefined;
    if (item.status === 'completed') {
      // Items written before results were stored as text hold the value itself in `result`.
      const result: unknown = typeof item.resultJson === 'string' ? JSON.parse(item.resultJson) : (item.result ?? null);
      return { status: 'completed', result };
    }
    return { status: 'in_progress', attempt: Number(item.attempt) };
  }

  /**
   * Marks a step as started by `attempt`, only if nobody started it before.
   * @returns false when a marker exists (read it with `readStep` to learn whose)
   */
  async beginStep(jobId: string, name: string, attempt: number, retentionMs: number): Promise<boolean> {
    return this.putStepMarker(jobId, name, attempt, retentionMs, { ConditionExpression: 'attribute_not_exists(id)' });
  }

  /**
   * Takes over the marker an earlier attempt (`seenAttempt`) left in progress,
   * exactly as it was read: of two attempts racing for it, one wins.
   * @returns false when the marker changed since it was read
   */
  async takeOverStep(jobId: string, name: string, seenAttempt: number, attempt: number, retentionMs: number): Promise<boolean> {
    return this.putStepMarker(jobId, name, attempt, retentionMs, {
      ConditionExpression: '#status = :inProgress AND attempt = :seenAttempt',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':inProgress': 'in_progress', ':seenAttempt': seenAttempt },
    });
  }

  /**
   * Stores a step's result (its JSON text) if `attempt` still holds the marker.
   * @returns false when another attempt took the step over
   */
  async completeStep(jobId: string, name: string, attempt: number, resultJson: string): Promise<boolean> {
    try {
      await this.documentClient.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: stepId(jobId, name) },
          UpdateExpression: 'SET #status = :completed, resultJson = :resultJson',
          ConditionExpression: '#status = :inProgress AND attempt = :attempt',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':completed': 'completed',
            ':inProgress': 'in_progress',
            ':attempt': attempt,
            ':resultJson': resultJson,
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  private async putStepMarker(
    jobId: string,
    name: string,
    attempt: number,
    retentionMs: number,
    condition: Pick<
      ConstructorParameters<typeof PutCommand>[0],
      'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
    >,
  ): Promise<boolean> {
    try {
      await this.documentClient.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            id: stepId(jobId, name),
            status: 'in_progress',
            attempt,
            expiresAt: toEpochSeconds(this.clock() + retentionMs),
          },
          ...condition,
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Where a long-running scan (the sweeper's) resumes; kept in this table as small operational state. */
  async loadCursor(name: string): Promise<Record<string, unknown> | undefined> {
    const output = await this.documentClient.send(
      new GetCommand({ TableName: this.tableName, Key: { id: `cursor#${name}` }, ConsistentRead: true }),
    );
    return output.Item?.cursor as Record<string, unknown> | undefined;
  }

  async saveCursor(name: string, cursor: Record<string, unknown> | undefined): Promise<void> {
    if (cursor === undefined) {
      await this.documentClient.send(new DeleteCommand({ TableName: this.tableName, Key: { id: `cursor#${name}` } }));
      return;
    }
    await this.documentClient.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { id: `cursor#${name}`, cursor, updatedAt: new Date(this.clock()).toISOString() },
      }),
    );
  }

  /** Forgets a step that threw (known not completed), so the next attempt runs it again. */
  async abandonStep(jobId: string, name: string, attempt: number): Promise<void> {
    await this.documentClient
      .send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { id: stepId(jobId, name) },
          ConditionExpression: '#status = :inProgress AND attempt = :attempt',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':inProgress': 'in_progress', ':attempt': attempt },
        }),
      )
      .catch((error: unknown) => {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      });
  }
}

/**
 * Partition-key prefix of enqueue keys. The enqueue grant is limited to keys
 * with it (IAM `dynamodb:LeadingKeys`), so enqueuers cannot touch step results.
 */
export const ENQUEUE_KEY_PREFIX = 'enqueue#';

/** A `ctx.once` step as stored. */
export type StepState =
  | { readonly status: 'completed'; readonly result: unknown }
  | { readonly status: 'in_progress'; readonly attempt: number };

export function enqueueKeyId(jobType: string, key: string): string {
  return `${ENQUEUE_KEY_PREFIX}${jobType}#${key}`;
}

function stepId(jobId: string, name: string): string {
  return `step#${jobId}#${name}`;
}

function toEpochSeconds(ms: number): number {
  return Math.floor(ms / 1_000);
}
