/**
 * What concurrency and rate limits cost per job, on the worker side.
 *
 * Runs the real record processor (`createRecordProcessor` with a real JobStore
 * and FlowStore) in this process against the emulator: the deployed stack's job
 * table (its real layout and index) and a queue created for the run. The
 * RequestMeter of bench/lib/request-meter.ts counts every AWS request the
 * processor makes and prices DynamoDB writes from the items before and after.
 * Enqueueing, the event source mapping's receive and delete, and Lambda are the
 * same for every row and left out: each row is what the worker does for one
 * job. Jobs run one after another on one warm processor, as a warm Lambda
 * container takes them; the first job of a key (a read to fill the cache and
 * the item's creation) is shown apart.
 *
 *   npx tsx bench/flow-limits-cost.ts [--jobs 40] [--endpoint http://127.0.0.1:4566] [--stack jobstack] [--no-write]
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { createRecordProcessor } from '../functions/worker/process-record.js';
import { resolveStackConfig } from '../shared/client/stack-config.js';
import {
  createAwsClients,
  defineJob,
  defineRegistry,
  ENVELOPE_VERSION,
  FlowStore,
  type HandlerRegistry,
  JobQueue,
  JobStore,
  localConnection,
  newJobId,
  serializeEnvelope,
} from '../shared/index.js';
import { sqsRecord } from '../test/helpers/events.js';
import { PRICES } from './lib/prices.js';
import { flag, intOption, markdownTable, num, option, writeSection } from './lib/report.js';
import { type RequestCharge, RequestMeter } from './lib/request-meter.js';

const JOBS = intOption('jobs', 'JOBSTACK_BENCH_JOBS', 40);
const endpoint = option('endpoint', 'JOBSTACK_BENCH_ENDPOINT', 'http://127.0.0.1:4566');
const stackName = option('stack', 'JOBSTACK_STACK', 'jobstack');
const run = Date.now().toString(36);
const schema = z.object({ tenant: z.string() });
const ok = async () => ({ ok: true });

const types = {
  plain: defineJob({ name: `bench.flow-plain-${run}`, schema, handler: ok }),
  concurrency: defineJob({
    name: `bench.flow-concurrency-${run}`,
    schema,
    concurrency: { key: (payload) => payload.tenant, limit: 10 },
    handler: ok,
  }),
  rate: defineJob({
    name: `bench.flow-rate-${run}`,
    schema,
    rateLimit: { key: (payload) => payload.tenant, limit: 100, per: '1s' },
    handler: ok,
  }),
  both: defineJob({
    name: `bench.flow-both-${run}`,
    schema,
    concurrency: { key: (payload) => payload.tenant, limit: 10 },
    rateLimit: { key: (payload) => payload.tenant, limit: 100, per: '1s' },
    handler: ok,
  }),
  waitConcurrency: defineJob({
    name: `bench.flow-wait-c-${run}`,
    schema,
    concurrency: { key: (payload) => payload.tenant, limit: 1 },
    handler: ok,
  }),
  waitRate: defineJob({
    name: `bench.flow-wait-r-${run}`,
    schema,
    rateLimit: { key: (payload) => payload.tenant, limit: 1, per: '1h' },
    handler: ok,
  }),
};

interface Row {
  readonly name: string;
  readonly what: string;
  readonly charges: RequestCharge[];
  readonly jobs: number;
}

async function main(): Promise<void> {
  const connection = localConnection(endpoint);
  const clients = createAwsClients(connection);
  const config = await resolveStackConfig(clients.cloudFormation, stackName);
  const dynamo = new DynamoDBClient(connection);
  const documentClient = DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
  const sqs = new SQSClient(connection);
  const meter = new RequestMeter(new DynamoDBClient(connection));
  meter.attach(documentClient, 'DynamoDB');
  meter.attach(sqs, 'SQS');
  const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `bench-flow-${run}` }))).QueueUrl as string;
  const deadLetterUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `bench-flow-${run}-dlq` }))).QueueUrl as string;
  const registry = defineRegistry(...Object.values(types)) as HandlerRegistry;
  const processRecord = createRecordProcessor({
    registry,
    store: new JobStore(documentClient, config.jobsTable),
    queue: new JobQueue(sqs, queueUrl, deadLetterUrl),
    queueName: 'bench',
    logger: new Logger({ logLevel: 'SILENT' }),
    flow: new FlowStore(documentClient, config.jobsTable),
  });
  const message = (type: string, tenant: string): SQSRecord =>
    sqsRecord(
      serializeEnvelope({ v: ENVELOPE_VERSION, id: newJobId(), type, payload: { tenant }, enqueuedAt: new Date().toISOString() }),
    );
  const rows: Row[] = [];
  /** Meters `count` deliveries made by `make`. */
  async function measure(name: string, what: string, count: number, make: () => SQSRecord): Promise<void> {
    meter.reset();
    for (let i = 0; i < count; i++) await processRecord(make());
    rows.push({ name, what, charges: [...meter.charges], jobs: count });
  }

  try {
    await measure('no limit', 'a plain job: the claim and the success write', JOBS, () => message(types.plain.name, 'any'));
    for (const [label, type] of [
      ['concurrency', types.concurrency],
      ['rate limit', types.rate],
      ['concurrency + rate limit', types.both],
    ] as const) {
      const tenant = `t-${run}`;
      await measure(`${label}: first job of a key`, 'cold cache: a read, then the item is created', 1, () =>
        message(type.name, tenant),
      );
      await measure(`${label}: warm`, 'later jobs of the key on the same worker', JOBS, () => message(type.name, tenant));
    }
    // Waits: the key's slot held by a running job (concurrency), its one start per hour used (rate).
    await meter.unmetered(async () => {
      const flow = new FlowStore(documentClient, config.jobsTable);
      await flow.acquireSlot({
        jobType: types.waitConcurrency.name,
        key: 'busy',
        jobId: 'holder',
        limit: 1,
        leaseUntil: Date.now() + 3_600_000,
      });
      await processRecord(message(types.waitRate.name, 'busy'));
      await processRecord(message(types.waitConcurrency.name, 'busy'));
    });
    await measure('a wait for a concurrency slot', 'key full; warm cache: one consistent read, the copy sent back', JOBS, () =>
      message(types.waitConcurrency.name, 'busy'),
    );
    await measure('a wait for a rate-limit start', 'window full; warm cache: no DynamoDB request, the copy sent back', JOBS, () =>
      message(types.waitRate.name, 'busy'),
    );
  } finally {
    await meter.unmetered(async () => {
      for (const url of [queueUrl, deadLetterUrl]) await sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
    });
  }

  const table = markdownTable(
    ['Case', 'What', 'DynamoDB requests', 'Write units', 'Read units', 'SQS requests', '$ per million (requests)'],
    rows.map((row) => {
      const per = (pick: (charge: RequestCharge) => number) =>
        row.charges.reduce((sum, charge) => sum + pick(charge), 0) / row.jobs;
      const dynamoCalls = per((charge) => (charge.service === 'DynamoDB' ? charge.calls : 0));
      const operations = [
        ...new Set(row.charges.filter((charge) => charge.service === 'DynamoDB').map((charge) => charge.operation)),
      ]
        .map((operation) => {
          const calls = per((charge) => (charge.service === 'DynamoDB' && charge.operation === operation ? charge.calls : 0));
          return `${num(calls)} ${operation}`;
        })
        .join(', ');
      const writeUnits = per((charge) => charge.writeUnits + charge.indexWriteUnits);
      const readUnits = per((charge) => charge.readUnits);
      const sqsRequests = per((charge) => (charge.service === 'SQS' ? charge.billedRequests : 0));
      const dollars =
        writeUnits * PRICES.dynamoPerMillionWriteUnits +
        readUnits * PRICES.dynamoPerMillionReadUnits +
        sqsRequests * PRICES.sqsPerMillionRequests;
      return [
        row.name,
        row.what,
        `${num(dynamoCalls)} (${operations})`,
        num(writeUnits),
        num(readUnits),
        num(sqsRequests),
        num(dollars, 3),
      ];
    }),
  );
  const body = `${table}\n\nWorker side only, per delivery (${JOBS} jobs a row; enqueue, the mapping's receive and delete, and Lambda are the same in every row and left out). A wait adds, beyond this row, the receive and delete of the copy it sent back (2 SQS requests).`;
  process.stdout.write(`${body}\n`);
  if (!flag('no-write')) writeSection('flow-limits-cost', body, 'npx tsx bench/flow-limits-cost.ts');
}

await main();
