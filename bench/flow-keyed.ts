import { Logger } from '@aws-lambda-powertools/logger';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { readStackOutputs } from '../cli/local/index.js';
import { registry as contracts, DEMO_LEDGER_TABLE_ENV } from '../functions/jobs/contracts.js';
import { registry } from '../functions/jobs/handlers.js';
import { createRecordProcessor } from '../functions/worker/process-record.js';
import { DEMO_LEDGER_OUTPUT } from '../infra/jobstack-stack.js';
import {
  createAwsClients,
  createJobClient,
  JobQueue,
  JobStore,
  KeyedFlowStore,
  localConnection,
  planQueues,
} from '../shared/index.js';
import { benchEndpoint, emulatorClientConfig, ensureStack } from './lib/emulator.js';
import { sqsEventFrom } from './lib/lambda.js';
import { callsPerJob, perJobCost } from './lib/prices.js';
import { intOption, markdownTable, num, writeSection } from './lib/report.js';
import { RequestMeter } from './lib/request-meter.js';

/**
 * What debounce and throttle cost per job: the real client and the real worker
 * record processor (with the debounce check) against the emulator's deployed
 * tables, every SDK call metered (`bench/lib/request-meter.ts`: DynamoDB units
 * computed from item sizes by AWS's rules). Messages go to a private queue the
 * benchmark drains itself; the event source mapping's ReceiveMessage,
 * DeleteMessageBatch and Lambda invocation are modelled at one each per batch
 * of 10, as in `bench/cost.ts`.
 *
 *   npx tsx bench/flow-keyed.ts --endpoint http://127.0.0.1:4566 --keys 20
 */

type Shape = { readonly name: string; readonly type: 'demo.echo' | 'demo.debounced' | 'demo.throttled'; readonly burst: number };

const SHAPES: readonly Shape[] = [
  { name: 'plain (baseline, demo.echo)', type: 'demo.echo', burst: 1 },
  { name: 'debounced, 1 enqueue per key', type: 'demo.debounced', burst: 1 },
  { name: 'debounced, burst of 5 per key (1 runs)', type: 'demo.debounced', burst: 5 },
  { name: 'throttled, 1 enqueue per key', type: 'demo.throttled', burst: 1 },
  { name: 'throttled, burst of 5 per key (1 runs)', type: 'demo.throttled', burst: 5 },
];

