import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DashboardEnv } from '../functions/dashboard-api/environment.js';
import { FunctionEnv } from '../shared/config.js';
import { type FunctionBundling, JobstackFunction } from './jobstack-function.js';

/** Opt-in settings of the deployed dashboard API. */
export interface WebDashboardOptions {
  /** Deploy the dashboard API as a Lambda function with an IAM-authenticated Function URL. */
  readonly enabled: boolean;
}

/** Properties of a {@link WebDashboardApi}. */
export interface WebDashboardApiProps extends FunctionBundling {
  readonly jobsTable: dynamodb.ITable;
  readonly idempotencyTable: dynamodb.ITable;
  /** With `workerEventSources`, the API can pause and resume the queue (given `grantPause` of the job system). */
  readonly queues: ReadonlyMap<
    string,
    {
      readonly queue: sqs.IQueue;
      readonly deadLetterQueue: sqs.IQueue;
      /** Priority levels (highest first; the last is `queue`), on a queue with `priorities`. */
      readonly levels?: ReadonlyMap<string, sqs.IQueue>;
      /** The event sources feeding the queue's worker, one per priority level. */
      readonly workerEventSources?: readonly SqsEventSource[];
    }
  >;
  /**
   * Path of the function's entry: a module exporting `handler`, made with `createDashboardApiHandler`
   * over the job system's registry.
   */
  readonly entry: string;
  /**
   * The job system's CloudWatch dashboard: the API's metrics route reads its widgets (GetDashboard) and their
   * data (GetMetricData, ListMetrics for the widgets' SEARCH expressions).
   *
   * @default - no metrics route (it answers 404)
   */
  readonly dashboard?: cloudwatch.Dashboard;
}

/**
 * The web dashboard's JSON API as a Lambda function behind a Function URL.
 *
 * The URL always uses `AWS_IAM` auth: the API retries, cancels and redrives
 * jobs, so only callers with `lambda:InvokeFunctionUrl` and `lambda:InvokeFunction` on it (grant with
 * `grantInvokeUrl`) may reach it, each request signed with SigV4. It is never
 * public. The function may read job records and queue depths, update job
 * records (cancel, retry, redrive), send to the job queues and consume their
 * dead-letter queues (redrive); the `JobSystem` also gives it `grantPause`
 * (pause and resume buttons); nothing else.
 *
 * @example
 * const api = new WebDashboardApi(this, 'DashboardApi', { jobsTable, idempotencyTable, queues, entry });
 * api.grantInvokeUrl(operatorsRole);
 */
export class WebDashboardApi extends Construct {
  public readonly function: NodejsFunction;
  public readonly functionUrl: lambda.FunctionUrl;

  constructor(scope: Construct, id: string, props: WebDashboardApiProps) {
    super(scope, id);
    const queueUrls = Object.fromEntries(
      [...props.queues].map(([name, { queue, deadLetterQueue, levels, workerEventSources }]) => [
        name,
        {
          url: queue.queueUrl,
          deadLetterUrl: deadLetterQueue.queueUrl,
          ...(levels === undefined
            ? {}
            : { levels: [...levels].map(([level, levelQueue]) => ({ name: level, url: levelQueue.queueUrl })) }),
          ...(workerEventSources?.length
            ? { eventSourceMappingIds: workerEventSources.map((source) => source.eventSourceMappingId) }
            : {}),
        },
      ]),
    );
    const { function: fn, role } = new JobstackFunction(this, 'Api', {
      entry: props.entry,
      ...(props.depsLockFilePath === undefined ? {} : { depsLockFilePath: props.depsLockFilePath }),
      ...(props.bundling === undefined ? {} : { bundling: props.bundling }),
      description: 'jobstack dashboard API (Function URL, IAM auth)',
      serviceName: 'jobstack-dashboard-api',
      environment: {
        [FunctionEnv.jobsTable]: props.jobsTable.tableName,
        [FunctionEnv.idempotencyTable]: props.idempotencyTable.tableName,
        [DashboardEnv.stackName]: Stack.of(this).stackName,
        [DashboardEnv.queues]: Stack.of(this).toJsonString(queueUrls),
        ...(props.dashboard === undefined ? {} : { [DashboardEnv.dashboardName]: props.dashboard.dashboardName }),
      },
    });
    this.function = fn;
    this.functionUrl = fn.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });

    props.jobsTable.grant(
      fn,
      'dynamodb:GetItem',
      'dynamodb:BatchGetItem',
      'dynamodb:Query',
      'dynamodb:Scan',
      'dynamodb:UpdateItem',
      // The enqueue form's job records (a conditional create). Its environment names no payload bucket and no
      // schedule group, so it enqueues inline payloads with delays up to 15 minutes (SQS), and needs no more.
      'dynamodb:PutItem',
    );
    for (const { queue, deadLetterQueue, levels } of props.queues.values()) {
      for (const jobQueue of new Set([queue, ...(levels?.values() ?? [])])) {
        jobQueue.grant(fn, 'sqs:GetQueueAttributes');
        jobQueue.grantSendMessages(fn);
      }
      deadLetterQueue.grant(fn, 'sqs:GetQueueAttributes');
      deadLetterQueue.grantConsumeMessages(fn);
    }

    if (props.dashboard !== undefined) this.grantReadMetrics(role, props.dashboard);

    const jobsTableLogicalId = Stack.of(this).getLogicalId(props.jobsTable.node.defaultChild as CfnElement);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${jobsTableLogicalId}.Arn>/index/*]`,
      reason: "CDK grants table access as table/index/*; the jobs table's only index is the attention index stats read.",
    });
  }

  /**
   * GetDashboard on the one dashboard; GetMetricData and ListMetrics on `*`, because neither action supports
   * resource-level permissions (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html:
   * their resource types column is empty), so `*` is the narrowest resource IAM accepts for them.
   */
  private grantReadMetrics(role: iam.IRole, dashboard: cloudwatch.Dashboard): void {
    // Built from the name: aws-cdk-lib's `dashboardArn` leaves the name out when CloudFormation generates it.
    const dashboardArn = Stack.of(this).formatArn({
      service: 'cloudwatch',
      region: '',
      resource: 'dashboard',
      resourceName: dashboard.dashboardName,
    });
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['cloudwatch:GetDashboard'], resources: [dashboardArn] }));
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData', 'cloudwatch:ListMetrics'], resources: ['*'] }),
    );
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'cloudwatch:GetMetricData and cloudwatch:ListMetrics support no resource-level permissions: * is required.',
    });
  }

  /**
   * Lets `grantee` call the Function URL with SigV4-signed requests:
   * `lambda:InvokeFunctionUrl` (auth type `AWS_IAM`) and `lambda:InvokeFunction`
   * only when invoked through the URL (`lambda:InvokedViaFunctionUrl`). Function
   * URLs created since October 2025 need both
   * (https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html); aws-cdk-lib's
   * `grantInvokeUrl` adds both, and test/cdk/aws-rules.test.ts keeps it so.
   */
  public grantInvokeUrl(grantee: iam.IGrantable): iam.Grant {
    return this.function.grantInvokeUrl(grantee);
  }
}
