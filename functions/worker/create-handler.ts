import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { KeyedFlowStore } from '../../shared/flow/debounce.js';
import { BatchStore } from '../../shared/flows/batch-store.js';
import {
  ConfigurationError,
  FlowStore,
  FunctionEnv,
  type HandlerRegistry,
  IdempotencyStore,
  JobQueue,
  JobStore,
  jobsWithoutHandlers,
} from '../../shared/index.js';
import { PauseStore } from '../../shared/pause/pause-store.js';
import { functionSqsClient } from '../../shared/queue.js';
import { SuccessBatch } from '../../shared/store/success-batch.js';
import { lazyPayloadReader } from '../attempt/payload.js';
import { readWorkerEnvironment } from './environment.js';
import { processFifoBatch } from './fifo-batch.js';
import { lazyLongJobStarter } from './lazy-long-job-starter.js';
import { flushJobMetrics, MetricsObserver } from './metrics.js';
import { createPauseGate } from './pause-gate.js';
import { createRecordProcessor, DEADLINE_SAFETY_MS } from './process-record.js';
import { loadTracing, tracingEnabled } from './tracing.js';

// Loaded while the module loads (the cold start), and only where the Tracer traces: elsewhere the X-Ray SDK's
// chunk of the bundle is never read.
const tracing = tracingEnabled(process.env) ? await loadTracing('jobstack-worker') : undefined;

/** An SDK client instrumented for X-Ray where tracing is on, else as it is. */
function traced<Client>(client: Client): Client {
  return tracing ? tracing.tracer.captureAWSv3Client(client) : client;
}

export interface WorkerHandlerOptions {
  /** Every job type this worker runs, each with its handler (long jobs with their step). */
  readonly registry: HandlerRegistry;
}

/** The worker's Lambda handler: an SQS batch in, the records to deliver again out. */
export type WorkerHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/**
 * Creates the SQS-triggered worker Lambda handler for `registry`. Call it once,
 * at module scope: it reads and checks the environment the `JobSystem`
 * construct sets and creates the SDK clients there (the cold start), so a
 * broken deployment fails loudly before any job is taken.
 *
 * Records run concurrently within a batch (on a FIFO queue, one message group
 * at a time in order: see `processFifoBatch`); only the ones that asked for
 * redelivery are reported, so one bad record never re-runs its batch mates. A
 * batch whose records all failed is still answered with a partial response
 * rather than an invocation error: those are job failures, already recorded
 * and delayed by backoff, not failures of the function.
 *
 * @example
 * // worker.ts, the module the JobSystem construct's `handlers` names
 * import { createWorkerHandler } from 'jobstack/worker';
 * import registry from './jobs/handlers.js';
 * export const handler = createWorkerHandler({ registry });
 * @throws ConfigurationError when the environment is incomplete, or the registry lacks a handler for a job type
 *   the queue carries (env `JOBSTACK_JOB_TYPES`) or holds a contract without its handler
 */
export function createWorkerHandler(options: WorkerHandlerOptions): WorkerHandler {
  return createWorkerHandlerFor(options.registry, process.env);
}

/**
 * The worker handler for `registry` configured by `env`, the environment the construct gives a
 * deployed worker. `jobstack dev` passes a deployed worker's own environment here to run the
 * project's current handlers in its place.
 * @internal
 */
