import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createAwsClients } from '../../shared/client/connection.js';
import { jobClientFromEnvironment } from '../../shared/client/job-client.js';
import { type HandlerRegistry, JobQueue, JobStore } from '../../shared/index.js';
import { flushJobMetrics, MetricsObserver } from '../worker/metrics.js';
import { readEventIntakeEnvironment } from './environment.js';
import { createIntakeProcessor } from './process-intake.js';

/** The event intake function's Lambda handler: an SQS batch of events in, the ones to deliver again out. */
export type EventIntakeHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/**
 * Creates the Lambda handler that turns the events the job system's rules send to its intake
 * queue into jobs: `jobstack.enqueue` events and the events of job types with a `trigger`. It
 * enqueues through the client SDK (configured from `JOBSTACK_CONFIG`, set by the construct), so
 * an event is validated, deduplicated and delayed exactly as `enqueue` would. Call it once, at
 * module scope: it reads and checks the environment at cold start.
 *
 * @example
 * import { createEventIntakeHandler } from 'jobstack/worker';
 * import registry from './jobs/handlers.js';
 * export const handler = createEventIntakeHandler({ registry });
 * @throws ConfigurationError when the environment is incomplete
 */
export function createEventIntakeHandler(options: { readonly registry: HandlerRegistry }): EventIntakeHandler {
  const environment = readEventIntakeEnvironment();
  const logger = new Logger({ serviceName: 'jobstack-event-intake' });
  const clients = createAwsClients();
  const client = jobClientFromEnvironment({ registry: options.registry, clients });
  // Refused events count as dead jobs of their job type's queue, so that queue's dead-jobs alarm sees them.
  const observer = new MetricsObserver();
  const processIntake = createIntakeProcessor({
    registry: options.registry,
    client,
    store: new JobStore(clients.documentClient, client.config.jobsTable, { retentionDays: environment.recordRetentionDays }),
    intakeQueue: new JobQueue(clients.sqs, environment.queueUrl, environment.deadLetterQueueUrl),
    logger,
    observer,
  });
  const processor = new BatchProcessor(EventType.SQS);
  const processRecord = async (record: SQSRecord): Promise<void> => {
    await processIntake(record);
  };
  const lambdaHandler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    processPartialResponse(event, processRecord, processor, { context });
  return middy(lambdaHandler)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(flushJobMetrics(observer));
}
