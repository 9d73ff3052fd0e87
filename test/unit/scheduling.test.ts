import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJob, ENVELOPE_VERSION, InvalidArgumentError, parseEnvelope } from '../../shared/index.js';
import { planSchedules } from '../../shared/scheduling/declared.js';
import {
  atExpression,
  executionName,
  InvalidScheduleError,
  JobScheduler,
  oneTimeScheduleName,
  planDelay,
  recurringEnvelopeTemplate,
  recurringJobId,
  SCHEDULED_TIME_PLACEHOLDER,
  ScheduleError,
  ScheduleOwner,
  safeName,
  toRecurrence,
} from '../../shared/scheduling/index.js';

const NOW = Date.parse('2026-03-22T10:00:00.000Z');

describe('planDelay', () => {
  it('starts now without delay or runAt, or with a runAt in the past', () => {
    expect(planDelay({}, NOW)).toEqual({ route: 'now' });
    expect(planDelay({ runAt: new Date(NOW - 1_000) }, NOW)).toEqual({ route: 'now' });
  });

  it('sends delays up to 15 minutes through SQS DelaySeconds, rounded up to whole seconds', () => {
    expect(planDelay({ delay: '90s' }, NOW)).toMatchObject({ route: 'sqs', delaySeconds: 90 });
    expect(planDelay({ delay: 1_500 }, NOW)).toMatchObject({ route: 'sqs', delaySeconds: 2 });
    expect(planDelay({ delay: '15m' }, NOW)).toMatchObject({ route: 'sqs', delaySeconds: 900 });
  });

  it('sends delays beyond 15 minutes through a one-time schedule at now + delay', () => {
    expect(planDelay({ delay: '901s' }, NOW)).toEqual({ route: 'scheduler', runAt: new Date(NOW + 901_000) });
    expect(planDelay({ delay: '30d' }, NOW)).toEqual({ route: 'scheduler', runAt: new Date(NOW + 30 * 86_400_000) });
    expect(planDelay({ runAt: new Date(NOW + 3 * 3_600_000) }, NOW)).toMatchObject({ route: 'scheduler' });
  });

  it('uses the scheduler route above a lowered threshold', () => {
    expect(planDelay({ delay: '5s' }, NOW, 2_000)).toEqual({ route: 'scheduler', runAt: new Date(NOW + 5_000) });
    expect(planDelay({ delay: '2s' }, NOW, 2_000)).toMatchObject({ route: 'sqs', delaySeconds: 2 });
  });

  it('fails on both delay and runAt, an invalid date, or a threshold over 15 minutes', () => {
    expect(() => planDelay({ delay: '1s', runAt: new Date(NOW) }, NOW)).toThrow(InvalidArgumentError);
    expect(() => planDelay({ runAt: new Date(Number.NaN) }, NOW)).toThrow(/runAt must be a valid Date/);
    expect(() => planDelay({ delay: '1s' }, NOW, 16 * 60_000)).toThrow(
      /schedulerThreshold must be 0..15 minutes, the SQS delay limit \(given 960000 ms\)/,
    );
  });
});

describe('names', () => {
  it('maps job ids one-to-one onto Scheduler and Step Functions names', () => {
    expect(safeName('01ARZ3NDEKTSV4RRFFQ69G5FAV', 64)).toBe('01ARZ3NDEKTSV4RRFFQ69G5FAV');
    expect(safeName('a:b', 64)).toBe('a_cb');
    expect(safeName('a_cb', 64)).toBe('a__cb');
    const ids = ['a:b', 'a_cb', 'a__b', 'a_:b', 'x'.repeat(128), `${'x'.repeat(127)}y`, 'sched:nightly:2026-03-22T03:00:00Z'];
    const names = ids.map((id) => safeName(id, 64));
    expect(new Set(names).size).toBe(ids.length);
    for (const name of names) expect(name).toMatch(/^[A-Za-z0-9._-]{1,64}$/);
  });

  it('names one-time schedules and executions within their limits, deterministically', () => {
    const long = `sched:${'n'.repeat(64)}:2026-03-22T03:00:00Z`;
    expect(oneTimeScheduleName(long)).toMatch(/^once\.[A-Za-z0-9._-]{1,59}$/);
    expect(oneTimeScheduleName(long)).toBe(oneTimeScheduleName(long));
    const series = { attempts: 5, queuedAt: '2026-03-22T03:00:00.000Z' };
    expect(executionName('job-1', series)).toMatch(/^job-1_r5_q[0-9a-f]{8}$/);
    expect(executionName('job-1', series)).toBe(executionName('job-1', { ...series }));
    expect(executionName(long, series).length).toBeLessThanOrEqual(72);
    expect(executionName(long, series)).not.toContain(':');
  });

  it('gives each fire of a recurring schedule an id from its name and due time', () => {
    const id = recurringJobId('nightly-report', '2026-03-22T03:00:00Z');
    expect(id).toBe('sched:nightly-report:2026-03-22T03:00:00Z');
    expect(recurringJobId('nightly-report', '2026-03-22T03:00:00Z')).toBe(id);
    expect(recurringJobId('nightly-report', '2026-03-23T03:00:00Z')).not.toBe(id);
  });
});

