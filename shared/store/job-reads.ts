import { BatchGetCommand, type DynamoDBDocumentClient, GetCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { ATTENTION_INDEX_NAME } from '../config.js';
import { InvalidArgumentError } from '../errors.js';
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
   * Lists jobs. States that need attention (scheduled, retrying, waiting, dead,
   * cancelled) are read from the sparse index, newest update first. The others
   * (queued, running, succeeded, or no state filter) need a Scan, whose cost
   * grows with the table: the price of keeping plain jobs out of the index (TTL
   * keeps the table to the retention window). By default a scanned page stops
   * as soon as it is full and is sorted newest first within itself, so its
   * cost is one page's worth of the table. With `newestFirst` it is newest
   * created first across pages: a Scan returns items in hash order, so every
   * page then reads the whole table's ids and creation times (keeping only the
   * newest `limit` past the cursor) before the page's records, a full Scan per
   * page. `type`, `queue` and `idPrefix` filter every listing.
   */
  async list(query: ListQuery = {}): Promise<ListPage> {
    const limit = query.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1)
      throw new InvalidArgumentError(`list limit must be a positive integer (given ${limit})`);
    if (query.state !== undefined && needsAttention(query.state)) return this.listNeedingAttention(query.state, query, limit);
    return query.newestFirst === true ? this.listScanned(query, limit) : this.listScannedPage(query, limit);
  }

  /** One Scan page in table order, sorted within itself: the cursor is DynamoDB's LastEvaluatedKey. */
  private async listScannedPage(query: ListQuery, limit: number): Promise<ListPage> {
    const filter = scanFilter(query);
    let startKey = decodeCursor(query.cursor);
    if (startKey !== undefined && 'before' in startKey) {
      throw new InvalidArgumentError(
        `invalid paging cursor ${JSON.stringify(query.cursor)}: a cursor of the newest-first listing (pass newestFirst again)`,
      );
    }
    const jobs: JobRecord[] = [];
    do {
      const output = await this.documentClient.send(
        new ScanCommand({
          TableName: this.tableName,
          // Limit counts items read before the filter, so a filtered page may take several rounds.
          Limit: limit - jobs.length,
          ExclusiveStartKey: startKey,
          FilterExpression: filter.terms.join(' AND '),
          ExpressionAttributeNames: filter.names,
          ExpressionAttributeValues: Object.keys(filter.values).length > 0 ? filter.values : undefined,
        }),
      );
      jobs.push(...((output.Items ?? []) as JobRecord[]));
      startKey = output.LastEvaluatedKey;
    } while (startKey !== undefined && jobs.length < limit);
    jobs.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    const cursor = encodeCursor(startKey);
    return cursor === undefined ? { jobs } : { jobs, cursor };
  }

  /** Newest created first over a Scan: the cursor is the last job shown, `{ before: { createdAt, id } }`. */
  private async listScanned(query: ListQuery, limit: number): Promise<ListPage> {
    const filter = scanFilter(query);
    const before = scanPosition(query.cursor);
    filter.names['#createdAt'] = 'createdAt';
    filter.names['#id'] = 'id';
    if (before) {
      filter.values[':beforeCreatedAt'] = before.createdAt;
      filter.values[':beforeId'] = before.id;
      filter.terms.push('(#createdAt < :beforeCreatedAt OR (#createdAt = :beforeCreatedAt AND #id < :beforeId))');
    }
    /** The newest `limit + 1` seen so far (one more tells whether there is a next page). */
    let newest: ScanKey[] = [];
    const keep = (keys: ScanKey[]) => keys.sort(newestFirst).slice(0, limit + 1);
    let startKey: Record<string, unknown> | undefined;
    do {
      const output = await this.documentClient.send(
        new ScanCommand({
          TableName: this.tableName,
          ExclusiveStartKey: startKey,
          ProjectionExpression: '#id, #createdAt',
          FilterExpression: filter.terms.join(' AND '),
          ExpressionAttributeNames: filter.names,
          ExpressionAttributeValues: Object.keys(filter.values).length > 0 ? filter.values : undefined,
        }),
      );
      newest.push(...((output.Items ?? []) as ScanKey[]));
      if (newest.length > 4 * (limit + 1)) newest = keep(newest);
      startKey = output.LastEvaluatedKey;
    } while (startKey !== undefined);
    newest = keep(newest);
    const shown = newest.slice(0, limit);
    const records = new Map((await this.getMany(shown.map((key) => key.id))).map((record) => [record.id, record]));
    // A record may have expired (TTL) between the Scan and the read: it is simply left out.
    const jobs = shown.flatMap((key) => records.get(key.id) ?? []);
    const last = shown.at(-1);
    return newest.length > limit && last
      ? { jobs, cursor: encodeCursor({ before: { createdAt: last.createdAt, id: last.id } }) as string }
      : { jobs };
  }

  /**
   * Newest first across the state's index shards: each shard is read in order
   * from where the previous page left it, the reads are merged, and the cursor
   * remembers, per shard, the last job shown (or that the shard is exhausted).
   */
  private async listNeedingAttention(state: JobState, query: ListQuery, limit: number): Promise<ListPage> {
    const filter = listFilter(query);
    const positions = (decodeCursor(query.cursor) ?? {}) as Record<string, Record<string, unknown> | 'done' | undefined>;
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
            ExpressionAttributeValues: { ':attention': shard, ...filter.values },
            ...(filter.terms.length === 0
              ? {}
              : { FilterExpression: filter.terms.join(' AND '), ExpressionAttributeNames: filter.names }),
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

/** A job's key and creation time, as the ordered Scan reads them. */
interface ScanKey {
  readonly id: string;
  readonly createdAt: string;
}

function newestFirst(a: ScanKey, b: ScanKey): number {
  return b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id);
}

