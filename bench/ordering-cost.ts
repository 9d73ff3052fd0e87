/**
 * What ordering per key costs per job: the same measurement as bench/cost.ts
 * (the real client and the real record processor, every SDK call metered, the
 * event source mapping's calls modelled per batch), for jobs of an ordered type
 * on a private FIFO queue against plain jobs on a private standard queue. The
 * FIFO batches run through `processFifoBatch`, as the deployed worker runs them.
 *
 * Run: `npx tsx bench/ordering-cost.ts --jobs 50` (an emulator with the stack deployed).
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { registry as contracts } from '../functions/jobs/contracts.js';
import { registry } from '../functions/jobs/handlers.js';
import { processFifoBatch } from '../functions/worker/fifo-batch.js';
import { createRecordProcessor } from '../functions/worker/process-record.js';
import {
  createAwsClients,
  createJobClient,
  IdempotencyStore,
  isTerminal,
  type JobClient,
  JobQueue,
  JobStore,
  localConnection,
} from '../shared/index.js';
import { benchEndpoint, emulatorClientConfig, ensureStack } from './lib/emulator.js';
import { lambdaContext, sqsEventFrom } from './lib/lambda.js';
import { callsPerJob, PRICES, perJobCost } from './lib/prices.js';
import { intOption, markdownTable, num, writeSection } from './lib/report.js';
import { RequestMeter } from './lib/request-meter.js';

const FULL_BATCH = 10;

interface Shape {
  readonly name: string;
  readonly fifo: boolean;
  /** Enqueues the jobs and returns their ids. */
  enqueue(jobs: JobClient<typeof contracts>, count: number): Promise<string[]>;
}

async function each(count: number, make: (i: number) => Promise<string>): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push(await make(i));
  return ids;
}

const SHAPES: readonly Shape[] = [
  {
    name: 'plain, standard queue (demo.echo)',
    fifo: false,
    enqueue: (jobs, count) => each(count, async (i) => (await jobs.enqueue('demo.echo', { message: `bench ${i}` })).jobId),
  },
  {
    name: 'ordered, FIFO queue (demo.ordered, 5 keys)',
    fifo: true,
    enqueue: (jobs, count) =>
      each(count, async (i) => (await jobs.enqueue('demo.ordered', { key: `key-${i % 5}`, seq: i })).jobId),
  },
  {
    name: 'ordered, first job of each key retries once',
    fifo: true,
    enqueue: (jobs, count) =>
      each(
        count,
        async (i) => (await jobs.enqueue('demo.ordered', { key: `retry-${i % 5}`, seq: i, failTimes: i < 5 ? 1 : 0 })).jobId,
      ),
  },
];

