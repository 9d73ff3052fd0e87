/**
 * One pipeline of bench/worker-overhead.ts, run in its own process (forked with
 * --expose-gc, stdout discarded so log lines cost what they cost in Lambda:
 * formatting and a write to a pipe). Reports its figures over IPC.
 *
 * Pipelines:
 * - `jobstack`: the real worker handler module (functions/jobs/worker-entry.ts:
 *   middy, Powertools batch, our record processor, logger, metrics, tracer), its
 *   SDK clients stubbed to answer at once;
 * - `jobstack-warn`: the same with POWERTOOLS_LOG_LEVEL=WARN (no per-job info lines);
 * - `jobstack-no-metrics`: the handler's parts without the metrics observer,
 *   logMetrics and the tracer (middy + injectLambdaContext + Powertools batch +
 *   our record processor with its batched success writes), to show what metrics cost;
 * - `reference`: Powertools batch + Powertools idempotency (DynamoDB persistence,
 *   same stub) running the same echo handler, with its payload schema check.
 */
import { randomUUID } from 'node:crypto';
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { echoJob } from '../../functions/jobs/demo/echo.js';
import { registry } from '../../functions/jobs/handlers.js';
import { createRecordProcessor } from '../../functions/worker/process-record.js';
import { ENVELOPE_VERSION, FunctionEnv, JobQueue, JobStore, newJobId } from '../../shared/index.js';
import { SuccessBatch } from '../../shared/store/success-batch.js';
import { lambdaContext } from './lambda.js';

export type PipelineName = 'jobstack' | 'jobstack-warn' | 'jobstack-no-metrics' | 'reference';

export interface OverheadRequest {
  readonly pipeline: PipelineName;
  readonly batchSizes: readonly number[];
  /** Jobs per measured round (rounded to whole batches). */
  readonly jobsPerRound: number;
  readonly rounds: number;
  readonly warmupRounds: number;
}

export interface OverheadRound {
  readonly batchSize: number;
  readonly cpuMicrosPerJob: number;
  /** Heap growth per job over the round; undefined when a garbage collection ran during it. */
  readonly bytesPerJob: number | undefined;
}

type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

const QUEUE_ARN = 'arn:aws:sqs:us-east-1:000000000000:bench';

function stubAws(): void {
  mockClient(SQSClient).onAnyCommand().resolves({});
  mockClient(DynamoDBClient).onAnyCommand().resolves({});
  // One behaviour that answers by the shape of the input: every extra `.on(Command)` behaviour costs each call a
  // sinon argument match (deepEqual), which would be charged to the pipeline, not to what it does.
  mockClient(DynamoDBDocumentClient).onAnyCommand().callsFake(answerDocumentCommand);
}

type DocumentInput = {
  UpdateExpression?: string;
  Key?: { id: string };
  ExpressionAttributeValues?: Record<string, unknown>;
  Statements?: unknown[];
};

function answerDocumentCommand(input: DocumentInput): Record<string, unknown> {
  // The worker's batched successes: every statement's condition holds (one response per statement, in order).
  if (input.Statements) return { Responses: input.Statements.map(() => ({ TableName: 'bench-jobs' })) };
  if (!input.UpdateExpression?.includes('ADD attempts') || !input.Key || !input.ExpressionAttributeValues) return {};
  // The claim: answer as DynamoDB does for a fresh queued job (ReturnValues ALL_NEW).
  const values = input.ExpressionAttributeValues;
  const now = new Date().toISOString();
  return {
    Attributes: {
      id: input.Key.id,
      type: values[':type'],
      queue: values[':queue'],
      state: 'running',
      attempts: 1,
      maxAttempts: values[':maxAttempts'],
      payload: values[':payload'],
      correlationId: values[':correlationId'],
      createdAt: now,
      updatedAt: now,
      startedAt: now,
      leaseUntil: values[':lease'],
    },
  };
}

async function jobstackHandler(logLevel: string): Promise<Handler> {
  Object.assign(process.env, {
    [FunctionEnv.jobsTable]: 'bench-jobs',
    [FunctionEnv.idempotencyTable]: 'bench-idempotency',
    [FunctionEnv.queueUrl]: 'https://sqs.us-east-1.amazonaws.com/000000000000/bench',
    [FunctionEnv.deadLetterQueueUrl]: 'https://sqs.us-east-1.amazonaws.com/000000000000/bench-dlq',
    [FunctionEnv.queueName]: 'default',
    POWERTOOLS_SERVICE_NAME: 'jobstack-worker',
    POWERTOOLS_LOG_LEVEL: logLevel,
    // As on AWS (an AWS_ENDPOINT_URL in the caller's shell would otherwise choose the emulator's single writes).
    [FunctionEnv.successWrites]: 'batched',
  });
  const module = (await import('../../functions/jobs/worker-entry.js')) as { handler: Handler };
  return module.handler;
}

