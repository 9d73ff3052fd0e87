import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import {
  ConfigurationError,
  FunctionEnv,
  type HandlerRegistry,
  isLongJobContract,
  jobsWithoutHandlers,
} from '../../shared/index.js';
import { LongJobStore } from '../../shared/long-jobs/long-job-store.js';
import { lazyPayloadReader } from '../attempt/payload.js';
import { flushJobMetrics, MetricsObserver } from '../worker/metrics.js';
import { readStepEnvironment } from './environment.js';
import { createStepRunner } from './step-runner.js';
import type { FailureInput, StepInput, StepOutput } from './types.js';

export interface LongJobStepHandlerOptions {
  /** The job types to run; long ones need their step (`implementLongJob` or `defineLongJob`). */
  readonly registry: HandlerRegistry;
}

/**
 * The long-job step function's Lambda handler: the steps that fit one call, or the
 * recording of a failure outside the job's code. Its events come from the
 * `JobSystem` construct's state machine only.
 */
export type LongJobStepHandler = (
  event: StepInput | FailureInput,
  context: Context,
) => Promise<StepOutput | { recorded: boolean }>;

/**
 * Creates the Lambda handler the long-job state machine invokes. Call it once,
 * at module scope: it reads and checks the environment and creates the SDK
 * clients at cold start.
 *
 * @example
 * import { createLongJobStepHandler } from 'jobstack/worker';
 * import registry from './jobs/handlers.js';
 * export const handler = createLongJobStepHandler({ registry });
 * @throws ConfigurationError when the environment is incomplete, a long job type in `JOBSTACK_JOB_TYPES` is not in
 *   the registry, or a long job in the registry has no step
 */
export function createLongJobStepHandler(options: LongJobStepHandlerOptions): LongJobStepHandler {
  const { registry } = options;
  const environment = readStepEnvironment();
  // The long job types the construct planned this function for: a missing one would run no step and die.
  const planned = (process.env[FunctionEnv.jobTypes] ?? '')
    .split(',')
    .map((type) => type.trim())
    .filter((type) => type.length > 0);
  const unknown = planned.filter((type) => !Object.hasOwn(registry, type));
  if (unknown.length > 0) {
    throw new ConfigurationError(
      `the long-job step function's registry has no step for ${unknown.map((type) => `'${type}'`).join(', ')}, which ` +
        `${FunctionEnv.jobTypes} names: add their implementations to the handlers module the JobSystem construct bundles`,
    );
  }
  const withoutStep = jobsWithoutHandlers(registry).filter((type) => {
    const contract = registry[type];
    return contract !== undefined && isLongJobContract(contract);
  });
  if (withoutStep.length > 0) {
    throw new ConfigurationError(
      `the long-job step function's registry holds long-job contracts without a step: ${withoutStep.join(', ')}: ` +
        'give them one with implementLongJob',
    );
  }
  const logger = new Logger({ serviceName: 'jobstack-long-job' });
  // Published under the worker's service and each job's own queue, so the queue's dead-jobs alarm covers long jobs too.
  const observer = new MetricsObserver();
  const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const runner = createStepRunner({
    registry,
    records: new LongJobStore(documentClient, environment.jobsTable, { retentionDays: environment.recordRetentionDays }),
    ...(environment.payloadBucket ? { payloads: lazyPayloadReader(environment.payloadBucket) } : {}),
    logger,
    maxStepsPerExecution: environment.maxStepsPerExecution,
    invocationBudgetMs: environment.invocationBudgetMs,
    observer,
  });

  const lambdaHandler = async (
    event: StepInput | FailureInput,
    context: Context,
  ): Promise<StepOutput | { recorded: boolean }> => {
    if ('action' in event && event.action === 'record-failure') return runner.recordFailure(event);
    return runner.runStep(event as StepInput, context.getRemainingTimeInMillis());
  };

  return (
    middy(lambdaHandler)
      .use(injectLambdaContext(logger, { resetKeys: true }))
      // Every value carries its job's queue, so all go out through the observer's own lines.
      .use(flushJobMetrics(observer))
  );
}
