import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { beforeAll, describe, expect, it } from 'vitest';
import { JobstackStack } from '../../infra/jobstack-stack.js';
import { JobMonitoring } from '../../infra/monitoring.js';
import { JobMetric, METRICS_NAMESPACE } from '../../shared/metrics.js';
import { TWO_QUEUES } from './fixtures/contracts.js';
import { jobSystemStack } from './fixtures/stacks.js';

type Resource = { Properties: Record<string, unknown> };

/** The alarm whose description starts with `prefix` (descriptions name the queue and what is watched). */
function alarmNamed(template: Template, prefix: string): Record<string, unknown> {
  const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Resource[];
  const found = alarms.filter((alarm) => String(alarm.Properties.AlarmDescription).startsWith(prefix));
  expect(found, `alarms described '${prefix}…'`).toHaveLength(1);
  return (found[0] as Resource).Properties;
}

/** The dashboard body with its CloudFormation tokens flattened to text, for assertions on widgets. */
function dashboardBody(template: Template): string {
  const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard')) as Resource[];
  return JSON.stringify(dashboard?.Properties.DashboardBody);
}

const SENDS_TO_TOPIC = [{ Ref: Match.stringLikeRegexp('MonitoringAlarmTopic') }];

describe('JobSystem monitoring', () => {
  let template: Template;

  beforeAll(() => {
    // GIVEN a job system with two queues and default monitoring
    const { stack } = jobSystemStack({ registry: TWO_QUEUES });
    template = Template.fromStack(stack);
  });

  it('creates five alarms per queue, one each for the scheduler and event intake dead-letter queues and the flow failures queue, and one encrypted, SSL-only alarm topic', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 13);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('^The flow coordinator failures queue has messages'),
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
      AlarmActions: SENDS_TO_TOPIC,
    });
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('lets CloudWatch use the topic key (it cannot publish to a topic under the AWS managed key)', () => {
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
  });

  it('alarms when a dead-letter queue has a message', () => {
    const alarm = alarmNamed(template, "Queue 'default': its dead-letter queue has messages");
    expect(alarm).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    expect(alarm.Dimensions).toEqual([
      { Name: 'QueueName', Value: { 'Fn::GetAtt': [expect.stringMatching(/^JobsDeadLetterQueueDefault/), 'QueueName'] } },
    ]);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp("^Queue 'default': its dead-letter"),
      AlarmActions: SENDS_TO_TOPIC,
      OKActions: SENDS_TO_TOPIC,
    });
  });

  it('alarms when the oldest message is 15 minutes old (backlog)', () => {
    const alarm = alarmNamed(template, "Queue 'media-reports': the oldest message");
    expect(alarm).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Statistic: 'Maximum',
      Threshold: 900,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(alarm.Dimensions).toEqual([
      { Name: 'QueueName', Value: { 'Fn::GetAtt': [expect.stringMatching(/^JobsQueueMediaReports/), 'QueueName'] } },
    ]);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      AlarmActions: SENDS_TO_TOPIC,
    });
  });

  it('alarms on worker errors and throttles over 5 minutes', () => {
    for (const metric of ['Errors', 'Throttles']) {
      const alarms = (Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Resource[]).filter(
        (alarm) => alarm.Properties.MetricName === metric,
      );
      expect(alarms).toHaveLength(2);
      for (const { Properties } of alarms) {
        expect(Properties).toMatchObject({
          Namespace: 'AWS/Lambda',
          Statistic: 'Sum',
          Period: 300,
          Threshold: 1,
          AlarmActions: [expect.objectContaining({ Ref: expect.stringMatching(/MonitoringAlarmTopic/) })],
        });
        expect(Properties.Dimensions).toEqual([
          { Name: 'FunctionName', Value: { Ref: expect.stringMatching(/^JobsWorker(Default|MediaReports)/) } },
        ]);
      }
    }
  });

  it('alarms on dead jobs from the worker’s own metric, per queue', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: METRICS_NAMESPACE,
      MetricName: JobMetric.dead,
      Dimensions: [
        { Name: 'Queue', Value: 'media-reports' },
        { Name: 'service', Value: 'jobstack-worker' },
      ],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: SENDS_TO_TOPIC,
    });
  });

  it('alarms when the scheduler dead-letter queue has a message', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        { Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^JobsSchedulingDeadLetterQueue'), 'QueueName'] } },
      ],
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 1,
      AlarmActions: SENDS_TO_TOPIC,
    });
  });

  it('creates no state machine alarms when the job system has no long jobs', () => {
    const namespaces = (Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Resource[]).map(
      (alarm) => alarm.Properties.Namespace,
    );
    expect(namespaces).not.toContain('AWS/States');
  });

  it('builds one dashboard with alarm status, job, queue and worker widgets', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const body = dashboardBody(template);
    expect(body).toContain('\\"type\\":\\"alarm\\"');
    for (const title of [
      'Jobs by outcome (per queue)',
      'Jobs by outcome and type',
      'Job duration p50 / p95 by type (ms)',
      "Queue 'default': depth",
      "Queue 'media-reports': age of oldest message (s)",
      "Queue 'media-reports': dead-letter queue depth",
      'Workers: concurrent executions',
      'Workers: errors',
      'Workers: throttles',
    ]) {
      expect(body).toContain(title);
    }
    for (const metric of [
      'ApproximateNumberOfMessagesVisible',
      'ApproximateNumberOfMessagesNotVisible',
      'ApproximateNumberOfMessagesDelayed',
    ]) {
      expect(body).toContain(metric);
    }
    expect(body).toContain(
      `SEARCH('{Jobstack,service,Queue,JobType} MetricName=\\\\\\"${JobMetric.duration}\\\\\\"', 'p95', 300)`,
    );
    expect(body).not.toContain('Long jobs: state machine executions');
  });
});

