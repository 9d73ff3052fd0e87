import { CloudFormationClient, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { Registry } from '../../functions/jobs/contracts.js';
import { isLeanJobId, type JobClient, localConnection } from '../../shared/index.js';
import { connectTestClient, demoLedgerTable, ledgerCount, testEndpoint, uniqueName } from './helpers.js';

let jobs: JobClient<Registry>;

beforeAll(async () => {
  jobs = await connectTestClient();
});

describe('lean enqueueMany through the deployed stack', () => {
  it('runs lean jobs: no record before the start, succeeded records after', async () => {
    const messages = ['a', 'b', 'c'].map((letter) => uniqueName(`lean-${letter}`));
    const { jobIds, failed } = await jobs.enqueueMany(
      messages.map((message) => ({ type: 'demo.echo' as const, payload: { message } })),
      { lean: true },
    );
    expect(failed).toEqual([]);
    const ids = jobIds as string[];
    expect(ids.every(isLeanJobId)).toBe(true);
    const records = await Promise.all(ids.map((id) => jobs.wait(id, { timeout: '60s' })));
    expect(records.map((record) => [record.state, record.attempts, record.type, record.result])).toEqual(
      messages.map((message) => ['succeeded', 1, 'demo.echo', { message }]),
    );
    expect(await jobs.get(ids[0] as string)).toMatchObject({ state: 'succeeded', payload: { message: messages[0] } });
  });

  it('never runs a lean job cancelled before its start; its delivery is deleted unrun', async () => {
    const ledger = await demoLedgerTable();
    const key = uniqueName('lean-cancelled');
    const startTime = Date.now() - 1_000;
    const { jobIds } = await jobs.enqueueMany([{ type: 'demo.effect', payload: { key }, options: { delay: '3s' } }], {
      lean: true,
    });
    const jobId = jobIds[0] as string;
    expect(await jobs.get(jobId)).toBeUndefined();
    const cancelled = await jobs.cancel(jobId);
    expect(cancelled).toMatchObject({ outcome: 'cancelled', record: { id: jobId, state: 'cancelled', attempts: 0 } });
    // The worker received the message after its delay, found the tombstone and skipped it.
    await skippedByWorker(jobId, startTime);
    expect(await ledgerCount(ledger, key)).toBe(0);
    expect(await jobs.get(jobId)).toMatchObject({ state: 'cancelled', attempts: 0, type: 'unknown' });
  });
});

/** Waits (up to 60 s) for the default worker's log line that it skipped the job's delivery as finished. */
async function skippedByWorker(jobId: string, startTime: number): Promise<void> {
  const logs = new CloudWatchLogsClient(localConnection(testEndpoint()));
  const logGroupName = await defaultWorkerLogGroup();
  const deadline = Date.now() + 60_000;
  for (;;) {
    const events = (await logs.send(new FilterLogEventsCommand({ logGroupName, startTime, filterPattern: `"${jobId}"` }))).events;
    if ((events ?? []).some((event) => event.message?.includes('Skipping delivery: the job is already finished'))) return;
    if (Date.now() > deadline) throw new Error(`the worker logged no skipped delivery of ${jobId} within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

async function defaultWorkerLogGroup(): Promise<string> {
  const cloudFormation = new CloudFormationClient(localConnection(testEndpoint()));
  let token: string | undefined;
  do {
    const page = await cloudFormation.send(new ListStackResourcesCommand({ StackName: inject('stackName'), NextToken: token }));
    const group = page.StackResourceSummaries?.find(
      (resource) =>
        resource.ResourceType === 'AWS::Logs::LogGroup' && /^JobSystemWorkerLogsDefault/.test(resource.LogicalResourceId ?? ''),
    );
    if (group?.PhysicalResourceId) return group.PhysicalResourceId;
    token = page.NextToken;
  } while (token);
  throw new Error("the stack has no log group for the default queue's worker");
}
