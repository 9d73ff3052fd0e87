import { GetScheduleCommand, ResourceNotFoundException, SchedulerClient } from '@aws-sdk/client-scheduler';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Registry, registry } from '../../functions/jobs/contracts.js';
import { connectJobClient, ENVELOPE_VERSION, type JobClient, localConnection } from '../../shared/index.js';
import { oneTimeScheduleName, RECURRING_JOB_ID_PREFIX } from '../../shared/scheduling/names.js';
import { connectTestClient, testEndpoint, uniqueName } from './helpers.js';

let jobs: JobClient<Registry>;
/** Sends every delay over 1 second through EventBridge Scheduler, to see that route fire within the test. */
let viaScheduler: JobClient<Registry>;
let scheduler: SchedulerClient;
let sfn: SFNClient;
let sqs: SQSClient;
const rateSchedule = uniqueName('rate');
let rateCreatedAt = 0;

beforeAll(async () => {
  jobs = await connectTestClient();
  viaScheduler = await connectJobClient({
    registry,
    stackName: inject('stackName'),
    aws: localConnection(testEndpoint()),
    schedulerThreshold: '1s',
  });
  const connection = localConnection(testEndpoint());
  scheduler = new SchedulerClient(connection);
  sfn = new SFNClient(connection);
  sqs = new SQSClient(connection);
  // Started first: a rate schedule fires a minute after creation at the earliest, so the other tests run meanwhile.
  rateCreatedAt = Date.now();
  await jobs.schedule(rateSchedule, { rate: '1 minute' }, 'demo.echo', { message: 'every minute' });
});

afterAll(async () => {
  await jobs?.unschedule(rateSchedule).catch(() => undefined);
});

async function scheduleExists(name: string): Promise<boolean> {
  try {
    await scheduler.send(new GetScheduleCommand({ Name: name, GroupName: jobs.config.scheduling?.groupName }));
    return true;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return false;
    throw error;
  }
}

describe('delays', () => {
  it('a 5 s delay (SQS DelaySeconds) starts no earlier than asked', async () => {
    const before = Date.now();
    const { jobId, state } = await jobs.enqueue('demo.echo', { message: 'delayed' }, { delay: '5s' });
    expect(state).toBe('queued');
    const record = await jobs.wait(jobId, { timeout: '60s' });
    expect(record.state).toBe('succeeded');
    expect(Date.parse(record.startedAt ?? '')).toBeGreaterThanOrEqual(before + 5_000);
  });

  it('a runAt a few seconds ahead starts no earlier than that time', async () => {
    const runAt = new Date(Date.now() + 4_000);
    const { jobId } = await jobs.enqueue('demo.echo', { message: 'at a time' }, { runAt });
    const record = await jobs.wait(jobId, { timeout: '60s' });
    expect(record.state).toBe('succeeded');
    expect(Date.parse(record.startedAt ?? '')).toBeGreaterThanOrEqual(runAt.getTime());
  });

  it('a delay beyond 15 minutes creates a one-time schedule, and cancel deletes it', async () => {
    const { jobId, state } = await jobs.enqueue('demo.echo', { message: 'much later' }, { delay: '20m' });
    expect(state).toBe('scheduled');
    const record = await jobs.get(jobId);
    expect(record).toMatchObject({ state: 'scheduled' });
    expect(Date.parse(record?.runAt ?? '')).toBeGreaterThan(Date.now() + 19 * 60_000);
    expect(await scheduleExists(oneTimeScheduleName(jobId))).toBe(true);

    const cancelled = await jobs.cancel(jobId);
    expect(cancelled.outcome).toBe('cancelled');
    expect(await scheduleExists(oneTimeScheduleName(jobId))).toBe(false);
  });

  it('a job delayed through the scheduler route fires at its runAt and runs once; its schedule deletes itself', async () => {
    const runAt = new Date(Date.now() + 3_000);
    const { jobId, state } = await viaScheduler.enqueue('demo.echo', { message: 'via scheduler' }, { runAt });
    expect(state).toBe('scheduled');
    const record = await jobs.wait(jobId, { timeout: '60s' });
    expect(record).toMatchObject({ state: 'succeeded', attempts: 1, result: { message: 'via scheduler' } });
    expect(Date.parse(record.startedAt ?? '')).toBeGreaterThanOrEqual(runAt.getTime());
    expect(await scheduleExists(oneTimeScheduleName(jobId))).toBe(false);
  });

  it('a fire after cancel does nothing', async () => {
    const { jobId } = await viaScheduler.enqueue('demo.echo', { message: 'cancelled before its time' }, { delay: '30m' });
    expect((await jobs.cancel(jobId)).outcome).toBe('cancelled');
    // The fire a deleted schedule would have sent: the job's own envelope on its queue.
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: jobs.config.queues.default?.url,
        MessageBody: JSON.stringify({
          v: ENVELOPE_VERSION,
          id: jobId,
          type: 'demo.echo',
          payload: { message: 'cancelled before its time' },
          enqueuedAt: new Date().toISOString(),
        }),
      }),
    );
    const marker = await jobs.enqueue('demo.echo', { message: 'after the stray fire' });
    await jobs.wait(marker.jobId, { timeout: '60s' });
    expect(await jobs.get(jobId)).toMatchObject({ state: 'cancelled', attempts: 0 });
  });
});

