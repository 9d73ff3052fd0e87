/**
 * Pause and resume on the emulator: the real stack, the real worker, the real sweeper. MiniStack stops a
 * disabled event source mapping at once and drains the backlog when it is enabled again (checked by hand
 * before writing these tests); on AWS disabling takes a while, which the third test imitates by enabling
 * the mapping behind the pause's back.
 */
import { CloudFormationClient, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient, UpdateEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Registry } from '../../functions/jobs/contracts.js';
import { type JobClient, JobQueue, type JobRecord, localConnection, pauseItemId } from '../../shared/index.js';
import { parseCliJson, parseCliJsonError } from '../helpers/cli-json.js';
import { connectTestClient, runCli, testEndpoint, uniqueName } from './helpers.js';

const QUEUE = 'default';
/**
 * How long a paused queue is watched for a job that starts. An enabled mapping on the emulator
 * delivers a new message and the worker starts it within about a second, so 4 s of stillness is a clear signal.
 */
const WATCH_MS = 4_000;

let jobs: JobClient<Registry>;

beforeAll(async () => {
  jobs = await connectTestClient();
});

afterAll(async () => {
  // Never leave the shared stack paused for the next test file.
  await jobs.resume(QUEUE);
});

async function enqueueEchoes(count: number, tag: string): Promise<string[]> {
  const ids: string[] = [];
  for (let index = 0; index < count; index++) {
    const { jobId } = await jobs.enqueue('demo.echo', { message: `${tag}-${index}` });
    ids.push(jobId);
  }
  return ids;
}

