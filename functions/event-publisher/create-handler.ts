import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import middy from '@middy/core';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { readEventPublisherEnvironment } from './environment.js';
import { createStreamPublisher } from './publish-changes.js';

/** The lifecycle-event publisher's Lambda handler: job-table stream records in, the records to retry out. */
export type EventPublisherHandler = (event: DynamoDBStreamEvent, context: Context) => Promise<DynamoDBBatchResponse>;

/**
 * Creates the Lambda handler that publishes job lifecycle events (`jobstack.job.*`) from the job
 * table's stream to EventBridge. It needs no registry. Call it once, at module scope: it reads and
 * checks the environment and creates the EventBridge client at cold start.
 *
 * @throws ConfigurationError when the environment is incomplete
 */
export function createEventPublisherHandler(): EventPublisherHandler {
  const environment = readEventPublisherEnvironment();
  const logger = new Logger({ serviceName: 'jobstack-event-publisher' });
  const publish = createStreamPublisher({
    client: new EventBridgeClient({}),
    entries: { eventBusName: environment.eventBus, stack: environment.stackName, events: environment.events },
    logger,
  });
  const lambdaHandler = async (event: DynamoDBStreamEvent, _context: Context): Promise<DynamoDBBatchResponse> => publish(event);
  return middy(lambdaHandler).use(injectLambdaContext(logger, { resetKeys: true }));
}