describe('long jobs on Step Functions', () => {
  it('demo.long with 5 steps completes with progress 100 % and its execution ARN on the record', async () => {
    const { jobId } = await jobs.enqueue('demo.long', { steps: 5, stepMs: 100 });
    const seen: number[] = [];
    const record = await jobs.wait(jobId, {
      timeout: '90s',
      onUpdate: (update) => {
        if (update.progress) seen.push(update.progress.percent);
      },
    });
    expect(record).toMatchObject({ state: 'succeeded', attempts: 1, steps: 5, progress: { percent: 100 }, result: { steps: 5 } });
    expect(seen.at(-1)).toBe(100);
    // One execution per attempt series, named from the job id (see executionName).
    expect(record.executionArn).toMatch(new RegExp(`:execution:[^:]+:${jobId}_r0_q[0-9a-f]{8}$`));
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn: record.executionArn }));
    expect(execution.status).toBe('SUCCEEDED');
  });

  it('demo.long with 10 short steps needs fewer step invocations than steps (several steps share one)', async () => {
    const { jobId } = await jobs.enqueue('demo.long', { steps: 10, stepMs: 0 });
    const record = await jobs.wait(jobId, { timeout: '90s' });
    expect(record).toMatchObject({ state: 'succeeded', steps: 10, result: { steps: 10 } });
    const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn: record.executionArn, maxResults: 1000 }));
    const invocations = (history.events ?? []).filter((event) => event.type === 'TaskScheduled').length;
    expect(invocations).toBeGreaterThanOrEqual(1);
    expect(invocations).toBeLessThan(10);
  });

  it('demo.long-express (maxDuration 2m) runs on the Express state machine with checkpoints and progress', async () => {
    const { jobId } = await jobs.enqueue('demo.long-express', { steps: 5, stepMs: 50 });
    const record = await jobs.wait(jobId, { timeout: '90s' });
    expect(record).toMatchObject({ state: 'succeeded', attempts: 1, steps: 5, progress: { percent: 100 }, result: { steps: 5 } });
    expect(record.executionArn).toMatch(/:jobstack[^:]*-long-jobs-express:|:express:/);
  });

  it('demo.long-express with a step that fails transiently retries from its checkpoint on Express', async () => {
    const { jobId } = await jobs.enqueue('demo.long-express', { steps: 4, stepMs: 10, failAtStep: 3 });
    const record = await jobs.wait(jobId, { timeout: '90s' });
    expect(record).toMatchObject({ state: 'succeeded', attempts: 2, steps: 4, result: { steps: 4 } });
  });

  it('demo.long with a step that fails transiently resumes from its checkpoint and completes', async () => {
    const { jobId } = await jobs.enqueue('demo.long', { steps: 4, stepMs: 50, failAtStep: 3 });
    const record = await jobs.wait(jobId, { timeout: '90s' });
    expect(record).toMatchObject({ state: 'succeeded', attempts: 2, steps: 4, result: { steps: 4 } });
    expect(record.error).toBeUndefined();
  });

  it('cancel of a running long job stops its execution and ends it cancelled', async () => {
    const { jobId } = await jobs.enqueue('demo.long', { steps: 40, stepMs: 500 });
    const running = await waitFor(async () => {
      const record = await jobs.get(jobId);
      return record?.state === 'running' && (record.steps ?? 0) >= 1 ? record : undefined;
    }, 60_000);
    const result = await jobs.cancel(jobId);
    expect(result).toMatchObject({ outcome: 'cancelled', record: { state: 'cancelled' } });
    const execution = await waitFor(async () => {
      const described = await sfn.send(new DescribeExecutionCommand({ executionArn: running.executionArn }));
      return described.status === 'RUNNING' ? undefined : described;
    }, 15_000);
    expect(execution.status).toBe('ABORTED');
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const after = await jobs.get(jobId);
    expect(after?.state).toBe('cancelled');
    expect(after?.steps ?? 0).toBeLessThan(40);
  });
});

describe('recurring schedules', () => {
  it('a rate schedule fires and each fire is one job with the id of its due time; a repeated fire runs once', async () => {
    expect((await jobs.listSchedules()).find((s) => s.name === rateSchedule)).toMatchObject({
      expression: 'rate(1 minute)',
      jobType: 'demo.echo',
      owner: 'runtime',
    });
    const prefix = `${RECURRING_JOB_ID_PREFIX}${rateSchedule}:`;
    const fired = await waitFor(
      async () => {
        const page = await jobs.list({ type: 'demo.echo', limit: 1000 });
        const mine = page.jobs.filter((job) => job.id.startsWith(prefix));
        return mine.length > 0 ? mine : undefined;
      },
      Math.max(10_000, rateCreatedAt + 100_000 - Date.now()),
    );
    const first = fired[0];
    expect(first?.id).toMatch(new RegExp(`^${prefix}\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$`));
    const record = await jobs.wait(first?.id ?? '', { timeout: '30s' });
    expect(record).toMatchObject({ state: 'succeeded', attempts: 1, result: { message: 'every minute' } });

    // A double fire: the same due time delivered again.
    const scheduledTime = (first?.id ?? '').slice(prefix.length);
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: jobs.config.queues.default?.url,
        MessageBody: JSON.stringify({
          v: ENVELOPE_VERSION,
          id: first?.id,
          type: 'demo.echo',
          payload: { message: 'every minute' },
          enqueuedAt: scheduledTime,
        }),
      }),
    );
    const marker = await jobs.enqueue('demo.echo', { message: 'after the double fire' });
    await jobs.wait(marker.jobId, { timeout: '60s' });
    expect(await jobs.get(first?.id ?? '')).toMatchObject({ state: 'succeeded', attempts: 1 });

    expect(await jobs.unschedule(rateSchedule)).toBe(true);
    expect((await jobs.listSchedules()).some((s) => s.name === rateSchedule)).toBe(false);
  });
});

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
