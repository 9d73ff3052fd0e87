import { SQSClient } from '@aws-sdk/client-sqs';
import type { AwsConnection } from '../client/connection.js';
import { MetricsReadError } from './errors.js';
import { type SigningCredentials, signPost } from './sigv4.js';

/** A metric as CloudWatch names it: namespace, name and its full set of dimensions. */
export interface MetricId {
  readonly Namespace: string;
  readonly MetricName: string;
  readonly Dimensions?: readonly { readonly Name: string; readonly Value: string }[];
}

/** One query of a GetMetricData request: a metric with its statistic and period, or an expression. */
export interface MetricDataQuery {
  readonly Id: string;
  readonly Label?: string;
  readonly ReturnData?: boolean;
  readonly Period?: number;
  readonly Expression?: string;
  readonly MetricStat?: { readonly Metric: MetricId; readonly Period: number; readonly Stat: string };
}

/** One series GetMetricData answers; `Timestamps` are epoch seconds, parallel to `Values`. */
export interface MetricDataResult {
  readonly Id: string;
  readonly Label?: string;
  readonly StatusCode?: string;
  readonly Timestamps: readonly number[];
  readonly Values: readonly number[];
  readonly Messages?: readonly { readonly Code?: string; readonly Value?: string }[];
}

/**
 * The CloudWatch reads the dashboard's metrics take, shaped as the CloudWatch API's own (the subset used):
 * on AWS and on the local emulator alike. Tests give a fake; `createCloudWatchReader` calls the service.
 */
export interface CloudWatchReader {
  /** The dashboard's body: its widgets as JSON. */
  getDashboard(name: string): Promise<{ readonly DashboardBody: string }>;
  getMetricData(input: {
    readonly MetricDataQueries: readonly MetricDataQuery[];
    readonly StartTime: Date;
    readonly EndTime: Date;
    readonly NextToken?: string;
  }): Promise<{ readonly MetricDataResults: readonly MetricDataResult[]; readonly NextToken?: string }>;
  listMetrics(input: {
    readonly Namespace: string;
    readonly MetricName: string;
    readonly Dimensions: readonly { readonly Name: string }[];
    readonly NextToken?: string;
  }): Promise<{ readonly Metrics: readonly MetricId[]; readonly NextToken?: string }>;
}

const TARGET_PREFIX = 'GraniteServiceVersion20100801';
const REQUEST_TIMEOUT_MS = 15_000;

/**
 * A CloudWatch client over the service's AWS JSON 1.0 protocol
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/making-api-requests.html), signed with
 * SigV4 and the credentials and region the AWS SDK resolves for `connection` (profile, environment, role).
 * jobstack does not depend on `@aws-sdk/client-cloudwatch`; these three reads are all it needs.
 *
 * The endpoint is `connection.endpoint`, else `AWS_ENDPOINT_URL_CLOUDWATCH`, else `AWS_ENDPOINT_URL`, else
 * CloudWatch's regional endpoint.
 *
 * @example
 * const reader = createCloudWatchReader(localConnection('http://127.0.0.1:4566'));
 * const { DashboardBody } = await reader.getDashboard('jobstack-dashboard');
 */
export function createCloudWatchReader(connection: AwsConnection = {}): CloudWatchReader {
  // The SDK's own resolution of credentials and region (the full provider chain), borrowed from a client
  // jobstack already depends on; it sends nothing.
  const resolver = new SQSClient({
    ...(connection.region === undefined ? {} : { region: connection.region }),
    ...(connection.credentials === undefined ? {} : { credentials: connection.credentials }),
  });

  async function call<T>(operation: string, input: unknown): Promise<T> {
    const region = await resolver.config.region();
    const credentials: SigningCredentials = await resolver.config.credentials();
    const endpoint =
      connection.endpoint ??
      process.env.AWS_ENDPOINT_URL_CLOUDWATCH ??
      process.env.AWS_ENDPOINT_URL ??
      `https://monitoring.${region}.amazonaws.com`;
    const url = new URL(endpoint);
    const body = JSON.stringify(input);
    const headers = signPost(
      {
        url,
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `${TARGET_PREFIX}.${operation}` },
        body,
      },
      credentials,
      { region, service: 'monitoring' },
    );
    let response: Response;
    try {
      response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    } catch (error) {
      throw new MetricsReadError(`CloudWatch ${operation} at ${url.origin} failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? {} : JSON.parse(text);
    } catch (error) {
      throw new MetricsReadError(`CloudWatch ${operation} answered ${response.status} with no JSON: ${text.slice(0, 200)}`, {
        cause: error,
      });
    }
    if (!response.ok) {
      const fault = parsed as { __type?: string; message?: string; Message?: string };
      const code = (response.headers.get('x-amzn-query-error')?.split(';')[0] ?? fault.__type ?? 'Error').replace(/^.*#/, '');
      throw new MetricsReadError(`CloudWatch ${operation}: ${code}: ${fault.message ?? fault.Message ?? text.slice(0, 200)}`, {
        code,
      });
    }
    return parsed as T;
  }

  return {
    getDashboard: (name) => call('GetDashboard', { DashboardName: name }),
    async getMetricData({ StartTime, EndTime, ...rest }) {
      const output = await call<{ MetricDataResults?: MetricDataResult[]; NextToken?: string }>('GetMetricData', {
        ...rest,
        StartTime: Math.floor(StartTime.getTime() / 1000),
        EndTime: Math.ceil(EndTime.getTime() / 1000),
        ScanBy: 'TimestampAscending',
      });
      return {
        MetricDataResults: (output.MetricDataResults ?? []).map((result) => ({
          ...result,
          Timestamps: (result.Timestamps ?? []).map(epochSeconds),
          Values: result.Values ?? [],
        })),
        ...(output.NextToken ? { NextToken: output.NextToken } : {}),
      };
    },
    async listMetrics(input) {
      const output = await call<{ Metrics?: MetricId[]; NextToken?: string }>('ListMetrics', input);
      return { Metrics: output.Metrics ?? [], ...(output.NextToken ? { NextToken: output.NextToken } : {}) };
    },
  };
}

/** awsJson1_0 timestamps are epoch seconds; tolerate an ISO string from a lenient server. */
function epochSeconds(value: number | string): number {
  return typeof value === 'number' ? value : Date.parse(value) / 1000;
}
