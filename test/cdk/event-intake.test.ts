import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { ClientEnv } from '../../shared/config.js';
import { defineJobContract, defineRegistry } from '../../shared/job-definition.js';
import { ONE_QUEUE } from './fixtures/contracts.js';
import { jobSystemStack, newTestApp, TEST_ENV } from './fixtures/stacks.js';

const orderShipped = defineJobContract({
  name: 'orders.ship',
  schema: z.object({ orderId: z.string() }),
  trigger: {
    source: 'shop.orders',
    detailType: 'OrderPlaced',
    pattern: { detail: { total: [{ numeric: ['>', 0] }] } },
    payload: (event) => ({ orderId: (event.detail as { id: string }).id }),
  },
});
const WITH_TRIGGER = defineRegistry(...Object.values(ONE_QUEUE), orderShipped);

function withTrigger(props: Parameters<typeof jobSystemStack>[0] = {}) {
  const { stack, jobs } = jobSystemStack({ registry: WITH_TRIGGER, ...props });
  return { stack, jobs, template: Template.fromStack(stack) };
}

/** Logical id of a construct's CloudFormation resource. */
function logicalId(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as never);
}

describe('EventIntake', () => {
  it('passes the cdk-nag AwsSolutions checks', () => {
    const { stack } = withTrigger();
    const report = new AwsSolutionsChecks(stack).validateScope(stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });

  it('routes jobstack.enqueue events on the default bus to the intake queue, wrapped with the whole event', () => {
    const { stack, jobs, template } = withTrigger();
    const queueId = logicalId(stack, jobs.eventIntake?.queue as never);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { 'detail-type': ['jobstack.enqueue'] },
      EventBusName: 'default',
      Targets: [
        {
          Arn: { 'Fn::GetAtt': [queueId, 'Arn'] },
          InputTransformer: { InputTemplate: '{"jobstack":"enqueue","event":<aws.events.event.json>}' },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('EventIntakeDeadLetterQueue'), 'Arn'] } },
        },
      ],
    });
  });

  it('creates one rule per triggered job type with its pattern as given and the job type in the message', () => {
    const { template } = withTrigger();
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['shop.orders'],
        'detail-type': ['OrderPlaced'],
        detail: { total: [{ numeric: ['>', 0] }] },
      },
      Targets: [
        Match.objectLike({
          InputTransformer: { InputTemplate: '{"jobstack":"trigger","jobType":"orders.ship","event":<aws.events.event.json>}' },
        }),
      ],
    });
    template.resourceCountIs('AWS::Events::Rule', 3); // enqueue, the trigger, the sweeper's schedule
  });

  it("lets each rule send to the intake queue only: a queue policy statement per rule, conditioned on the rule's ARN", () => {
    // EventBridge needs an SQS resource policy to deliver to a queue; the condition keeps other rules out.
    // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sqs-permissions
    const { stack, jobs, template } = withTrigger();
    const policies = template.findResources('AWS::SQS::QueuePolicy', {
      Properties: { Queues: [{ Ref: logicalId(stack, jobs.eventIntake?.queue as never) }] },
    });
    const statements = Object.values(policies).flatMap(
      (policy) => (policy.Properties.PolicyDocument.Statement as Record<string, unknown>[]) ?? [],
    );
    const allows = statements.filter((statement) => statement.Effect === 'Allow');
    expect(allows).toHaveLength(2);
    for (const statement of allows) {
      expect(statement).toMatchObject({
        Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
        Principal: { Service: 'events.amazonaws.com' },
        Condition: {
          ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [expect.stringMatching(/EventIntake(EnqueueRule|Trigger)/), 'Arn'] } },
        },
      });
    }
  });

  it('gives the intake function the client configuration and what enqueue needs', () => {
    const { stack, jobs, template } = withTrigger();
    const fn = jobs.eventIntake?.function;
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('enqueues jobs from EventBridge events'),
      Environment: {
        Variables: Match.objectLike({
          [ClientEnv.config]: Match.anyValue(),
          JOBSTACK_INTAKE_QUEUE_URL: { Ref: logicalId(stack, jobs.eventIntake?.queue as never) },
          JOBSTACK_INTAKE_DEAD_LETTER_QUEUE_URL: { Ref: logicalId(stack, jobs.eventIntake?.deadLetterQueue as never) },
        }),
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(stack, fn as never) },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
    });
    const roleId = stack.getLogicalId(fn?.role?.node.defaultChild as never);
    const actions = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) => (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as { Action: string | string[] }[])
      .flatMap((statement) => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]));
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:GetItem', 'sqs:SendMessage']));
    // Not an operator: no redrive, no pause, no reading the dead-letter queues of the job queues.
    expect(actions).not.toContain('lambda:UpdateEventSourceMapping');
    expect(actions).not.toContain('dynamodb:Scan');
  });

  it('keeps messages it keeps failing on for 5 receives, with a visibility six times the function timeout', () => {
    const { template } = withTrigger();
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 360,
      RedrivePolicy: { maxReceiveCount: 5, deadLetterTargetArn: Match.anyValue() },
      SqsManagedSseEnabled: true,
    });
  });

  it('alarms when the intake dead-letter queue has messages', () => {
    const { template } = withTrigger();
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('event intake dead-letter queue has messages'),
      Threshold: 1,
      Dimensions: [
        { Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('EventIntakeDeadLetterQueue'), 'QueueName'] } },
      ],
    });
  });

  it('takes jobstack.enqueue events only from the given sources', () => {
    const { template } = withTrigger({ eventIntake: { enqueueEventSources: ['billing'] } });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { 'detail-type': ['jobstack.enqueue'], source: ['billing'] },
    });
  });

  it('listens on the bus the job system was given', () => {
    const stack = new Stack(newTestApp(), 'BusStack', { env: TEST_ENV });
    const bus = new events.EventBus(stack, 'Bus');
    const { template } = withTrigger({ eventBus: 'create' });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { 'detail-type': ['jobstack.enqueue'] },
      EventBusName: { Ref: Match.stringLikeRegexp('JobsEventBus') },
    });
    expect(bus.eventBusName).toBeDefined();
  });

  it('creates no intake without jobstack.enqueue events and triggers', () => {
    const { jobs, stack } = jobSystemStack({ eventIntake: { enqueueEvents: false } });
    expect(jobs.eventIntake).toBeUndefined();
    Template.fromStack(stack).resourceCountIs('AWS::Events::Rule', 1); // the sweeper's schedule
  });

  it('keeps the trigger rules with enqueueEvents: false', () => {
    const { template } = withTrigger({ eventIntake: { enqueueEvents: false } });
    template.resourceCountIs('AWS::Events::Rule', 2);
  });

  it.each([
    [{ enqueueEventSources: [] }, /enqueueEventSources must be a non-empty list of 1\.\.256-character sources \(given \[\]\)/],
    [{ enqueueEventSources: [''] }, /\(given \[""\]\)/],
    [
      { enqueueEvents: false, enqueueEventSources: ['billing'] },
      /enqueueEventSources is set \(given \["billing"\]\) but enqueueEvents is false/,
    ],
  ])('fails if eventIntake is %j', (eventIntake, message) => {
    expect(() => withTrigger({ eventIntake })).toThrow(message);
  });
});