describe('recurringEnvelopeTemplate', () => {
  it('becomes a valid envelope with the per-fire job id once Scheduler fills in the due time', () => {
    const template = recurringEnvelopeTemplate('nightly-report', 'demo.echo', { message: 'hi' });
    expect(template.split(SCHEDULED_TIME_PLACEHOLDER)).toHaveLength(3);
    const fired = template.replaceAll(SCHEDULED_TIME_PLACEHOLDER, '2026-03-22T03:00:00Z');
    const parsed = parseEnvelope(fired);
    expect(parsed).toEqual({
      ok: true,
      envelope: {
        v: ENVELOPE_VERSION,
        id: 'sched:nightly-report:2026-03-22T03:00:00Z',
        type: 'demo.echo',
        payload: { message: 'hi' },
        enqueuedAt: '2026-03-22T03:00:00Z',
      },
    });
    // Unsubstituted (an emulator without context attributes), it is rejected, never run under a wrong id.
    expect(parseEnvelope(template).ok).toBe(false);
  });
});

describe('expressions', () => {
  it('renders rate and cron recurrences with their time zone', () => {
    expect(toRecurrence({ rate: '5 minutes' })).toEqual({ expression: 'rate(5 minutes)', timezone: 'UTC' });
    expect(toRecurrence({ rate: '1 minutes' })).toEqual({ expression: 'rate(1 minute)', timezone: 'UTC' });
    expect(toRecurrence({ cron: '0 3 * * ? *', timezone: 'Europe/Berlin' })).toEqual({
      expression: 'cron(0 3 * * ? *)',
      timezone: 'Europe/Berlin',
    });
  });

  it('fails on malformed rates, crons and time zones with the given value', () => {
    expect(() => toRecurrence({ rate: '30 seconds' })).toThrow(/rate must be .* \(given '30 seconds'\)/);
    expect(() => toRecurrence({ rate: '0 minutes' })).toThrow(InvalidScheduleError);
    expect(() => toRecurrence({ cron: '0 3 * * *' })).toThrow(/six fields .* \(given '0 3 \* \* \*'\)/);
    expect(() => toRecurrence({ cron: '0 3 * * * *' })).toThrow(/'\?' in exactly one/);
    expect(() => toRecurrence({ cron: '0 3 * * ? *', timezone: 'Mars/Olympus' })).toThrow(/given 'Mars\/Olympus'/);
    expect(() => toRecurrence({ cron: '0 3 * * ? *', rate: '1 minute' } as never)).toThrow(/exactly one of cron or rate/);
  });

  it('renders at() in UTC, rounded up to the second', () => {
    expect(atExpression(new Date('2026-03-22T18:59:42.100Z'))).toBe('at(2026-03-22T18:59:43)');
    expect(atExpression(new Date('2026-03-22T18:59:42.000Z'))).toBe('at(2026-03-22T18:59:42)');
  });
});

