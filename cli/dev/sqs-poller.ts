import { randomUUID } from 'node:crypto';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

/**
 * Consumes an SQS queue the way a Lambda event source mapping does, in this
 * process: `concurrency` pollers each receive a batch, hand its records to
 * `processRecord`, and delete the records that returned; a record that threw
 * stays in the queue (its visibility as the processor left it), as with a
 * partial batch response (`ReportBatchItemFailures`).
 *
 * Why it exists: `jobstack dev` runs the project's handlers in this process
 * against a deployed stack's queues; and the emulator runs one Lambda
 * invocation at a time, so a deployed worker can never show what several
 * concurrent workers do: tests of concurrency, rate limits, priorities and
 * ordering run several of these pollers with the real record processor
 * against the emulator's queues and tables instead.
 *
 * FIFO queues (`.fifo` URLs) follow AWS's FIFO rules for event sources: the
 * records of a batch run one after the other, in order, and after a failure
 * the rest of the batch is not run but made visible again, so a message group
 * never runs out of order.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
 */
export interface SqsPollerOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  /**
   * The queue's ARN, as the records' `eventSourceARN` (a queue with priority levels tells its levels apart by it).
   * @default an emulator-style ARN built from the queue's name
   */
  readonly queueArn?: string;
  /** Runs one record; throws to leave it in the queue. Give this or `processBatch`. */
  readonly processRecord?: (record: SQSRecord, context: Context) => Promise<void>;
  /**
   * Runs a whole batch as a worker Lambda handler does, answering the records to deliver again
   * (`batchItemFailures`); the others are deleted. A handler that throws leaves the whole batch.
   */
  readonly processBatch?: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
  /** Concurrent pollers, like the mapping's `MaximumConcurrency`. @default 2 */
  readonly concurrency?: number;
  /** Records per receive (1..10). @default 10 */
  readonly batchSize?: number;
  /** What each invocation's context reports as the time left, ms (the function timeout). @default 60_000 */
  readonly invocationTimeoutMs?: number;
  /** Told about every record that threw (the error is otherwise only its staying in the queue). */
  readonly onRecordError?: (record: SQSRecord, error: unknown) => void;
}

/** What a running poller has done so far. */
export interface SqsPollerStats {
  readonly received: number;
  readonly deleted: number;
  readonly failed: number;
}

export interface RunningSqsPoller {
  readonly stats: () => SqsPollerStats;
  /** Stops receiving, waits for the batches in hand to finish. */
  readonly stop: () => Promise<void>;
}

/** Starts the pollers; they run until `stop()`. */
export function startSqsPoller(options: SqsPollerOptions): RunningSqsPoller {
  const concurrency = options.concurrency ?? 2;
  const batchSize = options.batchSize ?? 10;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be ≥ 1 (given ${concurrency})`);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10) {
    throw new RangeError(`batchSize must be 1..10 (given ${batchSize})`);
  }
  if ((options.processRecord === undefined) === (options.processBatch === undefined)) {
    throw new TypeError('give the poller exactly one of processRecord and processBatch');
  }
  const fifo = options.queueUrl.endsWith('.fifo');
  const counts = { received: 0, deleted: 0, failed: 0 };
  let stopping = false;

  const arn = options.queueArn ?? `arn:aws:sqs:us-east-1:000000000000:${options.queueUrl.split('/').pop() ?? 'queue'}`;
  const toRecord = (message: Message): SQSRecord => ({
    messageId: message.MessageId ?? randomUUID(),
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1',
      SentTimestamp: message.Attributes?.SentTimestamp ?? String(Date.now()),
      SenderId: message.Attributes?.SenderId ?? 'in-process',
      ApproximateFirstReceiveTimestamp: message.Attributes?.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(message.Attributes?.MessageGroupId ? { MessageGroupId: message.Attributes.MessageGroupId } : {}),
      ...(message.Attributes?.MessageDeduplicationId
        ? { MessageDeduplicationId: message.Attributes.MessageDeduplicationId }
        : {}),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        { dataType: value.DataType ?? 'String', ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }) },
      ]),
    ),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: arn,
    awsRegion: 'us-east-1',
  });

  const invocationContext = (): Context => {
    const deadline = Date.now() + (options.invocationTimeoutMs ?? 60_000);
    return {
      callbackWaitsForEmptyEventLoop: true,
      functionName: 'in-process-worker',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:in-process-worker',
      memoryLimitInMB: '512',
      awsRequestId: randomUUID(),
      logGroupName: '/aws/lambda/in-process-worker',
      logStreamName: 'in-process',
      getRemainingTimeInMillis: () => deadline - Date.now(),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
  };

  /** Runs a batch; returns the receipt handles to delete and those to make visible again (FIFO, not run). */
  async function runBatch(records: SQSRecord[]): Promise<{ done: SQSRecord[]; notRun: SQSRecord[] }> {
    const context = invocationContext();
    if (options.processBatch) {
      try {
        const response = await options.processBatch({ Records: records }, context);
        const failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
        counts.failed += failed.size;
        return { done: records.filter((record) => !failed.has(record.messageId)), notRun: [] };
      } catch (error) {
        counts.failed += records.length;
        for (const record of records) options.onRecordError?.(record, error);
        return { done: [], notRun: [] };
      }
    }
    const processRecord = options.processRecord as NonNullable<SqsPollerOptions['processRecord']>;
    const attempt = async (record: SQSRecord): Promise<boolean> => {
      try {
        await processRecord(record, context);
        return true;
      } catch (error) {
        counts.failed++;
        options.onRecordError?.(record, error);
        return false;
      }
    };
    if (!fifo) {
      const results = await Promise.all(records.map(attempt));
      return { done: records.filter((_, index) => results[index]), notRun: [] };
    }
    const done: SQSRecord[] = [];
    for (const [index, record] of records.entries()) {
      if (!(await attempt(record))) return { done, notRun: records.slice(index + 1) };
      done.push(record);
    }
    return { done, notRun: [] };
  }

  async function poll(): Promise<void> {
    while (!stopping) {
      let messages: Message[];
      try {
        const output = await options.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: batchSize,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
        );
        messages = output.Messages ?? [];
      } catch (error) {
        if (stopping) return;
        throw error;
      }
      if (messages.length === 0) continue;
      counts.received += messages.length;
      const { done, notRun } = await runBatch(messages.map(toRecord));
      if (done.length > 0) {
        await options.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: options.queueUrl,
            Entries: done.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })),
          }),
        );
        counts.deleted += done.length;
      }
      if (notRun.length > 0) {
        await options.sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: options.queueUrl,
            Entries: notRun.map((record, index) => ({
              Id: String(index),
              ReceiptHandle: record.receiptHandle,
              VisibilityTimeout: 0,
            })),
          }),
        );
      }
    }
  }

  // A poller that fails (the queue is gone, the endpoint is down) stops; `stop()` reports its error.
  let pollerError: unknown;
  const pollers = Array.from({ length: concurrency }, () =>
    poll().catch((error: unknown) => {
      pollerError ??= error;
    }),
  );
  return {
    stats: () => ({ ...counts }),
    stop: async () => {
      stopping = true;
      await Promise.all(pollers);
      if (pollerError !== undefined) throw pollerError;
    },
  };
}
