import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { LongJobStore } from '../../shared/long-jobs/long-job-store.js';
import { METRICS_NAMESPACE, WORKER_SERVICE_NAME } from '../../shared/metrics.js';
import { lazyPayloadReader } from '../attempt/payload.js';
import { registry } from '../jobs/registry.js';
import { flushJobMetrics, MetricsObserver } from '../worker/metrics.js';
import { readStepEnvironment } from './environment.js';
import { createStepRunner } from './step-runner.js';
import type { FailureInput, StepInput, StepOutput } from './types.js';

const environment = readStepEnvironment();
const logger = new Logger({ serviceName: 'jobstack-long-job' });
// Published under the worker's service and each job's own queue, so the queue's dead-jobs alarm covers long jobs too.
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: WORKER_SERVICE_NAME });
const observer = new MetricsObserver(metrics, { queueFromJob: true });
const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});
const runner = createStepRunner({
  registry,
  records: new LongJobStore(documentClient, environment.jobsTable, { retentionDays: environment.recordRetentionDays }),
  ...(environment.payloadBucket ? { payloads: lazyPayloadReader(environment.payloadBucket) } : {}),
  logger,
  maxStepsPerExecution: environment.maxStepsPerExecution,
  observer,
});

/**
 * The long-job step function, invoked by the state machine: one step per call
 * (`StepInput` → `StepOutput`), or, from the state machine's catch, the record
 * of a failure outside the job's code (`FailureInput`).
 */
export const lambdaHandler = async (
  event: StepInput | FailureInput,
  context: Context,
): Promise<StepOutput | { recorded: boolean }> => {
  if ('action' in event && event.action === 'record-failure') return runner.recordFailure(event);
  return runner.runStep(event as StepInput, context.getRemainingTimeInMillis());
};

export const handler = middy(lambdaHandler)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  // Every value carries its job's queue, so all go out through the observer's own lines.
  .use(flushJobMetrics(observer));
