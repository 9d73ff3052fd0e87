import { describe, expect, it, vi } from 'vitest';
import {
  type ApiRequest,
  createDashboardApi,
  type DashboardJobs,
  executionConsoleUrl,
  PAYLOAD_SUMMARY_CHARS,
} from '../../functions/dashboard-api/api.js';
import { readDashboardEnvironment } from '../../functions/dashboard-api/environment.js';
import { registry as demoContracts } from '../../functions/jobs/contracts.js';
import type { BatchInfo } from '../../shared/flows/types.js';
import {
  ConfigurationError,
  InvalidArgumentError,
  type JobRecord,
  summarizeFlowControl,
  UnknownJobTypeError,
} from '../../shared/index.js';
import type { JobStats } from '../../shared/stats.js';

const DEAD: JobRecord = {
  id: 'job-1',
  type: 'demo.flaky',
  state: 'dead',
  queue: 'default',
  attempts: 3,
  maxAttempts: 3,
  payload: { failTimes: 3 },
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:01:00.000Z',
  error: { name: 'Error', message: 'flaky failure 3 of 3', stack: 'Error: flaky failure\n    at handler', retryable: true },
};

const STATS: JobStats = {
  stackName: 'jobstack',
  at: '2026-01-01T00:00:00.000Z',
  queues: [{ name: 'default', visible: 1, inFlight: 0, delayed: 0, deadLetter: 2 }],
  states: { scheduled: 0, queued: 1, running: 0, retrying: 0, waiting: 0, succeeded: null, dead: 2, cancelled: 0 },
  approximate: ['queued', 'running'],
};

const BATCH: BatchInfo = {
  batchId: 'import-42',
  kind: 'batch',
  status: 'open',
  createdAt: '2026-01-01T00:00:00.000Z',
  total: 3,
  pending: 1,
  succeeded: 1,
  dead: 1,
  cancelled: 0,
  onComplete: { jobId: 'import-42.complete', type: 'demo.batch-done' },
  memberIds: ['import-42.0', 'import-42.1', 'import-42.2'],
};

function fakeJobs(overrides: Partial<DashboardJobs> = {}): DashboardJobs {
  return {
    list: vi.fn(async () => ({ jobs: [DEAD], cursor: 'next-cursor' })),
    get: vi.fn(async (id: string) => (id === DEAD.id ? DEAD : undefined)),
    enqueue: vi.fn(async (type: string) => ({ jobId: `${type}-1`, state: 'queued' as const, created: true })),
    cancel: vi.fn(async () => ({ outcome: 'finished' as const, record: DEAD })),
    retry: vi.fn(async (jobId: string) => ({ jobId, outcome: 'requeued', state: 'queued' })),
    redrive: vi.fn(async () => ({ moved: 2, discarded: 0, leftInPlace: 1 })),
    pause: vi.fn(),
    resume: vi.fn(),
    queueStatus: vi.fn(),
    flowControl: vi.fn(() => summarizeFlowControl(demoContracts)),
    flowState: vi.fn(async (type: string, key?: string) => {
      if (type !== 'demo.tenant-report') throw new UnknownJobTypeError(type, ['demo.tenant-report']);
      return { jobType: type, key: key ?? '*', concurrency: { limit: 2, holders: [] } };
    }),
    getBatch: vi.fn(async (batchId: string) => (batchId === BATCH.batchId ? BATCH : undefined)),
    config: { stackName: 'jobstack', queues: { default: {} } },
    ...overrides,
  };
}

function request(method: string, pathAndQuery: string, body?: string): ApiRequest {
  const url = new URL(pathAndQuery, 'http://x');
  return { method, path: url.pathname, query: url.searchParams, ...(body === undefined ? {} : { body }) };
}

