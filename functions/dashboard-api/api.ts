import type { EnqueueOptions } from '../../shared/client/job-client.js';
import type { RedriveOptions, RedriveResult } from '../../shared/client/redrive.js';
import { type DashboardMetricsSource, MetricsReadError, parseMetricsWindow } from '../../shared/dashboard-metrics/index.js';
import type { DurationInput } from '../../shared/duration.js';
import type { BatchInfo } from '../../shared/flows/types.js';
import {
  type CancelResult,
  ConfigurationError,
  type FlowControlSummary,
  type FlowState,
  InvalidArgumentError,
  InvalidDurationError,
  InvalidPayloadError,
  isJobState,
  JOB_STATES,
  type JobRecord,
  type JobRegistry,
  type JobState,
  JobstackError,
  type ListPage,
  type ListQuery,
  PayloadTooLargeError,
  UnknownJobTypeError,
} from '../../shared/index.js';
import { UnknownQueueError } from '../../shared/pause/errors.js';
import type { PauseOptions, PauseResult, QueueStatus, ResumeResult } from '../../shared/pause/types.js';
import type { JobStats } from '../../shared/stats.js';
import { isBulkAction, parseBulkFilter, previewBulkAction, runBulkAction } from './bulk-actions.js';
import { describeJobTypes, type JobTypeInfo } from './job-types.js';

/** An HTTP request reduced to what the API reads; built by the node:http server and the Lambda adapter alike. */
export interface ApiRequest {
  readonly method: string;
  /** Path without the query string, e.g. `/api/jobs/01J…`. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** The raw body (JSON for POSTs), if any. */
  readonly body?: string;
}

export interface ApiResponse {
  readonly status: number;
  /** Serialized as JSON. */
  readonly body: unknown;
}

/** What the API needs of a job client: the SDK's own methods, so the UI acts exactly as `jobstack` does. */
export interface DashboardJobs {
  list(query?: ListQuery): Promise<ListPage>;
  get(jobId: string): Promise<JobRecord | undefined>;
  enqueue(
    type: string,
    payload: unknown,
    options?: EnqueueOptions,
  ): Promise<{ readonly jobId: string; readonly state: JobState; readonly created: boolean; readonly throttledBy?: string }>;
  cancel(jobId: string): Promise<CancelResult>;
  retry(jobId: string): Promise<{ readonly jobId: string; readonly outcome: string; readonly state?: string }>;
  redrive(options?: RedriveOptions): Promise<RedriveResult>;
  pause(queue: string, options?: PauseOptions): Promise<PauseResult>;
  resume(queue: string): Promise<ResumeResult>;
  queueStatus(): Promise<QueueStatus[]>;
  flowControl(): FlowControlSummary[];
  flowState(type: string, key?: string): Promise<FlowState>;
  getBatch(batchId: string): Promise<BatchInfo | undefined>;
  readonly config: { readonly stackName: string; readonly queues: Readonly<Record<string, unknown>> };
}

export interface DashboardApiDeps {
  readonly jobs: DashboardJobs;
  readonly stats: () => Promise<JobStats>;
  /**
   * The stack's CloudWatch dashboard, read over a window (`dashboardMetricsSource`).
   *
   * @default - none: `GET /api/metrics` answers 404
   */
  readonly metrics?: DashboardMetricsSource;
  /**
   * The job types the enqueue form offers, with their payload schemas (the registry `jobs` was created with).
   *
   * @default - none: `GET /api/job-types` lists no types and `POST /api/jobs` still enqueues through `jobs`
   */
  readonly registry?: JobRegistry;
}

/** A job as a row of the list: small, no payload or result. */
export interface JobSummary {
  readonly id: string;
  readonly type: string;
  readonly state: string;
  readonly queue: string;
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly error?: string;
  readonly progress?: number;
  /** The job's priority level, on a queue with levels. */
  readonly priority?: string;
}

/** A job's detail: the record, its payload shortened for display, and a console link to its execution. */
export interface JobDetail {
  readonly job: Omit<JobRecord, 'payload'>;
  readonly payloadSummary: string;
  readonly payloadBytes: number;
  readonly executionUrl?: string;
}

