import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import { IdempotencyStore, JobMaintenance, JobQueue } from '../../shared/index.js';
import { readSweeperEnvironment } from './environment.js';
import { type SweepResult, sweep } from './sweep.js';

const environment = readSweeperEnvironment();
const logger = new Logger({ serviceName: 'jobstack-sweeper' });
const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
const sqs = new SQSClient({});
const queues = new Map(
  Object.entries(environment.queues).map(
    ([name, urls]) =>
      [
        name,
        {
          queue: new JobQueue(sqs, urls.url, urls.deadLetterUrl),
          ...(urls.undeliverableUrl === undefined ? {} : { undeliverable: new JobQueue(sqs, urls.undeliverableUrl) }),
        },
      ] as const,
  ),
);

/** Runs on a schedule (every few minutes); can also be invoked by hand. */
export const lambdaHandler = async (): Promise<SweepResult> =>
  sweep({
    store: new JobMaintenance(documentClient, environment.jobsTable, { retentionDays: environment.recordRetentionDays }),
    cursors: new IdempotencyStore(documentClient, environment.idempotencyTable),
    queues,
    logger,
    thresholds: environment.thresholds,
    maxSweeps: environment.maxSweeps,
    evidence: environment.evidence,
  });

export const handler = middy(lambdaHandler).use(injectLambdaContext(logger, { resetKeys: true }));
