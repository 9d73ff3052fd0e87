import { describe, expect, it, vi } from 'vitest';
import { type ApiRequest, createDashboardApi, type DashboardJobs } from '../../functions/dashboard-api/api.js';
import { MAX_BULK_JOBS } from '../../functions/dashboard-api/bulk-actions.js';
import { registry as demoContracts } from '../../functions/jobs/contracts.js';
import { createAwsClients, createJobClient, type JobRecord, type JobState, type ListQuery } from '../../shared/index.js';

const STATS = async () => {
  throw new Error('not used');
};

function request(method: string, pathAndQuery: string, body?: unknown): ApiRequest {
  const url = new URL(pathAndQuery, 'http://x');
  return {
    method,
    path: url.pathname,
    query: url.searchParams,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  };
}

function job(id: string, state: JobState, type = 'demo.fail'): JobRecord {
  return {
    id,
    type,
    state,
    queue: 'default',
    attempts: 3,
    maxAttempts: 3,
    payload: {},
    createdAt: `2026-01-01T00:00:${id.slice(-2)}.000Z`,
    updatedAt: `2026-01-01T00:01:${id.slice(-2)}.000Z`,
  };
}

/**
 * A job table in memory behind the SDK's list, retry and cancel, with their outcomes: retry requeues only a
 * dead job, cancel only one not yet ended (asking a running one to stop). `beforeAction` lets a test move a job
 * between the listing and its action, as a worker or another operator would.
 */
function memoryJobs(records: JobRecord[], beforeAction: (jobId: string, table: Map<string, JobRecord>) => void = () => {}) {
  const table = new Map(records.map((record) => [record.id, { ...record }]));
  const jobs: DashboardJobs = {
    list: vi.fn(async (query: ListQuery = {}) => {
      const matching = [...table.values()]
        .filter((record) => query.state === undefined || record.state === query.state)
        .filter((record) => query.type === undefined || record.type === query.type)
        .filter((record) => query.queue === undefined || record.queue === query.queue)
        .filter((record) => query.idPrefix === undefined || record.id.startsWith(query.idPrefix))
        .sort((a, b) => b.id.localeCompare(a.id));
      const start = query.cursor === undefined ? 0 : Number(query.cursor);
      const limit = query.limit ?? 50;
      const page = matching.slice(start, start + limit);
      return start + limit < matching.length ? { jobs: page, cursor: String(start + limit) } : { jobs: page };
    }),
    get: vi.fn(async (id: string) => table.get(id)),
    enqueue: vi.fn(),
    retry: vi.fn(async (jobId: string) => {
      beforeAction(jobId, table);
      const record = table.get(jobId);
      if (!record) return { jobId, outcome: 'not-found' };
      if (record.state !== 'dead') return { jobId, outcome: 'not-dead', state: record.state };
      record.state = 'queued';
      return { jobId, outcome: 'requeued', state: 'queued' };
    }),
    cancel: vi.fn(async (jobId: string) => {
      beforeAction(jobId, table);
      const record = table.get(jobId);
      if (!record) return { outcome: 'not-found' as const };
      if (['succeeded', 'dead', 'cancelled'].includes(record.state)) return { outcome: 'finished' as const, record };
      if (record.state === 'running') return { outcome: 'requested' as const, record: { ...record, cancelRequested: true } };
      record.state = 'cancelled';
      return { outcome: 'cancelled' as const, record };
    }),
    redrive: vi.fn(),
    pause: vi.fn(),
    resume: vi.fn(),
    queueStatus: vi.fn(),
    flowControl: vi.fn(() => []),
    flowState: vi.fn(),
    getBatch: vi.fn(),
    config: { stackName: 'jobstack', queues: { default: {} } },
  };
  return { jobs, table };
}

