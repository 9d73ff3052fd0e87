/**
 * Every alarm family of the stack fired end to end on the emulator: the condition is caused for real, the local
 * metrics bridge (started by `local up`) turns it into CloudWatch metrics, the alarm goes to ALARM, its
 * notification reaches an SQS queue subscribed to the alarm topic, the condition is cleared, the alarm goes back to
 * OK and says so.
 *
 * Test-only changes, on the emulator only, undone in afterAll: each alarm under test is put again (PutMetricAlarm)
 * with a 10-second period (and the backlog alarm with a 3-second age) so it fires and clears within seconds; the
 * stack's own thresholds are untouched.
 *
 * Isolation: jobstack's emulator launcher evaluates an alarm over the series with its own dimensions only (MiniStack
 * alone matches namespace and metric name), and each test also checks that the notification names the alarm and
 * the dimensions it watches, and that the alarms of the same metric that were OK before the cause stayed OK.
 */
import { randomUUID } from 'node:crypto';
import { CloudFormationClient, paginateListStackResources } from '@aws-sdk/client-cloudformation';
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  PutMetricAlarmCommand,
  type PutMetricAlarmCommandInput,
} from '@aws-sdk/client-cloudwatch';
import {
  DeleteFunctionConcurrencyCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  LambdaClient,
  PutFunctionConcurrencyCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { localConnection } from '../../shared/index.js';
import { connectTestClient, testEndpoint } from './helpers.js';

interface Alarm {
  AlarmName: string;
  AlarmDescription?: string;
  ActionsEnabled?: boolean;
  OKActions?: string[];
  AlarmActions?: string[];
  InsufficientDataActions?: string[];
  MetricName: string;
  Namespace: string;
  Statistic?: string;
  Dimensions: { Name: string; Value: string }[];
  Period: number;
  EvaluationPeriods: number;
  Threshold: number;
  ComparisonOperator: string;
  TreatMissingData?: string;
  StateValue: string;
}

interface Notification {
  AlarmName: string;
  NewStateValue: string;
  OldStateValue: string;
  Trigger: { Dimensions: { name?: string; value?: string; Name?: string; Value?: string }[] };
}

const PERIOD_FOR_TEST = 10;
const endpoint = () => testEndpoint();
let sqs: SQSClient;
let lambda: LambdaClient;
let alarms: Alarm[] = [];
const originals = new Map<string, Alarm>();
let subscriberUrl = '';
const received: Notification[] = [];
const resources: { type: string; logicalId: string; physicalId: string }[] = [];

async function describeAlarms(): Promise<Alarm[]> {
  const output = await new CloudWatchClient(localConnection(endpoint())).send(
    new DescribeAlarmsCommand({ AlarmNamePrefix: `${inject('stackName')}-`, MaxRecords: 100 }),
  );
  // The stack's alarms are all metric alarms with these members set (the CDK template sets them).
  return (output.MetricAlarms ?? []) as Alarm[];
}

/** The stack's alarm whose construct id starts with `id` (e.g. `DeadJobsAlarmDefault`). */
function alarmNamed(id: string): Alarm {
  const found = alarms.filter((alarm) => alarm.AlarmName.includes(`-JobSystemMonitoring${id}`));
  expect(found, `one alarm ${id}`).toHaveLength(1);
  return found[0] as Alarm;
}

async function putAlarm(alarm: Alarm): Promise<void> {
  const { StateValue: _, ...definition } = alarm;
  await new CloudWatchClient(localConnection(endpoint())).send(
    new PutMetricAlarmCommand(definition as PutMetricAlarmCommandInput),
  );
}

/** Test-only: the alarm with a short period (and any other change), on the emulator; restored in afterAll. */
async function shortenForTest(alarm: Alarm, changes: Partial<Alarm> = {}): Promise<void> {
  if (!originals.has(alarm.AlarmName)) originals.set(alarm.AlarmName, alarm);
  await putAlarm({ ...alarm, Period: PERIOD_FOR_TEST, ...changes });
}

async function stateOf(name: string): Promise<string | undefined> {
  return (await describeAlarms()).find((alarm) => alarm.AlarmName === name)?.StateValue;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 40_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function waitForState(name: string, state: string): Promise<void> {
  await waitFor(`${name} to be ${state}`, async () => ((await stateOf(name)) === state ? true : undefined));
}

/** Waits for the notification of `name` entering `state` at the test's subscriber queue. */
async function notificationOf(name: string, state: string): Promise<Notification> {
  return waitFor(`the ${state} notification of ${name}`, async () => {
    const found = received.find((note) => note.AlarmName === name && note.NewStateValue === state);
    if (found) return found;
    const output = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: subscriberUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    for (const message of output.Messages ?? []) {
      const envelope = JSON.parse(message.Body ?? '{}') as { Message?: string };
      received.push(JSON.parse(envelope.Message ?? '{}') as Notification);
    }
    return received.find((note) => note.AlarmName === name && note.NewStateValue === state);
  });
}

/** Drops the notifications of `name` received so far (after draining the subscriber queue), so a wait finds only newer ones. */
async function forgetNotificationsOf(name: string): Promise<void> {
  for (;;) {
    const output = await sqs.send(new ReceiveMessageCommand({ QueueUrl: subscriberUrl, MaxNumberOfMessages: 10 }));
    if (!output.Messages?.length) break;
    for (const message of output.Messages) {
      const envelope = JSON.parse(message.Body ?? '{}') as { Message?: string };
      received.push(JSON.parse(envelope.Message ?? '{}') as Notification);
    }
  }
  for (let index = received.length - 1; index >= 0; index--) {
    if (received[index]?.AlarmName === name) received.splice(index, 1);
  }
}

function dimensionsOf(note: Notification): Record<string, string> {
  return Object.fromEntries(note.Trigger.Dimensions.map((d) => [d.Name ?? d.name, d.Value ?? d.value]));
}

/** The alarms of the same metric as `alarm` that are OK now: they must still be OK after the cause. */
async function okSiblingsOf(alarm: Alarm): Promise<string[]> {
  return (await describeAlarms())
    .filter((a) => a.AlarmName !== alarm.AlarmName && a.Namespace === alarm.Namespace && a.MetricName === alarm.MetricName)
    .filter((a) => a.StateValue === 'OK')
    .map((a) => a.AlarmName);
}

async function expectStillOk(names: readonly string[]): Promise<void> {
  const now = await describeAlarms();
  for (const name of names) expect(now.find((a) => a.AlarmName === name)?.StateValue, name).toBe('OK');
}

/**
 * One alarm's whole cycle: from OK, cause → ALARM and its notification → clear → OK and its notification.
 * @returns the ALARM notification
 */
async function fireAndClear(alarm: Alarm, cause: () => Promise<void>, clear: () => Promise<void>): Promise<Notification> {
  await waitForState(alarm.AlarmName, 'OK');
  await forgetNotificationsOf(alarm.AlarmName);
  const siblings = await okSiblingsOf(alarm);
  let fired: Notification;
  try {
    await cause();
    await waitForState(alarm.AlarmName, 'ALARM');
    fired = await notificationOf(alarm.AlarmName, 'ALARM');
    expect(fired.OldStateValue).toBe('OK');
    expect(dimensionsOf(fired)).toEqual(Object.fromEntries(alarm.Dimensions.map((d) => [d.Name, d.Value])));
    await expectStillOk(siblings);
  } finally {
    // Whatever happened, the stack is left as it was for the tests after this one.
    await clear();
  }
  await waitForState(alarm.AlarmName, 'OK');
  expect((await notificationOf(alarm.AlarmName, 'OK')).OldStateValue).toBe('ALARM');
  return fired;
}

async function physicalId(type: string, logicalPrefix: string): Promise<string> {
  const found = resources.find((r) => r.type === type && r.logicalId.startsWith(logicalPrefix));
  expect(found, `${type} ${logicalPrefix}`).toBeDefined();
  return (found as { physicalId: string }).physicalId;
}

/** SNS Subscribe of an SQS queue to a topic, on the emulator. */
async function subscribe(topicArn: string, queueArn: string): Promise<void> {
  const output = await new SNSClient(localConnection(endpoint())).send(
    new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn }),
  );
  expect(output.SubscriptionArn).toMatch(/^arn:aws:sns:/);
}

