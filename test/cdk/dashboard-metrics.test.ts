/**
 * What the dashboard's metrics need in the stack: the dashboard's name as an output (the CLI reads it) and,
 * for the deployed dashboard API, its name in the environment and the CloudWatch reads in its role. IAM is
 * evaluated only by AWS, so the grants are pinned here with the page they follow.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { jobSystemStack } from './fixtures/stacks.js';

interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
}

const actionsOf = (statement: Statement) => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]);

describe('dashboard metrics in the stack', () => {
  let template: Template;
  let apiRoleStatements: Statement[];
  let dashboardId: string;

  beforeAll(() => {
    const { stack } = jobSystemStack({ webDashboard: { enabled: true } });
    template = Template.fromStack(stack);
    [dashboardId] = Object.keys(template.findResources('AWS::CloudWatch::Dashboard')) as [string];
    const [api] = Object.values(
      template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('dashboard API') } }),
    );
    const roleId = String(api?.Properties.Role['Fn::GetAtt']?.[0]);
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: Match.arrayWith([{ Ref: roleId }]) },
    });
    apiRoleStatements = Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
  });

  it('outputs the dashboard name under the fixed key DashboardName', () => {
    template.hasOutput('DashboardName', { Value: { Ref: dashboardId } });
  });

  it('gives the dashboard API the dashboard name in JOBSTACK_DASHBOARD_NAME', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('dashboard API'),
      Environment: { Variables: Match.objectLike({ JOBSTACK_DASHBOARD_NAME: { Ref: dashboardId } }) },
    });
  });

  it('lets the dashboard API read that one dashboard, and metric data and lists where IAM allows no narrower resource', () => {
    // https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html: GetDashboard
    // takes the dashboard resource type; GetMetricData and ListMetrics take none, so their resource must be "*".
    const getDashboard = apiRoleStatements.filter((s) => actionsOf(s).includes('cloudwatch:GetDashboard'));
    expect(getDashboard).toHaveLength(1);
    expect(JSON.stringify(getDashboard[0]?.Resource)).toContain(`:dashboard/`);
    expect(JSON.stringify(getDashboard[0]?.Resource)).toContain(dashboardId);
    expect(apiRoleStatements).toContainEqual({
      Effect: 'Allow',
      Action: ['cloudwatch:GetMetricData', 'cloudwatch:ListMetrics'],
      Resource: '*',
    });
    // Read only: nothing in the role may write metrics, dashboards or alarms.
    const cloudWatchActions = apiRoleStatements.flatMap(actionsOf).filter((a) => a.startsWith('cloudwatch:'));
    expect(cloudWatchActions.sort()).toEqual(['cloudwatch:GetDashboard', 'cloudwatch:GetMetricData', 'cloudwatch:ListMetrics']);
  });

  it('gives no CloudWatch reads to a stack without the dashboard API', () => {
    const plain = Template.fromStack(jobSystemStack().stack);
    const statements = Object.values(plain.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Statement[],
    );
    expect(statements.flatMap(actionsOf).filter((a) => /^cloudwatch:(Get|List)/.test(a))).toEqual([]);
  });
});
