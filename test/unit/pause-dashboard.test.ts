import { describe, expect, it, vi } from 'vitest';
import { type ApiRequest, createDashboardApi, type DashboardJobs } from '../../functions/dashboard-api/api.js';
import { InvalidArgumentError, UnknownQueueError } from '../../shared/index.js';
import type { JobStats } from '../../shared/stats.js';

const PAUSE = {
  queue: 'default',
  pausedAt: '2026-12-01T01:00:00.000Z',
  reason: 'outage',
  keepOnDeploy: true,
  stackUpdatedAt: '2026-11-30T00:00:00.000Z',
};

function fakeJobs(overrides: Partial<DashboardJobs> = {}): DashboardJobs {
  return {
    list: vi.fn(),
    get: vi.fn(),
    enqueue: vi.fn(),
    cancel: vi.fn(),
    retry: vi.fn(),
    redrive: vi.fn(),
    pause: vi.fn(async (queue: string) => {
      if (queue !== 'default') throw new UnknownQueueError(queue, ['default'], 'jobstack');
      return { queue, pause: PAUSE, newlyPaused: true };
    }),
    resume: vi.fn(async (queue: string) => ({ queue, wasPaused: true })),
    queueStatus: vi.fn(async () => [
      { queue: 'default', status: 'paused' as const, pause: PAUSE, eventSources: { e: 'Disabled' } },
    ]),
    flowControl: vi.fn(() => []),
    flowState: vi.fn(),
    getBatch: vi.fn(),
    config: { stackName: 'jobstack', queues: { default: {} } },
    ...overrides,
  };
}

function request(method: string, path: string, body?: string): ApiRequest {
  return { method, path, query: new URLSearchParams(), ...(body === undefined ? {} : { body }) };
}

const stats = async () => ({}) as JobStats;

describe('dashboard API: pause and resume', () => {
  it('GET /api/queues lists each queue paused or active', async () => {
    const api = createDashboardApi({ jobs: fakeJobs(), stats });
    const response = await api(request('GET', '/api/queues'));
    expect(response).toEqual({
      status: 200,
      body: { queues: [{ queue: 'default', status: 'paused', pause: PAUSE, eventSources: { e: 'Disabled' } }] },
    });
  });

  it('POST /api/queues/:name/pause passes reason and keepOnDeploy to jobs.pause', async () => {
    const jobs = fakeJobs();
    const api = createDashboardApi({ jobs, stats });
    const response = await api(request('POST', '/api/queues/default/pause', '{"reason":"outage","keepOnDeploy":true}'));
    expect(response.status).toBe(200);
    expect(jobs.pause).toHaveBeenCalledWith('default', { reason: 'outage', keepOnDeploy: true });
  });

  it('POST /api/queues/:name/pause takes an empty body: no reason, until the next deploy', async () => {
    const jobs = fakeJobs();
    await createDashboardApi({ jobs, stats })(request('POST', '/api/queues/default/pause', ''));
    expect(jobs.pause).toHaveBeenCalledWith('default', {});
  });

  it('POST /api/queues/:name/resume resumes', async () => {
    const jobs = fakeJobs();
    const response = await createDashboardApi({ jobs, stats })(request('POST', '/api/queues/default/resume'));
    expect(response).toEqual({ status: 200, body: { queue: 'default', wasPaused: true } });
  });

  it('answers 404 naming the queues for an unknown queue', async () => {
    const response = await createDashboardApi({ jobs: fakeJobs(), stats })(request('POST', '/api/queues/emails/pause'));
    expect(response).toEqual({
      status: 404,
      body: { error: { name: 'UnknownQueueError', message: "stack 'jobstack' has no queue 'emails' (queues: default)" } },
    });
  });

  it.each([
    ['an unknown option', '{"forever":true}', /unknown pause option\(s\): forever/],
    ['a body that is not an object', '[1]', /request body must be a JSON object like \{"reason"/],
  ])('answers 400 for %s', async (_name, body, message) => {
    const response = await createDashboardApi({ jobs: fakeJobs(), stats })(request('POST', '/api/queues/default/pause', body));
    expect(response.status).toBe(400);
    expect((response.body as { error: { message: string } }).error.message).toMatch(message);
  });

  it('answers 400 when the SDK refuses a value (a reason that is not a string)', async () => {
    const jobs = fakeJobs({
      pause: vi.fn(async () => {
        throw new InvalidArgumentError('reason must be a non-empty string of at most 500 characters (given 5)');
      }),
    });
    const response = await createDashboardApi({ jobs, stats })(request('POST', '/api/queues/default/pause', '{"reason":5}'));
    expect(response.status).toBe(400);
    expect(jobs.pause).toHaveBeenCalledWith('default', { reason: 5 });
  });

  it('refuses GET on the pause action', async () => {
    const response = await createDashboardApi({ jobs: fakeJobs(), stats })(request('GET', '/api/queues/default/pause'));
    expect(response.status).toBe(405);
  });
});