describe('dashboard API', () => {
  it("GET /api/batches/:id answers a batch's counts, callbacks and members; 404 for an unknown one", async () => {
    const api = createDashboardApi({ jobs: fakeJobs(), stats: async () => STATS });
    expect(await api(request('GET', '/api/batches/import-42'))).toEqual({ status: 200, body: BATCH });
    expect(await api(request('GET', '/api/batches/nope'))).toMatchObject({
      status: 404,
      body: { error: { message: "batch 'nope' not found" } },
    });
    expect(await api(request('POST', '/api/batches/import-42'))).toMatchObject({ status: 405 });
  });

  it('GET /api/overview answers the stats', async () => {
    const api = createDashboardApi({ jobs: fakeJobs(), stats: async () => STATS });
    expect(await api(request('GET', '/api/overview'))).toEqual({ status: 200, body: STATS });
  });

  it('GET /api/jobs passes filters and paging to list() and answers summaries without payloads', async () => {
    const jobs = fakeJobs();
    const api = createDashboardApi({ jobs, stats: async () => STATS });
    const response = await api(request('GET', '/api/jobs?state=dead&type=demo.flaky&limit=10&cursor=abc'));
    expect(jobs.list).toHaveBeenCalledWith({ state: 'dead', type: 'demo.flaky', limit: 10, cursor: 'abc', newestFirst: true });
    expect(response).toEqual({
      status: 200,
      body: {
        cursor: 'next-cursor',
        jobs: [
          {
            id: 'job-1',
            type: 'demo.flaky',
            state: 'dead',
            queue: 'default',
            attempts: 3,
            maxAttempts: 3,
            createdAt: DEAD.createdAt,
            updatedAt: DEAD.updatedAt,
            error: 'Error: flaky failure 3 of 3',
          },
        ],
      },
    });
  });

  it('GET /api/jobs uses 25 a page when no limit is given and leaves empty filters out', async () => {
    const jobs = fakeJobs();
    await createDashboardApi({ jobs, stats: async () => STATS })(request('GET', '/api/jobs?state=&type='));
    expect(jobs.list).toHaveBeenCalledWith({ limit: 25, newestFirst: true });
  });

  it.each([
    [
      '/api/jobs?state=finished',
      /state must be one of scheduled, queued, running, retrying, waiting, succeeded, dead, cancelled \(given 'finished'\)/,
    ],
    ['/api/jobs?limit=0', /limit must be 1\.\.100 \(given '0'\)/],
    ['/api/jobs?limit=abc', /limit must be 1\.\.100 \(given 'abc'\)/],
  ])('GET %s answers 400 with the reason', async (path, message) => {
    const jobs = fakeJobs();
    const response = await createDashboardApi({ jobs, stats: async () => STATS })(request('GET', path));
    expect(response.status).toBe(400);
    expect((response.body as { error: { message: string } }).error.message).toMatch(message);
    expect(jobs.list).not.toHaveBeenCalled();
  });

  it('GET /api/jobs/:id answers the record with its payload summarized, stack included', async () => {
    const api = createDashboardApi({ jobs: fakeJobs(), stats: async () => STATS });
    const response = await api(request('GET', '/api/jobs/job-1'));
    expect(response.status).toBe(200);
    const body = response.body as { job: JobRecord; payloadSummary: string; payloadBytes: number; executionUrl?: string };
    expect(body.payloadSummary).toBe('{"failTimes":3}');
    expect(body.payloadBytes).toBe(15);
    expect(body.job).not.toHaveProperty('payload');
    expect(body.job.error?.stack).toContain('at handler');
    expect(body).not.toHaveProperty('executionUrl');
  });

  it('shortens a long payload and links a long job to its Step Functions execution', async () => {
    const arn = 'arn:aws:states:eu-west-1:123456789012:execution:LongJobs:job-2';
    const long = { ...DEAD, id: 'job-2', payload: { text: 'x'.repeat(5000) }, executionArn: arn } as JobRecord;
    const api = createDashboardApi({ jobs: fakeJobs({ get: async () => long }), stats: async () => STATS });
    const body = (await api(request('GET', '/api/jobs/job-2'))).body as { payloadSummary: string; executionUrl: string };
    expect(body.payloadSummary).toHaveLength(PAYLOAD_SUMMARY_CHARS);
    expect(body.payloadSummary.endsWith('…')).toBe(true);
    expect(body.executionUrl).toBe(
      `https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${encodeURIComponent(arn)}`,
    );
  });

  it('GET /api/jobs/:id answers 404 for an unknown job', async () => {
    const response = await createDashboardApi({ jobs: fakeJobs(), stats: async () => STATS })(request('GET', '/api/jobs/nope'));
    expect(response).toEqual({ status: 404, body: { error: { name: 'ApiError', message: "job 'nope' not found" } } });
  });

  it('POST /api/jobs/:id/retry calls retry() and answers its outcome', async () => {
    const jobs = fakeJobs();
    const response = await createDashboardApi({ jobs, stats: async () => STATS })(request('POST', '/api/jobs/job-1/retry'));
    expect(jobs.retry).toHaveBeenCalledWith('job-1');
    expect(response).toEqual({ status: 200, body: { jobId: 'job-1', outcome: 'requeued', state: 'queued' } });
  });

  it('POST /api/jobs/:id/retry answers 404 when retry() finds no job', async () => {
    const jobs = fakeJobs({ retry: async (jobId) => ({ jobId, outcome: 'not-found' }) });
    const response = await createDashboardApi({ jobs, stats: async () => STATS })(request('POST', '/api/jobs/gone/retry'));
    expect(response.status).toBe(404);
  });

  it('POST /api/jobs/:id/cancel answers the outcome and the state the job is in', async () => {
    const jobs = fakeJobs();
    const response = await createDashboardApi({ jobs, stats: async () => STATS })(request('POST', '/api/jobs/job-1/cancel'));
    expect(jobs.cancel).toHaveBeenCalledWith('job-1');
    expect(response).toEqual({ status: 200, body: { jobId: 'job-1', outcome: 'finished', state: 'dead' } });
  });

  it('POST /api/queues/:name/redrive passes the validated options to redrive()', async () => {
    const jobs = fakeJobs();
    const api = createDashboardApi({ jobs, stats: async () => STATS });
    const response = await api(request('POST', '/api/queues/default/redrive', '{"errorName":"JobTimeoutError","limit":50}'));
    expect(jobs.redrive).toHaveBeenCalledWith({ queue: 'default', errorName: 'JobTimeoutError', limit: 50 });
    expect(response).toEqual({ status: 200, body: { queue: 'default', moved: 2, discarded: 0, leftInPlace: 1 } });
  });

  it.each([
    ['not json', /request body is not JSON/],
    ['[1]', /request body must be a JSON object/],
    ['{"limit":0}', /limit must be an integer 1\.\.10000 \(given 0\)/],
    ['{"errorName":""}', /errorName must be a non-empty string \(given ""\)/],
    ['{"queue":"other"}', /unknown redrive option\(s\): queue/],
  ])('POST redrive with body %s answers 400 and redrives nothing', async (body, message) => {
    const jobs = fakeJobs();
    const response = await createDashboardApi({ jobs, stats: async () => STATS })(
      request('POST', '/api/queues/default/redrive', body),
    );
    expect(response.status).toBe(400);
    expect((response.body as { error: { message: string } }).error.message).toMatch(message);
    expect(jobs.redrive).not.toHaveBeenCalled();
  });

  it('POST redrive of a queue the stack does not have answers 404', async () => {
    const jobs = fakeJobs();
    const response = await createDashboardApi({ jobs, stats: async () => STATS })(request('POST', '/api/queues/other/redrive'));
    expect(response.status).toBe(404);
    expect(jobs.redrive).not.toHaveBeenCalled();
  });

  it('GET /api/flow lists the flow control each job type declares', async () => {
    const response = await createDashboardApi({ jobs: fakeJobs(), stats: async () => STATS })(request('GET', '/api/flow'));
    expect(response.status).toBe(200);
    const { jobTypes } = response.body as { jobTypes: { jobType: string }[] };
    expect(jobTypes).toContainEqual({
      jobType: 'demo.tenant-report',
      queue: 'default',
      concurrency: { limit: 2, perKey: true },
      rateLimit: { limit: 20, perMs: 10_000, perKey: true },
    });
    expect(jobTypes.map((job) => job.jobType)).not.toContain('demo.echo');
  });

  it("GET /api/flow/:type answers one key's state; an unknown type is 404; an empty key is none", async () => {
    const jobs = fakeJobs();
    const api = createDashboardApi({ jobs, stats: async () => STATS });
    const shown = await api(request('GET', '/api/flow/demo.tenant-report?key=tenant-1'));
    expect(shown).toEqual({
      status: 200,
      body: { jobType: 'demo.tenant-report', key: 'tenant-1', concurrency: { limit: 2, holders: [] } },
    });
    await api(request('GET', '/api/flow/demo.tenant-report?key='));
    expect(jobs.flowState).toHaveBeenLastCalledWith('demo.tenant-report', undefined);
    const unknown = await api(request('GET', '/api/flow/no.such'));
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: { name: 'UnknownJobTypeError' } });
  });

  it('answers 405 to the wrong method and 404 to an unknown route', async () => {
    const api = createDashboardApi({ jobs: fakeJobs(), stats: async () => STATS });
    expect((await api(request('GET', '/api/jobs/job-1/retry'))).status).toBe(405);
    expect((await api(request('DELETE', '/api/jobs/job-1'))).status).toBe(405);
    expect((await api(request('GET', '/api/nothing'))).status).toBe(404);
    expect((await api(request('GET', '/api/jobs/a/b/c'))).status).toBe(404);
    expect((await api(request('GET', '/api/jobs/%E0%A4%A'))).status).toBe(400);
  });

  it('answers 400 for a client argument error and 500 with the message for anything else', async () => {
    const api = createDashboardApi({
      jobs: fakeJobs({
        redrive: async () => {
          throw new InvalidArgumentError('limit too large');
        },
      }),
      stats: async () => {
        throw new Error('endpoint down');
      },
    });
    expect(await api(request('POST', '/api/queues/default/redrive'))).toEqual({
      status: 400,
      body: { error: { name: 'InvalidArgumentError', message: 'limit too large' } },
    });
    expect(await api(request('GET', '/api/overview'))).toEqual({
      status: 500,
      body: { error: { name: 'Error', message: 'endpoint down' } },
    });
  });

  it('builds no execution link from something that is not an ARN', () => {
    expect(executionConsoleUrl('not-an-arn')).toBeUndefined();
  });
});

