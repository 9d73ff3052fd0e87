import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { JobstackConfig } from './client/stack-config.js';
import { ATTENTION_INDEX_NAME } from './config.js';
import { JobstackError } from './errors.js';
import type { JobState } from './states.js';
import { attentionKeysOf } from './store/attention.js';

/** One queue's depths, from its SQS attributes (approximate by SQS's own definition). */
export interface QueueStats {
  readonly name: string;
  /** Messages ready to be received: jobs waiting for a worker. */
  readonly visible: number;
  /** Messages received and not yet deleted: jobs running, and jobs waiting out a retry backoff. */
  readonly inFlight: number;
  /** Messages sent with a delay that has not passed yet. */
  readonly delayed: number;
  /** Messages in the queue's dead-letter queue. */
  readonly deadLetter: number;
  /**
   * On a queue with priority levels: the depths of each level's SQS queue, highest first (the queue's own
   * `visible`, `inFlight` and `delayed` are their sums).
   */
  readonly levels?: readonly LevelStats[];
}

/** One priority level's depths (see `QueueStats.levels`). */
export interface LevelStats {
  readonly name: string;
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

/**
 * Jobs per state. `null` means "not counted": see {@link collectStats} for why
 * `succeeded` is not. `approximate` lists the states derived from queue depths.
 */
export interface JobStats {
  readonly stackName: string;
  /** When the figures were read (ISO-8601). */
  readonly at: string;
  readonly queues: readonly QueueStats[];
  readonly states: Readonly<Record<JobState, number | null>>;
  readonly approximate: readonly JobState[];
}

/** Counts read exactly from the sparse attention index (one `Select: COUNT` query each). */
export type IndexedStateCounts = Readonly<Record<'scheduled' | 'retrying' | 'waiting' | 'dead' | 'cancelled', number>>;

/** The states the attention index holds; see `needsAttention` in `states.ts`. */
export const INDEXED_STATES = ['scheduled', 'retrying', 'waiting', 'dead', 'cancelled'] as const;

const QUEUE_ATTRIBUTES = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
] as const;

/** Reading a queue's or the table's figures failed. */
export class StatsError extends JobstackError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = 'StatsError';
  }
}

/**
 * Combines queue depths and index counts into per-state counts.
 *
 * - `scheduled`, `retrying`, `waiting`, `dead`, `cancelled`: exact, from the index.
 * - `queued` ≈ visible + delayed messages: a queued job's message is waiting (or
 *   delayed up to 15 minutes); later starts are `scheduled` and have no message yet.
 * - `running` ≈ in-flight messages − `retrying`: a retrying job's message is kept
 *   invisible for its backoff delay, so it is in flight without running.
 *   Clamped at 0, since the two figures are read at slightly different times.
 * - `succeeded`: `null`, not counted. A plain job goes queued → running →
 *   succeeded without ever entering the index, by design: that keeps it at three
 *   write units, and counting succeeded jobs exactly would need either an index
 *   entry per job (a second write unit per transition) or a counter item that
 *   every success updates (a hot key, and one more write per job) or a table scan.
 *   The worker's `JobsSucceeded` metric on the CloudWatch dashboard gives the rate.
 */
export function computeStats(input: {
  readonly stackName: string;
  readonly at: Date;
  readonly queues: readonly QueueStats[];
  readonly indexed: IndexedStateCounts;
}): JobStats {
  const sum = (pick: (queue: QueueStats) => number) => input.queues.reduce((total, queue) => total + pick(queue), 0);
  const waiting = sum((queue) => queue.visible + queue.delayed);
  const inFlight = sum((queue) => queue.inFlight);
  return {
    stackName: input.stackName,
    at: input.at.toISOString(),
    queues: input.queues,
    states: {
      scheduled: input.indexed.scheduled,
      queued: waiting,
      running: Math.max(0, inFlight - input.indexed.retrying),
      retrying: input.indexed.retrying,
      waiting: input.indexed.waiting,
      succeeded: null,
      dead: input.indexed.dead,
      cancelled: input.indexed.cancelled,
    },
    approximate: ['queued', 'running'],
  };
}