beforeAll(async () => {
  sqs = new SQSClient(localConnection(endpoint()));
  lambda = new LambdaClient(localConnection(endpoint()));
  const cloudFormation = new CloudFormationClient(localConnection(endpoint()));
  for await (const page of paginateListStackResources({ client: cloudFormation }, { StackName: inject('stackName') })) {
    for (const r of page.StackResourceSummaries ?? []) {
      resources.push({
        type: r.ResourceType ?? '',
        logicalId: r.LogicalResourceId ?? '',
        physicalId: r.PhysicalResourceId ?? '',
      });
    }
  }
  alarms = await describeAlarms();
  const topicArn = alarms[0]?.AlarmActions?.[0];
  expect(topicArn, 'the alarms notify a topic').toMatch(/^arn:aws:sns:/);
  const queue = await sqs.send(new CreateQueueCommand({ QueueName: `alarm-notes-${randomUUID().slice(0, 8)}` }));
  subscriberUrl = queue.QueueUrl ?? '';
  const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: subscriberUrl, AttributeNames: ['QueueArn'] }));
  await subscribe(topicArn as string, attributes.Attributes?.QueueArn ?? '');
});

afterAll(async () => {
  for (const alarm of originals.values()) await putAlarm(alarm);
  if (subscriberUrl) await sqs.send(new DeleteQueueCommand({ QueueUrl: subscriberUrl }));
});