/** Where an ordered Scan page starts: after the last job the previous page showed. */
function scanPosition(cursor: string | undefined): ScanKey | undefined {
  const decoded = decodeCursor(cursor);
  if (decoded === undefined) return undefined;
  const before = decoded.before as Partial<ScanKey> | undefined;
  if (typeof before?.createdAt !== 'string' || typeof before.id !== 'string') {
    throw new InvalidArgumentError(`invalid paging cursor ${JSON.stringify(cursor)}: not a cursor of this listing`);
  }
  return { createdAt: before.createdAt, id: before.id };
}

/** A scanned listing's filter: the query's, jobs only, and the state when one is asked for. */
function scanFilter(query: ListQuery): ReturnType<typeof listFilter> {
  const filter = listFilter(query);
  // Control items (flow-control state, queue pauses) share the table and have no state: never list them.
  filter.names['#state'] = 'state';
  filter.terms.unshift('attribute_exists(#state)');
  if (query.state !== undefined) {
    filter.values[':state'] = query.state;
    filter.terms.push('#state = :state');
  }
  return filter;
}

/** The type, queue and id-prefix filters of a listing, as DynamoDB filter terms. */
function listFilter(query: ListQuery): { terms: string[]; names: Record<string, string>; values: Record<string, unknown> } {
  const filter = { terms: [] as string[], names: {} as Record<string, string>, values: {} as Record<string, unknown> };
  if (query.type !== undefined) {
    filter.names['#type'] = 'type';
    filter.values[':type'] = query.type;
    filter.terms.push('#type = :type');
  }
  if (query.queue !== undefined) {
    filter.names['#queue'] = 'queue';
    filter.values[':queue'] = query.queue;
    filter.terms.push('#queue = :queue');
  }
  if (query.idPrefix !== undefined && query.idPrefix !== '') {
    filter.names['#id'] = 'id';
    filter.values[':idPrefix'] = query.idPrefix;
    filter.terms.push('begins_with(#id, :idPrefix)');
  }
  return filter;
}
