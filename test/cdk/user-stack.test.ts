import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { JobSystem } from '../../infra/job-system.js';
import { configFromOutputs, parseJobstackConfig } from '../../shared/client/stack-config.js';
import { ClientEnv, StackOutput } from '../../shared/config.js';
import { ONE_QUEUE, WITH_TIME } from './fixtures/contracts.js';
import { FIXTURE_HANDLERS, newTestApp, TEST_ENV } from './fixtures/stacks.js';

/** What CloudFormation resolves at deploy time (Ref, Fn::GetAtt, Fn::Join), rendered as stable placeholder strings. */
function placeholder(value: unknown): string {
  if (typeof value === 'string') return value;
  const object = (value ?? {}) as Record<string, unknown>;
  if (typeof object.Ref === 'string') return `<${object.Ref}>`;
  const getAtt = object['Fn::GetAtt'];
  if (Array.isArray(getAtt)) return `<${getAtt.join('.')}>`;
  const join = object['Fn::Join'];
  if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) {
    return (join[1] as unknown[]).map(placeholder).join(join[0]);
  }
  throw new Error(`no placeholder for ${JSON.stringify(value)}`);
}

/** A user's stack: their own bucket and API function, the job system nested one construct deep. */
function userStack(registry = ONE_QUEUE) {
  const stack = new Stack(newTestApp(), 'UserStack', { env: TEST_ENV });
  const uploads = new s3.Bucket(stack, 'Uploads');
  const api = new lambda.Function(stack, 'Api', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('export const handler = async () => ({});'),
  });
  const jobs = new JobSystem(new Construct(stack, 'Background'), 'Jobs', { registry, handlers: FIXTURE_HANDLERS });
  jobs.bindClient(api);
  return { stack, uploads, api, jobs, template: Template.fromStack(stack) };
}

/** The bound API function's configuration from its environment, and what configFromOutputs reads from the outputs. */
function clientConfigs({ template, stack, api }: ReturnType<typeof userStack>) {
  const logicalId = stack.getLogicalId(api.node.defaultChild as lambda.CfnFunction);
  const variables = template.toJSON().Resources[logicalId].Properties.Environment.Variables as Record<string, unknown>;
  const outputs = Object.fromEntries(
    Object.entries(template.findOutputs('*')).map(([key, output]) => [key, placeholder(output.Value)]),
  );
  return {
    fromEnvironment: JSON.parse(placeholder(variables[ClientEnv.config])) as Record<string, unknown>,
    fromOutputs: configFromOutputs('UserStack', outputs),
  };
}

const ONE_QUEUE_OUTPUTS = [
  StackOutput.jobsTableName,
  StackOutput.idempotencyTableName,
  StackOutput.payloadBucketName,
  StackOutput.queueNames,
  'QueueUrlDefault',
  'DeadLetterQueueUrlDefault',
  'QueueArnDefault',
  'WorkerFunctionNameDefault',
  'EventSourceMappingIdsDefault',
  StackOutput.scheduleGroupName,
  StackOutput.schedulerRoleArn,
  StackOutput.schedulerDeadLetterQueueArn,
  'DashboardUrl',
  'DashboardName',
  'AlarmTopicArn',
];

