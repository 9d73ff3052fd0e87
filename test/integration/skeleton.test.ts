import { CloudFormationClient, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { Registry } from '../../functions/jobs/contracts.js';
import { ENVELOPE_VERSION, type JobClient, localConnection, newJobId } from '../../shared/index.js';
import { connectTestClient, demoLedgerTable, findDeadLetter, ledgerCount, testEndpoint, uniqueName } from './helpers.js';

let jobs: JobClient<Registry>;

beforeAll(async () => {
  jobs = await connectTestClient();
});

describe('demo jobs through the deployed stack (SDK)', () => {
  it('demo.echo succeeds with its message as the result', async () => {
    const { jobId } = await jobs.enqueue('demo.echo', { message: 'hello from the test' });
    const record = await jobs.wait(jobId, { timeout: '60s' });
    expect(record).toMatchObject({ state: 'succeeded', attempts: 1, result: { message: 'hello from the test' } });
    expect(record.startedAt).toBeDefined();
    expect(record.finishedAt).toBeDefined();
    expect(record.expiresAt).toBeGreaterThan(Date.now() / 1_000);
  });

  it('demo.sleep sleeps and reports how long', async () => {
    const { jobId } = await jobs.enqueue('demo.sleep', { ms: 300 });
    const record = await jobs.wait(jobId, { timeout: '60s' });
    expect(record).toMatchObject({ state: 'succeeded', result: { sleptMs: 300 } });
    expect(Date.parse(record.finishedAt ?? '') - Date.parse(record.startedAt ?? '')).toBeGreaterThanOrEqual(300);
  });

  it('demo.flaky fails once, is retried after a backoff, and succeeds on attempt 2', async () => {
    const { jobId } = await jobs.enqueue('demo.flaky', { failTimes: 1 });
    const record = await jobs.wait(jobId, { timeout: '90s' });
    expect(record).toMatchObject({ state: 'succeeded', attempts: 2, result: { attempts: 2 } });
  });

  it("the worker's log has the retried job's lines and no SDK warning about the queue URL's host", async () => {
    const startTime = Date.now() - 1_000;
    const { jobId } = await jobs.enqueue('demo.flaky', { failTimes: 1 });
    expect(await jobs.wait(jobId, { timeout: '90s' })).toMatchObject({ state: 'succeeded', attempts: 2 });
    const logs = new CloudWatchLogsClient(localConnection(testEndpoint()));
    const logGroupName = await defaultWorkerLogGroup();
    const linesOf = async (filterPattern: string) =>
      (await logs.send(new FilterLogEventsCommand({ logGroupName, startTime, filterPattern }))).events ?? [];
    // The retry re-sent the message through the worker's SQS client, which is where the warning came from.
    expect((await linesOf(jobId)).length).toBeGreaterThanOrEqual(2);
    expect((await linesOf('differs')).map((event) => event.message)).toEqual([]);
  });

  it('demo.fail ends dead after its three attempts with the last error', async () => {
    const { jobId } = await jobs.enqueue('demo.fail', {});
    const record = await jobs.wait(jobId, { timeout: '120s' });
    expect(record).toMatchObject({ state: 'dead', attempts: 3, error: { name: 'Error', retryable: true } });
    expect(record.error?.message).toMatch(/attempt 3/);
  });

  it('demo.fatal ends dead after one attempt', async () => {
    const { jobId } = await jobs.enqueue('demo.fatal', {});
    const record = await jobs.wait(jobId, { timeout: '60s' });
    expect(record).toMatchObject({ state: 'dead', attempts: 1, error: { name: 'NonRetryableError', retryable: false } });
  });

  it('demo.effect increments its ledger key exactly once', async () => {
    const key = uniqueName('effect');
    const { jobId } = await jobs.enqueue('demo.effect', { key });
    const record = await jobs.wait(jobId, { timeout: '60s' });
    expect(record).toMatchObject({ state: 'succeeded', result: { count: 1 } });
    expect(await ledgerCount(await demoLedgerTable(), key)).toBe(1);
  });

  it('enqueueMany runs every job in the batch', async () => {
    const { jobIds, failed } = await jobs.enqueueMany(
      Array.from({ length: 12 }, (_, i) => ({ type: 'demo.echo' as const, payload: { message: `batch ${i}` } })),
    );
    expect(failed).toEqual([]);
    const records = await Promise.all(jobIds.map((id) => jobs.wait(id ?? '', { timeout: '90s' })));
    expect(records.map((r) => r.state)).toEqual(Array(12).fill('succeeded'));
  });

  it('lists dead jobs from the attention index', async () => {
    const { jobId } = await jobs.enqueue('demo.fatal', {});
    await jobs.wait(jobId, { timeout: '60s' });
    const page = await jobs.list({ state: 'dead', limit: 100 });
    expect(page.jobs.map((job) => job.id)).toContain(jobId);
    expect(page.jobs.every((job) => job.state === 'dead')).toBe(true);
  });

  it('cancels a delayed job before it runs; the worker then skips it', async () => {
    const { jobId } = await jobs.enqueue('demo.echo', { message: 'never' }, { delay: '5s' });
    const cancel = await jobs.cancel(jobId);
    expect(cancel.outcome).toBe('cancelled');
    await new Promise((resolve) => setTimeout(resolve, 9_000));
    const record = await jobs.get(jobId);
    expect(record).toMatchObject({ state: 'cancelled', attempts: 0 });
  });
});

/** The log group of the default queue's worker, read from the stack's resources. */
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

describe('poison input at consume time', () => {
  it('a malformed message sent straight to the queue goes to the DLQ and does not fail its batch mates', async () => {
    const sqs = new SQSClient(localConnection(testEndpoint()));
    const queue = jobs.config.queues.default;
    if (!queue) throw new Error('stack has no default queue');
    const goodIds = [newJobId(), newJobId()];
    const marker = uniqueName('poison');
    const envelope = (id: string) =>
      JSON.stringify({
        v: ENVELOPE_VERSION,
        id,
        type: 'demo.echo',
        payload: { message: id },
        enqueuedAt: new Date().toISOString(),
      });
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queue.url,
        Entries: [
          { Id: 'good0', MessageBody: envelope(goodIds[0] as string) },
          { Id: 'poison', MessageBody: `not json at all ${marker}` },
          { Id: 'good1', MessageBody: envelope(goodIds[1] as string) },
        ],
      }),
    );
    for (const id of goodIds) {
      // The worker creates the record on first sight, and runs each good job exactly once.
      expect(await jobs.wait(id, { timeout: '60s' })).toMatchObject({ state: 'succeeded', attempts: 1 });
    }
    expect(await findDeadLetter(queue.deadLetterUrl, marker)).toMatchObject({ errorName: 'InvalidEnvelopeError' });
  });

  it('a message with a valid envelope but an invalid payload marks its job dead with the reason', async () => {
    const sqs = new SQSClient(localConnection(testEndpoint()));
    const id = newJobId();
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: jobs.config.queues.default?.url ?? '',
        Entries: [
          {
            Id: 'bad',
            MessageBody: JSON.stringify({
              v: 1,
              id,
              type: 'demo.sleep',
              payload: { ms: 'soon' },
              enqueuedAt: new Date().toISOString(),
            }),
          },
        ],
      }),
    );
    const record = await jobs.wait(id, { timeout: '60s' });
    expect(record).toMatchObject({ state: 'dead', attempts: 0, error: { name: 'InvalidPayloadError', retryable: false } });
    expect(record.error?.message).toMatch(/ms/);
  });
});
