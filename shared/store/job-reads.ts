import { BatchGetCommand, type DynamoDBDocumentClient, GetCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { ATTENTION_INDEX_NAME } from '../config.js';
import type { JobRecord } from '../record.js';
import { type JobState, needsAttention } from '../states.js';
import { attentionKeysOf } from './attention.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { delay } from './dynamo.js';
import type { JobStoreOptions, ListPage, ListQuery } from './types.js';

/**
 * The read side of the job table: single and batch reads and the listing (a
 * Scan, or the sharded attention index for states that need attention). It
 * writes nothing; `JobStore` adds the state transitions on top of it, and the
 * dashboard, the CLI and `jobs.get`/`jobs.list` need only this.
 */
export class JobReader {
  protected readonly clock: () => number;

  constructor(
    protected readonly documentClient: DynamoDBDocumentClient,
    readonly tableName: string,
    options: JobStoreOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
  }

  /** Reads one record; strongly consistent unless `consistent: false`. */
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
    // Control items (flow-control state, queue pauses) share the table and have no state: never list them.
    const names: Record<string, string> = { '#state': 'state' };
    const values: Record<string, unknown> = {};
    const filters: string[] = ['attribute_exists(#state)'];
    if (query.type !== undefined) {
      names['#type'] = 'type';
      values[':type'] = query.type;
      filters.push('#type = :type');
    }
    if (query.state !== undefined) {
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
          FilterExpression: filters.join(' AND '),
          ExpressionAttributeNames: names,
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
}