/** Watches `ids` for `ms` (checks at least once): fails as soon as one of them leaves `queued` or was attempted. */
async function expectNoneStart(ids: readonly string[], ms: number): Promise<JobRecord[]> {
  const until = Date.now() + ms;
  let records: JobRecord[] = [];
  for (let first = true; first || Date.now() < until; first = false) {
    records = await jobs.getMany(ids);
    expect(records).toHaveLength(ids.length);
    for (const record of records)
      expect({ id: record.id, state: record.state, attempts: record.attempts }).toEqual({
        id: record.id,
        state: 'queued',
        attempts: 0,
      });
    if (Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  return records;
}

async function expectAllSucceed(ids: readonly string[], timeout: `${number}s`): Promise<void> {
  const records = await Promise.all(ids.map((id) => jobs.wait(id, { timeout })));
  expect(records.map((record) => record.state)).toEqual(ids.map(() => 'succeeded'));
  // Each ran once: the pause cost no attempt.
  expect(records.map((record) => record.attempts)).toEqual(ids.map(() => 1));
}

async function sweeperFunctionName(): Promise<string> {
  const cloudFormation = new CloudFormationClient(localConnection(testEndpoint()));
  let token: string | undefined;
  do {
    const page = await cloudFormation.send(new ListStackResourcesCommand({ StackName: inject('stackName'), NextToken: token }));
    const sweeper = page.StackResourceSummaries?.find(
      (resource) =>
        resource.ResourceType === 'AWS::Lambda::Function' && /^JobSystemSweeper/.test(resource.LogicalResourceId ?? ''),
    );
    if (sweeper?.PhysicalResourceId) return sweeper.PhysicalResourceId;
    token = page.NextToken;
  } while (token);
  throw new Error('the stack has no sweeper function');
}

async function runSweeper(): Promise<{
  pauses?: { resumed: string[]; redisabled: string[]; failed: string[]; paused: string[] };
}> {
  const lambda = new LambdaClient(localConnection(testEndpoint()));
  const output = await lambda.send(new InvokeCommand({ FunctionName: await sweeperFunctionName(), Payload: '{}' }));
  const text = new TextDecoder().decode(output.Payload);
  if (output.FunctionError) throw new Error(`the sweeper failed: ${text}`);
  return JSON.parse(text);
}

function mappingOf(queue: string): string {
  const uuid = jobs.config.queues[queue]?.eventSourceMappingIds?.[0];
  if (!uuid) throw new Error(`the stack lists no event source mapping for '${queue}'`);
  return uuid;
}

describe('pause and resume a logical queue', () => {
  it('holds every job enqueued while paused, queued and unattempted, then resume drains them all', async () => {
    // GIVEN a paused queue
    const paused = await jobs.pause(QUEUE, { reason: 'integration: hold' });
    expect(paused.pause.reason).toBe('integration: hold');
    const [status] = (await jobs.queueStatus()).filter((s) => s.queue === QUEUE);
    expect(status).toMatchObject({ status: 'paused', eventSources: { [mappingOf(QUEUE)]: 'Disabled' } });

    // WHEN jobs are enqueued THEN they all land and none starts
    const ids = await enqueueEchoes(6, uniqueName('paused'));
    await expectNoneStart(ids, WATCH_MS);

    // WHEN resumed THEN every one of them succeeds, each in one attempt
    expect(await jobs.resume(QUEUE)).toEqual({ queue: QUEUE, wasPaused: true });
    await expectAllSucceed(ids, '120s');
    const [after] = (await jobs.queueStatus()).filter((s) => s.queue === QUEUE);
    expect(after).toMatchObject({ status: 'active', eventSources: { [mappingOf(QUEUE)]: 'Enabled' } });
  }, 240_000);

  it('pauses and resumes through the CLI, which shows the pause in `queues` and `stats`', async () => {
    const paused = await runCli(['pause', QUEUE, '--reason', 'cli hold', '--keep-on-deploy']);
    expect(paused).toMatchObject({ code: 0 });
    expect(paused.stdout).toMatch(/default: paused, kept across deploys/);

    // The table's layout is unit-tested (formatQueues); here what it is made of, as --json documents it.
    const queues = await runCli(['queues', '--json']);
    expect(queues.code, queues.stderr).toBe(0);
    expect(parseCliJson('queues', queues.stdout).find((q) => q.queue === QUEUE)).toMatchObject({
      status: 'paused',
      pause: { reason: 'cli hold', keepOnDeploy: true },
      eventSources: { [mappingOf(QUEUE)]: 'Disabled' },
      depths: { name: QUEUE },
    });
    expect((await runCli(['stats'])).stdout).toMatch(/^default\s+paused\s/m);

    const ids = await enqueueEchoes(3, uniqueName('cli'));
    await expectNoneStart(ids, WATCH_MS);

    const resumed = await runCli(['resume', QUEUE, '--json']);
    expect(parseCliJson('resume', resumed.stdout)).toEqual({ queue: QUEUE, wasPaused: true });
    await expectAllSucceed(ids, '120s');
  }, 240_000);

  it('names the queues when the CLI is given an unknown one', async () => {
    // As --json prints it (docs/cli/error.schema.json); cli.test.ts checks the text line of such errors.
    const result = await runCli(['pause', 'no-such-queue', '--json']);
    expect(result.code).toBe(1);
    const { error } = parseCliJsonError(result.stderr);
    expect(error.name).toBe('UnknownQueueError');
    expect(error.message).toMatch(/^stack 'jobstack' has no queue 'no-such-queue' \(queues: [^)]*\bdefault\b[^)]*\)/);
  });

  it('hands back what a still-enabled mapping delivers while paused; the sweeper disables it again (keepOnDeploy)', async () => {
    // GIVEN a pause whose mapping still delivers (AWS's disabling lag, or a deploy that enabled it)
    await jobs.pause(QUEUE, { reason: 'integration: lag', keepOnDeploy: true });
    const lambda = new LambdaClient(localConnection(testEndpoint()));
    await lambda.send(new UpdateEventSourceMappingCommand({ UUID: mappingOf(QUEUE), Enabled: true }));

    // WHEN jobs are enqueued THEN the worker hands each delivery back: none starts, none uses an attempt
    const ids = await enqueueEchoes(3, uniqueName('lag'));
    await expectNoneStart(ids, WATCH_MS);
    // They were delivered and handed back: their copies wait out the 30-second hand-back delay.
    const queue = new JobQueue(new SQSClient(localConnection(testEndpoint())), jobs.config.queues[QUEUE]?.url ?? '');
    // Polled rather than read once: on a loaded machine the deliveries may still be under way.
    const handBackDeadline = Date.now() + 20_000;
    while ((await queue.messageCounts()).delayed < ids.length && Date.now() < handBackDeadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect((await queue.messageCounts()).delayed).toBeGreaterThanOrEqual(ids.length);
    await expectNoneStart(ids, 0);

    // WHEN the sweeper runs THEN it disables the mapping again and keeps the pause. The mapping is enabled
    // once more right before: the stack's own sweeper runs every 5 minutes and may have disabled it meanwhile.
    await lambda.send(new UpdateEventSourceMappingCommand({ UUID: mappingOf(QUEUE), Enabled: true }));
    const run = await runSweeper();
    expect(run.pauses).toEqual({ resumed: [], redisabled: [QUEUE], failed: [], paused: [QUEUE] });
    const [status] = (await jobs.queueStatus()).filter((s) => s.queue === QUEUE);
    expect(status).toMatchObject({ status: 'paused', eventSources: { [mappingOf(QUEUE)]: 'Disabled' } });

    // WHEN resumed THEN the handed-back copies (delayed 30 s) run, each once
    await jobs.resume(QUEUE);
    await expectAllSucceed(ids, '150s');
  }, 300_000);

  it('the sweeper resumes a pause without keepOnDeploy once the stack was deployed after it', async () => {
    // GIVEN a pause recorded before the stack's last update (the deploy of this test run)
    await jobs.pause(QUEUE, { reason: 'integration: until deploy' });
    const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient(localConnection(testEndpoint())));
    await documentClient.send(
      new PutCommand({
        TableName: jobs.config.jobsTable,
        Item: {
          id: pauseItemId(QUEUE),
          kind: 'queue-pause',
          queue: QUEUE,
          pausedAt: '2020-01-01T00:00:00.000Z',
          reason: 'integration: until deploy',
          keepOnDeploy: false,
          stackUpdatedAt: '2020-01-01T00:00:00.000Z',
        },
      }),
    );
    const ids = await enqueueEchoes(2, uniqueName('deploy'));

    // WHEN the sweeper runs THEN it resumes the queue, and the jobs run
    const run = await runSweeper();
    expect(run.pauses).toEqual({ resumed: [QUEUE], redisabled: [], failed: [], paused: [] });
    const [status] = (await jobs.queueStatus()).filter((s) => s.queue === QUEUE);
    expect(status).toMatchObject({ status: 'active', eventSources: { [mappingOf(QUEUE)]: 'Enabled' } });
    await expectAllSucceed(ids, '120s');
  }, 240_000);
});
