import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { InvalidArgumentError, JobstackError } from '../errors.js';

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
   * Binds an enqueue idempotency key to `jobId`, unless another job holds it.
   * The binding lasts `windowMs` from the job's start (`runAt`, default now).
   * A binding past its window still holds while its job is not finished (a
   * job delayed or backlogged beyond the window); only a binding whose job is
   * finished or gone is taken over, by a write conditional on the binding
   * exactly as read, so under concurrent calls exactly one caller binds and
   * every caller learns the winner's job id.
   *
   * Conditions (proven on the real-DynamoDB layer): a new binding needs
   * `attribute_not_exists(id)`; a takeover needs
   * `jobId = :seenJobId AND expiresAt = :seenExpiresAt`.
   *
   * @param options.jobFinished whether a job is finished or gone (read its record); asked only for an expired binding
   * @returns the job id that owns the key, and whether this call bound it.
   */
  async bindEnqueueKey(
    jobType: string,
    key: string,
    jobId: string,
    windowMs: number,
    options: { readonly runAt?: number; readonly jobFinished: (jobId: string) => Promise<boolean> },
  ): Promise<{ jobId: string; bound: boolean }> {
    const now = this.clock();
    const item = {
      id: enqueueKeyId(jobType, key),
      jobId,
      createdAt: new Date(now).toISOString(),
      expiresAt: toEpochSeconds(Math.max(now, options.runAt ?? now) + windowMs),
    };
    const newBinding = { ConditionExpression: 'attribute_not_exists(id)' };
    let condition: BindingCondition = newBinding;
    // Each round binds, honours the holder, or finds that another caller changed the binding since it was read.
    for (let round = 1; ; round++) {
      const held = await this.putBinding(item, condition);
      if (held === 'written') return { jobId, bound: true };
      if (held === 'gone') condition = newBinding;
      else {
        // A binding without a readable expiry counts as live: honouring it is the safe side.
        const live = !(held.expiresAt < toEpochSeconds(now));
        if (live || !(await options.jobFinished(held.jobId))) return { jobId: held.jobId, bound: false };
        condition = {
          ConditionExpression: 'jobId = :seenJobId AND expiresAt = :seenExpiresAt',
          ExpressionAttributeValues: { ':seenJobId': held.jobId, ':seenExpiresAt': held.expiresAt },
        };
      }
      if (round >= MAX_BINDING_ROUNDS) {
        throw new JobstackError(`idempotency key '${key}' kept changing hands while binding it; try again`, { jobType });
      }
    }
  }

  /** Puts a binding under `condition`. @returns what holds the key instead when the condition failed */
  private async putBinding(
    item: Record<string, unknown>,
    condition: BindingCondition,
  ): Promise<'written' | 'gone' | { jobId: string; expiresAt: number }> {
    try {
      await this.documentClient.send(
        new PutCommand({ TableName: this.tableName, Item: item, ...condition, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }),
      );
      return 'written';
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // No item: the binding read earlier was deleted (TTL) before the takeover.
      if (!error.Item) return 'gone';
      const old = unmarshall(error.Item);
      return { jobId: String(old.jobId), expiresAt: Number(old.expiresAt) };
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

  /**
   * A person's verdict on a step whose outcome was unknown (the job died with
   * StepOutcomeUnknownError): `{ result }` records the step as completed with
   * that result (the side effect happened), `{ rerun: true }` forgets it (it did
   * not happen; the next attempt runs it). Applies only to a step still in
   * progress; retry the job afterwards.
   * @returns false when the step is not in progress (completed, or never started)
   */
  async resolveStep(jobId: string, name: string, resolution: StepResolution): Promise<boolean> {
    const key = { id: stepId(jobId, name) };
    const inProgress = {
      ConditionExpression: '#status = :inProgress',
      ExpressionAttributeNames: { '#status': 'status' },
    };
    try {
      if ('rerun' in resolution) {
        await this.documentClient.send(
          new DeleteCommand({
            TableName: this.tableName,
            Key: key,
            ...inProgress,
            ExpressionAttributeValues: { ':inProgress': 'in_progress' },
          }),
        );
      } else {
        await this.documentClient.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: key,
            UpdateExpression: 'SET #status = :completed, resultJson = :resultJson',
            ...inProgress,
            ExpressionAttributeValues: {
              ':inProgress': 'in_progress',
              ':completed': 'completed',
              ':resultJson': stepResultJson(resolution.result),
            },
          }),
        );
      }
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

/** Largest `ctx.once` result, as JSON text: one item with room to spare below DynamoDB's 400 KB. */
export const MAX_STEP_RESULT_BYTES = 300_000;

/** Prefix of `ctx.once` step items; the step-resolving grant is limited to it. */
export const STEP_KEY_PREFIX = 'step#';

/** How a person resolves an interrupted step: it happened (with this result), or it did not (run it again). */
export type StepResolution = { readonly result: unknown } | { readonly rerun: true };

/**
 * The JSON text a step result is stored as.
 * @throws InvalidArgumentError when the result is not JSON or over MAX_STEP_RESULT_BYTES
 */
export function stepResultJson(result: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(result);
  } catch (error) {
    throw new InvalidArgumentError(`step result is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const text = json ?? 'null';
  const sizeBytes = Buffer.byteLength(text);
  if (sizeBytes > MAX_STEP_RESULT_BYTES) {
    throw new InvalidArgumentError(`step result is ${sizeBytes} bytes, over ${MAX_STEP_RESULT_BYTES}`);
  }
  return text;
}

/** A `ctx.once` step as stored. */
export type StepState =
  | { readonly status: 'completed'; readonly result: unknown }
  | { readonly status: 'in_progress'; readonly attempt: number };

type BindingCondition = Pick<ConstructorParameters<typeof PutCommand>[0], 'ConditionExpression' | 'ExpressionAttributeValues'>;

/** Conditional writes a binding may take under contention before giving up. */
const MAX_BINDING_ROUNDS = 5;

export function enqueueKeyId(jobType: string, key: string): string {
  return `${ENQUEUE_KEY_PREFIX}${jobType}#${key}`;
}

function stepId(jobId: string, name: string): string {
  return `${STEP_KEY_PREFIX}${jobId}#${name}`;
}

function toEpochSeconds(ms: number): number {
  return Math.floor(ms / 1_000);
}