/** Longest payload text shown in a job's detail. */
export const PAYLOAD_SUMMARY_CHARS = 2_000;
const MAX_LIST_LIMIT = 100;
const DEFAULT_LIST_LIMIT = 25;
const MAX_BODY_BYTES = 10_000;
/** An enqueue's body carries a payload: the local server's own request limit (64 KiB) is the real bound. */
const MAX_ENQUEUE_BODY_BYTES = 60_000;
const MAX_ID_PREFIX_CHARS = 128;
const MAX_REDRIVE_LIMIT = 10_000;

/** A request the API refuses, with its HTTP status. */
export class ApiError extends JobstackError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/**
 * The dashboard's JSON API as a plain function of a request: no server in it,
 * so it is unit-tested directly, served by `jobstack dashboard` through
 * node:http, and deployed behind a Lambda Function URL (IAM auth) unchanged.
 *
 * Routes:
 * - `GET  /api/overview`                 queue depths and jobs per state (`collectStats`)
 * - `GET  /api/jobs?state=&type=&queue=&idPrefix=&limit=&cursor=`  one page of jobs, newest first
 * - `POST /api/jobs`                     body `{ "type", "payload", "delay"? }`: enqueue through the SDK (its
 *                                         validation errors answer 400 with their name, e.g. InvalidPayloadError)
 * - `GET  /api/job-types`                the registry's job types with their payload JSON Schemas (`describeJobTypes`)
 * - `GET  /api/bulk/:action?state=&type=&queue=&idPrefix=`  `retry` or `cancel`: how many jobs the action would
 *                                         touch (`previewBulkAction`)
 * - `POST /api/bulk/:action`             body `{ "state", "type"?, "queue"?, "idPrefix"?, "limit" }`: run it on
 *                                         at most `limit` of them, reporting done, skipped and failed (`runBulkAction`)
 * - `GET  /api/jobs/:id`                 one job's detail
 * - `POST /api/jobs/:id/retry`           re-run a dead job
 * - `POST /api/jobs/:id/cancel`          cancel (a running job is asked to stop)
 * - `POST /api/queues/:name/redrive`     body `{ "errorName"?: string, "limit"?: number }`
 * - `GET  /api/queues`                   each queue paused (since, why, keepOnDeploy) or active (`queueStatus`)
 * - `POST /api/queues/:name/pause`       body `{ "reason"?: string, "keepOnDeploy"?: boolean }`
 * - `POST /api/queues/:name/resume`
 * - `GET  /api/flow`                     the flow control each job type declares (`flowControl`)
 * - `GET  /api/flow/:type?key=`          one key's flow state (`flowState`)
 * - `GET  /api/batches/:id`              a batch's counts, status, callbacks and members (`getBatch`); the
 *                                         children a waiting parent waits for are a batch too
 * - `GET  /api/metrics?since=1h&period=` the CloudWatch dashboard's metric widgets with their data
 *                                        (`DashboardMetrics`); 502 when CloudWatch cannot be read
 *
 * Errors answer `{ "error": { "name", "message" } }` with 400, 404 or 405; an
 * unexpected failure answers 500 with its message (never a stack).
 *
 * @example
 * const api = createDashboardApi({ jobs, stats: () => collectStats(clients, jobs.config) });
 * const response = await api({ method: 'GET', path: '/api/jobs', query: new URLSearchParams('state=dead') });
 */
