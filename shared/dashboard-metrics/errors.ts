import { JobstackError } from '../errors.js';

/**
 * Reading the dashboard or its metrics from CloudWatch failed: the endpoint is unreachable, the caller lacks
 * a permission (`code` is CloudWatch's error code, e.g. `AccessDenied`), or the dashboard does not exist.
 */
export class MetricsReadError extends JobstackError {
  readonly code?: string;

  constructor(message: string, options: { cause?: unknown; code?: string } = {}) {
    super(message, options.cause === undefined ? {} : { cause: options.cause });
    this.name = 'MetricsReadError';
    if (options.code !== undefined) this.code = options.code;
  }
}

/** The dashboard's body is not the JSON of a CloudWatch dashboard, or one of its metric widgets cannot be read. */
export class DashboardBodyError extends JobstackError {
  constructor(message: string) {
    super(message);
    this.name = 'DashboardBodyError';
  }
}
