import type { EventBridgeClient, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { jobChangeFromStreamRecord, stateTransitionOf } from '../../shared/store/stream-changes.js';
import { EventEntryTooLargeError, EventPublisherError } from './errors.js';
import { type LifecycleEntryOptions, lifecycleEntryOf } from './lifecycle-entry.js';
import { entrySizeBytes, PUT_EVENTS_MAX_BYTES, type PutEntriesOptions, putEntries } from './put-entries.js';

/** What the publisher logs through (Powertools' Logger in the function). */
export interface PublisherLogger {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

export interface StreamPublisherDependencies {
  readonly client: Pick<EventBridgeClient, 'send'>;
  readonly entries: LifecycleEntryOptions;
  readonly logger: PublisherLogger;
  readonly put?: PutEntriesOptions;
}

/** A stream batch's handler: records in, the records to retry from out. */
export type StreamPublisher = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>;

/**
 * Creates the handler that turns a batch of job-table stream records into lifecycle events.
 *
 * Every record whose change is a published event becomes one PutEvents entry; entries go out in
 * requests of up to 10 / 256 KB, and only the entries of a partial failure are sent again. A record
 * that cannot become an event (a malformed record) or whose entry EventBridge kept refusing is
 * reported in `batchItemFailures` by its sequence number: Lambda then retries the batch from the
 * lowest one (records after it are published again: delivery is at least once), bisects it, and
 * after the event source's retry limit sends the record's description to the on-failure queue, so a
 * poison record never holds its shard.
 */
export function createStreamPublisher(dependencies: StreamPublisherDependencies): StreamPublisher {
  const { client, logger } = dependencies;
  return async function publishChanges(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
    const records = event.Records ?? [];
    const failedRecords = new Set<number>();
    const entries: PutEventsRequestEntry[] = [];
    const recordOfEntry: number[] = [];
    records.forEach((record, index) => {
      try {
        const entry = entryOfRecord(record, dependencies.entries);
        if (entry === undefined) return;
        const size = entrySizeBytes(entry);
        if (size > PUT_EVENTS_MAX_BYTES) throw new EventEntryTooLargeError(size);
        entries.push(entry);
        recordOfEntry.push(index);
      } catch (error) {
        logger.error('stream record cannot become a lifecycle event', { eventId: record.eventID, error });
        failedRecords.add(index);
      }
    });

    const { failed, requests } =
      entries.length === 0 ? { failed: [], requests: 0 } : await putEntries(client, entries, dependencies.put);
    for (const entry of failed) {
      const recordIndex = recordOfEntry[entry.index] as number;
      logger.error('EventBridge refused a lifecycle event', {
        eventId: records[recordIndex]?.eventID,
        errorCode: entry.errorCode,
        errorMessage: entry.errorMessage,
      });
      failedRecords.add(recordIndex);
    }
    logger.info('published lifecycle events', {
      records: records.length,
      events: entries.length - failed.length,
      failedRecords: failedRecords.size,
      requests,
    });

    const batchItemFailures = [...failedRecords]
      .sort((a, b) => a - b)
      .map((index) => {
        const sequenceNumber = records[index]?.dynamodb?.SequenceNumber;
        // Without a sequence number Lambda cannot resume at the record: failing the whole batch is the safe report.
        if (sequenceNumber === undefined) {
          throw new EventPublisherError(`stream record ${records[index]?.eventID ?? index} failed and has no sequence number`);
        }
        return { itemIdentifier: sequenceNumber };
      });
    return { batchItemFailures };
  };
}

function entryOfRecord(record: DynamoDBRecord, options: LifecycleEntryOptions): PutEventsRequestEntry | undefined {
  const change = jobChangeFromStreamRecord(record);
  if (change === undefined) return undefined;
  const transition = stateTransitionOf(change);
  return transition === undefined ? undefined : lifecycleEntryOf(transition, options);
}