function jobstackWithoutMetrics(): Handler {
  const logger = new Logger({ serviceName: 'jobstack-worker' });
  const processor = new BatchProcessor(EventType.SQS);
  const store = new JobStore(DynamoDBDocumentClient.from(new DynamoDBClient({})), 'bench-jobs');
  const processRecord = createRecordProcessor({
    registry,
    store,
    successes: new SuccessBatch(store),
    queue: new JobQueue(new SQSClient({}), 'https://sqs.us-east-1.amazonaws.com/000000000000/bench'),
    queueName: 'default',
    logger,
  });
  // Composed as functions/worker/create-handler.ts composes the worker.
  return middy(
    async (event: SQSEvent, context: Context) =>
      processPartialResponse(event, processRecord, processor, { context, throwOnFullBatchFailure: false }),
    { timeoutEarlyInMillis: 0 },
  ).use(injectLambdaContext(logger));
}

function referenceHandler(): Handler {
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName: 'bench-idempotency',
    awsSdkV3Client: new DynamoDBClient({}),
  });
  const config = new IdempotencyConfig({ eventKeyJmesPath: 'messageId' });
  const processor = new BatchProcessor(EventType.SQS);
  // echo reads nothing from its context; the reference has no jobstack context to give it.
  const noContext = {} as Parameters<typeof echoJob.handler>[1];
  const processRecord = makeIdempotent(
    async (record: SQSRecord) => {
      const envelope = JSON.parse(record.body) as { payload: unknown };
      const payload = echoJob.schema.parse(envelope.payload);
      return echoJob.handler(payload, noContext);
    },
    { persistenceStore, config },
  );
  return async (event, context) => {
    config.registerLambdaContext(context);
    return processPartialResponse(event, processRecord, processor, { context, throwOnFullBatchFailure: false });
  };
}

function echoEvent(batchSize: number): SQSEvent {
  const now = String(Date.now());
  return {
    Records: Array.from({ length: batchSize }, (_, i) => {
      const messageId = randomUUID();
      const id = newJobId();
      return {
        messageId,
        receiptHandle: `receipt-${messageId}`,
        body: JSON.stringify({
          v: ENVELOPE_VERSION,
          id,
          type: 'demo.echo',
          payload: { message: `echo ${i}` },
          enqueuedAt: new Date().toISOString(),
        }),
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: now,
          SenderId: 'bench',
          ApproximateFirstReceiveTimestamp: now,
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: QUEUE_ARN,
        awsRegion: 'us-east-1',
      };
    }),
  };
}

async function measure(request: OverheadRequest): Promise<OverheadRound[]> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  stubAws();
  const handler =
    request.pipeline === 'reference'
      ? referenceHandler()
      : request.pipeline === 'jobstack-no-metrics'
        ? jobstackWithoutMetrics()
        : await jobstackHandler(request.pipeline === 'jobstack-warn' ? 'WARN' : 'INFO');
  const gcStarts: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcStarts.push(entry.startTime);
  });
  observer.observe({ entryTypes: ['gc'] });

  const rounds: OverheadRound[] = [];
  for (const batchSize of request.batchSizes) {
    const invocations = Math.max(1, Math.round(request.jobsPerRound / batchSize));
    for (let round = 0; round < request.warmupRounds + request.rounds; round++) {
      const events = Array.from({ length: invocations }, () => echoEvent(batchSize));
      const contexts = events.map(() => lambdaContext(60_000));
      gc();
      const startedAt = performance.now();
      const heapBefore = getHeapStatistics().used_heap_size;
      const cpuBefore = process.cpuUsage();
      for (let i = 0; i < invocations; i++) {
        const response = await handler(events[i] as SQSEvent, contexts[i] as Context);
        if (response.batchItemFailures.length > 0)
          throw new Error(`${request.pipeline}: a record failed: ${JSON.stringify(response)}`);
      }
      const cpu = process.cpuUsage(cpuBefore);
      const heapAfter = getHeapStatistics().used_heap_size;
      const endedAt = performance.now();
      // gc entries arrive asynchronously: wait for them, then ask whether one started inside the round.
      await new Promise((resolve) => setTimeout(resolve, 20));
      const collected = gcStarts.some((start) => start >= startedAt && start <= endedAt);
      if (round < request.warmupRounds) continue;
      const jobs = invocations * batchSize;
      rounds.push({
        batchSize,
        cpuMicrosPerJob: (cpu.user + cpu.system) / jobs,
        bytesPerJob: collected ? undefined : (heapAfter - heapBefore) / jobs,
      });
    }
  }
  observer.disconnect();
  return rounds;
}

process.once('message', (request: OverheadRequest) => {
  measure(request).then(
    (rounds) => process.send?.({ ok: true, rounds }, () => process.exit(0)),
    (error: unknown) => process.send?.({ ok: false, error: String((error as Error)?.stack ?? error) }, () => process.exit(1)),
  );
});