export function createDashboardApi(deps: DashboardApiDeps): (request: ApiRequest) => Promise<ApiResponse> {
  const { jobs } = deps;

  async function route(request: ApiRequest): Promise<ApiResponse> {
    const segments = request.path.split('/').filter(Boolean).map(decodeSegment);
    if (segments[0] !== 'api') throw new ApiError(404, `no route ${request.method} ${request.path}`);
    const [, resource, id, action, ...rest] = segments;
    if (rest.length > 0) throw new ApiError(404, `no route ${request.method} ${request.path}`);

    if (resource === 'overview' && id === undefined) {
      allow(request, 'GET');
      return ok(await deps.stats());
    }
    if (resource === 'jobs' && id === undefined && request.method === 'POST') {
      const { type, payload, delay } = enqueueBody(request.body);
      if (deps.registry && !Object.hasOwn(deps.registry, type)) {
        throw new UnknownJobTypeError(type, Object.keys(deps.registry));
      }
      // The delay's text is checked by enqueue itself (InvalidDurationError, 400).
      const job = await jobs.enqueue(type, payload, delay === undefined ? {} : { delay: delay as DurationInput });
      return { status: 201, body: { type, ...job } };
    }
    if (resource === 'job-types' && id === undefined) {
      allow(request, 'GET');
      const jobTypes: JobTypeInfo[] = deps.registry ? describeJobTypes(deps.registry) : [];
      return ok({ jobTypes });
    }
    if (resource === 'bulk' && id !== undefined && action === undefined) {
      if (!isBulkAction(id)) throw new ApiError(404, `no bulk action '${id}' (bulk actions: retry, cancel)`);
      if (request.method === 'GET') {
        const filter = parseBulkFilter(id, Object.fromEntries(request.query));
        return ok(await previewBulkAction(jobs, id, filter));
      }
      allow(request, 'POST');
      const { limit, ...filterInput } = jsonObjectBody(request.body, '{"state":"dead","type":"demo.fail","limit":12}');
      const known = new Set(['state', 'type', 'queue', 'idPrefix']);
      const extra = Object.keys(filterInput).filter((key) => !known.has(key));
      if (extra.length > 0) throw new ApiError(400, `unknown bulk option(s): ${extra.join(', ')}`);
      return ok(await runBulkAction(jobs, id, parseBulkFilter(id, filterInput), limit));
    }
    if (resource === 'jobs' && id === undefined) {
      allow(request, 'GET');
      const page = await jobs.list(listQuery(request.query));
      return ok({ jobs: page.jobs.map(summarize), ...(page.cursor === undefined ? {} : { cursor: page.cursor }) });
    }
    if (resource === 'jobs' && id !== undefined && action === undefined) {
      allow(request, 'GET');
      const record = await jobs.get(id);
      if (!record) throw new ApiError(404, `job '${id}' not found`);
      return ok(detail(record));
    }
    if (resource === 'jobs' && id !== undefined && action === 'retry') {
      allow(request, 'POST');
      const result = await jobs.retry(id);
      if (result.outcome === 'not-found') throw new ApiError(404, `job '${id}' not found`);
      return ok(result);
    }
    if (resource === 'jobs' && id !== undefined && action === 'cancel') {
      allow(request, 'POST');
      const result = await jobs.cancel(id);
      if (result.outcome === 'not-found') throw new ApiError(404, `job '${id}' not found`);
      return ok({ jobId: id, outcome: result.outcome, state: result.record.state });
    }
    if (resource === 'queues' && id === undefined) {
      allow(request, 'GET');
      return ok({ queues: await jobs.queueStatus() });
    }
    if (resource === 'queues' && id !== undefined && action === 'pause') {
      allow(request, 'POST');
      return ok(await jobs.pause(id, pauseOptions(request.body)));
    }
    if (resource === 'queues' && id !== undefined && action === 'resume') {
      allow(request, 'POST');
      return ok(await jobs.resume(id));
    }
    if (resource === 'flow' && id === undefined) {
      allow(request, 'GET');
      return ok({ jobTypes: jobs.flowControl() });
    }
    if (resource === 'flow' && id !== undefined && action === undefined) {
      allow(request, 'GET');
      const key = request.query.get('key');
      return ok(await jobs.flowState(id, key === null || key === '' ? undefined : key));
    }
    if (resource === 'batches' && id !== undefined && action === undefined) {
      allow(request, 'GET');
      const batch = await jobs.getBatch(id);
      if (!batch) throw new ApiError(404, `batch '${id}' not found`);
      return ok(batch);
    }
    if (resource === 'metrics' && id === undefined) {
      allow(request, 'GET');
      if (!deps.metrics) throw new ApiError(404, 'no CloudWatch dashboard to read: metrics are not configured here');
      const window = parseMetricsWindow({
        since: request.query.get('since') || undefined,
        period: request.query.get('period') || undefined,
      });
      try {
        return ok(await deps.metrics(window));
      } catch (error) {
        if (error instanceof MetricsReadError) throw new ApiError(502, error.message);
        // The stack has no dashboard name output (deployed before it existed).
        if (error instanceof ConfigurationError) throw new ApiError(404, error.message);
        throw error;
      }
    }
    if (resource === 'queues' && id !== undefined && action === 'redrive') {
      allow(request, 'POST');
      if (!Object.hasOwn(jobs.config.queues, id)) {
        throw new ApiError(404, `stack '${jobs.config.stackName}' has no queue '${id}'`);
      }
      const options = redriveOptions(request.body);
      const result = await jobs.redrive({ queue: id, ...options });
      return ok({ queue: id, ...result });
    }
    throw new ApiError(404, `no route ${request.method} ${request.path}`);
  }

  return async function handleApiRequest(request) {
    try {
      return await route(request);
    } catch (error) {
      if (error instanceof ApiError) return failure(error.status, error.name, error.message);
      if (error instanceof UnknownQueueError || error instanceof UnknownJobTypeError) {
        return failure(404, error.name, error.message);
      }
      // Bad input the SDK refuses (a payload failing the schema, too large, a bad delay): the caller's to fix.
      if (
        error instanceof InvalidArgumentError ||
        error instanceof InvalidPayloadError ||
        error instanceof PayloadTooLargeError ||
        error instanceof InvalidDurationError
      ) {
        return failure(400, error.name, error.message);
      }
      const named = error instanceof Error ? error : new Error(String(error));
      return failure(500, named.name, named.message);
    }
  };
}

