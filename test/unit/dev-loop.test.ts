import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { infrastructureChanges } from '../../cli/dev/infra-drift.js';
import { prettyLogLine } from '../../cli/dev/pretty-logs.js';
import { defineJobContract, defineRegistry } from '../../shared/index.js';

describe('jobstack dev log lines', () => {
  it("prints a job's structured line as time, level, type, id, attempt and message, with its own fields", () => {
    const line = JSON.stringify({
      level: 'WARN',
      message: 'Job failed, retrying',
      timestamp: '2026-12-01T06:25:31.210Z',
      service: 'jobstack-worker',
      function_name: 'in-process-worker',
      jobId: '01ABC',
      jobType: 'email.send',
      attempt: 2,
      error: 'boom',
    });
    expect(prettyLogLine(line)).toBe('06:25:31.210 WARN  email.send 01ABC #2  Job failed, retrying {"error":"boom"}');
  });

  it('drops embedded-metric lines and passes every other line through as it was', () => {
    expect(prettyLogLine(JSON.stringify({ _aws: { CloudWatchMetrics: [] }, jobsSucceeded: 1 }))).toBeUndefined();
    expect(prettyLogLine('plain console.log from a handler')).toBe('plain console.log from a handler');
    expect(prettyLogLine('{ not json')).toBe('{ not json');
    expect(prettyLogLine(JSON.stringify({ some: 'object' }))).toBe('{"some":"object"}');
  });
});

describe('jobstack dev: what needs a deploy', () => {
  const job = (name: string, queue = 'default', schedule?: { name: string; cron: string }) =>
    defineJobContract({ name, queue, schema: z.object({}), ...(schedule ? { schedule: { ...schedule, payload: {} } } : {}) });
  const deployed = { jobTypesByQueue: new Map([['default', ['a', 'b']]]), scheduleNames: [] };

  it('nothing when the saved registry only changes handler code', () => {
    expect(infrastructureChanges(defineRegistry(job('a'), job('b')), deployed)).toEqual([]);
  });

  it('names a queue the stack lacks, a job type its worker lacks, and changed schedules', () => {
    const changes = infrastructureChanges(
      defineRegistry(job('a'), job('b'), job('c'), job('d', 'reports', { name: 'nightly', cron: '0 3 * * ? *' })),
      deployed,
    );
    expect(changes).toEqual([
      "job types c are not on the deployed 'default' worker",
      "queue 'reports' (job types d) is not deployed",
      'declared schedules changed (none → nightly)',
    ]);
  });
});
