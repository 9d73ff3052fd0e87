import { SQSClient } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Registry } from '../../functions/jobs/contracts.js';
import { type JobClient, type JobRecord, localConnection } from '../../shared/index.js';
import { parseCliJson } from '../helpers/cli-json.js';
import { connectTestClient, demoLedgerTable, findDeadLetter, ledgerCount, runCli, testEndpoint, uniqueName } from './helpers.js';

let jobs: JobClient<Registry>;

beforeAll(async () => {
  jobs = await connectTestClient();
});

/** The dead-letter message of a job, with the error name the worker attached. */
async function deadLetterFor(jobId: string): Promise<{ errorName?: string } | undefined> {
  const found = await findDeadLetter(jobs.config.queues.default?.deadLetterUrl ?? '', jobId);
  return found && (found.errorName === undefined ? {} : { errorName: found.errorName });
}

describe('retries with backoff', () => {
  it('demo.flaky with failTimes=2 succeeds on attempt 3, each attempt starting no earlier than its backoff allowed', async () => {
    const { jobId } = await jobs.enqueue('demo.flaky', { failTimes: 2 });
    const seen: JobRecord[] = [];
    const record = await jobs.wait(jobId, { timeout: '90s', pollInterval: '50ms', onUpdate: (update) => seen.push(update) });

    expect(record).toMatchObject({ state: 'succeeded', attempts: 3, result: { attempts: 3 } });
    const retryTimes = seen
      .filter((r) => r.state === 'retrying')
      .map((r) => ({ attempt: r.attempts, at: Date.parse(r.nextAttemptAt ?? '') }));
    const starts = seen
      .filter((r) => r.state === 'running')
      .map((r) => ({ attempt: r.attempts, at: Date.parse(r.startedAt ?? '') }));
    for (const retry of retryTimes) {
      const next = starts.find((start) => start.attempt === retry.attempt + 1) ?? { at: Date.parse(record.startedAt ?? '') };
      // SQS visibility is set in whole seconds, rounded up: the next attempt never starts before the planned time.
      expect(next.at).toBeGreaterThanOrEqual(retry.at - 50);
    }
    expect(retryTimes.length).toBeGreaterThanOrEqual(1);
  });
});