function ok(body: unknown): ApiResponse {
  return { status: 200, body };
}

function failure(status: number, name: string, message: string): ApiResponse {
  return { status, body: { error: { name, message } } };
}

function allow(request: ApiRequest, method: 'GET' | 'POST'): void {
  if (request.method !== method) throw new ApiError(405, `${request.path} takes ${method} (given ${request.method})`);
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ApiError(400, `malformed path segment '${segment}'`);
  }
}

function listQuery(query: URLSearchParams): ListQuery {
  const state = query.get('state') || undefined;
  if (state !== undefined && !isJobState(state)) {
    throw new ApiError(400, `state must be one of ${JOB_STATES.join(', ')} (given '${state}')`);
  }
  const limitText = query.get('limit') || undefined;
  const limit = limitText === undefined ? DEFAULT_LIST_LIMIT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw new ApiError(400, `limit must be 1..${MAX_LIST_LIMIT} (given '${limitText}')`);
  }
  const type = query.get('type') || undefined;
  const queue = query.get('queue') || undefined;
  const idPrefix = query.get('idPrefix') || undefined;
  if (idPrefix !== undefined && idPrefix.length > MAX_ID_PREFIX_CHARS) {
    throw new ApiError(400, `idPrefix must be at most ${MAX_ID_PREFIX_CHARS} characters (given ${idPrefix.length})`);
  }
  const cursor = query.get('cursor') || undefined;
  return {
    limit,
    // Operators read the lists newest first; for the scanned states this reads the table's keys per page.
    newestFirst: true,
    ...(state === undefined ? {} : { state }),
    ...(type === undefined ? {} : { type }),
    ...(queue === undefined ? {} : { queue }),
    ...(idPrefix === undefined ? {} : { idPrefix }),
    ...(cursor === undefined ? {} : { cursor }),
  };
}

