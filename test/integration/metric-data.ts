import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { inject } from 'vitest';
import { createCloudWatchReader } from '../../shared/dashboard-metrics/index.js';
import { configFromOutputs, createAwsClients, localConnection } from '../../shared/index.js';
import { testEndpoint } from './helpers.js';

/** One datum of PutMetricData. */
export interface Datum {
  readonly MetricName: string;
  readonly Dimensions: Readonly<Record<string, string>>;
  readonly Value: number;
  readonly Timestamp: Date;
}

/** PutMetricData on the test emulator with the SDK's CloudWatch client, as a test's own data (jobstack's reader is read-only). */
export async function putMetricData(namespace: string, data: readonly Datum[]): Promise<void> {
  await createCloudWatchReader(localConnection(testEndpoint())).send(
    new PutMetricDataCommand({
      Namespace: namespace,
      MetricData: data.map((datum) => ({
        MetricName: datum.MetricName,
        Dimensions: Object.entries(datum.Dimensions).map(([Name, Value]) => ({ Name, Value })),
        Value: datum.Value,
        Unit: 'Count',
        Timestamp: datum.Timestamp,
      })),
    }),
  );
}

/** The SQS name of the test stack's `default` queue (the `QueueName` dimension of its AWS/SQS metrics). */
export async function defaultQueueName(): Promise<string> {
  const { cloudFormation } = createAwsClients(localConnection(testEndpoint()));
  const stackName = inject('stackName');
  const output = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
  const outputs = Object.fromEntries((output.Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
  const url = configFromOutputs(stackName, outputs).queues.default?.url;
  if (!url) throw new Error(`stack '${stackName}' has no default queue`);
  return url.split('/').at(-1) as string;
}

/** A minute boundary `minutes` before now: a period the test owns when it is before the run began. */
export function minuteAgo(minutes: number): Date {
  return new Date(Math.floor(Date.now() / 60_000) * 60_000 - minutes * 60_000);
}
