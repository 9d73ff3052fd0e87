import type { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { defineJobContract, defineRegistry } from 'jobstack';
import { beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { FunctionEnv } from '../../shared/config.js';
import { echo, reportBuild, sleep } from './fixtures/contracts.js';
import { jobSystemStack } from './fixtures/stacks.js';

// Priority levels per logical queue: one SQS queue and one event source per level, the queue's maxConcurrency
// split by weight with at least 2 per level. AWS: an SQS event source's ScalingConfig.MaximumConcurrency is
// 2..1000 (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html#events-sqs-max-concurrency,
// and the ScalingConfig API reference: "MaximumConcurrency ... Minimum value of 2. Maximum value of 1000").

const reportUrgent = defineJobContract({
  name: 'report.urgent',
  schema: z.object({ kind: z.string() }),
  queue: 'media-reports',
  priority: 'high',
  timeout: '1m',
});
const REGISTRY = defineRegistry(echo, sleep, reportBuild, reportUrgent);
const LEVELS = { high: 6, normal: 3, low: 1 };

function workerEventSources(template: Template, workerPrefix: string) {
  return Object.values(
    template.findResources('AWS::Lambda::EventSourceMapping', {
      Properties: { FunctionName: { Ref: Match.stringLikeRegexp(`^${workerPrefix}`) } },
    }),
  ).map(
    (resource) =>
      resource.Properties as {
        EventSourceArn: { 'Fn::GetAtt': [string, string] };
        ScalingConfig?: { MaximumConcurrency: number };
      },
  );
}

describe('JobSystem with priority levels', () => {
  let stack: Stack;
  let template: Template;

  beforeAll(() => {
    // GIVEN 'media-reports' with three levels and maxConcurrency 20; 'default' without levels
    ({ stack } = jobSystemStack({
      registry: REGISTRY,
      queues: { 'media-reports': { maxConcurrency: 20, priorities: LEVELS } },
    }));
    template = Template.fromStack(stack);
  });

  it('passes the cdk-nag AwsSolutions checks', () => {
    const report = new AwsSolutionsChecks(stack).validateScope(stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });

  it('creates one SQS queue per level besides the lowest, which is the queue itself', () => {
    // 2 logical queues × (queue, undeliverable, DLQ) + 2 extra levels + the scheduler DLQ + the event intake queue and DLQ
    template.resourceCountIs('AWS::SQS::Queue', 2 * 3 + 2 + 1 + 2);
    const ids = Object.keys(template.findResources('AWS::SQS::Queue'));
    expect(ids.filter((id) => id.startsWith('JobsQueueMediaReportsLevel')).map((id) => id.replace(/[0-9A-F]{8}$/, ''))).toEqual([
      'JobsQueueMediaReportsLevelHigh',
      'JobsQueueMediaReportsLevelNormal',
    ]);
  });

  it('gives every level the same visibility timeout and undeliverable queue as the queue', () => {
    const queues = template.findResources('AWS::SQS::Queue');
    const props = (prefix: string) =>
      Object.entries(queues).find(([id]) => id.startsWith(prefix))?.[1].Properties as Record<string, unknown>;
    const base = props('JobsQueueMediaReports');
    for (const level of ['JobsQueueMediaReportsLevelHigh', 'JobsQueueMediaReportsLevelNormal']) {
      expect(props(level).VisibilityTimeout).toEqual(base.VisibilityTimeout);
      expect(props(level).RedrivePolicy).toEqual(base.RedrivePolicy);
      expect(props(level).MaximumMessageSize).toEqual(base.MaximumMessageSize);
    }
  });

  it('consumes each level with the one worker, maxConcurrency split by weight (2 each + the rest by weight)', () => {
    const sources = workerEventSources(template, 'JobsWorkerMediaReports');
    const byQueue = Object.fromEntries(
      sources.map((source) => [
        source.EventSourceArn['Fn::GetAtt'][0].replace(/[0-9A-F]{8}$/, ''),
        source.ScalingConfig?.MaximumConcurrency,
      ]),
    );
    // spare 20 - 6 = 14 by 6:3:1 → 8.4, 4.2, 1.4 → 8 + 1 (largest remainder, high first), 4, 1
    expect(byQueue).toEqual({
      JobsQueueMediaReportsLevelHigh: 11,
      JobsQueueMediaReportsLevelNormal: 6,
      JobsQueueMediaReports: 3,
    });
  });

  it('leaves a queue without levels with one event source at its maxConcurrency', () => {
    const sources = workerEventSources(template, 'JobsWorkerDefault');
    expect(sources).toHaveLength(1);
    expect(sources[0]?.ScalingConfig?.MaximumConcurrency).toBe(10);
  });

  it("tells the worker every level's queue URL by ARN (to change a message's visibility on its own queue)", () => {
    const workers = template.findResources('AWS::Lambda::Function', {
      Properties: { Description: Match.stringLikeRegexp("^jobstack worker for queue 'media-reports'") },
    });
    const [worker] = Object.values(workers);
    const env = (worker?.Properties as { Environment: { Variables: Record<string, unknown> } } | undefined)?.Environment
      .Variables;
    expect(JSON.stringify(env?.[FunctionEnv.levelQueues])).toMatch(
      /JobsQueueMediaReportsLevelHigh.*JobsQueueMediaReportsLevelNormal.*JobsQueueMediaReports/,
    );
  });

  it('outputs the levels, highest first, with each level’s URL and ARN', () => {
    template.hasOutput('QueueLevelsMediaReports', { Value: 'high,normal,low' });
    template.hasOutput('QueueLevelUrlMediaReportsLevelHigh', {
      Value: { Ref: Match.stringLikeRegexp('^JobsQueueMediaReportsLevelHigh') },
    });
    template.hasOutput('QueueLevelUrlMediaReportsLevelLow', {
      Value: { Ref: Match.stringLikeRegexp('^JobsQueueMediaReports[0-9A-F]{8}$') },
    });
    template.hasOutput('QueueLevelArnMediaReportsLevelNormal', {
      Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^JobsQueueMediaReportsLevelNormal'), 'Arn'] },
    });
    expect(Object.keys(template.findOutputs('*')).some((key) => key.startsWith('QueueLevelsDefault'))).toBe(false);
  });

  it('grants a bound client, the sweeper and the Scheduler role send on every level, and gives the client the level URLs', () => {
    const { stack: boundStack, jobs } = jobSystemStack({
      registry: REGISTRY,
      queues: { 'media-reports': { maxConcurrency: 20, priorities: LEVELS } },
    });
    const fn = new lambda.Function(boundStack, 'Api', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => null;'),
    });
    jobs.bindClient(fn);
    const bound = Template.fromStack(boundStack);
    const policies = bound.findResources('AWS::IAM::Policy');
    for (const level of ['High', 'Normal']) {
      const sending = Object.entries(policies)
        .filter(([, policy]) =>
          (policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]).some(
            (statement) =>
              [statement.Action].flat().includes('sqs:SendMessage') &&
              JSON.stringify(statement.Resource).includes(`JobsQueueMediaReportsLevel${level}`),
          ),
        )
        .map(([id]) => id.replace(/[0-9A-F]{8}$/, ''));
      expect(sending).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^ApiServiceRoleDefaultPolicy/),
          expect.stringMatching(/^JobsSweeper/),
          expect.stringMatching(/^JobsSchedulingSchedulerRole/),
        ]),
      );
    }
    const api = JSON.stringify(bound.findResources('AWS::Lambda::Function', { Properties: { Handler: 'index.handler' } }));
    expect(api).toMatch(/levels.*high.*JobsQueueMediaReportsLevelHigh/);
  });
});