describe('dead jobs, retry and redrive', () => {
  it('demo.fail ends dead with its message in the DLQ; retry runs a new series of attempts and keeps the history', async () => {
    const { jobId } = await jobs.enqueue('demo.fail', {});
    const dead = await jobs.wait(jobId, { timeout: '120s' });
    expect(dead).toMatchObject({ state: 'dead', attempts: 3 });
    expect(await deadLetterFor(jobId)).toEqual({ errorName: 'Error' });

    expect(await jobs.retry(jobId)).toEqual({ jobId, outcome: 'requeued', state: 'queued' });
    const again = await jobs.wait(jobId, { timeout: '120s' });
    expect(again).toMatchObject({ state: 'dead', attempts: 6, maxAttempts: 6 });
    expect(again.history).toEqual([expect.objectContaining({ reason: 'retry', state: 'dead', attempts: 3 })]);
    expect(again.error?.message).toMatch(/attempt 6/);
  });

  it('retry of a job that is not dead changes nothing', async () => {
    const { jobId } = await jobs.enqueue('demo.echo', { message: 'fine' });
    await jobs.wait(jobId, { timeout: '60s' });
    expect(await jobs.retry(jobId)).toEqual({ jobId, outcome: 'not-dead', state: 'succeeded' });
  });

  it('demo.fatal ends dead after one attempt', async () => {
    const { jobId } = await jobs.enqueue('demo.fatal', {});
    expect(await jobs.wait(jobId, { timeout: '60s' })).toMatchObject({ state: 'dead', attempts: 1 });
    expect(await deadLetterFor(jobId)).toEqual({ errorName: 'NonRetryableError' });
  });

  it('redrive by error name moves dead letters back; a job that can now succeed does', async () => {
    // Dies after its 3 attempts; the redriven series starts at attempt 4, which succeeds.
    const { jobId } = await jobs.enqueue('demo.flaky', { failTimes: 3 });
    expect(await jobs.wait(jobId, { timeout: '120s' })).toMatchObject({ state: 'dead', attempts: 3 });

    const result = await runCli(['redrive', '--queue', 'default', '--error', 'Error', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(parseCliJson('redrive', result.stdout).moved).toBeGreaterThanOrEqual(1);

    const revived = await jobs.wait(jobId, { timeout: '120s' });
    expect(revived).toMatchObject({ state: 'succeeded', attempts: 4, result: { attempts: 4 } });
    expect(revived.history).toEqual([expect.objectContaining({ reason: 'redrive', attempts: 3 })]);
  });
});

describe('enqueue idempotency', () => {
  it('the same key twice, and five times at once, gives one job and one side effect', async () => {
    const key = uniqueName('idem');
    const ledgerKey = uniqueName('ledger');
    const first = await jobs.enqueue('demo.effect', { key: ledgerKey }, { idempotencyKey: key });
    const concurrent = await Promise.all(
      Array.from({ length: 5 }, () => jobs.enqueue('demo.effect', { key: ledgerKey }, { idempotencyKey: key })),
    );
    expect(first.created).toBe(true);
    expect(new Set([first.jobId, ...concurrent.map((c) => c.jobId)])).toEqual(new Set([first.jobId]));
    expect(concurrent.every((c) => !c.created)).toBe(true);

    expect(await jobs.wait(first.jobId, { timeout: '60s' })).toMatchObject({ state: 'succeeded', result: { count: 1 } });
    const later = await jobs.enqueue('demo.effect', { key: ledgerKey }, { idempotencyKey: key });
    expect(later).toMatchObject({ jobId: first.jobId, created: false, state: 'succeeded' });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await ledgerCount(await demoLedgerTable(), ledgerKey)).toBe(1);
  });

  it('different keys give different jobs', async () => {
    const a = await jobs.enqueue('demo.echo', { message: 'a' }, { idempotencyKey: uniqueName('k') });
    const b = await jobs.enqueue('demo.echo', { message: 'a' }, { idempotencyKey: uniqueName('k') });
    expect(a.jobId).not.toBe(b.jobId);
  });
});

describe('large payloads', () => {
  it('a payload over the inline limit travels through S3 and reaches the handler intact', async () => {
    const message = `big:${'x'.repeat(300_000)}:end`;
    const { jobId } = await jobs.enqueue('demo.echo', { message });
    const record = await jobs.wait(jobId, { timeout: '60s' });
    expect(record.state).toBe('succeeded');
    expect(record.payloadRef?.key).toMatch(new RegExp(`^payloads/${jobId}/[0-9a-f-]{36}\\.json$`));
    // The result is over the record's result limit, so it is stored as its size: the round trip is the proof.
    expect(record.result).toEqual({
      resultTooLarge: true,
      sizeBytes: Buffer.byteLength(JSON.stringify({ message })),
      limitBytes: 100_000,
    });
  });
});

describe('jobs that would otherwise be stuck', () => {
  it('the sweeper re-sends a queued job whose message never reached the queue, and it runs', async () => {
    const { LambdaClient, InvokeCommand } = await import('@aws-sdk/client-lambda');
    const { DynamoDBDocumentClient, PutCommand } = await import('@aws-sdk/lib-dynamodb');
    const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
    const aws = localConnection(testEndpoint());
    const jobId = uniqueName('stranded');
    // Older than the queue's 14-day retention: the sweeper then knows no message for it can exist, even if
    // other tests left messages in the shared queue (with any message there, it leaves a younger job alone).
    const longAgo = new Date(Date.now() - 15 * 86_400_000).toISOString();
    // What a client that crashed between writing the record and sending the message leaves behind.
    await DynamoDBDocumentClient.from(new DynamoDBClient(aws)).send(
      new PutCommand({
        TableName: jobs.config.jobsTable,
        Item: {
          id: jobId,
          type: 'demo.echo',
          state: 'queued',
          queue: 'default',
          attempts: 0,
          maxAttempts: 3,
          payload: { message: 'rescued' },
          correlationId: jobId,
          createdAt: longAgo,
          updatedAt: longAgo,
        },
      }),
    );
    // No message was ever sent for this job: only a sweeper re-send can make it run. The stack's own
    // 5-minute schedule may run the sweeper at the same moment and win the conditional re-send, so this
    // run's `resent` count is not asserted; the job succeeding is the proof.
    const sweeper = await sweeperFunctionName();
    const invoked = await new LambdaClient(aws).send(new InvokeCommand({ FunctionName: sweeper }));
    expect(invoked.FunctionError).toBeUndefined();
    expect(await jobs.wait(jobId, { timeout: '60s' })).toMatchObject({
      state: 'succeeded',
      result: { message: 'rescued' },
    });
  });

  it('a message that exceeded the delivery limit after the last attempt crashed marks its job dead and lands in the DLQ', async () => {
    const { SendMessageCommand } = await import('@aws-sdk/client-sqs');
    const { DynamoDBDocumentClient, UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
    const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
    const { jobId } = await jobs.enqueue('demo.sleep', { ms: 1 }, { delay: '15m' });
    // What crashes on every attempt leave behind: the record `running` on its last allowed attempt, lease expired.
    await DynamoDBDocumentClient.from(new DynamoDBClient(localConnection(testEndpoint()))).send(
      new UpdateCommand({
        TableName: jobs.config.jobsTable,
        Key: { id: jobId },
        UpdateExpression: 'SET #state = :running, attempts = maxAttempts, leaseUntil = :expired',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':running': 'running', ':expired': Date.now() - 1_000 },
      }),
    );
    // Stand-in for SQS's own redrive after repeated crashes: put the message straight on the undeliverable queue.
    const undeliverableUrl = await undeliverableQueueUrl();
    const body = JSON.stringify({
      v: 1,
      id: jobId,
      type: 'demo.sleep',
      payload: { ms: 1 },
      enqueuedAt: new Date().toISOString(),
    });
    await new SQSClient(localConnection(testEndpoint())).send(
      new SendMessageCommand({ QueueUrl: undeliverableUrl, MessageBody: body }),
    );
    const record = await jobs.wait(jobId, { timeout: '60s' });
    expect(record).toMatchObject({ state: 'dead', error: { name: 'DeliveryLimitExceeded' } });
    expect(await deadLetterFor(jobId)).toEqual({ errorName: 'DeliveryLimitExceeded' });
  });
});

async function stackResource(logicalIdPrefix: string, type: string): Promise<string> {
  const { CloudFormationClient, ListStackResourcesCommand } = await import('@aws-sdk/client-cloudformation');
  const cloudFormation = new CloudFormationClient(localConnection(testEndpoint()));
  // ListStackResources answers in pages; the stack has outgrown the first one.
  let nextToken: string | undefined;
  do {
    const page = await cloudFormation.send(
      new ListStackResourcesCommand({ StackName: jobs.config.stackName, NextToken: nextToken }),
    );
    const found = (page.StackResourceSummaries ?? []).find(
      (resource) => resource.ResourceType === type && resource.LogicalResourceId?.startsWith(logicalIdPrefix),
    );
    if (found?.PhysicalResourceId) return found.PhysicalResourceId;
    nextToken = page.NextToken;
  } while (nextToken);
  throw new Error(`stack has no ${type} ${logicalIdPrefix}*`);
}

const sweeperFunctionName = () => stackResource('JobSystemSweeperFunction', 'AWS::Lambda::Function');
const undeliverableQueueUrl = () => stackResource('JobSystemUndeliverableQueueDefault', 'AWS::SQS::Queue');

describe('effectively once inside a job, and cancellation of a running job', () => {
  it('ctx.once keeps a side effect to one run across retries', async () => {
    const key = uniqueName('once');
    const { jobId } = await jobs.enqueue('demo.once', { key, failTimes: 2 });
    expect(await jobs.wait(jobId, { timeout: '90s' })).toMatchObject({
      state: 'succeeded',
      attempts: 3,
      result: { count: 1, attempts: 3 },
    });
    expect(await ledgerCount(await demoLedgerTable(), key)).toBe(1);
  });

  it('cancel of a running job stops it at its next progress check', async () => {
    const { jobId } = await jobs.enqueue('demo.progress', { steps: 40, stepMs: 250 });
    let record = await jobs.get(jobId);
    for (let i = 0; i < 100 && record?.state !== 'running'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      record = await jobs.get(jobId);
    }
    expect((await jobs.cancel(jobId)).outcome).toBe('requested');
    const ended = await jobs.wait(jobId, { timeout: '30s' });
    expect(ended.state).toBe('cancelled');
    expect(ended.progress?.percent ?? 0).toBeLessThan(100);
  });
});