describe('JobMonitoring options', () => {
  it('tunes thresholds, switches alarms off and subscribes an email', () => {
    // GIVEN monitoring with a 1-hour backlog threshold, no throttle alarm and an email
    const { stack } = jobSystemStack({
      monitoring: {
        alarmEmail: 'oncall@example.com',
        dashboardName: 'jobs-prod',
        alarms: {
          oldestMessageAge: { threshold: Duration.hours(1) },
          workerThrottles: { enabled: false },
          deadJobs: { threshold: 5, period: Duration.minutes(15) },
        },
      },
    });
    const template = Template.fromStack(stack);

    // THEN the throttle alarm is gone (4 queue alarms + the scheduler and intake dead-letter and flow failure alarms remain)
    template.resourceCountIs('AWS::CloudWatch::Alarm', 7);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 3600 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: JobMetric.dead, Threshold: 5, Period: 900 });
    expect(Object.keys(template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'Throttles' } }))).toEqual(
      [],
    );
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'jobs-prod' });
  });

  it('adds failed and timed-out alarms and a graph for a state machine, and a scheduler DLQ alarm', () => {
    // GIVEN a state machine and a scheduler dead-letter queue next to a job system
    const { stack, jobs } = jobSystemStack();
    const stateMachine = new sfn.StateMachine(stack, 'LongJobs', {
      definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Step')),
    });
    const schedulerDeadLetterQueue = new sqs.Queue(stack, 'SchedulerDlq');

    // WHEN monitoring is given both
    new JobMonitoring(stack, 'Extra', { queues: jobs.queues, stateMachine, schedulerDeadLetterQueue });
    const template = Template.fromStack(stack);

    // THEN
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/States',
        MetricName: metric,
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: Match.stringLikeRegexp('^LongJobs') } }],
        Statistic: 'Sum',
        Threshold: 1,
        AlarmActions: [{ Ref: Match.stringLikeRegexp('^ExtraAlarmTopic') }],
      });
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SchedulerDlq'), 'QueueName'] } }],
      Threshold: 1,
      AlarmDescription: Match.stringLikeRegexp('^The scheduler dead-letter queue has messages'),
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^ExtraAlarmTopic') }],
    });
    const dashboards = Object.entries(template.findResources('AWS::CloudWatch::Dashboard'));
    const extra = dashboards.find(([id]) => id.startsWith('ExtraDashboard'));
    const body = JSON.stringify(extra?.[1].Properties.DashboardBody);
    expect(body).toContain('Long jobs: state machine executions');
    expect(body).toContain('Scheduler dead-letter queue');
  });

  it('outputs the dashboard URL from the stack', () => {
    const { jobs } = jobSystemStack();
    expect(Stack.of(jobs).resolve(jobs.monitoring.dashboardUrl)).toEqual({
      'Fn::Join': [
        '',
        [
          'https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards:name=',
          { Ref: expect.stringMatching(/^JobsMonitoringDashboard/) },
        ],
      ],
    });
  });

  it('fails if a count threshold is below 1', () => {
    expect(() => jobSystemStack({ monitoring: { alarms: { deadJobs: { threshold: 0 } } } })).toThrow(
      /alarms\.deadJobs\.threshold must be a number ≥ 1 \(given 0\)/,
    );
  });

  it('fails if a period is not whole minutes', () => {
    expect(() => jobSystemStack({ monitoring: { alarms: { workerErrors: { period: Duration.seconds(90) } } } })).toThrow(
      /alarms\.workerErrors\.period must be a whole number of minutes \(given 1 minute 30 seconds\)/,
    );
  });

  it('fails if the backlog threshold is under a minute', () => {
    expect(() => jobSystemStack({ monitoring: { alarms: { oldestMessageAge: { threshold: Duration.seconds(30) } } } })).toThrow(
      /alarms\.oldestMessageAge\.threshold must be at least 1 minute \(given 30 seconds\)/,
    );
  });

  it('fails if the alarm email is not an address', () => {
    expect(() => jobSystemStack({ monitoring: { alarmEmail: 'oncall' } })).toThrow(
      /alarmEmail must be an email address \(given 'oncall'\)/,
    );
  });

  it('fails if the dashboard name has characters CloudWatch refuses', () => {
    expect(() => jobSystemStack({ monitoring: { dashboardName: 'jobs prod' } })).toThrow(
      /dashboardName must be 1\.\.255 of A-Z a-z 0-9 _ - \(given 'jobs prod'\)/,
    );
  });
});