describe('dashboard API: actions on sets of jobs', () => {
  const records = [
    job('dead-01', 'dead'),
    job('dead-02', 'dead'),
    job('dead-03', 'dead', 'demo.fatal'),
    job('queued-04', 'queued'),
    job('running-05', 'running'),
    job('done-06', 'succeeded'),
  ];

  it('GET /api/bulk/retry counts the dead jobs matching the filter and changes nothing', async () => {
    const { jobs, table } = memoryJobs(records);
    const api = createDashboardApi({ jobs, stats: STATS });
    expect(await api(request('GET', '/api/bulk/retry?state=dead'))).toEqual({
      status: 200,
      body: { action: 'retry', filter: { state: 'dead' }, count: 3, more: false },
    });
    expect((await api(request('GET', '/api/bulk/retry?state=dead&type=demo.fail'))).body).toMatchObject({ count: 2 });
    expect((await api(request('GET', '/api/bulk/retry?state=dead&idPrefix=dead-03'))).body).toMatchObject({ count: 1 });
    expect(jobs.retry).not.toHaveBeenCalled();
    expect([...table.values()].filter((record) => record.state === 'dead')).toHaveLength(3);
  });

  it('POST /api/bulk/retry requeues each matching dead job and skips one that changed state in between', async () => {
    // dead-02 is retried by someone else between the listing and its turn.
    const { jobs, table } = memoryJobs(records, (jobId, current) => {
      const record = current.get(jobId);
      if (jobId === 'dead-02' && record) record.state = 'running';
    });
    const response = await createDashboardApi({ jobs, stats: STATS })(
      request('POST', '/api/bulk/retry', { state: 'dead', type: 'demo.fail', limit: 2 }),
    );
    expect(response).toEqual({
      status: 200,
      body: {
        action: 'retry',
        filter: { state: 'dead', type: 'demo.fail' },
        matched: 2,
        done: 1,
        requested: 0,
        skipped: [{ jobId: 'dead-02', state: 'running' }],
        failed: [],
      },
    });
    expect(table.get('dead-01')?.state).toBe('queued');
    expect(table.get('dead-03')?.state).toBe('dead');
  });

  it('POST /api/bulk/cancel cancels waiting jobs, asks running ones to stop, and touches at most `limit`', async () => {
    const { jobs, table } = memoryJobs([...records, job('queued-07', 'queued'), job('queued-08', 'queued')]);
    const api = createDashboardApi({ jobs, stats: STATS });
    expect((await api(request('GET', '/api/bulk/cancel?state=queued'))).body).toMatchObject({ count: 3 });
    const first = await api(request('POST', '/api/bulk/cancel', { state: 'queued', limit: 2 }));
    expect(first.body).toMatchObject({ matched: 2, done: 2, skipped: [] });
    expect([...table.values()].filter((record) => record.state === 'queued').map((record) => record.id)).toEqual(['queued-04']);
    const running = await api(request('POST', '/api/bulk/cancel', { state: 'running', limit: 5 }));
    expect(running.body).toMatchObject({ matched: 1, done: 0, requested: 1 });
  });

  it('reports a failure of one job and goes on with the others', async () => {
    const { jobs } = memoryJobs(records);
    const retry = jobs.retry;
    jobs.retry = vi.fn(async (jobId: string) => {
      if (jobId === 'dead-02') throw Object.assign(new Error('queue unreachable'), { name: 'EnqueueError' });
      return retry(jobId);
    });
    const response = await createDashboardApi({ jobs, stats: STATS })(
      request('POST', '/api/bulk/retry', { state: 'dead', limit: 3 }),
    );
    expect(response.body).toMatchObject({ done: 2, failed: [{ jobId: 'dead-02', error: 'EnqueueError: queue unreachable' }] });
  });

  it('says when more jobs match than one action takes', async () => {
    const many = Array.from({ length: MAX_BULK_JOBS + 5 }, (_, i) => job(`dead-${String(i).padStart(4, '0')}`, 'dead'));
    const { jobs } = memoryJobs(many);
    const response = await createDashboardApi({ jobs, stats: STATS })(request('GET', '/api/bulk/retry?state=dead'));
    expect(response.body).toMatchObject({ count: MAX_BULK_JOBS, more: true });
  });

  it.each([
    ['GET', '/api/bulk/retry', undefined, /a bulk retry needs a state filter \(dead\): an empty filter would touch every job/],
    ['GET', '/api/bulk/cancel?type=demo.fail', undefined, /a bulk cancel needs a state filter/],
    ['GET', '/api/bulk/retry?state=cancelled', undefined, /a bulk retry applies to jobs in state dead \(given "cancelled"\)/],
    [
      'GET',
      '/api/bulk/cancel?state=succeeded',
      undefined,
      /applies to jobs in state scheduled, queued, retrying, running, waiting/,
    ],
    ['POST', '/api/bulk/retry', {}, /a bulk retry needs a state filter/],
    ['POST', '/api/bulk/retry', { state: 'dead' }, /limit must be the number of jobs to touch, 1\.\.1000.*\(given undefined\)/],
    ['POST', '/api/bulk/retry', { state: 'dead', limit: 5000 }, /limit must be .*\(given 5000\)/],
    [
      'POST',
      '/api/bulk/cancel',
      { state: 'queued', idPrefix: 'x'.repeat(200), limit: 1 },
      /idPrefix must be a string of at most 128/,
    ],
  ])('%s %s %j refuses the filter with BulkFilterError and touches nothing', async (method, path, body, message) => {
    const { jobs } = memoryJobs(records);
    const response = await createDashboardApi({ jobs, stats: STATS })(request(method, path, body));
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: { name: 'BulkFilterError', message: expect.stringMatching(message) } });
    expect(jobs.list).not.toHaveBeenCalled();
    expect(jobs.retry).not.toHaveBeenCalled();
    expect(jobs.cancel).not.toHaveBeenCalled();
  });

  it('answers 404 for an unknown bulk action and 400 for an unknown option', async () => {
    const { jobs } = memoryJobs(records);
    const api = createDashboardApi({ jobs, stats: STATS });
    expect(await api(request('GET', '/api/bulk/delete?state=dead'))).toMatchObject({ status: 404 });
    expect(await api(request('POST', '/api/bulk/retry', { state: 'dead', limit: 1, force: true }))).toMatchObject({
      status: 400,
      body: { error: { message: 'unknown bulk option(s): force' } },
    });
  });

  it('GET /api/jobs passes the id prefix and queue filters to list()', async () => {
    const { jobs } = memoryJobs(records);
    const response = await createDashboardApi({ jobs, stats: STATS })(
      request('GET', '/api/jobs?idPrefix=dead-0&queue=default&limit=10'),
    );
    expect(jobs.list).toHaveBeenCalledWith({ limit: 10, queue: 'default', idPrefix: 'dead-0', newestFirst: true });
    expect((response.body as { jobs: { id: string }[] }).jobs.map((row) => row.id)).toEqual(['dead-03', 'dead-02', 'dead-01']);
  });
});

