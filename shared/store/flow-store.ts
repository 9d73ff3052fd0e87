import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { controlItemId } from './control-items.js';

/**
 * A concurrency control item: who holds a slot of one key, until when.
 * `holders` maps a job id to the epoch ms its lease ends; a holder past its
 * lease is gone (its run died) and is dropped by the next acquire.
 */
interface SlotsItem {
  readonly id: string;
  readonly holders: Record<string, number>;
  readonly version: number;
}

/** A rate control item: the start times (epoch ms, ascending) of the key's last `limit` starts. */
interface StartsItem {
  readonly id: string;
  readonly starts: readonly number[];
  readonly version: number;
}

export interface SlotRequest {
  readonly jobType: string;
  readonly key: string;
  readonly jobId: string;
  /** Live slots of the key at most. */
  readonly limit: number;
  /** Epoch ms the slot is held until unless released: the attempt's lease, so a crashed run's slot frees itself. */
  readonly leaseUntil: number;
}

export type SlotResult =
  /**
   * The job holds a slot until `leaseUntil`. `heldBefore`: it already held one
   * (a duplicate delivery of a running job, or an earlier attempt whose release
   * failed); nothing was written and the lease is the earlier one.
   */
  | { readonly granted: true; readonly heldBefore: boolean; readonly leaseUntil: number }
  /**
   * Every slot is held (`holders` live holders), or the item changed under every
   * try (`contended`). `freesAt`: the earliest lease end among the holders,
   * the latest moment a slot frees itself if no run releases one.
   */
  | { readonly granted: false; readonly holders: number; readonly freesAt: number; readonly contended: boolean };

export interface StartRequest {
  readonly jobType: string;
  readonly key: string;
  /** Starts of the key within any window of `perMs`, at most. */
  readonly limit: number;
  readonly perMs: number;
}

export type StartResult =
  | { readonly allowed: true; readonly at: number }
  /** Over the limit: the next start of the key is possible `waitMs` from now (or the item kept changing: `contended`). */
  | { readonly allowed: false; readonly waitMs: number; readonly contended: boolean };

/** Live holders of a key's concurrency slots, as `jobs.flowState` shows them. */
export interface SlotState {
  readonly holders: readonly { readonly jobId: string; readonly leaseUntil: number }[];
}

/** Recent starts of a key under its rate limit. */
export interface StartLog {
  /** Epoch ms of the key's last starts (at most `limit`), ascending. */
  readonly starts: readonly number[];
}

export interface FlowStoreOptions {
  readonly clock?: () => number;
  /** Items kept in memory, so a warm worker writes without reading first. @default 1000 */
  readonly cacheSize?: number;
}

/** Conditional writes tried per acquire or start before answering `contended`. */
const MAX_ROUNDS = 6;
/** A control item outlives its last use by this long before TTL removes it. */
const CONTROL_ITEM_TTL_MS = 86_400_000;

/**
 * The state of concurrency and rate limits, as control items in the job table
 * (`concurrency#<type>#<key>`, `rate#<type>#<key>`).
 *
 * Every change is one conditional write on the version the writer last saw
 * (`version = :seen`, or `attribute_not_exists(id)` for a new item), so two
 * workers can never both take the last slot or the last start. A failed
 * condition returns the current item (`ReturnValuesOnConditionCheckFailure`),
 * and the next try is computed from it without a read. The last item seen per
 * key is kept in memory: a warm worker usually needs one write per acquire.
 * A decision that writes nothing (every slot held, or this job already holds
 * one) is made only on an item read or returned by DynamoDB in this call, never
 * on the cache alone; a rate refusal may rest on the cache, because a key's
 * starts within the window only grow.
 *
 * Slots are leased: a holder whose lease has passed no longer counts, so a
 * run that died without releasing frees its slot when its lease ends.
 */
