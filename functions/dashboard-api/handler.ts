import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createJobClient } from '../../shared/index.js';
import { collectStats } from '../../shared/stats.js';
import { registry } from '../jobs/registry.js';
import { createDashboardApi } from './api.js';
import { readDashboardEnvironment } from './environment.js';

const config = readDashboardEnvironment();
const logger = new Logger({ serviceName: 'jobstack-dashboard-api' });
const tracer = new Tracer({ serviceName: 'jobstack-dashboard-api' });
const clients = {
  documentClient: DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})), {
    marshallOptions: { removeUndefinedValues: true },
  }),
  sqs: tracer.captureAWSv3Client(new SQSClient({})),
  // Never called: the configuration comes from the environment, not from stack outputs.
  cloudFormation: new CloudFormationClient({}),
};
const jobs = createJobClient({ registry, config, clients });
const api = createDashboardApi({ jobs, stats: () => collectStats(clients, config) });

/**
 * The dashboard's JSON API behind a Lambda Function URL (IAM auth): the same
 * handlers `jobstack dashboard` serves locally, adapted from the Function URL
 * event (payload format 2.0).
 */
export const lambdaHandler = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
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

export const handler = middy(lambdaHandler)
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { resetKeys: true }));
