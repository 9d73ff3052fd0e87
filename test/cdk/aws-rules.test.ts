/**
 * Rules that only AWS enforces (the emulator evaluates no IAM), pinned as
 * template tests. Each test quotes the rule and names the page it comes from,
 * so a reader can check the rule has not changed.
 */
import type { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { longCount, ONE_QUEUE } from './fixtures/contracts.js';
import { jobSystemStack } from './fixtures/stacks.js';

interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

function fullStack(): { stack: Stack; template: Template } {
  const { stack } = jobSystemStack({
    registry: { ...ONE_QUEUE, [longCount.name]: longCount },
    webDashboard: { enabled: true },
  });
  return { stack, template: Template.fromStack(stack) };
}

function statementsOfRole(template: Template, rolePattern: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: Match.arrayWith([{ Ref: Match.stringLikeRegexp(rolePattern) }]) },
  });
  return Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

const actionsOf = (statement: Statement) => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]);

describe('EventBridge Scheduler execution role (fault 2)', () => {
  // https://docs.aws.amazon.com/scheduler/latest/UserGuide/cross-service-confused-deputy-prevention.html:
  // "The value of aws:SourceArn must be your EventBridge Scheduler schedule group ARN to which you want to
  //  scope this condition. Important: Do not scope the aws:SourceArn statement to a specific schedule or a
  //  schedule name prefix. The ARN you specify must be a schedule group."
  it("scopes aws:SourceArn in the trust policy to the schedule group's ARN, never a schedule or a name prefix", () => {
    const { template } = fullStack();
    const roles = template.findResources('AWS::IAM::Role', {
      Properties: {
        AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'scheduler.amazonaws.com' } })] },
      },
    });
    const [role] = Object.values(roles);
    const [trust] = (role?.Properties.AssumeRolePolicyDocument.Statement ?? []) as Statement[];
    expect(trust?.Condition).toEqual({
      StringEquals: { 'aws:SourceAccount': '111111111111' },
      ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [expect.stringMatching(/SchedulingGroup/), 'Arn'] } },
    });
  });
});

describe('least privilege (fault 15)', () => {
  let template: Template;
  let stack: Stack;

  beforeAll(() => {
    ({ stack, template } = fullStack());
  });

  // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html:
  // dynamodb:LeadingKeys "represents the first key attribute of a table—in other words, the partition key
  // [...] you must use the ForAllValues modifier" so that every key the request touches must match.
  it('grantEnqueue may only put enqueue keys into the idempotency table: never read or write ctx.once steps', () => {
    const { stack: appStack, jobs } = jobSystemStack();
    const app = new iam.Role(appStack, 'App', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    jobs.grantEnqueue(app);
    const statements = statementsOfRole(Template.fromStack(appStack), '^App');
    const onIdempotency = statements.filter((s) => JSON.stringify(s.Resource).includes('IdempotencyTable'));
    expect(onIdempotency).toEqual([
      {
        Effect: 'Allow',
        Action: 'dynamodb:PutItem',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/IdempotencyTable/), 'Arn'] },
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['enqueue#*'] } },
      },
    ]);
  });

  it('grantResolveSteps may only update or delete ctx.once step items', () => {
    const { stack: appStack, jobs } = jobSystemStack();
    const operators = new iam.Role(appStack, 'Operators', { assumedBy: new iam.AccountRootPrincipal() });
    jobs.grantResolveSteps(operators);
    expect(statementsOfRole(Template.fromStack(appStack), '^Operators')).toEqual([
      {
        Effect: 'Allow',
        Action: ['dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/IdempotencyTable/), 'Arn'] },
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['step#*'] } },
      },
      { Effect: 'Allow', Action: 'cloudformation:DescribeStacks', Resource: { Ref: 'AWS::StackId' } },
    ]);
  });

  // https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html: "Starting in October 2025, new function URLs
  // will require both lambda:InvokeFunctionUrl and lambda:InvokeFunction permissions."
  it('grantInvokeUrl of the dashboard API gives both lambda:InvokeFunctionUrl and lambda:InvokeFunction (via the URL only)', () => {
    const { stack: appStack, jobs } = jobSystemStack({ webDashboard: { enabled: true } });
    const operators = new iam.Role(appStack, 'Operators', { assumedBy: new iam.AccountRootPrincipal() });
    jobs.webDashboard?.grantInvokeUrl(operators);
    const statements = statementsOfRole(Template.fromStack(appStack), '^Operators');
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Action: 'lambda:InvokeFunctionUrl',
          Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } },
        }),
        expect.objectContaining({
          Action: 'lambda:InvokeFunction',
          Condition: { Bool: { 'lambda:InvokedViaFunctionUrl': true } },
        }),
      ]),
    );
    expect(statements.flatMap(actionsOf).sort()).toEqual(['lambda:InvokeFunction', 'lambda:InvokeFunctionUrl']);
  });

  it('passes cdk-nag with the long jobs and the dashboard API', () => {
    const report = new AwsSolutionsChecks(stack).validateScope(stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });

  describe('tracing (fault 16: the README says every function is traced)', () => {
    it('every Lambda function of the stack has active X-Ray tracing, the long-job step function included', () => {
      const functions = template.findResources('AWS::Lambda::Function');
      expect(Object.keys(functions).some((id) => /LongJobsStepFunction/.test(id))).toBe(true);
      for (const [id, fn] of Object.entries(functions)) {
        expect({ id, tracing: fn.Properties.TracingConfig }).toEqual({ id, tracing: { Mode: 'Active' } });
      }
    });

    it('the long-job state machine has tracing enabled', () => {
      template.hasResourceProperties('AWS::StepFunctions::StateMachine', { TracingConfiguration: { Enabled: true } });
    });
  });
});
