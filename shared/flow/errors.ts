import { JobstackError } from '../errors.js';

/**
 * A job's `concurrency.key` or `rateLimit.key` threw, or returned something
 * that is not a key (not a string of 1..128 characters). The job cannot be
 * placed under its limit, and retrying gives the same answer for the same
 * payload: the worker ends it `dead` with this error, like poison input.
 */
export class FlowKeyError extends JobstackError {
  constructor(
    readonly option: 'concurrency' | 'rateLimit',
    readonly outcome: { readonly returned: unknown } | { readonly threw: unknown },
    context: { readonly jobId?: string; readonly jobType: string },
  ) {
    const what =
      'threw' in outcome
        ? `threw: ${outcome.threw instanceof Error ? outcome.threw.message : String(outcome.threw)}`
        : `returned ${describe(outcome.returned)}; a key is a string of 1..128 characters`;
    super(
      `job type '${context.jobType}': ${option}.key ${what}`,
      'threw' in outcome ? { ...context, cause: outcome.threw } : context,
    );
    this.name = 'FlowKeyError';
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value.length === 0 ? "'' (empty)" : `a string of ${value.length} characters`;
  if (value === undefined) return 'undefined';
  try {
    const json = JSON.stringify(value);
    return `${typeof value} ${json && json.length > 60 ? `${json.slice(0, 60)}…` : json}`;
  } catch {
    return typeof value;
  }
}
