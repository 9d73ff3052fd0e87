import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { JobQueue, JobStore } from '../../shared/index.js';
import { functionSqsClient } from '../../shared/queue.js';
import { readWorkerEnvironment } from '../worker/environment.js';
import { flushJobMetrics, MetricsObserver } from '../worker/metrics.js';
import { DeadLetterEnv } from './environment.js';
import { createUndeliverableProcessor } from './process-undeliverable.js';

/** The undeliverable-queue consumer's Lambda handler: an SQS batch in, the records to deliver again out. */
export type DeadLetterHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/**
 * Creates the Lambda handler that consumes a queue's undeliverable-message
 * queue (its SQS redrive target): it records the jobs SQS gave up on as dead
 * and moves their messages to the dead-letter queue. It needs no registry.
 * Call it once, at module scope: it reads and checks the environment (the same
 * as the worker of the queue it serves) and creates the SDK clients at cold start.
 *
 * @example
 * import { createDeadLetterHandler } from 'jobstack/worker';
 * export const handler = createDeadLetterHandler();
 * @throws ConfigurationError when the environment is incomplete
 */
export function createDeadLetterHandler(): DeadLetterHandler {
  const environment = readWorkerEnvironment();
  const logger = new Logger({ serviceName: 'jobstack-dead-letter' });
  const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  // Counted as the worker's own deaths, so the dead-jobs alarm of the queue sees them.
  const observer = new MetricsObserver();
  const processor = new BatchProcessor(EventType.SQS);
  const sqs = functionSqsClient();
  const undeliverableQueueUrl = process.env[DeadLetterEnv.undeliverableQueueUrl];
  const processUndeliverable = createUndeliverableProcessor({
    store: new JobStore(documentClient, environment.jobsTable, { retentionDays: environment.recordRetentionDays }),
    queue: new JobQueue(sqs, environment.queueUrl, environment.deadLetterQueueUrl),
    ...(undeliverableQueueUrl ? { undeliverable: new JobQueue(sqs, undeliverableQueueUrl) } : {}),
    logger,
    observer,
    queueName: environment.queueName,
  });

  const lambdaHandler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    processPartialResponse(event, processUndeliverable, processor, { context });

  return middy(lambdaHandler)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(flushJobMetrics(observer));
}
