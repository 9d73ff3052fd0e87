import { CloudFormationClient, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, PutMetricDataCommand, type PutMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, FilterLogEventsCommand, ResourceNotFoundException } from '@aws-sdk/client-cloudwatch-logs';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SFNClient } from '@aws-sdk/client-sfn';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MetricsBridge } from '../../cli/local/metrics-bridge/bridge.js';

const QUEUE_URL = 'http://127.0.0.1:4599/000000000000/jobstack-queue';
const cloudFormation = mockClient(CloudFormationClient);
const lambda = mockClient(LambdaClient);
const sqs = mockClient(SQSClient);
const sfn = mockClient(SFNClient);
const cloudWatch = mockClient(CloudWatchClient);
const logs = mockClient(CloudWatchLogsClient);
const mocks = [cloudFormation, lambda, sqs, sfn, cloudWatch, logs];

/** A worker EMF line (as Powertools Metrics writes it) counting `started` jobs at `at`. */
function emfLine(at: number, started: number): string {
  return JSON.stringify({
    _aws: {
      Timestamp: at,
      CloudWatchMetrics: [
        { Namespace: 'Jobstack', Dimensions: [['service', 'Queue']], Metrics: [{ Name: 'JobsStarted', Unit: 'Count' }] },
      ],
    },
    service: 'jobstack-worker',
    Queue: 'default',
    JobsStarted: started,
  });
}

function puts(): PutMetricDataCommandInput[] {
  return cloudWatch.commandCalls(PutMetricDataCommand).map((call) => call.args[0].input);
}

beforeEach(() => {
  for (const mock of mocks) mock.reset();
  cloudFormation.on(ListStackResourcesCommand).resolves({
    StackResourceSummaries: [
      {
        ResourceType: 'AWS::SQS::Queue',
        PhysicalResourceId: QUEUE_URL,
        LogicalResourceId: 'Q',
        ResourceStatus: 'CREATE_COMPLETE',
        LastUpdatedTimestamp: new Date(),
      },
      {
        ResourceType: 'AWS::Lambda::Function',
        PhysicalResourceId: 'worker-fn',
        LogicalResourceId: 'F',
        ResourceStatus: 'CREATE_COMPLETE',
        LastUpdatedTimestamp: new Date(),
      },
    ],
  });
  lambda.on(GetFunctionConfigurationCommand).resolves({});
  sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '3' } });
  cloudWatch.on(PutMetricDataCommand).resolves({});
});

afterEach(() => {
  for (const mock of mocks) mock.reset();
});

describe('MetricsBridge.tick (mocked SDK clients)', () => {
  it('puts the queue depth and, once the log group exists, each EMF count once with the SDK clients', async () => {
    const since = Date.now() - 1_000;
    const bridge = new MetricsBridge({ endpoint: 'http://127.0.0.1:4599', stackName: 'jobstack', sinceMs: since });
    const event = { logStreamName: 's-1', timestamp: since + 100, message: emfLine(since + 100, 2), eventId: 'e1' };

    // The function's log group does not exist before its first invocation: not a failure.
    logs.on(FilterLogEventsCommand).rejectsOnce(new ResourceNotFoundException({ message: 'no group', $metadata: {} }));
    const first = await bridge.tick();
    expect(first.failures).toEqual([]);
    expect(logs.commandCalls(FilterLogEventsCommand)[0]?.args[0].input).toMatchObject({
      logGroupName: '/aws/lambda/worker-fn',
      startTime: since,
    });
    expect(puts()).toEqual([
      {
        Namespace: 'AWS/SQS',
        MetricData: [
          expect.objectContaining({ MetricName: 'ApproximateNumberOfMessagesVisible', Value: 3, Timestamp: expect.any(Date) }),
        ],
      },
    ]);

    // The event is read, then read again within the look-back window: counted once.
    logs.on(FilterLogEventsCommand).resolves({ events: [event] });
    await bridge.tick();
    await bridge.tick();
    const started = puts().filter((put) => put.Namespace === 'Jobstack');
    expect(started).toHaveLength(1);
    expect(started[0]?.MetricData).toEqual([
      {
        MetricName: 'JobsStarted',
        Dimensions: [
          { Name: 'service', Value: 'jobstack-worker' },
          { Name: 'Queue', Value: 'default' },
        ],
        Timestamp: new Date(since + 100),
        Unit: 'Count',
        Values: [2],
      },
    ]);
  });

  it('reports a log read that fails otherwise and still puts the queue figures', async () => {
    const bridge = new MetricsBridge({ endpoint: 'http://127.0.0.1:4599', stackName: 'jobstack' });
    logs.on(FilterLogEventsCommand).rejects(new Error('connection reset'));
    const report = await bridge.tick();
    expect(report.failures).toEqual(['metrics bridge: log group /aws/lambda/worker-fn: connection reset']);
    expect(puts().map((put) => put.Namespace)).toEqual(['AWS/SQS']);
  });
});