describe('dashboard API environment', () => {
  const env = {
    JOBSTACK_STACK_NAME: 'jobstack',
    JOBSTACK_JOBS_TABLE: 'jobs',
    JOBSTACK_IDEMPOTENCY_TABLE: 'idem',
    JOBSTACK_QUEUES: '{"default":{"url":"https://q","deadLetterUrl":"https://dlq"}}',
  };

  it('reads the stack configuration from the environment', () => {
    expect(readDashboardEnvironment(env)).toEqual({
      stackName: 'jobstack',
      jobsTable: 'jobs',
      idempotencyTable: 'idem',
      queues: { default: { url: 'https://q', deadLetterUrl: 'https://dlq' } },
    });
  });

  it.each([
    [{ JOBSTACK_JOBS_TABLE: '' }, /JOBSTACK_JOBS_TABLE is not set/],
    [{ JOBSTACK_QUEUES: 'nope' }, /JOBSTACK_QUEUES is not JSON \(given nope\)/],
    [{ JOBSTACK_QUEUES: '{"default":{"url":"https://q"}}' }, /must map queue names to \{ url, deadLetterUrl \}/],
    [{ JOBSTACK_QUEUES: '{}' }, /must map queue names/],
  ])('fails with a ConfigurationError for %j', (override, message) => {
    expect(() => readDashboardEnvironment({ ...env, ...override })).toThrow(ConfigurationError);
    expect(() => readDashboardEnvironment({ ...env, ...override })).toThrow(message);
  });
});