describe('web dashboard API (opt-in)', () => {
  it('is not deployed unless enabled', () => {
    const { stack, jobs } = jobSystemStack();
    Template.fromStack(stack).resourceCountIs('AWS::Lambda::Url', 0);
    expect(jobs.webDashboard).toBeUndefined();
  });

  it('deploys the API behind a Function URL that requires IAM auth, configured from the stack', () => {
    // GIVEN
    const { stack, jobs } = jobSystemStack({ registry: TWO_QUEUES, webDashboard: { enabled: true } });
    const template = Template.fromStack(stack);

    // THEN one URL, IAM auth, on the dashboard function
    template.resourceCountIs('AWS::Lambda::Url', 1);
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'AWS_IAM',
      TargetFunctionArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^JobsWebDashboardApiFunction'), 'Arn'] },
    });
    expect(jobs.webDashboard).toBeDefined();
    const [fn] = Object.values(
      template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('dashboard API') } }),
    ) as Resource[];
    if (!fn) throw new Error('no dashboard API function in the template');
    const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables).toMatchObject({
      JOBSTACK_JOBS_TABLE: { Ref: expect.stringMatching(/^JobsJobsTable/) },
      JOBSTACK_STACK_NAME: 'TestStack',
    });
    const queues = JSON.stringify(variables.JOBSTACK_QUEUES);
    expect(queues).toContain('media-reports');
    expect(queues).toContain('deadLetterUrl');
    expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
  });

  it('lets the function read, create (enqueue form) and update job records, send to queues and consume dead letters, and no more', () => {
    const { stack } = jobSystemStack({ webDashboard: { enabled: true } });
    const template = Template.fromStack(stack);
    const policies = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([id]) =>
      id.startsWith('JobsWebDashboardApiRole'),
    );
    expect(policies).toHaveLength(1);
    const actions = JSON.stringify(policies[0]?.[1]);
    for (const action of [
      'dynamodb:Query',
      'dynamodb:UpdateItem',
      'dynamodb:PutItem',
      'sqs:SendMessage',
      'sqs:ReceiveMessage',
      'sqs:DeleteMessage',
    ]) {
      expect(actions).toContain(action);
    }
    for (const action of ['sqs:PurgeQueue', 's3:PutObject', 'scheduler:CreateSchedule']) {
      expect(actions).not.toContain(action);
    }
    // Its pause and resume buttons (grantPause): DeleteItem only on the queues' pause items, DescribeStacks only on its stack.
    const statements = policies[0]?.[1].Properties.PolicyDocument.Statement as {
      Action: string | string[];
      Resource: unknown;
      Condition?: unknown;
    }[];
    // PutItem on the jobs table only: never the idempotency table's ctx.once steps.
    const putting = statements.filter((statement) => [statement.Action].flat().includes('dynamodb:PutItem'));
    expect(JSON.stringify(putting)).not.toContain('IdempotencyTable');
    const deleting = statements.filter((statement) => [statement.Action].flat().includes('dynamodb:DeleteItem'));
    expect(deleting.map((statement) => statement.Condition)).toEqual([
      { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['queue#*'] } },
    ]);
    const describing = statements.filter((statement) =>
      [statement.Action].flat().some((action) => action.startsWith('cloudformation:')),
    );
    expect(describing).toEqual([{ Effect: 'Allow', Action: 'cloudformation:DescribeStacks', Resource: { Ref: 'AWS::StackId' } }]);
  });
});

describe('JobstackStack monitoring outputs', () => {
  const env = { account: '111111111111', region: 'us-east-1' };

  it('outputs the dashboard URL and alarm topic, and the dashboard API URL only with -c webDashboard=true', () => {
    const plain = Template.fromStack(
      new JobstackStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'plain', {
        env,
      }),
    );
    plain.hasOutput('DashboardUrl', { Value: Match.anyValue() });
    plain.hasOutput('AlarmTopicArn', { Value: { Ref: Match.stringLikeRegexp('^JobSystemMonitoringAlarmTopic') } });
    expect(Object.keys(plain.findOutputs('DashboardApiUrl'))).toEqual([]);

    const withApi = Template.fromStack(
      new JobstackStack(new App({ context: { 'aws:cdk:bundling-stacks': [], webDashboard: 'true' } }), 'api', {
        env,
      }),
    );
    withApi.hasOutput('DashboardApiUrl', {
      Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^JobSystemWebDashboardApiFunctionFunctionUrl'), 'FunctionUrl'] },
    });
    withApi.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM' });
  });

  it('fails if the webDashboard context is not a boolean', () => {
    expect(
      () =>
        new JobstackStack(new App({ context: { 'aws:cdk:bundling-stacks': [], webDashboard: 'yes' } }), 'bad', {
          env,
        }),
    ).toThrow(/context webDashboard must be true or false \(given "yes"\)/);
  });
});
