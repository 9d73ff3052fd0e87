import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { controlItemId } from '../store/control-items.js';
import type { QueuePause } from './types.js';

/** How long a worker container trusts what it last read of its queue's pause (functions/worker/pause-gate.ts). */
export const PAUSE_CACHE_MS = 5_000;
/**
 * How long `pause` waits after writing the pause before it returns: every worker's cached read has
 * expired by then, plus a second for the eventually consistent read the worker makes to see the write.
 */
export const PAUSE_SETTLE_MS = PAUSE_CACHE_MS + 1_000;

/** The control item id of `queue`'s pause: `queue#<name>`. */
export function pauseItemId(queue: string): string {
  return controlItemId('queue', queue);
}

/**
 * Pauses of logical queues, one control item each in the job table (see
 * shared/store/control-items.ts: an id with `#` and no `state`, so no read of
 * jobs ever sees it). The item is the truth the worker's gate and the
 * sweeper's reconcile read; the event source mapping follows it.
 */
export class PauseStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * The pause of `queue`, if any. `consistent: false` is the worker's read: half the read units, and a
   * pause written a moment ago may be missed for about a second (the event source is disabled anyway).
   */
  async get(queue: string, options: { consistent: boolean }): Promise<QueuePause | undefined> {
    const output = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { id: pauseItemId(queue) }, ConsistentRead: options.consistent }),
    );
    return output.Item ? toPause(queue, output.Item) : undefined;
  }

  /**
   * Records a pause (one UpdateItem). A queue already paused keeps its first `pausedAt`; its reason,
   * `keepOnDeploy` and `stackUpdatedAt` are replaced, so a pause repeated after a deploy counts from then.
   * @returns the pause as stored and whether the queue was paused before
   */
  async put(pause: Omit<QueuePause, 'pausedAt'> & { readonly now: string }): Promise<{ pause: QueuePause; existed: boolean }> {
    const output = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { id: pauseItemId(pause.queue) },
        UpdateExpression:
          'SET #kind = :kind, #queue = :queue, #pausedAt = if_not_exists(#pausedAt, :now), #keep = :keep, #stackUpdatedAt = :stack' +
          (pause.reason === undefined ? ' REMOVE #reason' : ', #reason = :reason'),
        ExpressionAttributeNames: {
          '#kind': 'kind',
          '#queue': 'queue',
          '#pausedAt': 'pausedAt',
          '#keep': 'keepOnDeploy',
          '#stackUpdatedAt': 'stackUpdatedAt',
          '#reason': 'reason',
        },
        ExpressionAttributeValues: {
          ':kind': 'queue-pause',
          ':queue': pause.queue,
          ':now': pause.now,
          ':keep': pause.keepOnDeploy,
          ':stack': pause.stackUpdatedAt,
          ...(pause.reason === undefined ? {} : { ':reason': pause.reason }),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const stored = toPause(pause.queue, output.Attributes ?? {});
    return { pause: stored, existed: stored.pausedAt !== pause.now };
  }

  /**
   * Deletes the pause of `queue`. With `ifUnchanged`, only while the item is still the pause that was
   * read (same `pausedAt` and `stackUpdatedAt`): the sweeper's reconcile must not delete a pause someone
   * repeated after its read.
   * @returns true when a pause was deleted
   */
  async delete(queue: string, options: { ifUnchanged?: QueuePause } = {}): Promise<boolean> {
    const read = options.ifUnchanged;
    try {
      const output = await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { id: pauseItemId(queue) },
          ReturnValues: 'ALL_OLD',
          ...(read === undefined
            ? {}
            : {
                ConditionExpression: '#pausedAt = :pausedAt AND #stackUpdatedAt = :stack',
                ExpressionAttributeNames: { '#pausedAt': 'pausedAt', '#stackUpdatedAt': 'stackUpdatedAt' },
                ExpressionAttributeValues: { ':pausedAt': read.pausedAt, ':stack': read.stackUpdatedAt },
              }),
        }),
      );
      return output.Attributes !== undefined;
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }
}

function toPause(queue: string, item: Record<string, unknown>): QueuePause {
  return {
    queue,
    pausedAt: String(item.pausedAt ?? ''),
    ...(typeof item.reason === 'string' ? { reason: item.reason } : {}),
    keepOnDeploy: item.keepOnDeploy === true,
    stackUpdatedAt: String(item.stackUpdatedAt ?? ''),
  };
}
