import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { createCloudWatchReader, dashboardMetricsSource } from '../../shared/dashboard-metrics/index.js';
import { createJobClient, type JobRegistry } from '../../shared/index.js';
import { functionSqsClient } from '../../shared/queue.js';
import { collectStats } from '../../shared/stats.js';
import { createDashboardApi } from './api.js';
import { readDashboardEnvironment, readDashboardName } from './environment.js';

export interface DashboardApiHandlerOptions {
  /** The job types the dashboard shows and enqueues; contracts suffice. */
  readonly registry: JobRegistry;
}

/** The dashboard API's Lambda handler, behind a Function URL (payload format 2.0). */
export type DashboardApiHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * Creates the dashboard's JSON API behind a Lambda Function URL (IAM auth):
 * the same handlers `jobstack dashboard` serves locally, adapted from the
 * Function URL event. Call it once, at module scope: it reads the stack's
 * configuration from the environment and creates the SDK clients at cold start.
 *
 * @example
 * import { createDashboardApiHandler } from 'jobstack/worker';
 * import registry from './jobs/contracts.js';
 * export const handler = createDashboardApiHandler({ registry });
 * @throws ConfigurationError naming the missing or malformed environment variable
 */
export function createDashboardApiHandler(options: DashboardApiHandlerOptions): DashboardApiHandler {
  const config = readDashboardEnvironment();
  const logger = new Logger({ serviceName: 'jobstack-dashboard-api' });
  const tracer = new Tracer({ serviceName: 'jobstack-dashboard-api' });
  const clients = {
    documentClient: DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})), {
      marshallOptions: { removeUndefinedValues: true },
    }),
    sqs: tracer.captureAWSv3Client(functionSqsClient()),
    // The configuration comes from the environment; only `pause` calls it (the stack's last update time).
    cloudFormation: tracer.captureAWSv3Client(new CloudFormationClient({})),
    // Pause and resume enable and disable the queues' event source mappings.
    lambda: tracer.captureAWSv3Client(new LambdaClient({})),
  };
  const jobs = createJobClient({ registry: options.registry, config, clients });
  const dashboardName = readDashboardName();
  const api = createDashboardApi({
    jobs,
    registry: options.registry,
    stats: () => collectStats(clients, config),
    // The function's own credentials and region, from its environment; its role may read CloudWatch.
    ...(dashboardName === undefined
      ? {}
      : { metrics: dashboardMetricsSource(createCloudWatchReader(), async () => dashboardName) }),
  });

  const lambdaHandler = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const body =
      event.body === undefined
        ? undefined
        : event.isBase64Encoded
          ? Buffer.from(event.body, 'base64').toString('utf8')
          : event.body;
    const response = await api({
      method: event.requestContext.http.method,
      path: event.rawPath,
      query: new URLSearchParams(event.rawQueryString),
      ...(body === undefined ? {} : { body }),
    });
    if (response.status >= 500) logger.error('Dashboard API request failed', { path: event.rawPath, response: response.body });
    return {
      statusCode: response.status,
      headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
      body: JSON.stringify(response.body),
    };
  };

  return middy(lambdaHandler)
    .use(captureLambdaHandler(tracer))
    .use(injectLambdaContext(logger, { resetKeys: true }));
}
