import { envelopeFromRecord, type JobEnvelope } from '../envelope.js';
import type { OutgoingJob } from '../queue.js';
import type { PriorityLevelConfig } from './priorities.js';

/** The URLs of a logical queue that routing needs: the default queue and, when it has levels, each level's. */
export interface RoutableQueue {
  readonly url: string;
  readonly levels?: readonly Pick<PriorityLevelConfig, 'name' | 'url'>[];
}

/**
 * The URL a job of `priority` is sent to. A level the queue no longer has (levels changed by a redeploy after the
 * job was enqueued) falls back to the queue's default URL: a re-send must reach a worker, not fail.
 */
export function levelUrl(queue: RoutableQueue, priority: string | undefined): string {
  if (priority === undefined) return queue.url;
  return queue.levels?.find(({ name }) => name === priority)?.url ?? queue.url;
}

/** What a job record says about where its messages go: its priority level and its message group. */
export interface RoutedRecord {
  readonly id: string;
  readonly type: string;
  readonly payload?: unknown;
  readonly payloadRef?: JobEnvelope['payloadRef'];
  readonly correlationId?: string;
  readonly createdAt: string;
  readonly priority?: string;
  readonly fairnessKey?: string;
  readonly orderingKey?: string;
}

/**
 * The message that (re)starts a job from its record, with the record's message group: what every re-send
 * (retry, redrive, the sweeper) sends, to `levelUrl(queue, record.priority)`. On a FIFO queue the group is the
 * ordering key (and the send gets a fresh deduplication id); on a standard queue it is the fairness key.
 */
export function resendOf(record: RoutedRecord): OutgoingJob {
  return {
    envelope: envelopeFromRecord(record),
    ...(record.orderingKey === undefined ? {} : { orderingKey: record.orderingKey }),
    ...(record.fairnessKey === undefined ? {} : { messageGroupId: record.fairnessKey }),
  };
}
