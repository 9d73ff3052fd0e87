import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { IdempotencyStore, JobMaintenance, JobQueue } from '../../shared/index.js';
import { readSweeperEnvironment } from './environment.js';
import { type SweepResult, sweep } from './sweep.js';

/** The sweeper's Lambda handler: run on a schedule (every few minutes), or by hand. */
export type SweeperHandler = (event: unknown, context: Context) => Promise<SweepResult>;

/**
 * Creates the stuck-job sweeper's Lambda handler. It needs no registry: it
 * reads job records and queue URLs only. Call it once, at module scope: it
 * reads and checks the environment and creates the SDK clients at cold start.
 *
 * @example
 * import { createSweeperHandler } from 'jobstack/worker';
 * export const handler = createSweeperHandler();
 * @throws ConfigurationError when the environment is incomplete or malformed
 */
export function createSweeperHandler(): SweeperHandler {
  const environment = readSweeperEnvironment();
  const logger = new Logger({ serviceName: 'jobstack-sweeper' });
  const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const sqs = new SQSClient({});
  const queues = new Map(
    Object.entries(environment.queues).map(
      ([name, urls]) =>
        [
          name,
          {
            queue: new JobQueue(sqs, urls.url, urls.deadLetterUrl),
            ...(urls.undeliverableUrl === undefined ? {} : { undeliverable: new JobQueue(sqs, urls.undeliverableUrl) }),
            ...(urls.levels === undefined
              ? {}
              : { levels: new Map(urls.levels.map((level) => [level.name, new JobQueue(sqs, level.url, urls.deadLetterUrl)])) }),
          },
        ] as const,
    ),
  );
  const store = new JobMaintenance(documentClient, environment.jobsTable, { retentionDays: environment.recordRetentionDays });
  const cursors = new IdempotencyStore(documentClient, environment.idempotencyTable);

  const lambdaHandler = async (): Promise<SweepResult> =>
    sweep({
      store,
      cursors,
      queues,
      logger,
      thresholds: environment.thresholds,
      maxSweeps: environment.maxSweeps,
      evidence: environment.evidence,
    });

  return middy(lambdaHandler).use(injectLambdaContext(logger, { resetKeys: true }));
}