export class FlowStore {
  private readonly clock: () => number;
  private readonly cacheSize: number;
  private readonly cache = new Map<string, SlotsItem | StartsItem>();

  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    readonly tableName: string,
    options: FlowStoreOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
    this.cacheSize = options.cacheSize ?? 1_000;
  }

  /**
   * Takes a slot of `key` for `jobId` until `leaseUntil`, when fewer than
   * `limit` other jobs hold a live one. Idempotent per job id: a job that
   * already holds a live slot gets it back (`heldBefore`), with its lease as it was.
   */
  async acquireSlot(request: SlotRequest): Promise<SlotResult> {
    const id = controlItemId('concurrency', request.jobType, request.key);
    let seen = this.cached<SlotsItem>(id);
    let fresh = false;
    if (seen === undefined) {
      seen = await this.read<SlotsItem>(id);
      fresh = true;
    }
    let holders = 0;
    let freesAt = this.clock();
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const now = this.clock();
      const current = seen?.holders ?? {};
      const mine = current[request.jobId];
      const others = Object.entries(current).filter(([jobId, lease]) => jobId !== request.jobId && lease > now);
      holders = others.length;
      freesAt = others.length > 0 ? Math.min(...others.map(([, lease]) => lease)) : now;
      if ((mine !== undefined && mine > now) || others.length >= request.limit) {
        if (!fresh) {
          seen = await this.read<SlotsItem>(id);
          fresh = true;
          continue;
        }
        if (mine !== undefined && mine > now) return { granted: true, heldBefore: true, leaseUntil: mine };
        return { granted: false, holders, freesAt, contended: false };
      }
      const expired = Object.keys(current).filter((jobId) => jobId !== request.jobId && (current[jobId] ?? 0) <= now);
      const expiresAt = ttlSeconds(Math.max(request.leaseUntil, ...others.map(([, lease]) => lease)));
      const written = await this.write<SlotsItem>(
        id,
        seen,
        () => ({ id, holders: { [request.jobId]: request.leaseUntil }, version: 1, expiresAt }),
        () => ({
          UpdateExpression: [
            'SET holders.#me = :lease, expiresAt = :expiresAt',
            ...(expired.length > 0 ? [`REMOVE ${expired.map((_, i) => `holders.#x${i}`).join(', ')}`] : []),
            'ADD version :one',
          ].join(' '),
          ExpressionAttributeNames: { '#me': request.jobId, ...Object.fromEntries(expired.map((jobId, i) => [`#x${i}`, jobId])) },
          ExpressionAttributeValues: { ':lease': request.leaseUntil, ':expiresAt': expiresAt },
        }),
      );
      if (written.ok) return { granted: true, heldBefore: false, leaseUntil: request.leaseUntil };
      seen = written.current;
      fresh = true;
    }
    return { granted: false, holders, freesAt, contended: true };
  }

  /**
   * Moves the lease of a slot `jobId` holds to `leaseUntil` (a new attempt
   * taking a slot an earlier attempt never released). @returns false when it holds none.
   */
  async extendSlot(request: Omit<SlotRequest, 'limit'>): Promise<boolean> {
    const id = controlItemId('concurrency', request.jobType, request.key);
    return this.update(id, {
      UpdateExpression: 'SET holders.#me = :lease ADD version :one',
      ConditionExpression: 'attribute_exists(holders.#me)',
      ExpressionAttributeNames: { '#me': request.jobId },
      ExpressionAttributeValues: { ':lease': request.leaseUntil, ':one': 1 },
    });
  }

  /**
   * Gives back the slot `jobId` took with lease `leaseUntil`. A run that lost
   * its job to a later delivery (which took the slot over with a later lease)
   * releases nothing. @returns false when there was nothing of this run's to release.
   */
  async releaseSlot(request: Omit<SlotRequest, 'limit'>): Promise<boolean> {
    const id = controlItemId('concurrency', request.jobType, request.key);
    return this.update(id, {
      UpdateExpression: 'REMOVE holders.#me ADD version :one',
      ConditionExpression: 'holders.#me <= :lease',
      ExpressionAttributeNames: { '#me': request.jobId },
      ExpressionAttributeValues: { ':lease': request.leaseUntil, ':one': 1 },
    });
  }

  /**
   * Records a start of `key` now, when fewer than `limit` starts of the key lie
   * within the last `perMs`; otherwise says when the next start is possible.
   * The log holds the last `limit` starts, so the answer is exact: no window of
   * length `perMs` ever holds more than `limit` recorded starts.
   */
  async takeStart(request: StartRequest): Promise<StartResult> {
    const id = controlItemId('rate', request.jobType, request.key);
    let seen = this.cached<StartsItem>(id);
    if (seen === undefined) seen = await this.read<StartsItem>(id);
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const now = this.clock();
      const recent = [...(seen?.starts ?? [])].filter((start) => start > now - request.perMs).sort((a, b) => a - b);
      if (recent.length >= request.limit) {
        // Starts within the window only grow, so a refusal read from the cache holds for the item as it is now.
        const frees = recent[recent.length - request.limit] ?? now;
        return { allowed: false, waitMs: Math.max(1, frees + request.perMs - now), contended: false };
      }
      const starts = [...recent, now].sort((a, b) => a - b).slice(-request.limit);
      const expiresAt = ttlSeconds(now + request.perMs);
      const written = await this.write<StartsItem>(
        id,
        seen,
        () => ({ id, starts, version: 1, expiresAt }),
        () => ({
          UpdateExpression: 'SET starts = :starts, expiresAt = :expiresAt ADD version :one',
          ExpressionAttributeValues: { ':starts': starts, ':expiresAt': expiresAt },
        }),
      );
      if (written.ok) return { allowed: true, at: now };
      seen = written.current;
    }
    return { allowed: false, waitMs: 1_000, contended: true };
  }

  /**
   * Marks a job whose message went back to wait for its limit as just sent
   * (`updatedAt`), so the sweeper, which cannot see re-sent wait messages,
   * does not take a long wait for a lost message. Only a `queued` or
   * `retrying` record is touched; none is created.
   * @returns false when the record is absent or in another state
   */
  async noteWaiting(jobId: string): Promise<boolean> {
    try {
      await this.documentClient.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: jobId },
          UpdateExpression: 'SET updatedAt = :now',
          ConditionExpression: '#state IN (:queued, :retrying)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':now': new Date(this.clock()).toISOString(),
            ':queued': 'queued',
            ':retrying': 'retrying',
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** The live holders of `key`'s slots (strongly consistent read). */
  async slots(jobType: string, key: string): Promise<SlotState> {
    const item = await this.read<SlotsItem>(controlItemId('concurrency', jobType, key));
    const now = this.clock();
    const holders = Object.entries(item?.holders ?? {})
      .filter(([, lease]) => lease > now)
      .map(([jobId, leaseUntil]) => ({ jobId, leaseUntil }))
      .sort((a, b) => a.leaseUntil - b.leaseUntil);
    return { holders };
  }

  /** The recorded starts of `key` under its rate limit (strongly consistent read). */
  async starts(jobType: string, key: string): Promise<StartLog> {
    const item = await this.read<StartsItem>(controlItemId('rate', jobType, key));
    return { starts: [...(item?.starts ?? [])].sort((a, b) => a - b) };
  }

  private cached<Item extends SlotsItem | StartsItem>(id: string): Item | undefined {
    return this.cache.get(id) as Item | undefined;
  }

  private remember(item: SlotsItem | StartsItem | undefined, id: string): void {
    this.cache.delete(id);
    if (item === undefined) return;
    this.cache.set(id, item);
    // Map keeps insertion order: the first key is the one used longest ago.
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
  }

  private async read<Item extends SlotsItem | StartsItem>(id: string): Promise<Item | undefined> {
    const output = await this.documentClient.send(
      new GetCommand({ TableName: this.tableName, Key: { id }, ConsistentRead: true }),
    );
    const item = output.Item as Item | undefined;
    this.remember(item, id);
    return item;
  }

  /**
   * Writes the item `seen` was the version of: a Put of `create()` when there
   * was none, else an Update conditional on that version. On a failed condition
   * it returns the item as it is now.
   */
  private async write<Item extends SlotsItem | StartsItem>(
    id: string,
    seen: Item | undefined,
    create: () => Item & { expiresAt: number },
    update: () => {
      UpdateExpression: string;
      ExpressionAttributeNames?: Record<string, string>;
      ExpressionAttributeValues: Record<string, unknown>;
    },
  ): Promise<{ ok: true } | { ok: false; current: Item | undefined }> {
    try {
      if (seen === undefined) {
        const item = create();
        await this.documentClient.send(
          new PutCommand({
            TableName: this.tableName,
            Item: item,
            ConditionExpression: 'attribute_not_exists(id)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        this.remember(item, id);
      } else {
        const { UpdateExpression, ExpressionAttributeNames, ExpressionAttributeValues } = update();
        const output = await this.documentClient.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { id },
            UpdateExpression,
            ConditionExpression: 'version = :seen',
            ...(ExpressionAttributeNames ? { ExpressionAttributeNames } : {}),
            ExpressionAttributeValues: { ...ExpressionAttributeValues, ':seen': seen.version, ':one': 1 },
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        this.remember(output.Attributes as Item | undefined, id);
      }
      return { ok: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // lib-dynamodb does not unmarshall the item attached to the exception.
      const current = error.Item ? (unmarshall(error.Item) as Item) : undefined;
      this.remember(current, id);
      return { ok: false, current };
    }
  }

  /** An unversioned conditional update (extend, release); keeps the cache in step. */
  private async update(
    id: string,
    input: {
      UpdateExpression: string;
      ConditionExpression: string;
      ExpressionAttributeNames: Record<string, string>;
      ExpressionAttributeValues: Record<string, unknown>;
    },
  ): Promise<boolean> {
    try {
      const output = await this.documentClient.send(
        new UpdateCommand({ TableName: this.tableName, Key: { id }, ...input, ReturnValues: 'ALL_NEW' }),
      );
      this.remember(output.Attributes as SlotsItem | undefined, id);
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

function ttlSeconds(lastUseMs: number): number {
  return Math.ceil((lastUseMs + CONTROL_ITEM_TTL_MS) / 1_000);
}