/**
 * Reads a stack's figures cheaply: one `GetQueueAttributes` per queue and
 * dead-letter queue, and one `Select: COUNT` query per indexed state on the
 * sparse attention index (which only holds jobs needing attention, so it stays
 * small however many jobs succeed). No table scan at any scale.
 *
 * @example
 * const stats = await collectStats(clients, jobs.config);
 * console.log(stats.states.dead, stats.queues[0]?.visible);
 * @throws StatsError naming the queue or state whose read failed.
 */
export async function collectStats(
  clients: { readonly sqs: SQSClient; readonly documentClient: DynamoDBDocumentClient },
  config: JobstackConfig,
  clock: () => Date = () => new Date(),
): Promise<JobStats> {
  const [queues, counts] = await Promise.all([
    Promise.all(Object.entries(config.queues).map(([name, urls]) => readQueue(clients.sqs, name, urls))),
    Promise.all(INDEXED_STATES.map((state) => countState(clients.documentClient, config.jobsTable, state))),
  ]);
  const indexed = Object.fromEntries(INDEXED_STATES.map((state, index) => [state, counts[index] ?? 0])) as IndexedStateCounts;
  return computeStats({ stackName: config.stackName, at: clock(), queues, indexed });
}

async function readQueue(sqs: SQSClient, name: string, urls: JobstackConfig['queues'][string]): Promise<QueueStats> {
  const read = async (url: string, what: string) => {
    try {
      const output = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: [...QUEUE_ATTRIBUTES] }));
      return output.Attributes ?? {};
    } catch (error) {
      throw new StatsError(`cannot read the attributes of ${what} of queue '${name}' (${url}): ${(error as Error).message}`, {
        cause: error,
      });
    }
  };
  const depths = (attributes: Partial<Record<string, string>>) => ({
    visible: count(attributes.ApproximateNumberOfMessages),
    inFlight: count(attributes.ApproximateNumberOfMessagesNotVisible),
    delayed: count(attributes.ApproximateNumberOfMessagesDelayed),
  });
  if (urls.levels !== undefined) {
    const [levelAttributes, dead] = await Promise.all([
      Promise.all(urls.levels.map((level) => read(level.url, `priority level '${level.name}'`))),
      read(urls.deadLetterUrl, 'the dead-letter queue'),
    ]);
    const levels = urls.levels.map((level, index) => ({ name: level.name, ...depths(levelAttributes[index] ?? {}) }));
    const sum = (pick: (level: LevelStats) => number) => levels.reduce((total, level) => total + pick(level), 0);
    return {
      name,
      visible: sum((level) => level.visible),
      inFlight: sum((level) => level.inFlight),
      delayed: sum((level) => level.delayed),
      deadLetter: count(dead.ApproximateNumberOfMessages) + count(dead.ApproximateNumberOfMessagesNotVisible),
      levels,
    };
  }
  const [main, dead] = await Promise.all([read(urls.url, 'the queue'), read(urls.deadLetterUrl, 'the dead-letter queue')]);
  return {
    name,
    ...depths(main),
    // A dead letter in flight is still there (someone is inspecting or redriving it).
    deadLetter: count(dead.ApproximateNumberOfMessages) + count(dead.ApproximateNumberOfMessagesNotVisible),
  };
}

/**
 * Counts one state in the attention index: one COUNT query per shard of the
 * state, following pages (each reads at most 1 MB of index entries).
 */
async function countState(documentClient: DynamoDBDocumentClient, table: string, state: JobState): Promise<number> {
  let total = 0;
  try {
    for (const shard of attentionKeysOf(state)) {
      let startKey: Record<string, unknown> | undefined;
      do {
        const output = await documentClient.send(
          new QueryCommand({
            TableName: table,
            IndexName: ATTENTION_INDEX_NAME,
            KeyConditionExpression: 'attentionState = :state',
            ExpressionAttributeValues: { ':state': shard },
            Select: 'COUNT',
            ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
          }),
        );
        total += output.Count ?? 0;
        startKey = output.LastEvaluatedKey;
      } while (startKey !== undefined);
    }
  } catch (error) {
    throw new StatsError(`cannot count '${state}' jobs in table ${table}: ${(error as Error).message}`, { cause: error });
  }
  return total;
}

function count(value: string | undefined): number {
  const parsed = Number(value ?? 0);
  return Number.isFinite(parsed) && parsed >= 0 ? parsed : 0;
}