export function createWorkerHandlerFor(registry: HandlerRegistry, env: NodeJS.ProcessEnv): WorkerHandler {
  const environment = readWorkerEnvironment(env);
  assertHandlersFor(registry, environment.jobTypes);
  const logger = new Logger({ serviceName: 'jobstack-worker' });
  const documentClient = DynamoDBDocumentClient.from(traced(new DynamoDBClient({})), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const sqs = traced(functionSqsClient());

  const store = new JobStore(documentClient, environment.jobsTable, { retentionDays: environment.recordRetentionDays });
  // Set only when the registry has long jobs: the worker then starts their executions instead of running them.
  const longJobStateMachineArn = env[FunctionEnv.longJobStateMachineArn];

  const observer = new MetricsObserver();
  const processor = new BatchProcessor(EventType.SQS);
  const queue = new JobQueue(sqs, environment.queueUrl, environment.deadLetterQueueUrl);
  const processRecord = createRecordProcessor({
    registry,
    store,
    queue,
    ...(environment.levelQueues === undefined
      ? {}
      : {
          levelQueues: new Map(
            Object.entries(environment.levelQueues).map(([arn, url]) => [
              arn,
              new JobQueue(sqs, url, environment.deadLetterQueueUrl),
            ]),
          ),
        }),
    queueName: environment.queueName,
    flow: new FlowStore(documentClient, environment.jobsTable),
    batches: new BatchStore(documentClient, environment.jobsTable, store),
    idempotency: new IdempotencyStore(documentClient, environment.idempotencyTable),
    flows: new KeyedFlowStore(documentClient, environment.jobsTable),
    ...(environment.payloadBucket
      ? {
          payloads: lazyPayloadReader(environment.payloadBucket, { wrapClient: traced }),
        }
      : {}),
    logger,
    observer,
    ...(environment.successWrites === 'batched'
      ? {
          successes: new SuccessBatch(
            store,
            environment.successLingerMs === undefined ? {} : { lingerMs: environment.successLingerMs },
          ),
        }
      : {}),
    pause: createPauseGate({ store: new PauseStore(documentClient, environment.jobsTable), queueName: environment.queueName }),
    ...(longJobStateMachineArn
      ? {
          startLongJob: lazyLongJobStarter({
            stateMachineArn: longJobStateMachineArn,
            store,
            wrapClient: traced,
          }),
        }
      : {}),
  });

  // A FIFO queue (ordered job types) runs each message group in order; a standard queue runs every record at once.
  const startBudgetMs = longestTimeoutMs(registry, environment.jobTypes) + DEADLINE_SAFETY_MS;
  const lambdaHandler = queue.fifo
    ? (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
        processFifoBatch(event.Records, processRecord, {
          release: (handles) => queue.release(handles),
          logger,
          context,
          startBudgetMs,
        })
    : (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
        processPartialResponse(event, processRecord, processor, { context, throwOnFullBatchFailure: false });

  // No middy early-timeout timer (one setTimeout and clearTimeout per invocation): every attempt has its own
  // deadline DEADLINE_SAFETY_MS before the Lambda's. No key reset: the worker never appends keys to its logger
  // (a job's keys travel with each line, see job-log.ts), so there is nothing to reset.
  const handler = middy(lambdaHandler, { timeoutEarlyInMillis: 0 });
  if (tracing) handler.use(tracing.middleware);
  return handler.use(injectLambdaContext(logger)).use(flushJobMetrics(observer));
}

/** The longest timeout of the job types this queue carries (all of the registry's when the construct named none). */
function longestTimeoutMs(registry: HandlerRegistry, jobTypes: readonly string[] | undefined): number {
  const types = jobTypes ?? Object.keys(registry);
  return Math.max(0, ...types.map((type) => (Object.hasOwn(registry, type) ? (registry[type]?.timeoutMs ?? 0) : 0)));
}

/**
 * Fails when `registry` cannot run what the queue carries: a job type named in
 * `JOBSTACK_JOB_TYPES` without an entry, or an entry that is a bare contract.
 * Without this check such jobs would arrive as unknown types and be dead-lettered.
 */
function assertHandlersFor(registry: HandlerRegistry, jobTypes: readonly string[] | undefined): void {
  const missing = (jobTypes ?? []).filter((type) => !Object.hasOwn(registry, type));
  if (missing.length > 0) {
    throw new ConfigurationError(
      `the worker's registry has no handler for ${missing.map((type) => `'${type}'`).join(', ')}, which ${FunctionEnv.jobTypes} ` +
        `says this queue carries (registry: ${Object.keys(registry).join(', ') || 'empty'}): ` +
        'add their implementations to the handlers module the JobSystem construct bundles',
    );
  }
  const contractsOnly = jobsWithoutHandlers(registry);
  if (contractsOnly.length > 0) {
    throw new ConfigurationError(
      `the worker's registry holds contracts without handlers: ${contractsOnly.map((type) => `'${type}'`).join(', ')}: ` +
        'give them one with implementJob (or implementLongJob)',
    );
  }
}