async function main(): Promise<void> {
  const count = intOption('jobs', 'BENCH_COST_JOBS', 50);
  const endpoint = benchEndpoint();
  const config = await ensureStack(endpoint);
  const aws = emulatorClientConfig(endpoint);
  const admin = new SQSClient(aws);
  const suffix = Date.now().toString(36);
  const created: string[] = [];
  const createQueue = async (name: string, attributes: Record<string, string>) => {
    const url = (await admin.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl as string;
    created.push(url);
    return url;
  };
  const standard = {
    url: await createQueue(`jobstack-bench-order-${suffix}`, { VisibilityTimeout: '360' }),
    deadLetterUrl: await createQueue(`jobstack-bench-order-dlq-${suffix}`, {}),
  };
  const fifo = {
    url: await createQueue(`jobstack-bench-order-${suffix}.fifo`, {
      FifoQueue: 'true',
      ContentBasedDeduplication: 'true',
      VisibilityTimeout: '360',
    }),
    deadLetterUrl: await createQueue(`jobstack-bench-order-dlq-${suffix}.fifo`, { FifoQueue: 'true' }),
  };
  const arnOf = async (url: string) =>
    (await admin.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes
      ?.QueueArn as string;

  const meter = new RequestMeter(new DynamoDBClient(aws));
  const clientAws = createAwsClients(localConnection(endpoint));
  meter.attach(clientAws.documentClient, 'DynamoDB');
  meter.attach(clientAws.sqs, 'SQS');
  const jobs = createJobClient({
    registry: contracts,
    config: {
      ...config,
      queues: {
        default: { ...standard, arn: await arnOf(standard.url) },
        ordered: { ...fifo, arn: await arnOf(fifo.url) },
      },
    },
    clients: clientAws,
  });
  const workerDynamo = new DynamoDBClient(aws);
  const workerSqs = new SQSClient(aws);
  meter.attach(workerDynamo, 'DynamoDB');
  meter.attach(workerSqs, 'SQS');
  const documents = DynamoDBDocumentClient.from(workerDynamo, { marshallOptions: { removeUndefinedValues: true } });
  const poller = new SQSClient(aws);
  const checker = new JobStore(DynamoDBDocumentClient.from(new DynamoDBClient(aws)), config.jobsTable);
  const logger = new Logger({ serviceName: 'jobstack-worker', logLevel: 'SILENT' });

  const rows: (string | number)[][] = [];
  const calls: [string, [string, number][]][] = [];
  try {
    for (const shape of SHAPES) {
      console.error(`ordering cost: ${shape.name}: ${count} jobs`);
      const urls = shape.fifo ? fifo : standard;
      const queue = new JobQueue(workerSqs, urls.url, urls.deadLetterUrl);
      const processRecord = createRecordProcessor({
        registry,
        store: new JobStore(documents, config.jobsTable),
        queue,
        queueName: shape.fifo ? 'ordered' : 'default',
        idempotency: new IdempotencyStore(documents, config.idempotencyTable),
        logger,
      });
      const processor = new BatchProcessor(EventType.SQS);
      meter.reset();
      const ids = await shape.enqueue(jobs, count);
      let deliveries = 0;
      let completions = 0;
      const pending = new Set(ids);
      const deadline = Date.now() + 180_000;
      while (pending.size > 0) {
        if (Date.now() > deadline) throw new Error(`${shape.name}: ${pending.size} jobs not finished after 180 s`);
        const { Messages = [] } = await poller.send(
          new ReceiveMessageCommand({
            QueueUrl: urls.url,
            MaxNumberOfMessages: FULL_BATCH,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['All'],
          }),
        );
        if (Messages.length > 0) {
          const event = sqsEventFrom(Messages, await arnOf(urls.url));
          // sqsEventFrom leaves out the group; the FIFO event carries it.
          event.Records.forEach((record, index) => {
            const group = (Messages[index] as Message).Attributes?.MessageGroupId;
            if (group) record.attributes.MessageGroupId = group;
          });
          const context = lambdaContext(60_000);
          const response = shape.fifo
            ? await processFifoBatch(event.Records, processRecord, {
                release: (handles) => queue.release(handles),
                logger,
                context,
              })
            : await processPartialResponse(event, processRecord, processor, { context, throwOnFullBatchFailure: false });
          const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
          deliveries += Messages.length;
          completions += Messages.length - failed.size;
          const done = Messages.filter((m) => !failed.has(m.MessageId ?? ''));
          if (done.length > 0) {
            await poller.send(
              new DeleteMessageBatchCommand({
                QueueUrl: urls.url,
                Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
              }),
            );
          }
        }
        for (const record of await checker.getMany([...pending])) {
          if (!isTerminal(record.state)) continue;
          if (record.state !== 'succeeded') throw new Error(`${shape.name}: job ${record.id} ended ${record.state}`);
          pending.delete(record.id);
        }
      }
      // The event source mapping, per batch of 10 at load: one ReceiveMessage, one invocation, one DeleteMessageBatch.
      const scratch = new RequestMeter();
      scratch.model('SQS', 'ReceiveMessage', deliveries / FULL_BATCH);
      scratch.model('Lambda', 'Invoke', deliveries / FULL_BATCH);
      scratch.model('SQS', 'DeleteMessageBatch', completions / FULL_BATCH);
      const charges = [...meter.charges, ...scratch.charges];
      const cost = perJobCost(charges, ids.length);
      // Every SQS request on a FIFO queue bills at the FIFO price.
      const sqsPrice = shape.fifo ? PRICES.sqsFifoPerMillionRequests : PRICES.sqsPerMillionRequests;
      const dollars = cost.dollarsPerMillion + cost.sqsRequests * (sqsPrice - PRICES.sqsPerMillionRequests);
      rows.push([
        shape.name,
        num(deliveries / ids.length),
        num(cost.sqsRequests),
        num(cost.dynamoWriteUnits + cost.dynamoIndexWriteUnits),
        `$${sqsPrice.toFixed(2)}`,
        `$${num(cost.sqsRequests * sqsPrice)}`,
        `$${num(dollars)}`,
      ]);
      calls.push([shape.name, callsPerJob(charges, ids.length)]);
    }
  } finally {
    for (const url of created) await admin.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined);
  }

  const operations = [...new Set(calls.flatMap(([, list]) => list.map(([op]) => op)))].sort();
  const body = `${markdownTable(
    [
      'shape',
      'deliveries/job',
      'SQS req/job',
      'WCU/job (table + index)',
      'SQS price /M',
      'SQS $/M jobs',
      '$/M jobs at load (batch 10)',
    ],
    rows,
  )}

Calls per job (\`*\` = modelled: the event source mapping's ReceiveMessage, DeleteMessageBatch and invocation per batch of 10):

${markdownTable(
  ['call', ...calls.map(([name]) => name)],
  operations.map((op) => [op, ...calls.map(([, list]) => num(list.find(([name]) => name === op)?.[1] ?? 0))]),
)}`;
  writeSection('ordering-cost', body, `npx tsx bench/ordering-cost.ts --jobs ${count}`);
  console.log(body);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