describe('JobSystem in a user stack', () => {
  let setup: ReturnType<typeof userStack>;

  beforeAll(() => {
    setup = userStack();
  });

  describe('outputs', () => {
    it('creates the outputs the CLI and client read under their exact keys, beside the stack’s own resources', () => {
      const { template, stack, uploads } = setup;
      expect(Object.keys(template.findOutputs('*')).sort()).toEqual([...ONE_QUEUE_OUTPUTS].sort());
      template.hasOutput(StackOutput.queueNames, { Value: 'default' });
      // The user's own resources are untouched by the construct.
      expect(Object.keys(template.findResources('AWS::S3::Bucket'))).toContain(
        stack.getLogicalId(uploads.node.defaultChild as s3.CfnBucket),
      );
    });

    it('gives connectJobClient everything it needs: configFromOutputs reads them without a missing key', () => {
      const { template } = setup;
      const outputs = Object.fromEntries(
        Object.entries(template.findOutputs('*')).map(([key, output]) => [key, placeholder(output.Value)]),
      );
      const config = configFromOutputs('UserStack', outputs);
      expect(Object.keys(config.queues)).toEqual(['default']);
      expect(config.queues.default?.url).toMatch(/^<BackgroundJobsQueueDefault[0-9A-F]{8}>$/);
      expect(config.scheduling?.groupName).toMatch(/^<BackgroundJobsSchedulingGroup/);
      expect(config.payloadBucket).toMatch(/^<BackgroundJobsPayloadBucket/);
    });

    it('adds the long-job state machine output when the registry has long jobs, and the same ARN to JOBSTACK_CONFIG', () => {
      const withLongJobs = userStack(WITH_TIME);
      withLongJobs.template.hasOutput(StackOutput.longJobStateMachineArn, {
        Value: { Ref: Match.stringLikeRegexp('^BackgroundJobsLongJobsStateMachine') },
      });
      const { fromEnvironment, fromOutputs } = clientConfigs(withLongJobs);
      expect(fromEnvironment.longJobStateMachineArn).toMatch(/^<BackgroundJobsLongJobsStateMachine/);
      expect(fromEnvironment).toEqual(fromOutputs);
    });

    it('creates no outputs with outputs: false', () => {
      const stack = new Stack(newTestApp(), 'Quiet', { env: TEST_ENV });
      new JobSystem(stack, 'Jobs', { registry: ONE_QUEUE, handlers: FIXTURE_HANDLERS, outputs: false });
      expect(Template.fromStack(stack).findOutputs('*')).toEqual({});
    });

    it('fails clearly when a second job system in the stack would create the same outputs', () => {
      const stack = new Stack(newTestApp(), 'Twice', { env: TEST_ENV });
      new JobSystem(stack, 'Jobs', { registry: ONE_QUEUE, handlers: FIXTURE_HANDLERS });
      expect(() => new JobSystem(stack, 'More', { registry: ONE_QUEUE, handlers: FIXTURE_HANDLERS })).toThrow(
        /stack 'Twice' already holds the outputs of JobSystem 'Twice\/Jobs'; give 'Twice\/More' outputs: false/,
      );
      new JobSystem(stack, 'Quiet', { registry: ONE_QUEUE, handlers: FIXTURE_HANDLERS, outputs: false });
    });
  });

  describe('bindClient', () => {
    function apiRole() {
      const { template, stack, api } = setup;
      const logicalId = stack.getLogicalId(api.node.defaultChild as lambda.CfnFunction);
      const properties = template.toJSON().Resources[logicalId].Properties as { Role: { 'Fn::GetAtt': [string, string] } };
      return { roleId: properties.Role['Fn::GetAtt'][0] };
    }

    it('sets JOBSTACK_CONFIG to the same configuration connectJobClient reads from the outputs', () => {
      const { fromEnvironment, fromOutputs } = clientConfigs(setup);
      expect(fromEnvironment.stackName).toBe('UserStack');
      expect(fromEnvironment).toEqual(fromOutputs);
      // What jobClientFromEnvironment checks the variable with.
      expect(parseJobstackConfig(JSON.stringify(fromEnvironment), ClientEnv.config)).toEqual(fromOutputs);
    });

    it('grants what the client calls, DescribeStacks on its own stack included, and no ctx.once step resolution', () => {
      const { template } = setup;
      const { roleId } = apiRole();
      const statements = Object.values(template.findResources('AWS::IAM::Policy'))
        .filter((policy) => JSON.stringify(policy.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
        .flatMap((policy) => policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
      const granted = (action: string, resource: RegExp) =>
        statements.some(
          (s) => (Array.isArray(s.Action) ? s.Action : [s.Action]).includes(action) && resource.test(JSON.stringify(s.Resource)),
        );
      expect(granted('cloudformation:DescribeStacks', /^\{"Ref":"AWS::StackId"\}$/)).toBe(true);
      expect(granted('sqs:SendMessage', /BackgroundJobsQueueDefault/)).toBe(true); // enqueue
      expect(granted('dynamodb:PutItem', /BackgroundJobsJobsTable/)).toBe(true); // enqueue
      expect(granted('dynamodb:Query', /BackgroundJobsJobsTable/)).toBe(true); // list
      expect(granted('dynamodb:GetItem', /BackgroundJobsJobsTable/)).toBe(true); // get, wait
      expect(granted('dynamodb:UpdateItem', /BackgroundJobsJobsTable/)).toBe(true); // cancel, retry
      expect(granted('sqs:ReceiveMessage', /BackgroundJobsDeadLetterQueueDefault/)).toBe(true); // redrive
      expect(granted('s3:PutObject', /BackgroundJobsPayloadBucket.*payloads\/\*/)).toBe(true); // large payloads
      expect(granted('scheduler:CreateSchedule', /schedule/)).toBe(true); // delays, schedules
      expect(granted('iam:PassRole', /BackgroundJobsSchedulingSchedulerRole/)).toBe(true);
      expect(JSON.stringify(statements)).not.toContain('step#');
    });

    it('binds a function of another stack of the app through exports', () => {
      const app = newTestApp();
      const jobs = new JobSystem(new Stack(app, 'Jobs', { env: TEST_ENV }), 'Jobs', {
        registry: ONE_QUEUE,
        handlers: FIXTURE_HANDLERS,
      });
      const apiStack = new Stack(app, 'Api', { env: TEST_ENV });
      const api = new lambda.Function(apiStack, 'Api', {
        runtime: lambda.Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: lambda.Code.fromInline('export const handler = async () => ({});'),
      });
      jobs.bindClient(api);
      const template = JSON.stringify(Template.fromStack(apiStack).toJSON());
      expect(template).toContain('"Fn::ImportValue":"Jobs:ExportsOutputRefAWSStackId');
      expect(template).toContain('"Fn::ImportValue":"Jobs:ExportsOutputRefJobsQueueDefault');
      expect(template).toContain(`\\"stackName\\":\\"Jobs\\"`);
    });

    it('lets a client stop long-job executions when the registry has long jobs', () => {
      const { template } = userStack(WITH_TIME);
      expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).toContain('states:StopExecution');
    });
  });
});
