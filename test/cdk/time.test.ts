import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { JobScheduling } from '../../infra/scheduling.js';
import { FunctionEnv } from '../../shared/config.js';
import type { PlannedSchedule } from '../../shared/scheduling/declared.js';
import { WITH_TIME } from './fixtures/contracts.js';
import { jobSystemStack, newTestApp } from './fixtures/stacks.js';

// WITH_TIME: `report.nightly` declares the `nightly-report` schedule; `demo.long` is a long job with an 11-minute step.
function withTime() {
  const { stack, jobs } = jobSystemStack({ registry: WITH_TIME, maxStepsPerExecution: 500 });
  return { stack, jobs, template: Template.fromStack(stack) };
}

function definitionOf(template: Template): Record<string, unknown> {
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  if (!machine) throw new Error('the template has no state machine');
  const parts = (machine.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  // Tokens (ARNs) become placeholders; the structure is what these tests check.
  return JSON.parse(parts.map((part) => (typeof part === 'string' ? part : 'TOKEN')).join(''));
}

describe('JobScheduling', () => {
  it('creates a schedule group, a DLQ and a recurring schedule per declaration targeting the job queue', () => {
    const { template } = withTime();
    template.resourceCountIs('AWS::Scheduler::ScheduleGroup', 1);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'nightly-report',
      ScheduleExpression: 'cron(0 3 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Description: 'jobstack:stack',
      GroupName: { Ref: Match.stringLikeRegexp('SchedulingGroup') },
      Target: {
        Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('QueueDefault'), 'Arn'] },
        RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('SchedulerRole'), 'Arn'] },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('SchedulingDeadLetterQueue'), 'Arn'] } },
        RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 },
        Input: Match.stringLikeRegexp('"id":"sched:nightly-report:<aws.scheduler.scheduled-time>"'),
      },
    });
  });

  it('lets the Scheduler role send to the job queues and its DLQ only, assumed by Scheduler of this account', () => {
    const { template } = withTime();
    const roles = template.findResources('AWS::IAM::Role', {
      Properties: {
        AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'scheduler.amazonaws.com' } })] },
      },
    });
    const [roleId, role] = Object.entries(roles)[0] ?? [];
    expect(roleId).toBeDefined();
    expect(JSON.stringify(role?.Properties?.AssumeRolePolicyDocument)).toContain('aws:SourceAccount');
    const policies = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } }));
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: unknown; Resource: unknown }[]);
    const actions = new Set(statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])));
    expect([...actions].sort()).toEqual(['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']);
    const resources = statements.map((s) => JSON.stringify(s.Resource));
    expect(resources.every((r) => /QueueDefault|SchedulingDeadLetterQueue/.test(r))).toBe(true);
    expect(resources.some((r) => r.includes('"*"'))).toBe(false);
  });

  it('fails if a schedule targets a queue it is not given', () => {
    // A JobSystem plans schedules and queues from one registry, so only a hand-made plan can do this.
    const stack = new Stack(newTestApp(), 'Scheduling');
    const schedule: PlannedSchedule = {
      name: 'nightly-report',
      expression: 'cron(0 3 * * ? *)',
      timezone: 'Europe/Berlin',
      payload: { kind: 'daily' },
      jobType: 'report.build',
      queue: 'reports',
    };
    const queues = new Map([['default', new sqs.Queue(stack, 'Queue')]]);
    expect(() => new JobScheduling(stack, 'Scheduling', { queues, schedules: [schedule] })).toThrow(
      /schedule 'nightly-report' enqueues 'report.build' to queue 'reports', which is not a job queue/,
    );
  });
});

describe('LongJobs', () => {
  it('loops Step → Route → (Step | Pause → Step | ContinueAsNew | end) on a Standard state machine', () => {
    const { template } = withTime();
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      StateMachineName: 'TestStack-long-jobs',
      TracingConfiguration: { Enabled: true },
    });
    const definition = definitionOf(template) as { StartAt: string; States: Record<string, Record<string, unknown>> };
    expect(definition.StartAt).toBe('Step');
    const { Step, Route, Pause, ContinueAsNew, RecordFailure } = definition.States;
    expect(Step?.Next).toBe('Route');
    expect(Pause).toMatchObject({ Type: 'Wait', SecondsPath: '$.waitSeconds', Next: 'Step' });
    const choices = ((Route?.Choices ?? []) as { Next: string }[]).map((choice) => choice.Next);
    expect(choices).toEqual(['Step', 'Pause', 'ContinueAsNew', 'Succeeded', 'Cancelled', 'AlreadyFinished', 'JobDead']);
    expect(Route?.Default).toBe('UnknownStatus');
    expect(ContinueAsNew).toMatchObject({
      Resource: 'arn:TOKEN:states:::states:startExecution',
      Parameters: { 'Name.$': '$.nextExecutionName' },
    });
    expect(definition.States.JobDead).toMatchObject({ Type: 'Fail', Error: 'JobDead' });
    expect(RecordFailure).toMatchObject({ Next: 'StepFailed', Parameters: { action: 'record-failure' } });
  });

  it('retries invoke errors quickly, other infrastructure errors with backoff, then records the failure (catch)', () => {
    const definition = definitionOf(withTime().template) as { States: Record<string, Record<string, unknown>> };
    const step = definition.States.Step as {
      Retry: Record<string, unknown>[];
      Catch: Record<string, unknown>[];
      TimeoutSeconds: number;
    };
    expect(step.Retry).toEqual([
      expect.objectContaining({
        ErrorEquals: expect.arrayContaining(['Lambda.ServiceException', 'Lambda.TooManyRequestsException']),
        MaxAttempts: 6,
        BackoffRate: 2,
      }),
      expect.objectContaining({ ErrorEquals: ['States.ALL'], MaxAttempts: 4, IntervalSeconds: 5 }),
    ]);
    expect(step.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'RecordFailure' }]);
    // Step Lambda: longest step 11 min + the 60 s invocation budget + 60 s; the task gives it 30 s more.
    expect(step.TimeoutSeconds).toBe(13 * 60 + 30);
  });

  it('sizes the step function from the longest step and the invocation budget, and passes both limits', () => {
    const { template } = withTime();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 780,
      Environment: {
        Variables: Match.objectLike({
          JOBSTACK_MAX_STEPS_PER_EXECUTION: '500',
          JOBSTACK_LONG_JOB_INVOCATION_BUDGET_MS: '60000',
          [FunctionEnv.jobTypes]: 'demo.long',
        }),
      },
    });
  });

  it('lets the worker start executions, and the state machine start its own continuation', () => {
    const { template } = withTime();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ JOBSTACK_LONG_JOB_STATE_MACHINE_ARN: Match.anyValue(), JOBSTACK_QUEUE_NAME: 'default' }),
      },
    });
    const startGrants = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
      JSON.stringify(policy.Properties.PolicyDocument).includes('states:StartExecution'),
    );
    expect(startGrants.length).toBe(2);
    for (const grant of startGrants) expect(JSON.stringify(grant)).toContain(':stateMachine:TestStack-long-jobs');
  });

  it('creates no state machine without long jobs', () => {
    Template.fromStack(jobSystemStack().stack).resourceCountIs('AWS::StepFunctions::StateMachine', 0);
  });

  it('fails if maxStepsPerExecution would exceed the history limit', () => {
    expect(() => jobSystemStack({ registry: WITH_TIME, maxStepsPerExecution: 3_000 })).toThrow(
      /maxStepsPerExecution must be 1..2500 .* \(given 3000\)/,
    );
  });
});
