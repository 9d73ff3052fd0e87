import { beforeAll, describe, expect, it } from 'vitest';
import type { Registry } from '../../functions/jobs/contracts.js';
import type { JobClient } from '../../shared/index.js';
import { connectTestClient, runCli, uniqueName } from './helpers.js';

// Flows on the deployed demo stack: the job table's stream feeds the flow coordinator (MiniStack
// delivers DynamoDB stream records to a Lambda event source mapping, filter criteria included), which
// sends the jobs flows create, counts batch members and completes batches.

let jobs: JobClient<Registry>;

beforeAll(async () => {
  jobs = await connectTestClient();
});

describe('flows', () => {
  it('a batch runs its members and its onComplete callback once when the last one ends; getBatch and the CLI show it', async () => {
    const batchId = uniqueName('batch');
    const { jobIds } = await jobs.batch(
      [
        { type: 'demo.echo', payload: { message: 'a' } },
        { type: 'demo.echo', payload: { message: 'b' } },
        { type: 'demo.fail', payload: {} },
      ],
      {
        batchId,
        onComplete: { type: 'demo.batch-done', payload: { label: batchId } },
        onSuccess: { type: 'demo.batch-done', payload: { label: 'never' } },
      },
    );
    expect(jobIds).toEqual([`${batchId}.0`, `${batchId}.1`, `${batchId}.2`]);

    const callback = await jobs.wait(`${batchId}.complete`, { timeout: '90s' });
    expect(callback).toMatchObject({ state: 'succeeded', result: { label: batchId }, callbackOf: batchId });
    expect(await jobs.getBatch(batchId)).toMatchObject({ status: 'complete', total: 3, pending: 0, succeeded: 2, dead: 1 });
    // Not every member succeeded: the onSuccess callback was never created.
    expect(await jobs.get(`${batchId}.success`)).toBeUndefined();

    const cli = await runCli(['batch', batchId]);
    expect(cli.stdout).toMatch(/3 of 3 ended \(2 succeeded, 1 dead, 0 cancelled\), complete/);
    expect(cli.stdout).toMatch(new RegExp(`${batchId}\\.2\\s+demo\\.fail\\s+dead`));
  });

  it('a parent waits for its children without a Lambda, resumes with their results and enqueues its follow-up', async () => {
    const { jobId } = await jobs.enqueue('demo.fanout', { numbers: [1, 2, 3], failing: [2] });
    const parent = await jobs.wait(jobId, { timeout: '90s' });
    // 1 + 9: the child for 2 died, and the parent continued without it.
    expect(parent).toMatchObject({ state: 'succeeded', result: { sum: 10, failed: 1, followUp: `${jobId}.then0` } });
    expect(parent.waitingFor).toBe(`${jobId}.wait1`);
    const followUp = await jobs.wait(`${jobId}.then0`, { timeout: '60s' });
    expect(followUp).toMatchObject({ state: 'succeeded', enqueuedBy: jobId, result: { message: `fanout ${jobId} summed 10` } });
    const child = await jobs.get(`${jobId}.wait1.0`);
    expect(child).toMatchObject({ state: 'succeeded', parentId: jobId, batchId: `${jobId}.wait1`, countedAs: 'succeeded' });

    const cli = await runCli(['get', jobId]);
    expect(cli.stdout).toMatch(/children\s+3 of 3 ended \(2 succeeded, 1 dead, 0 cancelled\), complete/);
    expect((await runCli(['get', `${jobId}.then0`])).stdout).toMatch(new RegExp(`enqueued by\\s+${jobId}`));
  });
});