async function main(): Promise<void> {
  const keys = intOption('keys', 'BENCH_FLOW_KEYS', 20);
  const endpoint = benchEndpoint();
  const config = await ensureStack(endpoint);
  const aws = emulatorClientConfig(endpoint);
  // The demo jobs count their runs in the demo stack's ledger table, as the deployed worker does.
  const outputs = await readStackOutputs(new CloudFormationClient(aws), config.stackName);
  process.env[DEMO_LEDGER_TABLE_ENV] = outputs[DEMO_LEDGER_OUTPUT];
  // The handlers' own ledger client is created without settings, as in Lambda: point it at the emulator.
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: aws.region,
    AWS_ACCESS_KEY_ID: aws.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: aws.credentials.secretAccessKey,
  });
  const admin = new SQSClient(aws);
  const suffix = Date.now().toString(36);
  const queueUrl = (await admin.send(new CreateQueueCommand({ QueueName: `jobstack-bench-flow-${suffix}` }))).QueueUrl as string;
  const dlqUrl = (await admin.send(new CreateQueueCommand({ QueueName: `jobstack-bench-flow-dlq-${suffix}` })))
    .QueueUrl as string;
  const queueArn = (await admin.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] })))
    .Attributes?.QueueArn as string;

  const meter = new RequestMeter(new DynamoDBClient(aws));
  const clientAws = createAwsClients(localConnection(endpoint));
  meter.attach(clientAws.documentClient, 'DynamoDB');
  meter.attach(clientAws.sqs, 'SQS');
  const queues = Object.fromEntries(
    planQueues(registry).map((plan) => [plan.name, { url: queueUrl, deadLetterUrl: dlqUrl, arn: queueArn }]),
  );
  const jobs = createJobClient({ registry: contracts, config: { ...config, queues }, clients: clientAws });

  const workerDynamo = new DynamoDBClient(aws);
  const workerSqs = new SQSClient(aws);
  meter.attach(workerDynamo, 'DynamoDB');
  meter.attach(workerSqs, 'SQS');
  const workerDocuments = DynamoDBDocumentClient.from(workerDynamo, { marshallOptions: { removeUndefinedValues: true } });
  const processRecord = createRecordProcessor({
    registry,
    store: new JobStore(workerDocuments, config.jobsTable),
    flows: new KeyedFlowStore(workerDocuments, config.jobsTable),
    queue: new JobQueue(workerSqs, queueUrl, dlqUrl),
    queueName: 'default',
    logger: new Logger({ serviceName: 'jobstack-worker', logLevel: 'ERROR' }),
  });

  const rows: (string | number)[][] = [];
  const calls: string[] = [];
  try {
    for (const shape of SHAPES) {
      meter.reset();
      const ledgerKey = `bench-flow-${suffix}-${shape.type}-${shape.burst}`;
      let enqueued = 0;
      for (let k = 0; k < keys; k++) {
        const key = `${suffix}-${shape.burst}-${k}`;
        for (let n = 0; n < shape.burst; n++) {
          if (shape.type === 'demo.echo') await jobs.enqueue('demo.echo', { message: key });
          else await jobs.enqueue(shape.type, { key, ledgerKey, n });
          enqueued++;
        }
      }
      // Drain: every message (superseded ones included) is delivered once after its delay.
      let delivered = 0;
      const sent = meter.charges.filter((c) => c.service === 'SQS' && c.operation === 'SendMessage').length;
      const deadline = Date.now() + 60_000;
      while (delivered < sent && Date.now() < deadline) {
        const messages = await meter.unmetered(
          async () =>
            (
              await admin.send(
                new ReceiveMessageCommand({
                  QueueUrl: queueUrl,
                  MaxNumberOfMessages: 10,
                  WaitTimeSeconds: 2,
                  MessageSystemAttributeNames: ['All'],
                }),
              )
            ).Messages ?? [],
        );
        if (messages.length === 0) continue;
        for (const record of sqsEventFrom(messages, queueArn).Records) await processRecord(record);
        await meter.unmetered(() =>
          admin.send(
            new DeleteMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
            }),
          ),
        );
        delivered += messages.length;
      }
      if (delivered < sent) throw new Error(`${shape.name}: ${delivered} of ${sent} messages came back within 60 s`);
      meter.model('SQS', 'ReceiveMessage', delivered / 10);
      meter.model('SQS', 'DeleteMessageBatch', delivered / 10);
      meter.model('Lambda', 'Invoke', delivered / 10);
      const cost = perJobCost(meter.charges, enqueued);
      const dynamoCalls = meter.charges.filter((c) => c.service === 'DynamoDB').length / enqueued;
      rows.push([
        shape.name,
        num(sent / enqueued),
        num(cost.sqsRequests),
        num(dynamoCalls),
        num(cost.dynamoWriteUnits),
        num(cost.dynamoIndexWriteUnits),
        num(cost.dynamoReadUnits),
        `$${num(cost.dollarsPerMillion)}`,
      ]);
      calls.push(
        `- ${shape.name}: ${callsPerJob(meter.charges, enqueued)
          .map(([name, n]) => `${name} ${num(n)}`)
          .join(', ')}`,
      );
      console.error(`bench: ${shape.name} done`);
    }
  } finally {
    await admin.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => undefined);
    await admin.send(new DeleteQueueCommand({ QueueUrl: dlqUrl })).catch(() => undefined);
  }

  const body = `### Flow control: debounce and throttle, cost per enqueued job

${keys} keys per shape through the real client and the real worker record processor (debounce check included)
against the emulator's tables; per **enqueued** job (a burst of 5 is 5 enqueued jobs, of which 1 runs). Requests
only, us-east-1 list prices; the event source mapping's ReceiveMessage, DeleteMessageBatch and Lambda invocation are
modelled at one per batch of 10 deliveries.

${markdownTable(
  ['shape', 'messages/job', 'SQS req/job', 'DynamoDB calls/job', 'WCU table', 'WCU index', 'RCU', '$/M enqueued jobs'],
  rows,
)}

Calls per enqueued job by operation (\`*\` = modelled):

${calls.join('\n')}
`;
  writeSection('flow-keyed', body, `npx tsx bench/flow-keyed.ts --keys ${keys}`);
  console.log(body);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
