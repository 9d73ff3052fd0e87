import { describe, expect, it } from 'vitest';
import { runCli } from './helpers.js';

describe('jobstack CLI against the deployed stack', () => {
  it('enqueues, waits for and gets a demo.echo job', async () => {
    const enqueued = await runCli(['enqueue', 'demo.echo', '--payload', '{"message":"from the cli"}', '--json']);
    expect(enqueued.code, enqueued.stderr).toBe(0);
    const { jobId } = JSON.parse(enqueued.stdout) as { jobId: string };

    const waited = await runCli(['wait', jobId, '--timeout', '60s', '--json']);
    expect(waited.code, waited.stderr).toBe(0);
    expect(JSON.parse(waited.stdout)).toMatchObject({ id: jobId, state: 'succeeded', result: { message: 'from the cli' } });

    const got = await runCli(['get', jobId]);
    expect(got.code).toBe(0);
    expect(got.stdout).toMatch(/state\s+succeeded/);
  });

  it('exits 1 from wait when the job ends dead', async () => {
    const enqueued = await runCli(['enqueue', 'demo.fatal', '--payload', '{}', '--json']);
    const { jobId } = JSON.parse(enqueued.stdout) as { jobId: string };
    const waited = await runCli(['wait', jobId, '--timeout', '60s']);
    expect(waited.code).toBe(1);
    expect(waited.stdout).toMatch(/state\s+dead/);
  });

  it('exits 2 from wait on timeout', async () => {
    const enqueued = await runCli(['enqueue', 'demo.sleep', '--payload', '{"ms":5000}', '--json']);
    const { jobId } = JSON.parse(enqueued.stdout) as { jobId: string };
    const waited = await runCli(['wait', jobId, '--timeout', '1s']);
    expect(waited.code).toBe(2);
  });

  it('lists jobs by state as JSON', async () => {
    const listed = await runCli(['list', '--state', 'dead', '--limit', '5', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const page = JSON.parse(listed.stdout) as { jobs: { state: string }[] };
    expect(page.jobs.every((job) => job.state === 'dead')).toBe(true);
  });

  it.each([
    [['enqueue', 'demo.nope', '--payload', '{}'], /UnknownJobTypeError: unknown job type 'demo.nope'/],
    [['enqueue', 'demo.sleep', '--payload', '{"ms":"x"}'], /InvalidPayloadError: invalid payload for job type 'demo.sleep'/],
    [['enqueue', 'demo.echo', '--payload', '{oops'], /--payload is not valid JSON/],
    [['list', '--state', 'sleeping'], /--state must be one of/],
    [['get', 'no-such-job'], /job 'no-such-job' not found/],
  ])('prints one clear line and exits 1 for %j', async (args, message) => {
    const result = await runCli(args);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('names a missing stack in one line', async () => {
    const result = await runCli(['list', '--stack', 'no-such-stack']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/stack 'no-such-stack' not found/);
  });
});
