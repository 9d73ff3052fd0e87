import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { FunctionEnv, IdempotencyStore, JobQueue, JobStore } from '../../shared/index.js';
import { lazyPayloadReader } from '../attempt/payload.js';
import { registry } from '../jobs/registry.js';
import { createLongJobStarter } from '../long-job/start-long-job.js';
import { readWorkerEnvironment } from './environment.js';
import { createWorkerMetrics, flushJobMetrics, MetricsObserver } from './metrics.js';
import { createRecordProcessor } from './process-record.js';

const environment = readWorkerEnvironment();
const logger = new Logger({ serviceName: 'jobstack-worker' });
const metrics = createWorkerMetrics(environment.queueName);
const tracer = new Tracer({ serviceName: 'jobstack-worker' });
const documentClient = DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})), {
  marshallOptions: { removeUndefinedValues: true },
});
const sqs = tracer.captureAWSv3Client(new SQSClient({}));

const store = new JobStore(documentClient, environment.jobsTable, { retentionDays: environment.recordRetentionDays });
// Set only when the registry has long jobs: the worker then starts their executions instead of running them.
const longJobStateMachineArn = process.env[FunctionEnv.longJobStateMachineArn];

const observer = new MetricsObserver(metrics);
const processor = new BatchProcessor(EventType.SQS);
const processRecord = createRecordProcessor({
  registry,
  store,
  queue: new JobQueue(sqs, environment.queueUrl, environment.deadLetterQueueUrl),
  queueName: environment.queueName,
  idempotency: new IdempotencyStore(documentClient, environment.idempotencyTable),
  ...(environment.payloadBucket
    ? { payloads: lazyPayloadReader(environment.payloadBucket, { wrapClient: (client) => tracer.captureAWSv3Client(client) }) }
    : {}),
  logger,
  observer,
  ...(longJobStateMachineArn
    ? {
        startLongJob: createLongJobStarter({
          sfn: tracer.captureAWSv3Client(new SFNClient({})),
          stateMachineArn: longJobStateMachineArn,
          store,
        }),
      }
    : {}),
});

/**
 * SQS-triggered worker. Records run concurrently within a batch; only the ones
 * that asked for redelivery are reported, so one bad record never re-runs its
 * batch mates. A batch whose records all failed is still answered with a
 * partial response rather than an invocation error: those are job failures,
 * already recorded and delayed by backoff, not failures of the function.
 */
export const lambdaHandler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  processPartialResponse(event, processRecord, processor, { context, throwOnFullBatchFailure: false });

export const handler = middy(lambdaHandler)
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .use(flushJobMetrics(observer));
