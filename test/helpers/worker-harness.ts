import { Logger } from '@aws-lambda-powertools/logger';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import type { PayloadReader } from '../../functions/attempt/payload.js';
import { createRecordProcessor, type RecordProcessorDeps } from '../../functions/worker/process-record.js';
import { BatchStore } from '../../shared/flows/batch-store.js';
import { FlowStore, type HandlerRegistry, JobQueue, type JobRecord, JobStore } from '../../shared/index.js';
import { claimedRecord, DLQ_URL, QUEUE_URL } from './events.js';

export type ClaimBehaviour = (input: { id: string; type: string }) => JobRecord | { conditionFailed: JobRecord };

/** An UpdateItem as the harness sees it. */
export interface HarnessUpdate {
  readonly UpdateExpression: string;
  readonly ConditionExpression?: string;
  readonly Key: { id: string };
  readonly ExpressionAttributeValues: Record<string, unknown>;
}

export interface WorkerHarnessOptions {
  /** The worker's queue; a URL ending in `.fifo` makes it a FIFO queue. @default QUEUE_URL */
  readonly queueUrl?: string;
  readonly claim?: ClaimBehaviour;
  readonly random?: () => number;
  /**
   * Answers every update other than the claim: return the output, throw to fail
   * the write. @default every write succeeds
   */
  readonly update?: (input: HarnessUpdate) => unknown;
  /** Answers GetItem (the cancellation watch, flow-limit control items). @default no item */
  readonly get?: (id: string) => JobRecord | Readonly<Record<string, unknown>> | undefined;
  readonly payloads?: PayloadReader;
  readonly clock?: RecordProcessorDeps['clock'];
  readonly timers?: RecordProcessorDeps['timers'];
  /** Level queue URLs by queue ARN (a queue with priority levels). */
  readonly levelQueueUrls?: Readonly<Record<string, string>>;
  readonly pause?: RecordProcessorDeps['pause'];
}

/**
 * A record processor wired to mocked DynamoDB and SQS clients. The claim
 * (the UpdateItem with `ADD attempts`) answers as `claim` says; every other
 * update as `update` says. Like the real document client, every update's values
 * are marshalled first, so a number DynamoDB cannot hold exactly fails the write
 * here too (the mock replaces the client's own marshalling).
 */
export function workerHarness(registry: HandlerRegistry, options: WorkerHarnessOptions = {}) {
  const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  const sqs = new SQSClient({ region: 'us-east-1' });
  const dynamo = mockClient(documentClient);
  const sqsMock = mockClient(sqs);
  const claim: ClaimBehaviour = options.claim ?? ((input) => claimedRecord(input));
  dynamo.on(UpdateCommand).callsFake((input: HarnessUpdate) => {
    marshall(input.ExpressionAttributeValues, { removeUndefinedValues: true });
    if (!input.UpdateExpression.includes('ADD attempts')) return options.update ? options.update(input) : {};
    const outcome = claim({ id: input.Key.id, type: String(input.ExpressionAttributeValues[':type']) });
    if ('conditionFailed' in outcome) {
      throw new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
        Item: marshall(outcome.conditionFailed, { removeUndefinedValues: true }),
      });
    }
    return { Attributes: outcome };
  });
  dynamo.on(GetCommand).callsFake((input: { Key: { id: string } }) => {
    const item = options.get?.(input.Key.id);
    return item ? { Item: item } : {};
  });
  sqsMock.onAnyCommand().resolves({});
  const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
  const store = new JobStore(documentClient, 'jobs');
  const processRecord = createRecordProcessor({
    registry,
    store,
    batches: new BatchStore(documentClient, 'jobs', store),
    queue: new JobQueue(sqs, options.queueUrl ?? QUEUE_URL, DLQ_URL),
    queueName: 'default',
    // As the worker handler wires it: a job type without limits must cost no flow-store request.
    flow: new FlowStore(documentClient, 'jobs'),
    logger,
    random: options.random ?? (() => 0.5),
    ...(options.payloads ? { payloads: options.payloads } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.timers ? { timers: options.timers } : {}),
    ...(options.levelQueueUrls
      ? {
          levelQueues: new Map(
            Object.entries(options.levelQueueUrls).map(([arn, url]) => [arn, new JobQueue(sqs, url, DLQ_URL)]),
          ),
        }
      : {}),
    ...(options.pause ? { pause: options.pause } : {}),
  });
  return { processRecord, dynamo, sqs: sqsMock };
}

/** A condition failure as the document client throws it. */
export function conditionFailed(): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
}