describe('declared schedules', () => {
  it('checks the payload against the schema when the job is defined', () => {
    const schema = z.object({ n: z.number() });
    const job = defineJob({ name: 'x:job', schema, handler: async () => 1, schedule: { rate: '1 hour', payload: { n: 1 } } });
    expect(job.schedules).toEqual([{ name: 'x-job', expression: 'rate(1 hour)', timezone: 'UTC', payload: { n: 1 } }]);
    expect(() =>
      defineJob({ name: 'bad', schema, handler: async () => 1, schedule: { rate: '1 hour', payload: { n: 'one' } as never } }),
    ).toThrow(/job 'bad': schedule 1 \(bad\): payload does not match the schema/);
  });

  it('fails when two job types declare the same schedule name', () => {
    const schema = z.object({});
    const a = defineJob({ name: 'a', schema, handler: async () => 1, schedule: { name: 'same', rate: '1 hour', payload: {} } });
    const b = defineJob({ name: 'b', schema, handler: async () => 1, schedule: { name: 'same', rate: '1 day', payload: {} } });
    expect(() => planSchedules({ a, b })).toThrow(/'same' is declared by both 'a' and 'b'/);
  });
});

describe('JobScheduler', () => {
  const client = new SchedulerClient({ region: 'us-east-1' });
  const mock = mockClient(client);
  const config = {
    groupName: 'jobs-group',
    roleArn: 'arn:aws:iam::123456789012:role/scheduler',
    deadLetterQueueArn: 'arn:aws:sqs:us-east-1:123456789012:scheduler-dlq',
  };
  const queueArn = 'arn:aws:sqs:us-east-1:123456789012:jobs';
  const envelope = {
    v: ENVELOPE_VERSION,
    id: 'job-1',
    type: 'demo.echo',
    payload: { message: 'later' },
    enqueuedAt: '2026-03-22T10:00:00.000Z',
  } as const;

  beforeEach(() => mock.reset());

  it('creates a one-time schedule that deletes itself, with its DLQ and retry policy, sending the envelope', async () => {
    mock.on(CreateScheduleCommand).resolves({});
    await new JobScheduler(client, config).createOneTime(envelope, queueArn, new Date('2026-03-22T13:00:00.000Z'));
    expect(mock).toHaveReceivedCommandWith(CreateScheduleCommand, {
      Name: 'once.job-1',
      GroupName: 'jobs-group',
      ScheduleExpression: 'at(2026-03-22T13:00:00)',
      ScheduleExpressionTimezone: 'UTC',
      ActionAfterCompletion: 'DELETE',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: queueArn,
        RoleArn: config.roleArn,
        Input: JSON.stringify(envelope),
        DeadLetterConfig: { Arn: config.deadLetterQueueArn },
        RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
      },
    });
  });

  it('treats an existing one-time schedule of the same job as created (a retried enqueue)', async () => {
    mock
      .on(CreateScheduleCommand)
      .rejects(new ConflictException({ message: 'exists', $metadata: {}, Message: 'exists' } as never));
    await expect(new JobScheduler(client, config).createOneTime(envelope, queueArn, new Date(NOW))).resolves.toBe('once.job-1');
  });

  it('deletes a one-time schedule, and reports a missing one as false', async () => {
    mock
      .on(DeleteScheduleCommand)
      .resolvesOnce({})
      .rejectsOnce(new ResourceNotFoundException({ message: 'gone', $metadata: {}, Message: 'gone' } as never));
    const scheduler = new JobScheduler(client, config);
    expect(await scheduler.deleteOneTime('job-1')).toBe(true);
    expect(await scheduler.deleteOneTime('job-1')).toBe(false);
    expect(mock).toHaveReceivedCommandWith(DeleteScheduleCommand, { Name: 'once.job-1', GroupName: 'jobs-group' });
  });

  it('refuses to unschedule a schedule the stack declares', async () => {
    mock.on(GetScheduleCommand).resolves({ Name: 'nightly', Description: ScheduleOwner.stack });
    await expect(new JobScheduler(client, config).deleteRecurring('nightly')).rejects.toThrow(ScheduleError);
    expect(mock).not.toHaveReceivedCommand(DeleteScheduleCommand);
  });

  it('rejects recurring schedule names that are malformed or look like one-time ones', async () => {
    const scheduler = new JobScheduler(client, config);
    await expect(
      scheduler.createRecurring('once.x', { expression: 'rate(1 hour)', timezone: 'UTC' }, 't', {}, queueArn),
    ).rejects.toThrow(/must not start with 'once.'/);
    await expect(
      scheduler.createRecurring('a b', { expression: 'rate(1 hour)', timezone: 'UTC' }, 't', {}, queueArn),
    ).rejects.toThrow(/given "a b"/);
    expect(mock).not.toHaveReceivedCommand(CreateScheduleCommand);
  });
});