describe('every alarm family fires, notifies and recovers on the emulator', () => {
  // These five watch different series (other queues, other workers, the state machine, the scheduler's
  // dead-letter queue): they run side by side.
  it.concurrent('a backlog older than the threshold: the oldest-message alarm of the queue', async () => {
    const jobs = await connectTestClient();
    const backlog = alarmNamed('OldestMessageAlarmTenants');
    await shortenForTest(backlog, { Threshold: 3 });
    await fireAndClear(
      backlog,
      async () => {
        await jobs.pause('tenants', { reason: 'alarm test: backlog' });
        await jobs.enqueue('demo.tenant', { tenant: 'alarm-test', ms: 0 });
      },
      async () => {
        await jobs.resume('tenants');
      },
    );
  });

  it.concurrent('a worker crash (its process dies at start): the worker-errors alarm', async () => {
    const jobs = await connectTestClient();
    const errors = alarmNamed('WorkerErrorsAlarmRanked');
    await shortenForTest(errors);
    const worker = errors.Dimensions[0]?.Value as string;
    const { Environment } = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: worker }));
    const variables = Environment?.Variables ?? {};
    await fireAndClear(
      errors,
      async () => {
        // Node cannot load a module it must require first: every invocation of the worker crashes.
        await lambda.send(
          new UpdateFunctionConfigurationCommand({
            FunctionName: worker,
            Environment: { Variables: { ...variables, NODE_OPTIONS: '--require=/nonexistent/jobstack-alarm-test-crash.js' } },
          }),
        );
        await jobs.enqueue('demo.ranked', { ms: 0 });
      },
      async () => {
        await lambda.send(
          new UpdateFunctionConfigurationCommand({ FunctionName: worker, Environment: { Variables: variables } }),
        );
      },
    );
  });

  it.concurrent('a throttled worker (no concurrency left): the worker-throttles alarm', async () => {
    const throttles = alarmNamed('WorkerThrottlesAlarmOrdered');
    await shortenForTest(throttles);
    const worker = throttles.Dimensions[0]?.Value as string;
    await fireAndClear(
      throttles,
      async () => {
        await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: worker, ReservedConcurrentExecutions: 0 }));
        // MiniStack's SQS poller does not invoke a function with no concurrency left (so records no throttle):
        // the invocation AWS would have throttled is made through the Invoke API, an empty SQS batch.
        const refused = await lambda
          .send(new InvokeCommand({ FunctionName: worker, Payload: Buffer.from(JSON.stringify({ Records: [] })) }))
          .then(
            () => undefined,
            (error: Error) => error.name,
          );
        expect(refused).toBe('TooManyRequestsException');
      },
      async () => {
        await lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: worker }));
      },
    );
  });

  it.concurrent('a failed long job: the state machine failed-executions alarm', async () => {
    const jobs = await connectTestClient();
    const failed = alarmNamed('StateMachineFailedAlarm');
    await shortenForTest(failed);
    let jobId = '';
    await fireAndClear(
      failed,
      async () => {
        jobId = (await jobs.enqueue('demo.long', { steps: 1, stepMs: 0, failAtStep: 1, failAttempts: 3 })).jobId;
      },
      async () => {
        // Nothing to undo: the failed execution ages out of the alarm's period.
      },
    );
    expect((await jobs.get(jobId))?.state).toBe('dead');
  });

  // The queues that hold what a feature could not finish: the scheduler's dead letters, stream records whose
  // lifecycle events could not be published, events that could not become jobs, records the flow coordinator
  // gave up on. Fired together: the alarms watch one metric, told apart only by the queue's dimension, so each
  // must name its own queue, and the per-queue dead-letter alarms of the same metric must stay OK (an
  // evaluation blind to dimensions would fire them too).
  it.concurrent('a message in each feature queue: the scheduler dead-letter, lifecycle-event failure, intake dead-letter and flow failure alarms', async () => {
    const fired = ['SchedulerDeadLetterAlarm', 'LifecycleEventFailuresAlarm', 'IntakeDeadLetterAlarm', 'FlowFailuresAlarm'].map(
      alarmNamed,
    );
    const queueUrls = await Promise.all(
      fired.map(async (alarm) => {
        await shortenForTest(alarm);
        const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: alarm.Dimensions[0]?.Value as string }));
        // The event intake and lifecycle-event tests leave messages in their queues on purpose: start from empty.
        await sqs.send(new PurgeQueueCommand({ QueueUrl }));
        return QueueUrl as string;
      }),
    );
    const names = new Set(fired.map((alarm) => alarm.AlarmName));
    const siblings = (await Promise.all(fired.map(okSiblingsOf))).flat().filter((name) => !names.has(name));
    for (const alarm of fired) {
      await waitForState(alarm.AlarmName, 'OK');
      await forgetNotificationsOf(alarm.AlarmName);
    }
    try {
      // MiniStack 1.5.33 never dead-letters an undeliverable schedule: the test puts what Scheduler would.
      for (const QueueUrl of queueUrls) {
        await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify({ alarmTest: true }) }));
      }
      for (const alarm of fired) {
        await waitForState(alarm.AlarmName, 'ALARM');
        const note = await notificationOf(alarm.AlarmName, 'ALARM');
        expect(note.OldStateValue).toBe('OK');
        expect(dimensionsOf(note)).toEqual(Object.fromEntries(alarm.Dimensions.map((d) => [d.Name, d.Value])));
      }
      await expectStillOk([...new Set(siblings)]);
    } finally {
      for (const QueueUrl of queueUrls) await sqs.send(new PurgeQueueCommand({ QueueUrl }));
    }
    for (const alarm of fired) {
      await waitForState(alarm.AlarmName, 'OK');
      expect((await notificationOf(alarm.AlarmName, 'OK')).OldStateValue).toBe('ALARM');
    }
  });

  // After the others: the failed long job also counts a dead job of queue `default`, and the scheduler's
  // dead-letter alarm watches the same metric as the dead-letter alarms (their OK siblings must stay OK).
  it.sequential('a dead job: the dead-jobs alarm (Jobstack JobsDead of the queue) and the dead-letter alarm (its DLQ)', async () => {
    const jobs = await connectTestClient();
    const deadJobs = alarmNamed('DeadJobsAlarmDefault');
    const deadLetters = alarmNamed('DeadLetterAlarmDefault');
    await shortenForTest(deadJobs);
    await shortenForTest(deadLetters);
    const dlqUrl = await physicalId('AWS::SQS::Queue', 'JobSystemDeadLetterQueueDefault');
    // Earlier tests leave dead letters, and the failed long job above a dead job: start from both alarms OK.
    await sqs.send(new PurgeQueueCommand({ QueueUrl: dlqUrl }));
    await waitForState(deadJobs.AlarmName, 'OK');
    await forgetNotificationsOf(deadJobs.AlarmName);
    let jobId = '';
    const deadLetterCycle = fireAndClear(
      deadLetters,
      async () => {
        jobId = (await jobs.enqueue('demo.fatal', { message: 'alarm test' })).jobId;
      },
      async () => {
        await sqs.send(new PurgeQueueCommand({ QueueUrl: dlqUrl }));
      },
    );
    // The same dead job fires the dead-jobs alarm: watch its cycle beside the dead letter's.
    await waitForState(deadJobs.AlarmName, 'ALARM');
    const fired = await notificationOf(deadJobs.AlarmName, 'ALARM');
    expect(dimensionsOf(fired)).toEqual({ Queue: 'default', service: 'jobstack-worker' });
    await deadLetterCycle;
    expect((await jobs.get(jobId))?.state).toBe('dead');
    await waitForState(deadJobs.AlarmName, 'OK');
    expect((await notificationOf(deadJobs.AlarmName, 'OK')).OldStateValue).toBe('ALARM');
  });

  it('every alarm of the stack belongs to a family fired above, except the timed-out executions alarm', () => {
    const families = new Set([
      'Jobstack JobsDead',
      'AWS/SQS ApproximateNumberOfMessagesVisible',
      'AWS/SQS ApproximateAgeOfOldestMessage',
      'AWS/Lambda Errors',
      'AWS/Lambda Throttles',
      'AWS/States ExecutionsFailed',
    ]);
    const others = alarms.map((a) => `${a.Namespace} ${a.MetricName}`).filter((metric) => !families.has(metric));
    // MiniStack never times out an execution (and the stack's state machine sets no execution timeout).
    expect(others).toEqual(['AWS/States ExecutionsTimedOut']);
  });
});
