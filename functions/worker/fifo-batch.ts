import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSRecord } from 'aws-lambda';

export interface FifoBatchOptions {
  /** Makes messages visible again at once (ChangeMessageVisibility 0); see `processFifoBatch`. */
  readonly release: (receiptHandles: readonly string[]) => Promise<void>;
  readonly logger: Pick<Logger, 'warn'>;
  readonly context?: Context;
  /**
   * Time a job may need (its timeout and the outcome write): a later job of a group starts only while the
   * invocation has at least this much left; otherwise it is handed back untouched, with the rest of its
   * group, instead of starting with a deadline cut short by the jobs before it. @default 0
   */
  readonly startBudgetMs?: number;
}

/**
 * Runs a batch from a FIFO queue: message groups concurrently, the messages of
 * one group one after another in their order, so two jobs of one ordering key
 * never overlap and never swap. When a message fails (its job retries later,
 * or another delivery holds it), the later messages of its group are not run:
 * they are reported failed with it, as AWS asks of FIFO partial batch responses
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html),
 * and made visible again at once. SQS still holds them back behind the failed
 * message (its group stays blocked while that one is in flight, i.e. for its
 * retry backoff), so the group resumes in order as soon as it comes back,
 * instead of after the queue's whole visibility timeout.
 *
 * A group's jobs share one invocation's time: a later job starts only while at
 * least `startBudgetMs` is left, else it is handed back the same way (not an
 * attempt of the job), so it never runs with a deadline cut short.
 */
export async function processFifoBatch(
  records: readonly SQSRecord[],
  processRecord: (record: SQSRecord, context?: Context) => Promise<void>,
  options: FifoBatchOptions,
): Promise<SQSBatchResponse> {
  const groups = new Map<string, SQSRecord[]>();
  for (const record of records) {
    const group = record.attributes.MessageGroupId ?? record.messageId;
    groups.set(group, [...(groups.get(group) ?? []), record]);
  }
  const failed: SQSRecord[] = [];
  const skipped: SQSRecord[] = [];
  await Promise.all(
    [...groups.values()].map(async (group) => {
      for (const [index, record] of group.entries()) {
        const remainingMs = options.context?.getRemainingTimeInMillis();
        if (index > 0 && remainingMs !== undefined && remainingMs < (options.startBudgetMs ?? 0)) {
          // Out of time for this group: the next invocation runs these, with a whole deadline each.
          failed.push(...group.slice(index));
          skipped.push(...group.slice(index));
          return;
        }
        try {
          await processRecord(record, options.context);
        } catch {
          // processRecord has recorded what happened (a retry's backoff, a busy job); the message comes back.
          failed.push(...group.slice(index));
          skipped.push(...group.slice(index + 1));
          return;
        }
      }
    }),
  );
  if (skipped.length > 0) {
    await options.release(skipped.map((record) => record.receiptHandle)).catch((error: unknown) => {
      // They come back after the visibility timeout instead; order holds either way.
      options.logger.warn('Could not release the messages held back behind a failed job of their group', {
        messageIds: skipped.map((record) => record.messageId),
        error,
      });
    });
  }
  return { batchItemFailures: failed.map((record) => ({ itemIdentifier: record.messageId })) };
}