describe('dashboard API: job types and enqueue', () => {
  // The real SDK client: its validation runs before any AWS call, so bad input never reaches a queue (the
  // endpoint is unreachable: had anything been sent, the answer would be a 500, not the typed 400).
  const sdk = createJobClient({
    registry: demoContracts,
    config: {
      stackName: 'jobstack',
      jobsTable: 'jobs',
      idempotencyTable: 'idempotency',
      queues: { default: { url: 'http://127.0.0.1:1/queue/default', deadLetterUrl: 'http://127.0.0.1:1/queue/default-dlq' } },
    },
    clients: createAwsClients({ region: 'us-east-1', endpoint: 'http://127.0.0.1:1' }),
  });

  it('GET /api/job-types lists each job type with its payload as JSON Schema', async () => {
    const api = createDashboardApi({ jobs: memoryJobs([]).jobs, stats: STATS, registry: demoContracts });
    const { jobTypes } = (await api(request('GET', '/api/job-types'))).body as {
      jobTypes: { name: string; queue: string; payloadSchema?: Record<string, unknown> }[];
    };
    expect(jobTypes.map((type) => type.name)).toEqual(Object.keys(demoContracts).sort());
    expect(jobTypes.find((type) => type.name === 'demo.sleep')).toMatchObject({
      queue: 'default',
      payloadSchema: { type: 'object', properties: { ms: { type: 'integer', minimum: 0, maximum: 840_000 } }, required: ['ms'] },
    });
  });

  it('POST /api/jobs enqueues through the SDK and answers 201 with the job', async () => {
    const { jobs } = memoryJobs([]);
    const api = createDashboardApi({ jobs, stats: STATS, registry: demoContracts });
    const response = await api(request('POST', '/api/jobs', { type: 'demo.echo', payload: { message: 'hi' }, delay: '5s' }));
    expect(jobs.enqueue).toHaveBeenCalledWith('demo.echo', { message: 'hi' }, { delay: '5s' });
    expect(response.status).toBe(201);
  });

  it.each([
    [
      { type: 'demo.echo', payload: { message: 42 } },
      'InvalidPayloadError',
      /invalid payload for job type 'demo.echo': message: /,
    ],
    [{ type: 'demo.nope', payload: {} }, 'UnknownJobTypeError', /unknown job type 'demo.nope' \(known types: .*demo.echo/],
    [{ type: 'demo.echo', payload: { message: 'x' }, delay: 'soon' }, 'InvalidDurationError', /soon/],
    [{ type: 'demo.echo' }, 'ApiError', /payload is required/],
    [{ payload: {} }, 'ApiError', /type must be a job type's name \(given undefined\)/],
    ['{"type":', 'ApiError', /request body is not JSON/],
  ])('POST /api/jobs %j answers one typed error (%s) and enqueues nothing', async (body, name, message) => {
    const api = createDashboardApi({
      jobs: { ...memoryJobs([]).jobs, enqueue: sdk.enqueue },
      stats: STATS,
      registry: demoContracts,
    });
    const response = await api(request('POST', '/api/jobs', body));
    expect(response.status).toBe(name === 'UnknownJobTypeError' ? 404 : 400);
    expect(response.body).toEqual({ error: { name, message: expect.stringMatching(message) } });
  });
});