/** A POST body as a JSON object (an empty body is `{}`); `example` shows the expected shape in the error. */
function jsonObjectBody(body: string | undefined, example: string, maxBytes = MAX_BODY_BYTES): Record<string, unknown> {
  if (body === undefined || body.trim() === '') return {};
  if (Buffer.byteLength(body) > maxBytes) throw new ApiError(400, `request body is over ${maxBytes} bytes`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw new ApiError(400, `request body is not JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ApiError(400, `request body must be a JSON object like ${example}`);
  }
  return parsed as Record<string, unknown>;
}

/** `{ reason?, keepOnDeploy? }`; the values themselves are checked by `pause` (InvalidArgumentError, 400). */
function pauseOptions(body: string | undefined): PauseOptions {
  const { reason, keepOnDeploy, ...unknown } = jsonObjectBody(body, '{"reason":"provider outage","keepOnDeploy":true}');
  const extra = Object.keys(unknown);
  if (extra.length > 0) throw new ApiError(400, `unknown pause option(s): ${extra.join(', ')}`);
  return {
    ...(reason === undefined ? {} : { reason: reason as string }),
    ...(keepOnDeploy === undefined ? {} : { keepOnDeploy: keepOnDeploy as boolean }),
  };
}

/** `{ type, payload, delay? }`: the payload itself is checked by `enqueue` against the type's schema. */
function enqueueBody(body: string | undefined): { type: string; payload: unknown; delay?: string } {
  const example = '{"type":"email.send","payload":{"to":"a@example.com"},"delay":"30s"}';
  const { type, payload, delay, ...unknown } = jsonObjectBody(body, example, MAX_ENQUEUE_BODY_BYTES);
  const extra = Object.keys(unknown);
  if (extra.length > 0) throw new ApiError(400, `unknown enqueue field(s): ${extra.join(', ')}`);
  if (typeof type !== 'string' || type === '') {
    throw new ApiError(400, `type must be a job type's name (given ${JSON.stringify(type)}), in a body like ${example}`);
  }
  if (payload === undefined) {
    throw new ApiError(400, `payload is required (given none), in a body like ${example}`);
  }
  if (delay !== undefined && (typeof delay !== 'string' || delay === '')) {
    throw new ApiError(400, `delay must be a duration like "30s" or "2h" (given ${JSON.stringify(delay)})`);
  }
  return { type, payload, ...(delay === undefined ? {} : { delay }) };
}

function redriveOptions(body: string | undefined): Omit<RedriveOptions, 'queue'> {
  const { errorName, limit, ...unknown } = jsonObjectBody(body, '{"errorName":"JobTimeoutError","limit":100}');
  const extra = Object.keys(unknown);
  if (extra.length > 0) throw new ApiError(400, `unknown redrive option(s): ${extra.join(', ')}`);
  if (errorName !== undefined && (typeof errorName !== 'string' || errorName.length === 0 || errorName.length > 256)) {
    throw new ApiError(400, `errorName must be a non-empty string (given ${JSON.stringify(errorName)})`);
  }
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_REDRIVE_LIMIT)) {
    throw new ApiError(400, `limit must be an integer 1..${MAX_REDRIVE_LIMIT} (given ${JSON.stringify(limit)})`);
  }
  return {
    ...(errorName === undefined ? {} : { errorName }),
    ...(limit === undefined ? {} : { limit }),
  };
}

function summarize(record: JobRecord): JobSummary {
  return {
    id: record.id,
    type: record.type,
    state: record.state,
    queue: record.queue,
    attempts: record.attempts,
    maxAttempts: record.maxAttempts,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    ...(record.error === undefined ? {} : { error: `${record.error.name}: ${record.error.message}` }),
    ...(record.progress === undefined ? {} : { progress: record.progress.percent }),
    ...(record.priority === undefined ? {} : { priority: record.priority }),
  };
}

function detail(record: JobRecord): JobDetail {
  const { payload, ...job } = record;
  const text = JSON.stringify(payload) ?? 'undefined';
  const executionArn = (record as { executionArn?: unknown }).executionArn;
  const executionUrl = typeof executionArn === 'string' ? executionConsoleUrl(executionArn) : undefined;
  return {
    job,
    payloadSummary: text.length > PAYLOAD_SUMMARY_CHARS ? `${text.slice(0, PAYLOAD_SUMMARY_CHARS - 1)}…` : text,
    payloadBytes: Buffer.byteLength(text),
    ...(executionUrl === undefined ? {} : { executionUrl }),
  };
}

/** The Step Functions console page of an execution, in the execution's own region. */
export function executionConsoleUrl(executionArn: string): string | undefined {
  const region = executionArn.split(':')[3];
  if (!executionArn.startsWith('arn:') || !region) return undefined;
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${encodeURIComponent(executionArn)}`;
}
