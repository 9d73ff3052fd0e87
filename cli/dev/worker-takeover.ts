import { hostname } from 'node:os';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetEventSourceMappingCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { controlItemId, type JobstackConfig } from '../../shared/index.js';
import { setEventSourcesEnabled } from '../../shared/pause/event-sources.js';
import { PauseStore } from '../../shared/pause/pause-store.js';

/** The one item recording a `jobstack dev` session's hold on a stack's deployed workers. */
export const TAKEOVER_ITEM_ID = controlItemId('dev', 'workers');
/** A session that has not renewed its hold this long is gone (crashed, killed, machine asleep). */
export const TAKEOVER_LEASE_MS = 30_000;

/** One event source mapping a session disabled, with whether it was enabled before. */
interface HeldMapping {
  readonly uuid: string;
  readonly queue: string;
  readonly wasEnabled: boolean;
}

interface TakeoverItem {
  readonly id: string;
  readonly kind: 'dev-takeover';
  readonly owner: string;
  readonly startedAt: string;
  /** Epoch ms. */
  readonly leaseUntil: number;
  readonly mappings: readonly HeldMapping[];
}

/** Another `jobstack dev` holds the stack's workers and is alive. */
export class WorkersHeldError extends Error {
  constructor(owner: string, startedAt: string) {
    super(`another jobstack dev (${owner}, since ${startedAt}) runs this stack's jobs; stop it first`);
    this.name = 'WorkersHeldError';
  }
}

export interface TakeoverDeps {
  readonly documentClient: DynamoDBDocumentClient;
  readonly lambda: LambdaClient;
  readonly config: JobstackConfig;
  readonly clock?: () => number;
}

/** The event source mappings of every queue of the stack (each priority level has its own). */
function mappingsOf(config: JobstackConfig): { uuid: string; queue: string }[] {
  return Object.entries(config.queues).flatMap(([queue, settings]) =>
    (settings.eventSourceMappingIds ?? []).map((uuid) => ({ uuid, queue })),
  );
}

async function isEnabled(lambda: LambdaClient, uuid: string): Promise<boolean> {
  const state = (await lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }))).State;
  return state === 'Enabled' || state === 'Enabling' || state === 'Updating' || state === 'Creating';
}

/**
 * Gives back what a session held: enables each mapping that was enabled before it, except on a
 * queue someone paused meanwhile (`jobstack pause`), which stays paused.
 */
async function giveBack(deps: TakeoverDeps, mappings: readonly HeldMapping[]): Promise<void> {
  const pauses = new PauseStore(deps.documentClient, deps.config.jobsTable);
  for (const mapping of mappings) {
    if (!mapping.wasEnabled) continue;
    if (await pauses.get(mapping.queue, { consistent: true })) continue;
    await setEventSourcesEnabled(deps.lambda, mapping.queue, [mapping.uuid], true);
  }
}

/**
 * Repairs the hold of a session that died without giving the workers back (its lease ran out):
 * `jobstack local up` and every new `jobstack dev` call it.
 * @returns the owner of the stale session repaired, if there was one
 */
export async function repairStaleTakeover(deps: TakeoverDeps): Promise<string | undefined> {
  const now = (deps.clock ?? Date.now)();
  const item = await readItem(deps);
  if (item === undefined || item.leaseUntil > now) return undefined;
  await giveBack(deps, item.mappings);
  await deps.documentClient
    .send(
      new DeleteCommand({
        TableName: deps.config.jobsTable,
        Key: { id: TAKEOVER_ITEM_ID },
        ConditionExpression: 'leaseUntil = :seen',
        ExpressionAttributeValues: { ':seen': item.leaseUntil },
      }),
    )
    .catch((error: unknown) => {
      // A new session took the stale hold over meanwhile: it carries the mappings on.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    });
  return item.owner;
}

async function readItem(deps: TakeoverDeps): Promise<TakeoverItem | undefined> {
  const output = await deps.documentClient.send(
    new GetCommand({ TableName: deps.config.jobsTable, Key: { id: TAKEOVER_ITEM_ID }, ConsistentRead: true }),
  );
  return output.Item as TakeoverItem | undefined;
}

/** A live hold on the deployed workers: renew it while the session runs, release it at the end. */
export interface WorkerTakeover {
  /** The queues whose deployed workers are held. */
  readonly queues: readonly string[];
  /** Extends the lease and disables any mapping that came back on (a deploy enables them). */
  renew(): Promise<void>;
  /** Gives the workers back. */
  release(): Promise<void>;
}

/**
 * Stops the stack's deployed workers from taking jobs, so this process runs them: records the
 * hold (with each mapping's prior state) in the job table under a lease, then disables every
 * worker event source mapping. A stale hold is carried over (its record of prior states is the
 * true one); a live one is refused.
 * @throws WorkersHeldError when another session holds the workers and is alive
 */
export async function takeOverWorkers(deps: TakeoverDeps): Promise<WorkerTakeover> {
  const clock = deps.clock ?? Date.now;
  const owner = `${hostname()} pid ${process.pid}`;
  const existing = await readItem(deps);
  if (existing !== undefined && existing.leaseUntil > clock()) throw new WorkersHeldError(existing.owner, existing.startedAt);
  const inherited = new Map((existing?.mappings ?? []).map((mapping) => [mapping.uuid, mapping]));
  const mappings: HeldMapping[] = [];
  for (const { uuid, queue } of mappingsOf(deps.config)) {
    mappings.push(inherited.get(uuid) ?? { uuid, queue, wasEnabled: await isEnabled(deps.lambda, uuid) });
  }
  const item: TakeoverItem = {
    id: TAKEOVER_ITEM_ID,
    kind: 'dev-takeover',
    owner,
    startedAt: new Date(clock()).toISOString(),
    leaseUntil: clock() + TAKEOVER_LEASE_MS,
    mappings,
  };
  await deps.documentClient
    .send(
      new PutCommand({
        TableName: deps.config.jobsTable,
        Item: item,
        ConditionExpression: 'attribute_not_exists(id) OR leaseUntil < :now',
        ExpressionAttributeValues: { ':now': clock() },
      }),
    )
    .catch((error: unknown) => {
      if (error instanceof ConditionalCheckFailedException) throw new WorkersHeldError('another session', 'just now');
      throw error;
    });
  const disableAll = async () => {
    for (const mapping of mappings) {
      if (await isEnabled(deps.lambda, mapping.uuid)) {
        await setEventSourcesEnabled(deps.lambda, mapping.queue, [mapping.uuid], false);
      }
    }
  };
  await disableAll();
  return {
    queues: [...new Set(mappings.map((mapping) => mapping.queue))],
    async renew() {
      await deps.documentClient.send(
        new PutCommand({
          TableName: deps.config.jobsTable,
          Item: { ...item, leaseUntil: clock() + TAKEOVER_LEASE_MS },
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
      await disableAll();
    },
    async release() {
      await giveBack(deps, mappings);
      await deps.documentClient.send(
        new DeleteCommand({
          TableName: deps.config.jobsTable,
          Key: { id: TAKEOVER_ITEM_ID },
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
    },
  };
}
