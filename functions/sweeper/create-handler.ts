import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { IdempotencyStore, JobMaintenance, JobQueue } from '../../shared/index.js';
import { PauseStore } from '../../shared/pause/pause-store.js';
import { stackUpdatedAt } from '../../shared/pause/stack-time.js';
import { functionSqsClient } from '../../shared/queue.js';
import { readSweeperEnvironment } from './environment.js';
import { type ReconcilePausesResult, reconcilePauses } from './reconcile-pauses.js';
import { type SweepResult, sweep } from './sweep.js';

/** What one sweeper run did: the sweep, and the reconcile of queue pauses with deploys (when the stack names itself). */
export type SweeperRunResult = SweepResult & { readonly pauses?: ReconcilePausesResult };

/** The sweeper's Lambda handler: run on a schedule (every few minutes), or by hand. */
export type SweeperHandler = (event: unknown, context: Context) => Promise<SweeperRunResult>;

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
  const sqs = functionSqsClient();
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

  const stackName = environment.stackName;
  const mappedQueues = new Map(
    Object.entries(environment.queues).flatMap(([name, urls]) =>
      urls.eventSourceMappingIds?.length ? [[name, urls.eventSourceMappingIds] as const] : [],
    ),
  );
  const reconcile =
    stackName === undefined || mappedQueues.size === 0
      ? undefined
      : (() => {
          const cloudFormation = new CloudFormationClient({});
          const lambda = new LambdaClient({});
          const pauses = new PauseStore(documentClient, environment.jobsTable);
          return () =>
            reconcilePauses({
              pauses,
              lambda,
              stackUpdatedAt: () => stackUpdatedAt(cloudFormation, stackName),
              queues: mappedQueues,
              logger,
            });
        })();

  const lambdaHandler = async (): Promise<SweeperRunResult> => {
    // First, and never in the way of the sweep: a failed reconcile is logged and tried again next run.
    const pauses = await reconcile?.().catch((error: unknown) => {
      logger.error('Could not reconcile queue pauses with deploys', { error });
      return undefined;
    });
    const result = await sweep({
      store,
      cursors,
      queues,
      logger,
      thresholds: environment.thresholds,
      maxSweeps: environment.maxSweeps,
      evidence: environment.evidence,
      ...(pauses ? { pausedQueues: new Set(pauses.paused) } : {}),
    });
    return pauses === undefined ? result : { ...result, pauses };
  };

  return middy(lambdaHandler).use(injectLambdaContext(logger, { resetKeys: true }));
}
