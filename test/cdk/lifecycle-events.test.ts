import type { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { EventPublisherEnv } from '../../functions/event-publisher/environment.js';
import type { JobSystem } from '../../infra/job-system.js';
import { lifecycleEventFilters } from '../../infra/lifecycle-events.js';
import { jobSystemStack } from './fixtures/stacks.js';

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

/** Every statement of the policies attached to the role whose logical id starts with `rolePrefix`. */
function statementsOfRole(template: Template, rolePrefix: RegExp): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((policy) =>
      (policy.Properties.Roles as { Ref: string }[]).some((role) => typeof role.Ref === 'string' && rolePrefix.test(role.Ref)),
    )
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

const actionsOf = (statement: Statement): string[] => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]);

describe('lifecycle events', () => {
  describe('off (the default)', () => {
    it('creates no publisher, no stream mapping and no failure alarm', () => {
      // GIVEN a job system without lifecycleEvents
      const { stack, jobs } = jobSystemStack();
      const template = Template.fromStack(stack);
      // THEN
      expect(jobs.lifecycleEvents).toBeUndefined();
      // The only stream mapping is the flow coordinator's, which every job system has.
      template.resourcePropertiesCountIs('AWS::Lambda::EventSourceMapping', { StartingPosition: Match.anyValue() }, 1);
      expect(Object.keys(template.findResources('AWS::Lambda::Function')).filter((id) => /LifecycleEvents/.test(id))).toEqual([]);
      template.resourcePropertiesCountIs(
        'AWS::CloudWatch::Alarm',
        { AlarmDescription: Match.stringLikeRegexp('lifecycle-event') },
        0,
      );
    });
  });

  describe('on, terminal events, default bus', () => {
    let stack: Stack;
    let jobs: JobSystem;
    let template: Template;

    beforeAll(() => {
      // GIVEN lifecycleEvents: true
      ({ stack, jobs } = jobSystemStack({ lifecycleEvents: true }));
      template = Template.fromStack(stack);
    });

    it('passes the cdk-nag AwsSolutions checks', () => {
      const report = new AwsSolutionsChecks(stack).validateScope(stack);
      expect(report.violations.map((violation) => violation.ruleName)).toEqual([]);
    });

    it('reads the job table stream with partial batch failures, bisection, a retry limit and an SQS on-failure destination', () => {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^JobsJobsTable'), 'StreamArn'] },
        FunctionName: { Ref: Match.stringLikeRegexp('^JobsLifecycleEventsPublisher') },
        StartingPosition: 'LATEST',
        BatchSize: 100,
        MaximumBatchingWindowInSeconds: 1,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 5,
        MaximumRecordAgeInSeconds: 6 * 3600,
        DestinationConfig: {
          OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^JobsLifecycleEventsFailureQueue'), 'Arn'] } },
        },
      });
    });

    it('filters the stream to changes into a terminal state, within the default quota of 5 filters per mapping', () => {
      // https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html (quota: 5 filters, adjustable to 10)
      const mapping = Object.values(
        template.findResources('AWS::Lambda::EventSourceMapping', { Properties: { StartingPosition: 'LATEST' } }),
      )[0];
      const filters = mapping?.Properties.FilterCriteria.Filters as { Pattern: string }[];
      expect(filters.map((filter) => JSON.parse(filter.Pattern))).toEqual([
        {
          eventName: ['MODIFY'],
          dynamodb: {
            NewImage: { state: { S: ['succeeded', 'dead', 'cancelled'] } },
            OldImage: { state: { S: [{ 'anything-but': ['succeeded', 'dead', 'cancelled'] }] } },
          },
        },
        { eventName: ['INSERT'], dynamodb: { NewImage: { state: { S: ['succeeded', 'dead', 'cancelled'] } } } },
      ]);
    });

    it('tells the publisher the bus, the events and the stack', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            [EventPublisherEnv.events]: 'succeeded,dead,cancelled',
            [EventPublisherEnv.stackName]: 'TestStack',
            [EventPublisherEnv.eventBus]: {
              'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:us-east-1:111111111111:event-bus/default']],
            },
          }),
        },
      });
    });

    it('lets the publisher put events to the bus and nothing else beyond reading the stream and its failure queue', () => {
      // The event source mapping uses the function's role to read the stream and to send to the on-failure
      // destination (https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html).
      const statements = statementsOfRole(template, /^JobsLifecycleEventsPublisherRole/);
      const actions = statements.flatMap(actionsOf).sort();
      expect(actions).toEqual(
        [
          'dynamodb:DescribeStream',
          'dynamodb:GetRecords',
          'dynamodb:GetShardIterator',
          'dynamodb:ListStreams',
          'events:PutEvents',
          'logs:CreateLogStream',
          'logs:PutLogEvents',
          'sqs:GetQueueAttributes',
          'sqs:GetQueueUrl',
          'sqs:SendMessage',
          'xray:PutTelemetryRecords',
          'xray:PutTraceSegments',
        ].sort(),
      );
      const putEvents = statements.filter((statement) => actionsOf(statement).includes('events:PutEvents'));
      expect(putEvents).toEqual([
        expect.objectContaining({
          Effect: 'Allow',
          Action: 'events:PutEvents',
          Resource: {
            'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:us-east-1:111111111111:event-bus/default']],
          },
        }),
      ]);
      // No table access beyond its stream: the publisher never reads or writes job records.
      expect(
        actions.filter((action) => /^dynamodb:(Get|Put|Update|Delete|Query|Scan|Batch)Item|Query|Scan/.test(action)),
      ).toEqual([]);
    });

    it('alarms when the on-failure queue has messages', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [
          {
            Name: 'QueueName',
            Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^JobsLifecycleEventsFailureQueue'), 'QueueName'] },
          },
        ],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmDescription: Match.stringLikeRegexp('lifecycle-event failure queue'),
      });
      expect(jobs.lifecycleEvents?.failureQueue).toBeDefined();
    });
  });

  describe('on, with started and retrying, on a created bus', () => {
    it('publishes all five events to the created bus, one filter per non-terminal state', () => {
      const { stack } = jobSystemStack({ eventBus: 'create', lifecycleEvents: { include: ['retrying', 'started'] } });
      const template = Template.fromStack(stack);
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            // Fixed order whatever the order given.
            [EventPublisherEnv.events]: 'succeeded,dead,cancelled,started,retrying',
            [EventPublisherEnv.eventBus]: { 'Fn::GetAtt': [Match.stringLikeRegexp('^JobsEventBus'), 'Arn'] },
          }),
        },
      });
      const statements = statementsOfRole(template, /^JobsLifecycleEventsPublisherRole/);
      expect(statements.filter((statement) => actionsOf(statement).includes('events:PutEvents'))).toEqual([
        expect.objectContaining({ Resource: { 'Fn::GetAtt': [expect.stringMatching(/^JobsEventBus/), 'Arn'] } }),
      ]);
      const filters = lifecycleEventFilters(['succeeded', 'dead', 'cancelled', 'started', 'retrying']);
      expect(filters).toHaveLength(4);
      expect(filters.map((filter) => JSON.parse(filter.pattern as string))).toContainEqual({
        eventName: ['MODIFY'],
        dynamodb: { NewImage: { state: { S: ['running'] } }, OldImage: { state: { S: [{ 'anything-but': ['running'] }] } } },
      });
    });
  });

  describe('validation', () => {
    it.each([
      [{ include: ['finished'] }, /lifecycleEvents.include may hold only 'started' and 'retrying' \(given \["finished"\]/],
      [{ include: ['started', 'started'] }, /lifecycleEvents.include names "started" twice/],
      [{ include: 'started' }, /lifecycleEvents.include must be an array .*\(given "started"\)/],
      [{ events: ['started'] }, /lifecycleEvents has unknown option events/],
      ['yes', /lifecycleEvents must be true, false or .*\(given "yes"\)/],
    ])('fails if lifecycleEvents is %j', (given, message) => {
      expect(() => jobSystemStack({ lifecycleEvents: given as never })).toThrow(message);
    });
  });
});
