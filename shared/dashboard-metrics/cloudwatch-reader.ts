import { CloudWatchClient, type Metric } from '@aws-sdk/client-cloudwatch';
import type { AwsConnection } from '../client/connection.js';
import { MetricsReadError } from './errors.js';

export type { MetricDataQuery, MetricDataResult } from '@aws-sdk/client-cloudwatch';

/** A metric as CloudWatch names it: namespace, name and its full set of dimensions. */
export type MetricId = Metric;

/**
 * The CloudWatch client the dashboard's metrics are read with (GetDashboard, GetMetricData, ListMetrics):
 * the AWS SDK's own, on AWS and on the local emulator alike. Tests mock it with `aws-sdk-client-mock`.
 */
export type CloudWatchReader = CloudWatchClient;

const REQUEST_TIMEOUT_MS = 15_000;

/**
 * A CloudWatch client for `connection`, configured as the job client's own clients are (endpoint, region,
 * credentials; few retries so a stopped endpoint fails quickly). Without `connection.endpoint` the SDK's
 * resolution applies: `AWS_ENDPOINT_URL_CLOUDWATCH`, `AWS_ENDPOINT_URL`, else CloudWatch's regional endpoint.
 *
 * @example
 * const reader = createCloudWatchReader(localConnection('http://127.0.0.1:4566'));
 * const metrics = await readDashboardMetrics(reader, 'jobstack-dashboard', { start, end });
 */
export function createCloudWatchReader(connection: AwsConnection = {}): CloudWatchReader {
  return new CloudWatchClient({
    ...(connection.endpoint === undefined ? {} : { endpoint: connection.endpoint }),
    ...(connection.region === undefined ? {} : { region: connection.region }),
    ...(connection.credentials === undefined ? {} : { credentials: connection.credentials }),
    maxAttempts: 3,
    requestHandler: { requestTimeout: REQUEST_TIMEOUT_MS },
  });
}

/**
 * Runs one CloudWatch read and turns its failure into a {@link MetricsReadError} naming the operation, with
 * CloudWatch's error code (e.g. `ResourceNotFound`, `AccessDenied`) as `code` when the service answered.
 */
export async function cloudWatchRead<T>(operation: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof MetricsReadError) throw error;
    const failure = error as { name?: string; message?: string; $fault?: string };
    if (failure.$fault !== undefined && failure.name !== undefined) {
      throw new MetricsReadError(`CloudWatch ${operation}: ${failure.name}: ${failure.message ?? ''}`, {
        cause: error,
        code: failure.name,
      });
    }
    throw new MetricsReadError(`CloudWatch ${operation} failed: ${failure.message ?? String(error)}`, { cause: error });
  }
}
