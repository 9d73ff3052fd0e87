/**
 * Benchmark 1: AWS requests and dollars per job.
 *
 * Runs the real client (`createJobClient`) and the real worker record processor
 * (`createRecordProcessor` inside Powertools' `processPartialResponse`, as the
 * worker handler does) in this process, with real SDK clients pointed at the
 * emulator. A metering middleware on every client counts each AWS call and
 * prices DynamoDB writes from the items before and after (see
 * bench/lib/request-meter.ts). What the SQS event source mapping and Lambda do
 * on our behalf is modelled per batch from AWS's documented behaviour.
 *
 * The benchmark polls its own private queue (created for the run, deleted
 * after) so the deployed worker does not compete for the messages; the job
 * table is the deployed stack's, so its layout and index are the real ones.
 *
 *   npx tsx bench/cost.ts [--jobs 50] [--shape 'plain'] [--endpoint http://127.0.0.1:4566] [--redeploy] [--no-write]
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DeleteScheduleCommand, GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import {
  DescribeStateMachineCommand,
  SFNClient,
  type ServiceInputTypes as SfnInput,
  type ServiceOutputTypes as SfnOutput,
  type StartExecutionCommandInput,
} from '@aws-sdk/client-sfn';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { BuildMiddleware } from '@smithy/types';
import { registry as contracts } from '../functions/jobs/contracts.js';
import { registry } from '../functions/jobs/handlers.js';
import { createLongJobStarter } from '../functions/long-job/start-long-job.js';
import { createStepRunner } from '../functions/long-job/step-runner.js';
import type { FailureInput, StepInput } from '../functions/long-job/types.js';
import { MetricsObserver } from '../functions/worker/metrics.js';
import { createRecordProcessor } from '../functions/worker/process-record.js';
import {
  createAwsClients,
  createJobClient,
  IdempotencyStore,
  isTerminal,
  JobQueue,
  JobStore,
  localConnection,
  oneTimeScheduleName,
  planQueues,
} from '../shared/index.js';
import { LongJobStore } from '../shared/long-jobs/long-job-store.js';
import { PayloadStore } from '../shared/payload-store.js';
import { COST_SHAPES, type CostShape, SHAPES_TO_ADD } from './cost-shapes.js';
import { benchEndpoint, emulatorClientConfig, ensureStack } from './lib/emulator.js';
import { captureOutput, lambdaContext, sqsEventFrom } from './lib/lambda.js';
import {
  callsPerJob,
  EXPRESS_GB_SECONDS,
  EXPRESS_REQUESTS,
  expressBilledGbSeconds,
  type PerJobCost,
  PRICES,
  perJobCost,
} from './lib/prices.js';
import { flag, intOption, markdownTable, num, option, writeSection } from './lib/report.js';
import type { RequestCharge } from './lib/request-meter.js';
import { RequestMeter } from './lib/request-meter.js';
import { type AslDefinition, walkExecution } from './lib/state-machine.js';

/** The stack's event source batch size (JobSystem default): at load every batch is full. */
const FULL_BATCH = 10;
/** Worker memory (infra/job-system.ts). */
const WORKER_MEMORY_GB = 0.5;
/** Lambda's own START, END and REPORT lines per invocation, about this many bytes together. */
const PLATFORM_LOG_BYTES_PER_INVOCATION = 400;
const WORKER_TIMEOUT_MS = 60_000;
/**
 * What an Express execution lasts beyond the step code's own time, per Lambda
 * Task it runs (modelled): Step Functions' invoke and its return, on AWS some
 * tens of milliseconds; on the emulator the walk calls the step code in-process.
 */
const EXPRESS_INVOKE_OVERHEAD_MS = 50;

interface ShapeResult {
  readonly shape: CostShape;
  readonly jobs: number;
  readonly deliveriesPerJob: number;
  readonly atLoad: PerJobCost;
  readonly trickle: PerJobCost;
  readonly calls: [string, number][];
  readonly handlerMsPerJob: number;
  readonly logBytesPerJob: number;
  readonly batchesSeen: number;
}