describe('JobSystem pause with priority levels', () => {
  // pause and resume disable and enable every event source mapping of the queue: one per level.
  let template: Template;
  let levelMappings: string[];

  beforeAll(() => {
    const { stack: boundStack, jobs } = jobSystemStack({
      registry: REGISTRY,
      queues: { 'media-reports': { maxConcurrency: 20, priorities: LEVELS } },
    });
    const fn = new lambda.Function(boundStack, 'Api', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => null;'),
    });
    jobs.bindClient(fn);
    template = Template.fromStack(boundStack);
    levelMappings = Object.keys(
      template.findResources('AWS::Lambda::EventSourceMapping', {
        Properties: { FunctionName: { Ref: Match.stringLikeRegexp('^JobsWorkerMediaReports') } },
      }),
    );
  });

  it("lists one mapping id per level in a bound client's config", () => {
    expect(levelMappings).toHaveLength(3);
    const api = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Handler: 'index.handler' } })).find(
      (fn) => fn.Properties.Environment?.Variables?.JOBSTACK_CONFIG !== undefined,
    );
    const config = JSON.stringify(api?.Properties.Environment.Variables.JOBSTACK_CONFIG);
    expect(config).toContain('eventSourceMappingIds');
    for (const id of levelMappings) expect(config).toContain(`"Ref":"${id}"`);
  });

  it('outputs every level mapping id, and lets grantPause and the sweeper flip each', () => {
    template.hasOutput('EventSourceMappingIdsMediaReports', {
      Value: { 'Fn::Join': [',', levelMappings.map((id) => ({ Ref: id }))] },
    });
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    for (const id of levelMappings) {
      // the bound client's grantPause and the sweeper's reconcile both name each level's mapping
      expect(policies.split(`"${id}"`).length - 1).toBeGreaterThanOrEqual(2);
    }
    const sweeper = Object.values(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Description: Match.stringLikeRegexp('re-sends or marks dead') },
      }),
    )[0];
    const queues = JSON.stringify(sweeper?.Properties.Environment.Variables.JOBSTACK_QUEUES);
    for (const id of levelMappings) expect(queues).toContain(`"Ref":"${id}"`);
  });
});

