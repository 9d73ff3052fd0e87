/**
 * The local metrics bridge (started by `local up`) on the deployed stack: what the worker's EMF lines count
 * arrives as CloudWatch metrics once, with their dimensions, and every queue of the stack has its SQS series.
 */
import { CloudFormationClient, paginateListStackResources } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, GetMetricStatisticsCommand, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { describe, expect, inject, it } from 'vitest';
import { BRIDGED_METRICS, MetricSource } from '../../cli/local/metrics-bridge/mapping.js';
import { localConnection } from '../../shared/index.js';
import { connectTestClient, testEndpoint } from './helpers.js';

const cloudWatch = () => new CloudWatchClient(localConnection(testEndpoint()));

async function sumOf(metric: string, dimensions: Record<string, string>, fromMs: number): Promise<number> {
  const output = await cloudWatch().send(
    new GetMetricStatisticsCommand({
      Namespace: 'Jobstack',
      MetricName: metric,
      Dimensions: Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })),
      StartTime: new Date(Math.floor(fromMs / 1000) * 1000),
      EndTime: new Date((Math.ceil(Date.now() / 1000) + 60) * 1000),
      Period: 60,
      Statistics: ['Sum'],
    }),
  );
  return (output.Datapoints ?? []).reduce((total, point) => total + (point.Sum ?? 0), 0);
}

describe('the local metrics bridge', () => {
  it("counts each job of a burst once, per queue and per job type, from the worker's EMF lines", async () => {
    const jobs = await connectTestClient();
    const from = Date.now() - 1_000;
    const { jobIds } = await jobs.enqueueMany(
      Array.from({ length: 6 }, (_, i) => ({ type: 'demo.large-numbers' as const, payload: { key: `bridge-${from}-${i}` } })),
    );
    const records = await Promise.all(jobIds.map((id) => jobs.wait(id ?? '', { timeout: '60s' })));
    expect(records.map((record) => record.state)).toEqual(Array(6).fill('succeeded'));
    const perType = { service: 'jobstack-worker', Queue: 'default', JobType: 'demo.large-numbers' };
    // The bridge reads the logs every 5 s: wait for the count, then for two more reads that must not add to it.
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && (await sumOf('JobsSucceeded', perType, from)) < 6) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    await new Promise((resolve) => setTimeout(resolve, 11_000));
    expect(await sumOf('JobsSucceeded', perType, from)).toBe(6);
    expect(await sumOf('JobsStarted', perType, from)).toBe(6);
    expect(await sumOf('JobsSucceeded', { service: 'jobstack-worker', Queue: 'default' }, from)).toBeGreaterThanOrEqual(6);
  });

  it('publishes the SQS figures of every queue of the stack', async () => {
    const cloudFormation = new CloudFormationClient(localConnection(testEndpoint()));
    const queueNames: string[] = [];
    for await (const page of paginateListStackResources({ client: cloudFormation }, { StackName: inject('stackName') })) {
      for (const r of page.StackResourceSummaries ?? []) {
        if (r.ResourceType === 'AWS::SQS::Queue' && r.PhysicalResourceId) {
          queueNames.push(r.PhysicalResourceId.slice(r.PhysicalResourceId.lastIndexOf('/') + 1));
        }
      }
    }
    expect(queueNames.length).toBeGreaterThan(4);
    for (const row of BRIDGED_METRICS.filter((entry) => entry.source === MetricSource.queueAttribute)) {
      const output = await cloudWatch().send(new ListMetricsCommand({ Namespace: row.namespace, MetricName: row.metric }));
      const published = new Set(
        (output.Metrics ?? []).flatMap((m) => (m.Dimensions ?? []).filter((d) => d.Name === 'QueueName').map((d) => d.Value)),
      );
      expect(
        queueNames.filter((name) => !published.has(name)),
        row.metric,
      ).toEqual([]);
    }
  });
});
