import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { App, CfnResource } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEMO_LEDGER_TABLE_ENV, registry } from '../../functions/jobs/contracts.js';
import { DEMO_LEDGER_OUTPUT, JobstackStack } from '../../infra/jobstack-stack.js';
import { priorityLevelOutputSuffix, queueOutputSuffix, StackOutput } from '../../shared/config.js';
import { planQueues } from '../../shared/job-definition.js';
import { newTestApp } from './fixtures/stacks.js';

const ENV = { account: '111111111111', region: 'us-east-1' };

describe('JobstackStack', () => {
  let stack: JobstackStack;
  let template: Template;

  beforeAll(() => {
    stack = new JobstackStack(newTestApp(), 'jobstack', { env: ENV });
    template = Template.fromStack(stack);
  });

  it('creates one queue, DLQ and worker per queue in the registry', () => {
    const plans = planQueues(registry);
    const workers = template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'jobstack-worker' }) } },
    });
    expect(Object.keys(workers)).toHaveLength(plans.length);
    const jobQueues = template.findResources('AWS::SQS::Queue', {
      Properties: {
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('UndeliverableQueue'), 'Arn'] } },
      },
    });
    // One per queue, plus one per priority level beyond the lowest (the demo's `ranked` has high and low).
    expect(Object.keys(jobQueues)).toHaveLength(plans.length + 1);
    expect(Object.keys(jobQueues).filter((id) => id.startsWith('JobSystemQueueRankedLevelHigh'))).toHaveLength(1);
    for (const plan of plans) {
      template.hasResourceProperties('AWS::SQS::Queue', {
        RedrivePolicy: { maxReceiveCount: plan.maxAttempts + 2, deadLetterTargetArn: Match.anyValue() },
      });
    }
  });

  it('is a thin stack: its one JobSystem and the demo ledger table, built from the public jobstack/cdk entry', () => {
    const resources = stack.node.findAll().filter((construct) => construct instanceof CfnResource);
    expect(resources.length).toBeGreaterThan(0);
    expect(resources.map((resource) => resource.node.path).filter((path) => !path.startsWith('jobstack/JobSystem/'))).toEqual([
      'jobstack/DemoLedgerTable/Resource',
    ]);
    // Library code only through 'jobstack/cdk'; from the repo only the demo's own jobs.
    const source = readFileSync(fileURLToPath(new URL('../../infra/jobstack-stack.ts', import.meta.url)), 'utf8');
    const imports = [...source.matchAll(/from '([^']+)'/g)].map((match) => match[1]);
    expect(imports.filter((from) => from?.startsWith('.'))).toEqual(['../functions/jobs/contracts.js']);
    expect(imports).toContain('jobstack/cdk');
  });

  it('outputs exactly the keys the client reads', () => {
    const outputs = template.findOutputs('*');
    const expected = [
      StackOutput.jobsTableName,
      StackOutput.idempotencyTableName,
      DEMO_LEDGER_OUTPUT,
      StackOutput.queueNames,
      StackOutput.payloadBucketName,
      'DashboardUrl',
      'DashboardName',
      'AlarmTopicArn',
      StackOutput.scheduleGroupName,
      StackOutput.schedulerRoleArn,
      StackOutput.schedulerDeadLetterQueueArn,
      StackOutput.longJobStateMachineArn,
      ...planQueues(registry).flatMap(({ name }) => {
        const suffix = queueOutputSuffix(name);
        return [
          `${StackOutput.queueUrlPrefix}${suffix}`,
          `${StackOutput.deadLetterQueueUrlPrefix}${suffix}`,
          `WorkerFunctionName${suffix}`,
          `${StackOutput.queueArnPrefix}${suffix}`,
          `${StackOutput.eventSourceMappingIdsPrefix}${suffix}`,
        ];
      }),
      // The demo's prioritized queue `ranked`: its levels and each level's URL and ARN.
      `${StackOutput.queueLevelsPrefix}Ranked`,
      ...['high', 'low'].flatMap((level) => [
        `${StackOutput.queueLevelUrlPrefix}${priorityLevelOutputSuffix('ranked', level)}`,
        `${StackOutput.queueLevelArnPrefix}${priorityLevelOutputSuffix('ranked', level)}`,
      ]),
    ];
    expect(Object.keys(outputs).sort()).toEqual(expected.sort());
    template.hasOutput(StackOutput.queueNames, {
      Value: planQueues(registry)
        .map((p) => p.name)
        .join(','),
    });
    template.hasOutput('QueueUrlDefault', { Value: { Ref: Match.stringLikeRegexp('^JobSystemQueueDefault') } });
    template.hasOutput('DeadLetterQueueUrlDefault', {
      Value: { Ref: Match.stringLikeRegexp('^JobSystemDeadLetterQueueDefault') },
    });
  });

  it('wires its own ledger table to every job function (workers and the long-job step function), as a user stack would', () => {
    const functions = template.findResources('AWS::Lambda::Function');
    const withLedger = Object.entries(functions)
      .filter(
        ([, resource]) =>
          (resource as { Properties: { Environment?: { Variables?: Record<string, unknown> } } }).Properties.Environment
            ?.Variables?.[DEMO_LEDGER_TABLE_ENV] !== undefined,
      )
      .map(([id]) => id);
    const workers = Object.keys(functions).filter((id) => id.startsWith('JobSystemWorker'));
    const steps = Object.keys(functions).filter((id) => id.startsWith('JobSystemLongJobsStepFunction'));
    expect(workers.length).toBeGreaterThan(0);
    expect(steps).toHaveLength(1);
    expect(withLedger.sort()).toEqual([...workers, ...steps].sort());
    template.hasOutput(DEMO_LEDGER_OUTPUT, { Value: { Ref: Match.stringLikeRegexp('^DemoLedgerTable') } });
  });

  it('leaves out the demo ledger table and its output when demo jobs are off by context', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [], demoJobs: 'false' } });
    const noDemo = Template.fromStack(new JobstackStack(app, 'nodemo', { env: ENV }));
    noDemo.resourceCountIs('AWS::DynamoDB::Table', 2);
    expect(Object.keys(noDemo.findOutputs(DEMO_LEDGER_OUTPUT))).toHaveLength(0);
  });

  it('fails if the demoJobs context is not a boolean', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [], demoJobs: 'yes' } });
    expect(() => new JobstackStack(app, 'bad', { env: ENV })).toThrow(/context demoJobs must be true or false \(given "yes"\)/);
  });

  it('passes the cdk-nag AwsSolutions checks with every finding acknowledged for a reason', () => {
    const report = new AwsSolutionsChecks(stack).validateScope(stack);
    const findings = report.violations.map(
      (v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.resourceLogicalId).join(', ')}`,
    );
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });
});
