/**
 * Pause and resume in the stack: what carries the event source mapping ids, and who may flip them. IAM is
 * evaluated only by AWS, so the rules are pinned here with the pages they come from.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { jobSystemStack } from './fixtures/stacks.js';

interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

function statementsOf(template: Template, rolePattern: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: Match.arrayWith([{ Ref: Match.stringLikeRegexp(rolePattern) }]) },
  });
  return Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

const actionsOf = (statement: Statement) => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]);

/** The worker's event source mapping (not the dead-letter handler's): its logical id. */
function workerMappingId(template: Template): string {
  const mappings = template.findResources('AWS::Lambda::EventSourceMapping', {
    Properties: { FunctionName: { Ref: Match.stringLikeRegexp('^JobsWorkerDefault') } },
  });
  const [id] = Object.keys(mappings);
  if (!id) throw new Error('no worker event source mapping');
  return id;
}

/** `arn:<partition>:lambda:<region>:<account>:event-source-mapping:<uuid>` of the mapping `logicalId`. */
function mappingArnOf(logicalId: string) {
  return {
    'Fn::Join': [
      '',
      ['arn:', { Ref: 'AWS::Partition' }, ':lambda:us-east-1:111111111111:event-source-mapping:', { Ref: logicalId }],
    ],
  };
}

describe('pause and resume: grants', () => {
  // https://docs.aws.amazon.com/lambda/latest/dg/lambda-api-permissions-ref.html: "Event source mappings –
  // Actions can be restricted to specific event source mapping resources by ARN" (UpdateEventSourceMapping,
  // GetEventSourceMapping: resource "Event source mapping", condition lambda:FunctionArn), while
  // ListEventSourceMappings supports only "*". So the grants name the mappings' ARNs and never list.
  // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html:
  // dynamodb:LeadingKeys is the partition key, with ForAllValues so every key the request touches must match.
  it('grantPause flips only the workers event source mappings, and writes only the queues pause items', () => {
    const { stack, jobs } = jobSystemStack();
    const operators = new iam.Role(stack, 'Operators', { assumedBy: new iam.AccountRootPrincipal() });
    jobs.grantPause(operators);
    const template = Template.fromStack(stack);
    expect(statementsOf(template, '^Operators')).toEqual([
      {
        Effect: 'Allow',
        Action: ['lambda:UpdateEventSourceMapping', 'lambda:GetEventSourceMapping'],
        Resource: mappingArnOf(workerMappingId(template)),
      },
      {
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/JobsTable/), 'Arn'] },
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['queue#*'] } },
      },
      { Effect: 'Allow', Action: 'cloudformation:DescribeStacks', Resource: { Ref: 'AWS::StackId' } },
    ]);
  });

  it('grantRead lets queueStatus read the mappings state, and nothing more of Lambda', () => {
    const { stack, jobs } = jobSystemStack();
    const readers = new iam.Role(stack, 'Readers', { assumedBy: new iam.AccountRootPrincipal() });
    jobs.grantRead(readers);
    const template = Template.fromStack(stack);
    const lambdaStatements = statementsOf(template, '^Readers').filter((s) => actionsOf(s).some((a) => a.startsWith('lambda:')));
    expect(lambdaStatements).toEqual([
      { Effect: 'Allow', Action: 'lambda:GetEventSourceMapping', Resource: mappingArnOf(workerMappingId(template)) },
    ]);
  });

  it('no role of the stack may list event source mappings or act on every mapping', () => {
    const { stack } = jobSystemStack({ webDashboard: { enabled: true } });
    const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Statement[],
    );
    const mappingStatements = statements.filter((s) => actionsOf(s).some((a) => /EventSourceMapping/.test(a)));
    expect(mappingStatements.length).toBeGreaterThan(0);
    for (const statement of mappingStatements) {
      expect(actionsOf(statement)).not.toContain('lambda:ListEventSourceMappings');
      expect(JSON.stringify(statement.Resource)).toContain(':event-source-mapping:');
    }
  });

  it('bindClient gives a function the mappings ids in JOBSTACK_CONFIG and grantPause', () => {
    const { stack, jobs } = jobSystemStack();
    const fn = new lambda.Function(stack, 'Api', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      description: 'the app, bound as a client',
      code: lambda.Code.fromInline('exports.handler = async () => {}'),
    });
    jobs.bindClient(fn);
    const template = Template.fromStack(stack);
    const mappingId = workerMappingId(template);
    const functions = template.findResources('AWS::Lambda::Function', {
      Properties: { Description: 'the app, bound as a client' },
    });
    const config = JSON.stringify(Object.values(functions)[0]?.Properties.Environment.Variables.JOBSTACK_CONFIG);
    expect(config).toContain('eventSourceMappingIds');
    expect(config).toContain(`"Ref":"${mappingId}"`);
    const actions = statementsOf(template, '^ApiServiceRole').flatMap(actionsOf);
    expect(actions).toEqual(expect.arrayContaining(['lambda:UpdateEventSourceMapping', 'lambda:GetEventSourceMapping']));
  });
});

describe('pause and resume: the sweeper, the dashboard API and the outputs', () => {
  let template: Template;
  let mappingId: string;

  beforeAll(() => {
    const { stack } = jobSystemStack({ webDashboard: { enabled: true } });
    template = Template.fromStack(stack);
    mappingId = workerMappingId(template);
  });

  it('the sweeper knows its stack and each queue mappings, and may flip them and read the stack time', () => {
    const sweepers = template.findResources('AWS::Lambda::Function', {
      Properties: { Description: Match.stringLikeRegexp('re-sends or marks dead') },
    });
    const [sweeper] = Object.values(sweepers);
    const variables = sweeper?.Properties.Environment.Variables;
    expect(variables.JOBSTACK_STACK_NAME).toBe('TestStack');
    expect(JSON.stringify(variables.JOBSTACK_QUEUES)).toContain(`"Ref":"${mappingId}"`);
    const roleId = String(sweeper?.Properties.Role['Fn::GetAtt']?.[0]);
    expect(statementsOf(template, `^${roleId}`)).toEqual(
      expect.arrayContaining([
        {
          Effect: 'Allow',
          Action: ['lambda:UpdateEventSourceMapping', 'lambda:GetEventSourceMapping'],
          Resource: mappingArnOf(mappingId),
        },
        { Effect: 'Allow', Action: 'cloudformation:DescribeStacks', Resource: { Ref: 'AWS::StackId' } },
      ]),
    );
  });

  it('the dashboard API gets the mappings ids and grantPause (its pause and resume buttons)', () => {
    const apis = template.findResources('AWS::Lambda::Function', {
      Properties: { Description: Match.stringLikeRegexp('dashboard API') },
    });
    const [api] = Object.values(apis);
    expect(JSON.stringify(api?.Properties.Environment.Variables.JOBSTACK_QUEUES)).toContain(`"Ref":"${mappingId}"`);
    const roleId = String(api?.Properties.Role['Fn::GetAtt']?.[0]);
    expect(statementsOf(template, `^${roleId}`).flatMap(actionsOf)).toEqual(
      expect.arrayContaining(['lambda:UpdateEventSourceMapping', 'dynamodb:DeleteItem', 'cloudformation:DescribeStacks']),
    );
  });

  it('outputs each queue mappings ids for the CLI and connectJobClient', () => {
    template.hasOutput('EventSourceMappingIdsDefault', { Value: { Ref: mappingId } });
  });
});
