import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { Context, DynamoDBStreamEvent } from 'aws-lambda';
import { levelUrl, resendOf } from '../../shared/flow/routing.js';
import { BatchStore } from '../../shared/flows/batch-store.js';
import { JobQueue, JobStore } from '../../shared/index.js';
import type { JobRecord } from '../../shared/record.js';
import { jobChangesFromStream, stateTransitionOf } from '../../shared/store/stream-changes.js';
import { type CoordinatorDeps, coordinate } from './coordinate.js';
import { type FlowCoordinatorEnvironment, readFlowCoordinatorEnvironment } from './environment.js';

/** The coordinator's Lambda handler: a batch of job table stream records in. */
export type FlowCoordinatorHandler = (event: DynamoDBStreamEvent, context: Context) => Promise<{ readonly transitions: number }>;

/**
 * Handles a batch of stream records in stream order (DynamoDB keeps one item's
 * changes in order within its shard). Any failure fails the whole invocation:
 * every step is idempotent, so the event source mapping retrying the batch
 * (bisecting it, then setting aside a record that still fails) replays nothing
 * twice that matters.
 */
export async function coordinateStreamEvent(deps: CoordinatorDeps, event: DynamoDBStreamEvent): Promise<number> {
  let transitions = 0;
  for (const change of jobChangesFromStream(event.Records)) {
    const transition = stateTransitionOf(change);
    if (transition === undefined) continue;
    transitions++;
    await coordinate(deps, transition);
  }
  return transitions;
}

/** Sends the message of a flow's job to its queue, at its level, in its message group. */
export function queueSender(sqs: SQSClient, environment: Pick<FlowCoordinatorEnvironment, 'queues'>) {
  const queues = new Map<string, JobQueue>();
  return async (record: JobRecord): Promise<boolean> => {
    const urls = environment.queues[record.queue];
    if (!urls) return false;
    const url = levelUrl(urls, record.priority);
    let queue = queues.get(url);
    if (!queue) {
      queue = new JobQueue(sqs, url, urls.deadLetterUrl);
      queues.set(url, queue);
    }
    await queue.send(resendOf(record));
    return true;
  };
}

/**
 * Creates the flow coordinator's Lambda handler (the job table's stream in):
 * it sends the messages of jobs flows create, counts batch members and
 * completes batches (functions/flow-coordinator/coordinate.ts). It needs no
 * registry: what a flow's jobs need was checked and written by whoever created them.
 *
 * @example
 * import { createFlowCoordinatorHandler } from 'jobstack/worker';
 * export const handler = createFlowCoordinatorHandler();
 * @throws ConfigurationError when the environment is incomplete or malformed
 */
export function createFlowCoordinatorHandler(): FlowCoordinatorHandler {
  const environment = readFlowCoordinatorEnvironment();
  const logger = new Logger({ serviceName: 'jobstack-flow-coordinator' });
  const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const store = new JobStore(documentClient, environment.jobsTable, { retentionDays: environment.recordRetentionDays });
  const deps: CoordinatorDeps = {
    store,
    batches: new BatchStore(documentClient, environment.jobsTable, store),
    send: queueSender(new SQSClient({}), environment),
    logger,
  };
  const lambdaHandler = async (event: DynamoDBStreamEvent) => ({ transitions: await coordinateStreamEvent(deps, event) });
  return middy(lambdaHandler).use(injectLambdaContext(logger, { resetKeys: true }));
}
