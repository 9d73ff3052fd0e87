import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineRegistry } from '../../shared/index.js';
import { defineLongJobContract } from '../../shared/long-jobs/define-long-job.js';
import { WITH_TIME } from './fixtures/contracts.js';
import { jobSystemStack } from './fixtures/stacks.js';

// Express workflows, from the AWS Step Functions developer guide ("Choosing workflow type", "Step Functions
// service quotas", "Logging in CloudWatch Logs"):
// - an Express execution runs for at most 5 minutes (Standard: one year);
// - Express executions run at least once (Standard: exactly once), so a step may run twice;
// - Express execution history is not kept by Step Functions: it is in CloudWatch Logs only when logging is on;
// - StopExecution "is not supported by EXPRESS state machines" (so cancel works through the job record).
// MiniStack runs an Express machine like a Standard one, so these rules are checked here, on the template.

const quick = defineLongJobContract({
  name: 'demo.quick',
  schema: z.object({ steps: z.number().int() }),
  stepTimeout: '30s',
  maxDuration: '2m',
});
const WITH_EXPRESS = defineRegistry(...Object.values(WITH_TIME), quick);

type Definition = { StartAt: string; States: Record<string, Record<string, unknown>> };

function machines(
  template: Template,
): Record<string, { type: string; definition: Definition; properties: Record<string, unknown> }> {
  const out: Record<string, { type: string; definition: Definition; properties: Record<string, unknown> }> = {};
  for (const machine of Object.values(template.findResources('AWS::StepFunctions::StateMachine'))) {
    const parts = (machine.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
    const definition = JSON.parse(parts.map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('')) as Definition;
    out[machine.Properties.StateMachineName as string] = {
      type: machine.Properties.StateMachineType as string,
      definition,
      properties: machine.Properties,
    };
  }
  return out;
}

describe('LongJobs on Express', () => {
  it('deploys an Express state machine beside the Standard one when a long job declares maxDuration ≤ 5 minutes', () => {
    const { template } = (() => {
      const { stack } = jobSystemStack({ registry: WITH_EXPRESS });
      return { template: Template.fromStack(stack) };
    })();
    const found = machines(template);
    expect(Object.keys(found).sort()).toEqual(['TestStack-long-jobs', 'TestStack-long-jobs-express']);
    expect(found['TestStack-long-jobs']?.type).toBe('STANDARD');
    expect(found['TestStack-long-jobs-express']?.type).toBe('EXPRESS');
  });

  it('logs every Express event to CloudWatch Logs (its only history), without execution data', () => {
    const { stack } = jobSystemStack({ registry: WITH_EXPRESS });
    Template.fromStack(stack).hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'EXPRESS',
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: false,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: Match.anyValue() } }],
      },
      TracingConfiguration: { Enabled: true },
    });
  });

  it('runs the same loop on Express, tells the step it is on Express and when it started, and continues on Standard', () => {
    const { stack } = jobSystemStack({ registry: WITH_EXPRESS });
    const found = machines(Template.fromStack(stack));
    const express = found['TestStack-long-jobs-express']?.definition as Definition;
    const standard = found['TestStack-long-jobs']?.definition as Definition;
    expect(Object.keys(express.States).sort()).toEqual(Object.keys(standard.States).sort());
    expect(express.States.Step?.Parameters).toMatchObject({
      workflow: 'express',
      'executionStartedAt.$': '$$.Execution.StartTime',
      'executionInput.$': '$$.Execution.Input',
      'executionArn.$': '$$.Execution.Id',
    });
    expect(standard.States.Step?.Parameters).toMatchObject({ workflow: 'standard' });
    // A job that overruns its 5 minutes continues as a Standard execution, with the rest of its wait, if any.
    for (const definition of [express, standard]) {
      expect(definition.States.ContinueAsNew).toMatchObject({
        Parameters: { 'Name.$': '$.nextExecutionName', Input: { 'resumeAt.$': '$.resumeAt' } },
      });
      expect(JSON.stringify(definition.States.ContinueAsNew)).toContain('TOKEN');
    }
  });

  it('lets each machine start Standard continuations, and the worker start executions on both', () => {
    const { stack } = jobSystemStack({ registry: WITH_EXPRESS });
    const template = Template.fromStack(stack);
    const startGrants = Object.values(template.findResources('AWS::IAM::Policy'))
      .map((policy) => JSON.stringify(policy.Properties.PolicyDocument))
      .filter((document) => document.includes('states:StartExecution'));
    // The worker's grant covers both machines; each machine's role may start the Standard one (its ContinueAsNew).
    expect(startGrants.filter((grant) => grant.includes(':stateMachine:TestStack-long-jobs"')).length).toBeGreaterThanOrEqual(2);
    const [expressId] = Object.keys(
      template.findResources('AWS::StepFunctions::StateMachine', { Properties: { StateMachineType: 'EXPRESS' } }),
    );
    expect(startGrants.some((grant) => grant.includes(`{"Ref":"${expressId}"}`))).toBe(true);
  });

  it('deploys no Express state machine when no long job declares maxDuration ≤ 5 minutes', () => {
    const { stack } = jobSystemStack({ registry: WITH_TIME });
    expect(Object.keys(machines(Template.fromStack(stack)))).toEqual(['TestStack-long-jobs']);
  });
});

describe('the step invocation budget', () => {
  it('is passed to the step function, which gets that much longer to run its last step whole', () => {
    const { stack } = jobSystemStack({ registry: WITH_TIME, longJobInvocationBudget: '2m' });
    // Longest step 11 min + budget 2 min + 60 s headroom.
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 14 * 60,
      Environment: { Variables: Match.objectLike({ JOBSTACK_LONG_JOB_INVOCATION_BUDGET_MS: '120000' }) },
    });
  });

  it('never makes the step function outlast Lambda’s 15 minutes, and refuses a budget beyond them', () => {
    const { stack } = jobSystemStack({ registry: WITH_TIME, longJobInvocationBudget: '10m' });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 900,
      Environment: { Variables: Match.objectLike({ JOBSTACK_LONG_JOB_INVOCATION_BUDGET_MS: '600000' }) },
    });
    expect(() => jobSystemStack({ registry: WITH_TIME, longJobInvocationBudget: '16m' })).toThrow(
      /invocationBudget must be 0..15m/,
    );
  });
});