async function main(): Promise<void> {
  const jobsPerShape = intOption('jobs', 'BENCH_COST_JOBS', 50);
  const endpoint = benchEndpoint();
  const config = await ensureStack(endpoint);
  const aws = emulatorClientConfig(endpoint);

  // Private queue pair for the run, so the deployed worker does not take our messages.
  const admin = new SQSClient(aws);
  const suffix = Date.now().toString(36);
  const dlqUrl = (await admin.send(new CreateQueueCommand({ QueueName: `jobstack-bench-cost-dlq-${suffix}` })))
    .QueueUrl as string;
  const queueUrl = (
    await admin.send(
      new CreateQueueCommand({ QueueName: `jobstack-bench-cost-${suffix}`, Attributes: { VisibilityTimeout: String(6 * 60) } }),
    )
  ).QueueUrl as string;
  const queueArn = (await admin.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] })))
    .Attributes?.QueueArn as string;

  const inspector = new DynamoDBClient(aws);
  const meter = new RequestMeter(inspector);

  // The client, as an application uses it, every queue of the registry mapped to the private queue.
  const clientAws = createAwsClients(localConnection(endpoint));
  meter.attach(clientAws.documentClient, 'DynamoDB');
  meter.attach(clientAws.sqs, 'SQS');
  if (clientAws.scheduler) meter.attach(clientAws.scheduler, 'Scheduler');
  if (clientAws.sfn) meter.attach(clientAws.sfn, 'StepFunctions');
  if (clientAws.s3) meter.attach(clientAws.s3, 'S3');
  const queues = Object.fromEntries(
    planQueues(registry).map((plan) => [plan.name, { url: queueUrl, deadLetterUrl: dlqUrl, arn: queueArn }]),
  );
  const jobs = createJobClient({ registry: contracts, config: { ...config, queues }, clients: clientAws });

  // The worker's clients and dependencies, built as functions/jobs/worker-entry.ts builds them.
  const workerDynamo = new DynamoDBClient(aws);
  const workerSqs = new SQSClient(aws);
  // The worker reads offloaded payloads as lazyPayloadReader does (functions/attempt/payload.ts), metered.
  const workerS3 = new S3Client({ ...aws, forcePathStyle: true });
  meter.attach(workerDynamo, 'DynamoDB');
  meter.attach(workerSqs, 'SQS');
  meter.attach(workerS3, 'S3');
  const workerDocuments = DynamoDBDocumentClient.from(workerDynamo, { marshallOptions: { removeUndefinedValues: true } });
  const workerStore = new JobStore(workerDocuments, config.jobsTable);
  const workerLogger = new Logger({ serviceName: 'jobstack-worker' });
  // Metrics as the deployed functions write them (EMF log lines, so they count in the log bytes): the worker's and
  // the long-job step function's lines, written by `flushJobMetrics` once per invocation.
  const workerObserver = new MetricsObserver();
  const stepObserver = new MetricsObserver();

  // Long jobs: the worker's StartExecution is metered, then answered here instead of starting the
  // emulator's execution; the benchmark walks that execution itself with the real step code.
  const startedExecutions: StartExecutionCommandInput[] = [];
  const stateMachineArn = config.longJobStateMachineArn;
  const workerSfn = new SFNClient(aws);
  meter.attach(workerSfn, 'StepFunctions');
  const answerStart: BuildMiddleware<SfnInput, SfnOutput> = () => async (args) => {
    const input = args.input as StartExecutionCommandInput;
    startedExecutions.push(input);
    const executionArn = `${(input.stateMachineArn ?? '').replace(':stateMachine:', ':execution:')}:${input.name}`;
    return { output: { executionArn, startDate: new Date(), $metadata: {} }, response: {} };
  };
  workerSfn.middlewareStack.add(answerStart, { step: 'build', priority: 'low', name: 'benchAnswerStartExecution' });
  const stepRunner = createStepRunner({
    registry,
    records: new LongJobStore(workerDocuments, config.jobsTable),
    logger: workerLogger,
    observer: stepObserver,
  });
  /** Definition and type of each state machine the worker started executions on, described once. */
  const stateMachines = new Map<string, { definition: AslDefinition; express: boolean }>();
  /** Wall time and Task count of each Express execution walked (its billed duration is modelled from them). */
  const expressWalks: { ms: number; tasks: number }[] = [];
  const processRecord = createRecordProcessor({
    registry,
    store: workerStore,
    queue: new JobQueue(workerSqs, queueUrl, dlqUrl),
    queueName: 'default',
    idempotency: new IdempotencyStore(workerDocuments, config.idempotencyTable),
    ...(config.payloadBucket ? { payloads: new PayloadStore(workerS3, config.payloadBucket) } : {}),
    logger: workerLogger,
    observer: workerObserver,
    ...(stateMachineArn ? { startLongJob: createLongJobStarter({ sfn: workerSfn, stateMachineArn, store: workerStore }) } : {}),
  });

  /** Runs the executions the worker started, as Step Functions would, metering transitions and step invocations. */
  const runExecutions = async (): Promise<number> => {
    let logBytes = 0;
    while (startedExecutions.length > 0) {
      const start = startedExecutions.shift() as StartExecutionCommandInput;
      const machineArn = start.stateMachineArn ?? '';
      let machine = stateMachines.get(machineArn);
      if (!machine) {
        const described = await new SFNClient(aws).send(new DescribeStateMachineCommand({ stateMachineArn: machineArn }));
        machine = {
          definition: JSON.parse(described.definition ?? '{}') as AslDefinition,
          express: described.type === 'EXPRESS',
        };
        stateMachines.set(machineArn, machine);
      }
      const { definition, express } = machine;
      const executionArn = `${machineArn.replace(':stateMachine:', ':execution:')}:${start.name}`;
      const walkStarted = performance.now();
      const { result, bytes } = await captureOutput(() =>
        walkExecution(
          definition,
          JSON.parse(start.input ?? '{}'),
          async (resource, payload) => {
            if (!resource.startsWith('arn:aws:lambda:')) throw new Error(`task resource ${resource} is not simulated`);
            meter.model('Lambda', 'Invoke (by Step Functions)', 1);
            const event = payload as StepInput | FailureInput;
            try {
              if ('action' in event && event.action === 'record-failure') return await stepRunner.recordFailure(event);
              return await stepRunner.runStep(event as StepInput, 15 * 60_000);
            } finally {
              stepObserver.flush();
            }
          },
          { executionArn },
        ),
      );
      logBytes += bytes;
      if (express) {
        // Express bills the execution (one request) and its duration, not transitions.
        meter.model(EXPRESS_REQUESTS, 'Request', 1);
        const tasks = Object.values(result.tasks).reduce((sum, n) => sum + n, 0);
        expressWalks.push({ ms: performance.now() - walkStarted, tasks });
      } else meter.model('StepFunctions', 'StateTransition', result.transitions);
      if (result.endType !== 'Succeed') throw new Error(`execution ${executionArn} ended in ${result.endState}`);
    }
    return logBytes;
  };
  const processor = new BatchProcessor(EventType.SQS);

  // Unmetered: the stand-in for the event source mapping's poller, and the benchmark's own checks.
  const poller = new SQSClient(aws);
  const schedulerAdmin = new SchedulerClient(aws);
  const checker = new JobStore(DynamoDBDocumentClient.from(new DynamoDBClient(aws)), config.jobsTable);

  /** Enqueues and works through one shape's jobs, as the event source mapping and the worker would. */
  const runShape = async (shape: CostShape) => {
    const ids = await shape.enqueue(jobs, jobsPerShape);
    if (shape.viaScheduler) {
      const group = config.scheduling?.groupName;
      if (!group) throw new Error(`${shape.name}: the deployed stack has no schedule group`);
      for (const id of ids) {
        // Fire now what Scheduler would fire at runAt: its target input, to its target queue.
        const name = oneTimeScheduleName(id);
        const schedule = await schedulerAdmin.send(new GetScheduleCommand({ Name: name, GroupName: group }));
        if (schedule.Target?.Arn !== queueArn || schedule.Target.Input === undefined) {
          throw new Error(`${shape.name}: schedule ${name} does not target the benchmark queue with an input`);
        }
        await poller.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: schedule.Target.Input }));
        await schedulerAdmin.send(new DeleteScheduleCommand({ Name: name, GroupName: group }));
      }
      // Billed on our behalf: one Scheduler invocation per job, and its SendMessage on our queue.
      meter.model('Scheduler', 'Invocation', ids.length);
      meter.model('SQS', 'SendMessage (by Scheduler)', ids.length);
    }
    let deliveries = 0;
    let completions = 0;
    let handlerMs = 0;
    let logBytes = 0;
    let batches = 0;
    const pending = new Set(ids);
    const deadline = Date.now() + 120_000;
    while (pending.size > 0) {
      if (Date.now() > deadline) throw new Error(`${shape.name}: ${pending.size} jobs not finished after 120 s`);
      const { Messages = [] } = await poller.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: FULL_BATCH,
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ['All'],
        }),
      );
      if (Messages.length > 0) {
        const event = sqsEventFrom(Messages, queueArn);
        const started = performance.now();
        const { result: response, bytes } = await captureOutput(async () => {
          try {
            return await processPartialResponse(event, processRecord, processor, {
              context: lambdaContext(WORKER_TIMEOUT_MS),
              throwOnFullBatchFailure: false,
            });
          } finally {
            // What the handler's middlewares write at the end of every invocation.
            workerObserver.flush();
          }
        });
        // A long job's message only starts its execution: run that execution now, as Step Functions would
        // (its step invocations are Lambda compute too, so they count in the handler time).
        logBytes += bytes + (shape.viaStepFunctions ? await runExecutions() : 0);
        handlerMs += performance.now() - started;
        batches++;
        const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
        deliveries += Messages.length;
        completions += Messages.length - failed.size;
        const done = Messages.filter((m) => !failed.has(m.MessageId ?? ''));
        if (done.length > 0) {
          await poller.send(
            new DeleteMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
            }),
          );
        }
      }
      const records = await checker.getMany([...pending]);
      for (const record of records) {
        if (!isTerminal(record.state)) continue;
        if (record.state !== shape.expectedState) {
          throw new Error(`${shape.name}: job ${record.id} ended ${record.state}, expected ${shape.expectedState}`);
        }
        pending.delete(record.id);
      }
    }
    return { ids, deliveries, completions, handlerMs, logBytes, batches };
  };

  const results: ShapeResult[] = [];
  try {
    const only = option('shape', 'BENCH_COST_SHAPE', '');
    for (const shape of COST_SHAPES.filter((s) => s.name.includes(only))) {
      console.error(`cost: ${shape.name}: ${jobsPerShape} jobs`);
      meter.reset();
      const { ids, deliveries, completions, logBytes, batches } = await runShape(shape);
      const n = ids.length;
      const withModel = (batchSize: number) => {
        const charges = [...meter.charges];
        const scratch = new RequestMeter();
        // Event source mapping: one long-poll ReceiveMessage and one invocation per batch,
        // and a DeleteMessageBatch for the records the batch response did not report as failed.
        scratch.model('SQS', 'ReceiveMessage', deliveries / batchSize);
        scratch.model('Lambda', 'Invoke', deliveries / batchSize);
        scratch.model('SQS', 'DeleteMessageBatch', completions / batchSize);
        return [...charges, ...scratch.charges];
      };
      // Handler time from a second, unmetered pass: the meter's own item reads must not count as compute.
      expressWalks.length = 0;
      const timing = await meter.unmetered(() => runShape(shape));
      // Express duration from the same unmetered pass, per job, as AWS bills it (100 ms and 64 MB steps).
      const expressGbSeconds =
        (expressWalks.reduce((sum, walk) => sum + expressBilledGbSeconds(walk.ms + EXPRESS_INVOKE_OVERHEAD_MS * walk.tasks), 0) *
          n) /
        timing.ids.length;
      const expressDuration: RequestCharge[] =
        expressWalks.length === 0
          ? []
          : [
              {
                service: EXPRESS_GB_SECONDS,
                operation: 'GB-seconds (64 MB)',
                calls: expressGbSeconds,
                billedRequests: expressGbSeconds,
                writeUnits: 0,
                indexWriteUnits: 0,
                readUnits: 0,
                modelled: true,
              },
            ];
      const atLoadCharges = [...withModel(FULL_BATCH), ...expressDuration];
      const trickleCharges = [...withModel(1), ...expressDuration];
      results.push({
        shape,
        jobs: n,
        deliveriesPerJob: deliveries / n,
        atLoad: perJobCost(atLoadCharges, n),
        trickle: perJobCost(trickleCharges, n),
        calls: callsPerJob(atLoadCharges, n),
        handlerMsPerJob: timing.handlerMs / timing.ids.length,
        logBytesPerJob: logBytes / n,
        batchesSeen: batches,
      });
    }
  } finally {
    await admin.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => undefined);
    await admin.send(new DeleteQueueCommand({ QueueUrl: dlqUrl })).catch(() => undefined);
  }

  const body = render(results, jobsPerShape);
  console.log(body);
  if (!flag('no-write')) writeSection('cost', body, `npm run bench:cost -- --jobs ${jobsPerShape}`);
}