describe('JobSystem priority validation', () => {
  const ledger = defineJobContract({
    name: 'ledger.apply',
    schema: z.object({ account: z.string() }),
    queue: 'ledger',
    ordering: { key: (payload) => payload.account },
  });

  it('fails for priorities on a FIFO queue (one with ordered job types), quoting the queue', () => {
    expect(() =>
      jobSystemStack({
        registry: defineRegistry(echo, ledger),
        queues: { ledger: { maxConcurrency: 10, priorities: { high: 2, low: 1 } } },
      }),
    ).toThrow(
      /queue 'ledger' is a FIFO queue \(it carries job types with ordering: ledger\.apply\): it takes no priorities \(given priorities 'high', 'low'\)/,
    );
  });

  it('fails for fairness on a job type whose queue is FIFO, naming the job type and the queue', () => {
    const fairOnLedger = defineJobContract({
      name: 'ledger.audit',
      schema: z.object({ tenant: z.string() }),
      queue: 'ledger',
      fairness: { key: (payload) => payload.tenant },
    });
    expect(() => jobSystemStack({ registry: defineRegistry(echo, ledger, fairOnLedger) })).toThrow(
      /queue 'ledger' is a FIFO queue .*: job type 'ledger\.audit' cannot have fairness there/,
    );
  });

  it('fails for a level setting that is not 2..5 levels, quoting the value', () => {
    expect(() => jobSystemStack({ registry: REGISTRY, queues: { 'media-reports': { priorities: { high: 1 } } } })).toThrow(
      /queues\['media-reports'\]\.priorities must have 2\.\.5 levels \(given 1: 'high'\)/,
    );
  });

  it('fails for a weight that is not a positive integer, quoting it', () => {
    expect(() =>
      jobSystemStack({ registry: REGISTRY, queues: { 'media-reports': { priorities: { high: 1.5, low: 1 } } } }),
    ).toThrow(/queues\['media-reports'\]\.priorities level 'high': weight must be a positive integer \(given 1\.5\)/);
  });

  it('fails for a level name unlike a queue name', () => {
    expect(() =>
      jobSystemStack({ registry: REGISTRY, queues: { 'media-reports': { priorities: { HIGH: 2, low: 1 } } } }),
    ).toThrow(/level name must match .* \(given 'HIGH'\)/);
  });

  it('fails when maxConcurrency is below 2 per level', () => {
    expect(() =>
      jobSystemStack({ registry: REGISTRY, queues: { 'media-reports': { maxConcurrency: 5, priorities: LEVELS } } }),
    ).toThrow(/queue 'media-reports': maxConcurrency must be at least 6 for 3 priority levels .* \(given 5\)/);
    // the construct-wide maxConcurrency counts too
    expect(() =>
      jobSystemStack({ registry: REGISTRY, maxConcurrency: 4, queues: { 'media-reports': { priorities: LEVELS } } }),
    ).toThrow(/at least 6 .* \(given 4\)/);
  });

  it("fails when a contract's priority is not a level of its queue", () => {
    expect(() =>
      jobSystemStack({ registry: REGISTRY, queues: { 'media-reports': { priorities: { urgent: 2, low: 1 } } } }),
    ).toThrow(/job 'report.urgent' has priority 'high', which queue 'media-reports' does not have \(levels: 'urgent', 'low'\)/);
  });

  it('fails when a contract has a priority and its queue has no levels', () => {
    expect(() => jobSystemStack({ registry: REGISTRY })).toThrow(
      /job 'report.urgent' has priority 'high', but its queue 'media-reports' has no priority levels/,
    );
  });

  it('accepts exactly 2 per level', () => {
    const { stack } = jobSystemStack({
      registry: REGISTRY,
      queues: { 'media-reports': { maxConcurrency: 6, priorities: LEVELS } },
    });
    const concurrencies = workerEventSources(Template.fromStack(stack), 'JobsWorkerMediaReports').map(
      (source) => source.ScalingConfig?.MaximumConcurrency,
    );
    expect(concurrencies).toEqual([2, 2, 2]);
  });
});

describe('JobSystem monitoring with priority levels', () => {
  it('alarms on the backlog of every level, not only the lowest', () => {
    const { stack } = jobSystemStack({
      registry: REGISTRY,
      queues: { 'media-reports': { maxConcurrency: 20, priorities: LEVELS } },
    });
    const template = Template.fromStack(stack);
    for (const queue of ['JobsQueueMediaReportsLevelHigh', 'JobsQueueMediaReportsLevelNormal', 'JobsQueueMediaReports']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [
          { Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp(`^${queue}[0-9A-F]{8}$`), 'QueueName'] } },
        ],
      });
    }
  });
});
