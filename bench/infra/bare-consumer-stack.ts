import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { JobstackFunction } from '../../infra/jobstack-function.js';

/** Name of the baseline stack on the emulator. */
export const BARE_CONSUMER_STACK = 'jobstack-bench-bare';

/** Stack outputs the throughput benchmark reads. */
export const BareConsumerOutput = { queueUrl: 'QueueUrl', tableName: 'TableName' } as const;

/**
 * The throughput baseline (bench/throughput.ts): the same kind of queue and
 * event source as a jobstack queue (SQS-managed encryption, batch size 10,
 * maximum concurrency 10, partial batch responses), and a function built like
 * every jobstack function (JobstackFunction: same runtime, memory, bundling)
 * whose handler only acknowledges its messages.
 */
export class BareConsumerStack extends Stack {
  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, props);
    const table = new dynamodb.Table(this, 'Latencies', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const timeout = Duration.seconds(60);
    const queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(timeout.toSeconds() * 6),
    });
    const consumer = new JobstackFunction(this, 'Consumer', {
      entry: fileURLToPath(new URL('./bare-consumer-handler.ts', import.meta.url)),
      description: 'jobstack benchmark: bare SQS consumer',
      timeout,
      environment: { BENCH_TABLE: table.tableName },
      serviceName: 'jobstack-bench-bare',
    });
    consumer.function.addEventSource(
      new SqsEventSource(queue, { batchSize: 10, maxConcurrency: 10, reportBatchItemFailures: true }),
    );
    table.grantWriteData(consumer.function);
    new CfnOutput(this, BareConsumerOutput.queueUrl, { value: queue.queueUrl });
    new CfnOutput(this, BareConsumerOutput.tableName, { value: table.tableName });
  }
}