function render(results: readonly ShapeResult[], jobsPerShape: number): string {
  const dollars = (v: number) => `$${v.toFixed(2)}`;
  const summary = markdownTable(
    [
      'shape',
      'deliveries/job',
      'SQS req/job',
      'Lambda inv/job',
      'S3 PUT+GET/job',
      'DynamoDB calls/job',
      'WCU table',
      'WCU index',
      'RCU',
      '$/M jobs at load (batch 10)',
      '$/M jobs trickle (batch 1)',
      'GB-s/job (emulator)',
      'app log bytes/job',
    ],
    results.map((r) => [
      r.shape.name,
      num(r.deliveriesPerJob),
      num(r.atLoad.sqsRequests, 3),
      num(r.atLoad.lambdaInvocations, 3),
      `${num(r.atLoad.s3PutRequests, 3)}+${num(r.atLoad.s3GetRequests, 3)}`,
      num(
        r.calls.filter(([k]) => k.startsWith('DynamoDB.')).reduce((s, [, v]) => s + v, 0),
        3,
      ),
      num(r.atLoad.dynamoWriteUnits, 3),
      num(r.atLoad.dynamoIndexWriteUnits, 3),
      num(r.atLoad.dynamoReadUnits, 3),
      dollars(r.atLoad.dollarsPerMillion),
      dollars(r.trickle.dollarsPerMillion),
      num((WORKER_MEMORY_GB * r.handlerMsPerJob) / 1_000, 5),
      num(r.logBytesPerJob, 0),
    ]),
  );
  const operations = [...new Set(results.flatMap((r) => r.calls.map(([k]) => k)))].sort();
  const detail = markdownTable(
    ['call', ...results.map((r) => r.shape.name)],
    operations.map((op) => [op, ...results.map((r) => num(r.calls.find(([k]) => k === op)?.[1] ?? 0, 3))]),
  );
  const plain = results.find((r) => r.shape.name === 'plain (enqueue)');
  const longStandard = results.find((r) => r.shape.name === 'long job, 10 steps');
  const longExpress = results.find((r) => r.shape.name === 'long job, 10 steps (Express)');
  const many = results.find((r) => r.shape.name === 'plain (enqueueMany)');
  const lean = results.find((r) => r.shape.name === 'plain (lean enqueueMany)');
  const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');
  const targets: (string | number)[][] = [];
  if (plain) {
    const wcu = plain.atLoad.dynamoWriteUnits + plain.atLoad.dynamoIndexWriteUnits;
    targets.push([
      'DynamoDB write units per plain job (table + index)',
      '≤ 3 (stretch 2)',
      num(wcu, 3),
      verdict(wcu <= 3) + (wcu <= 2 ? ', stretch met' : ', stretch missed'),
    ]);
    targets.push([
      '$ per million plain jobs, single `enqueue`',
      '≤ $2.50',
      dollars(plain.atLoad.dollarsPerMillion),
      verdict(plain.atLoad.dollarsPerMillion <= 2.5),
    ]);
  }
  if (many) {
    targets.push([
      '$ per million plain jobs, `enqueueMany`',
      '≤ $2.00',
      dollars(many.atLoad.dollarsPerMillion),
      verdict(many.atLoad.dollarsPerMillion <= 2.0),
    ]);
  }
  if (lean) {
    const wcu = lean.atLoad.dynamoWriteUnits + lean.atLoad.dynamoIndexWriteUnits;
    targets.push([
      'DynamoDB write units per plain job, lean `enqueueMany` (table + index)',
      '≤ 2',
      num(wcu, 3),
      verdict(wcu <= 2),
    ]);
    targets.push([
      '$ per million plain jobs, lean `enqueueMany`',
      '≤ $1.50',
      dollars(lean.atLoad.dollarsPerMillion),
      verdict(lean.atLoad.dollarsPerMillion <= 1.5),
    ]);
  }
  for (const [label, result] of [
    ['Express', longExpress],
    ['Standard', longStandard],
  ] as const) {
    if (!result) continue;
    targets.push([
      `$ per million long jobs of 10 short steps (${label})`,
      '≤ $60',
      dollars(result.atLoad.dollarsPerMillion),
      verdict(result.atLoad.dollarsPerMillion <= 60),
    ]);
  }
  const computeRows = results.map((r) => {
    const gbs = (WORKER_MEMORY_GB * r.handlerMsPerJob) / 1_000;
    const logBytes = r.logBytesPerJob + PLATFORM_LOG_BYTES_PER_INVOCATION * r.atLoad.lambdaInvocations;
    return [
      r.shape.name,
      num(r.handlerMsPerJob, 1),
      num(gbs, 5),
      dollars(gbs * PRICES.lambdaArmPerGbSecond * 1e6),
      num(logBytes, 0),
      dollars((logBytes / 1024 ** 3) * PRICES.logsPerGbIngested * 1e6),
    ];
  });
  return `
### Requests and dollars per job

${jobsPerShape} jobs per shape through the real client and the real worker record processor against the emulator.
Requests only, at us-east-1 list prices (SQS $0.40/M per 64 KB chunk, Lambda $0.20/M invocations, DynamoDB
$0.625/M write units and $0.125/M read units, Step Functions Standard $25/M transitions, Express $1/M executions plus
$0.00001667 per GB-second in 100 ms and 64 MB steps, Scheduler $1/M, S3 Standard $5/M PUT and $0.40/M GET requests;
S3 storage, $0.023 per GB-month, is not a request and not in the table); compute and logs below. An Express execution's
duration is the walk's wall time on the emulator plus ${EXPRESS_INVOKE_OVERHEAD_MS} ms per Lambda Task (modelled), at 64 MB.
"At load" assumes full batches of ${FULL_BATCH} (the stack's batch size); "trickle" one job per batch. Not per job, so not in
the table: with an empty queue the event source mapping keeps long-polling (assumed: 5 pollers × 3 ReceiveMessage of
20 s a minute ≈ 650,000 requests ≈ $0.26 per queue per month), which dominates below about 100,000 jobs a month.

${summary}

Targets:

${markdownTable(['target', 'goal', 'measured', 'verdict'], targets)}

Calls per job by operation, at load (\`*\` = modelled, not observed: the event source mapping's ReceiveMessage and
DeleteMessageBatch and the Lambda invocation, one each per batch; for delayed jobs Scheduler's invocation and the
SendMessage it makes on our queue; for long jobs the step invocations, the state transitions of Standard and the
execution and its GB-seconds on Express). Scheduler and Step Functions API calls are free; they bill invocations,
state transitions (Standard) or executions and duration (Express):

${detail}

Compute and logs (not in the request price). Handler time is measured against the emulator, whose DynamoDB and SQS
answer in about a millisecond; on AWS each call takes several, so treat GB-s as a lower bound. Log bytes are what the
Powertools Logger and the EMF metric lines (once per invocation) wrote, plus about ${PLATFORM_LOG_BYTES_PER_INVOCATION} bytes of Lambda START/END/REPORT lines per invocation (modelled).

${markdownTable(['shape', 'handler ms/job', 'GB-s/job (512 MB)', 'compute $/M jobs (arm64)', 'log bytes/job', 'logs $/M jobs ($0.50/GB)'], computeRows)}

${SHAPES_TO_ADD.length > 0 ? `Shapes still to add: ${SHAPES_TO_ADD.join('; ')}.\n` : ''}`;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
