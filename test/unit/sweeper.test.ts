import { Logger } from '@aws-lambda-powertools/logger';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_EVIDENCE_RULES,
  decideSweep,
  isStale,
  type QueueEvidence,
  type StaleThresholds,
} from '../../functions/sweeper/decide.js';
import { readSweeperEnvironment, SweeperEnv } from '../../functions/sweeper/environment.js';
import { sweep } from '../../functions/sweeper/sweep.js';
import { IdempotencyStore, JobMaintenance, JobQueue, type JobRecord } from '../../shared/index.js';
import { claimedRecord, DLQ_URL, QUEUE_URL } from '../helpers/events.js';

// The decisions are pure functions, tested directly. The sweep tests mock DynamoDB and SQS: they prove
// the wiring (which writes carry which conditions), not that DynamoDB evaluates those conditions.
const NOW = Date.parse('2026-11-23T12:00:00Z');
const UNDELIVERABLE_URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/jobs-undeliverable';
const minutes = (n: number) => n * 60_000;
const days = (n: number) => n * 86_400_000;
const ago = (ms: number) => new Date(NOW - ms).toISOString();
const thresholds: StaleThresholds = {
  queuedMs: minutes(20),
  runningGraceMs: minutes(10),
  retryingGraceMs: minutes(5),
  scheduledGraceMs: minutes(5),
};
const config = { thresholds, maxSweeps: 3, evidence: DEFAULT_EVIDENCE_RULES };
const RETENTION = days(14);
const busyQueue: QueueEvidence = { readAt: NOW, empty: false, retentionMs: RETENTION };
const emptyQueue: QueueEvidence = { readAt: NOW, empty: true, retentionMs: RETENTION };

function record(overrides: Partial<JobRecord>): JobRecord {
  return claimedRecord({ id: 'job-1', type: 'demo.echo', payload: { message: 'x' }, ...overrides });
}

/** Stale jobs in every unfinished state, hours or days past their thresholds. */
const staleJobs: [string, JobRecord][] = [
  ['queued 3 days ago', record({ state: 'queued', attempts: 0, updatedAt: ago(days(3)) })],
  ['running, lease expired 2 h ago', record({ state: 'running', updatedAt: ago(minutes(130)), leaseUntil: NOW - minutes(120) })],
  ['retrying, due 2 h ago', record({ state: 'retrying', updatedAt: ago(minutes(130)), nextAttemptAt: ago(minutes(120)) })],
  ['scheduled for 2 h ago', record({ state: 'scheduled', attempts: 0, updatedAt: ago(days(2)), runAt: ago(minutes(120)) })],
];

describe('isStale', () => {
  it.each([
    ['queued, untouched for 21 min', record({ state: 'queued', updatedAt: ago(minutes(21)) }), true],
    ['queued 5 min ago', record({ state: 'queued', updatedAt: ago(minutes(5)) }), false],
    ['running, lease expired 11 min ago', record({ state: 'running', leaseUntil: NOW - minutes(11) }), true],
    ['running, lease expired 2 min ago', record({ state: 'running', leaseUntil: NOW - minutes(2) }), false],
    ['retrying, 6 min past its attempt time', record({ state: 'retrying', nextAttemptAt: ago(minutes(6)) }), true],
    ['retrying, due in a minute', record({ state: 'retrying', nextAttemptAt: new Date(NOW + minutes(1)).toISOString() }), false],
    ['scheduled, 6 min past its run time', record({ state: 'scheduled', runAt: ago(minutes(6)) }), true],
    ['queued but re-sent 1 min ago', record({ state: 'queued', updatedAt: ago(minutes(60)), sweptAt: ago(minutes(1)) }), false],
    ['succeeded long ago', record({ state: 'succeeded', updatedAt: ago(minutes(600)) }), false],
    // A parent waiting for its children has no message on purpose: the flow coordinator queues it again.
    ['waiting for children for 10 h', record({ state: 'waiting', updatedAt: ago(minutes(600)) }), false],
  ])('%s → %s', (_label, job, expected) => {
    expect(isStale(job, thresholds, NOW)).toBe(expected);
  });
});

describe('decideSweep (fault 1)', () => {
  it.each(staleJobs)('leaves a job %s alone while its queue holds messages (a backlog of any age)', (_label, job) => {
    expect(decideSweep(job, busyQueue, config, NOW)).toEqual({ action: 'leave', reason: 'message-may-exist' });
    // Even with its re-sends used up: a backlog never kills.
    expect(decideSweep({ ...job, sweeps: 3, sweptAt: ago(minutes(30)) }, busyQueue, config, NOW).action).toBe('leave');
  });

  it.each(staleJobs)('re-sends a job %s when its queue and undeliverable queue are empty', (_label, job) => {
    expect(decideSweep(job, emptyQueue, config, NOW)).toEqual({ action: 'resend', evidence: 'queue-empty' });
  });

  it("lets another job's delayed message hide only jobs sent within the last 15 minutes (the longest SQS delay)", () => {
    const withDelayed: QueueEvidence = { ...emptyQueue, delayed: true };
    expect(decideSweep(record({ state: 'queued', updatedAt: ago(minutes(30)) }), withDelayed, config, NOW)).toEqual({
      action: 'resend',
      evidence: 'queue-empty',
    });
    const young = record({ state: 'running', attempts: 1, updatedAt: ago(minutes(12)), leaseUntil: NOW - minutes(11) });
    expect(decideSweep(young, withDelayed, config, NOW)).toEqual({ action: 'leave', reason: 'message-may-exist' });
    expect(decideSweep(young, emptyQueue, config, NOW).action).toBe('resend');
  });

  it('does not trust an empty count read less than the settle time after the last send', () => {
    const job = record({ state: 'queued', updatedAt: ago(minutes(60)), sweeps: 1, sweptAt: ago(minutes(25)) });
    const readTooSoon: QueueEvidence = { ...emptyQueue, readAt: Date.parse(job.sweptAt as string) + 1_000 };
    expect(decideSweep(job, readTooSoon, config, NOW)).toEqual({ action: 'leave', reason: 'message-may-exist' });
  });

  it('re-sends in a busy queue once the queue retention has passed since the last possible send', () => {
    const job = record({
      state: 'queued',
      attempts: 0,
      updatedAt: ago(RETENTION + DEFAULT_EVIDENCE_RULES.retentionMarginMs + 1),
    });
    expect(decideSweep(job, busyQueue, config, NOW)).toEqual({ action: 'resend', evidence: 'retention-passed' });
    const notYet = record({ state: 'queued', attempts: 0, updatedAt: ago(RETENTION) });
    expect(decideSweep(notYet, busyQueue, config, NOW).action).toBe('leave');
  });

  it('without queue evidence (unknown queue counts) acts only on the retention rule', () => {
    const job = record({ state: 'queued', updatedAt: ago(days(3)) });
    expect(decideSweep(job, undefined, config, NOW)).toEqual({ action: 'leave', reason: 'message-may-exist' });
    expect(decideSweep(job, { ...emptyQueue, empty: undefined }, config, NOW).action).toBe('leave');
  });

  it('kills only after maxSweeps re-sends were consumed without moving the job', () => {
    const swept = (sweeps: number) => record({ state: 'queued', updatedAt: ago(days(1)), sweeps, sweptAt: ago(minutes(25)) });
    expect(decideSweep(swept(2), emptyQueue, config, NOW).action).toBe('resend');
    expect(decideSweep(swept(3), emptyQueue, config, NOW)).toEqual({ action: 'kill', evidence: 'queue-empty' });
  });

  it('leaves a retrying long job to its Step Functions execution, which holds it without a message', () => {
    const job = record({ state: 'retrying', nextAttemptAt: ago(minutes(60)), executionArn: 'arn:aws:states:x:1:execution:m:e' });
    expect(decideSweep(job, emptyQueue, config, NOW)).toEqual({ action: 'leave', reason: 'driven-by-execution' });
  });

  it('sends the pending dead-letter copy of a dead job only when no message can still send it', () => {
    const deadJob = record({ state: 'dead', updatedAt: ago(minutes(30)), deadLetterPending: true });
    expect(decideSweep(deadJob, emptyQueue, config, NOW)).toEqual({ action: 'forward', evidence: 'queue-empty' });
    expect(decideSweep(deadJob, busyQueue, config, NOW).action).toBe('leave');
    expect(decideSweep({ ...deadJob, deadLetterPending: undefined }, emptyQueue, config, NOW).action).toBe('leave');
    expect(decideSweep({ ...deadJob, updatedAt: ago(minutes(1)) }, emptyQueue, config, NOW).action).toBe('leave');
  });

  it('leaves a fresh job alone', () => {
    expect(decideSweep(record({ state: 'queued', updatedAt: ago(minutes(1)) }), emptyQueue, config, NOW)).toEqual({
      action: 'leave',
      reason: 'fresh',
    });
  });
});

describe('sweep', () => {
  const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  const sqsClient = new SQSClient({ region: 'us-east-1' });
  const dynamo = mockClient(documentClient);
  const sqs = mockClient(sqsClient);
  const deps = () => ({
    store: new JobMaintenance(documentClient, 'jobs', { clock: () => NOW }),
    cursors: new IdempotencyStore(documentClient, 'idem', { clock: () => NOW }),
    queues: new Map([
      [
        'default',
        { queue: new JobQueue(sqsClient, QUEUE_URL, DLQ_URL), undeliverable: new JobQueue(sqsClient, UNDELIVERABLE_URL) },
      ],
    ]),
    logger: new Logger({ logLevel: 'SILENT' }),
    thresholds,
    clock: () => NOW,
  });
  const attributes = (visible: number, inFlight = 0, delayed = 0) => ({
    Attributes: {
      ApproximateNumberOfMessages: String(visible),
      ApproximateNumberOfMessagesNotVisible: String(inFlight),
      ApproximateNumberOfMessagesDelayed: String(delayed),
      MessageRetentionPeriod: '1209600',
    },
  });

  beforeEach(() => {
    dynamo.reset();
    sqs.reset();
    dynamo.onAnyCommand().resolves({});
    sqs.onAnyCommand().resolves({});
    sqs.on(GetQueueAttributesCommand).resolves(attributes(0));
  });

  it('in a backlog re-sends nothing and kills nothing, however old the jobs', async () => {
    sqs.on(GetQueueAttributesCommand, { QueueUrl: QUEUE_URL }).resolves(attributes(50_000, 10));
    const exhausted = record({ id: 'old', state: 'queued', updatedAt: ago(days(3)), sweeps: 3, sweptAt: ago(days(2)) });
    dynamo.on(ScanCommand).resolves({ Items: [...staleJobs.map(([, job]) => job), exhausted] });

    expect(await sweep(deps())).toEqual({ scanned: 5, resent: 0, killed: 0, forwarded: 0, passComplete: true });
    expect(dynamo).not.toHaveReceivedCommand(UpdateCommand);
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it('leaves every job but dead ones of a paused queue alone, even when its messages read as gone', async () => {
    // A paused queue whose mapping still delivers: its messages sit handed back, delayed, for a moment.
    sqs.on(GetQueueAttributesCommand, { QueueUrl: QUEUE_URL }).resolves(attributes(0, 0, 3));
    const waiting = record({ id: 'waiting', state: 'queued', attempts: 0, updatedAt: ago(minutes(30)) });
    dynamo.on(ScanCommand).resolves({ Items: [waiting] });

    expect((await sweep({ ...deps(), pausedQueues: new Set(['default']) })).resent).toBe(0);
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
    // The same job in a queue that is not paused is re-sent: the skip is what kept it.
    expect((await sweep(deps())).resent).toBe(1);
  });

  it('counts messages waiting in the undeliverable queue as messages that may still move the job', async () => {
    sqs.on(GetQueueAttributesCommand, { QueueUrl: UNDELIVERABLE_URL }).resolves(attributes(0, 1, 0));
    dynamo.on(ScanCommand).resolves({ Items: [record({ state: 'queued', updatedAt: ago(days(1)) })] });
    expect((await sweep(deps())).resent).toBe(0);
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it('re-sends a stale job when no message can exist, conditional on the version it read', async () => {
    const stuck = record({ id: 'stuck', state: 'queued', attempts: 0, updatedAt: ago(minutes(30)) });
    const fresh = record({ id: 'fresh', state: 'queued', updatedAt: ago(minutes(1)) });
    dynamo.on(ScanCommand).resolves({ Items: [stuck, fresh] });

    expect(await sweep(deps())).toEqual({ scanned: 2, resent: 1, killed: 0, forwarded: 0, passComplete: true });
    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { id: 'stuck' },
      ConditionExpression:
        '#state = :queued AND updatedAt = :seenUpdatedAt AND attempts = :seenAttempts AND attribute_not_exists(sweeps)',
      ExpressionAttributeValues: expect.objectContaining({ ':seenUpdatedAt': stuck.updatedAt, ':seenAttempts': 0 }),
    });
    expect(sqs).toHaveReceivedCommandTimes(SendMessageCommand, 1);
    const body = JSON.parse(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input.MessageBody ?? '{}');
    expect(body).toMatchObject({ v: 1, id: 'stuck', type: 'demo.echo', payload: { message: 'x' } });
    // A full pass resets the cursor.
    expect(dynamo).toHaveReceivedCommandWith(DeleteCommand, { Key: { id: 'cursor#sweeper' } });
  });

  it('does not re-send when the job moved since it was read', async () => {
    dynamo.on(ScanCommand).resolves({ Items: [record({ state: 'queued', updatedAt: ago(minutes(30)) })] });
    dynamo.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'moved', $metadata: {} }));
    expect((await sweep(deps())).resent).toBe(0);
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it('marks dead, on the version it read, a job whose three re-sends did not move it, then dead-letters it', async () => {
    const stuck = record({ state: 'queued', attempts: 0, updatedAt: ago(minutes(90)), sweeps: 3, sweptAt: ago(minutes(25)) });
    dynamo.on(ScanCommand).resolves({ Items: [stuck] });
    expect((await sweep(deps())).killed).toBe(1);
    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { id: 'job-1' },
      ConditionExpression:
        '#state = :queued AND updatedAt = :seenUpdatedAt AND attempts = :seenAttempts AND sweeps = :seenSweeps',
      ExpressionAttributeValues: expect.objectContaining({
        ':dead': 'dead',
        ':pending': true,
        ':seenSweeps': 3,
        ':error': expect.objectContaining({ name: 'StuckJobError' }),
      }),
    });
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
      QueueUrl: DLQ_URL,
      MessageAttributes: expect.objectContaining({ 'jobstack-error-name': { DataType: 'String', StringValue: 'StuckJobError' } }),
    });
    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { id: 'job-1' },
      UpdateExpression: 'REMOVE deadLetterPending',
    });
  });

  it('does not kill a job that was claimed after the scan', async () => {
    const stuck = record({ state: 'queued', attempts: 0, updatedAt: ago(minutes(90)), sweeps: 3, sweptAt: ago(minutes(25)) });
    dynamo.on(ScanCommand).resolves({ Items: [stuck] });
    dynamo.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'claimed', $metadata: {} }));
    expect((await sweep(deps())).killed).toBe(0);
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it('scans dead jobs with a pending copy too, and sends and confirms that copy', async () => {
    const error = { name: 'NonRetryableError', message: 'no such user', retryable: false };
    dynamo.on(ScanCommand).resolves({
      Items: [record({ state: 'dead', updatedAt: ago(minutes(30)), deadLetterPending: true, error })],
    });
    expect((await sweep(deps())).forwarded).toBe(1);
    expect(dynamo).toHaveReceivedCommandWith(ScanCommand, {
      FilterExpression:
        '#state IN (:scheduled, :queued, :running, :retrying, :waiting) OR (#state = :dead AND deadLetterPending = :true)',
    });
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
      QueueUrl: DLQ_URL,
      MessageAttributes: expect.objectContaining({
        'jobstack-error-name': { DataType: 'String', StringValue: 'NonRetryableError' },
      }),
    });
    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { id: 'job-1' },
      UpdateExpression: 'REMOVE deadLetterPending',
    });
  });

  it('acts on nothing it cannot prove when the queue counts cannot be read', async () => {
    sqs.on(GetQueueAttributesCommand).rejects(new Error('AccessDenied'));
    dynamo.on(ScanCommand).resolves({ Items: staleJobs.map(([, job]) => job) });
    expect(await sweep(deps())).toMatchObject({ resent: 0, killed: 0 });
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it('resumes from the saved cursor and saves where it stopped when the budget runs out', async () => {
    dynamo.on(GetCommand).resolves({ Item: { id: 'cursor#sweeper', cursor: { id: 'job-500' } } });
    dynamo.on(ScanCommand).resolves({ Items: [], LastEvaluatedKey: { id: 'job-900' } });
    const result = await sweep({ ...deps(), maxRecordsPerRun: 1 });
    expect(result.passComplete).toBe(false);
    expect(dynamo).toHaveReceivedCommandWith(ScanCommand, { ExclusiveStartKey: { id: 'job-500' } });
    expect(dynamo).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ id: 'cursor#sweeper', cursor: { id: 'job-900' } }),
    });
  });
});

describe('sweeper environment', () => {
  const base = {
    JOBSTACK_JOBS_TABLE: 'jobs',
    JOBSTACK_IDEMPOTENCY_TABLE: 'idem',
    [SweeperEnv.queues]: JSON.stringify({
      default: { url: QUEUE_URL, deadLetterUrl: DLQ_URL, undeliverableUrl: UNDELIVERABLE_URL },
    }),
    [SweeperEnv.runningGraceMs]: '600000',
  };

  it('keeps the former thresholds as defaults', () => {
    const environment = readSweeperEnvironment(base);
    expect(environment.thresholds).toEqual({ ...thresholds, runningGraceMs: 600_000 });
    expect(environment.maxSweeps).toBe(3);
    expect(environment.evidence).toEqual(DEFAULT_EVIDENCE_RULES);
    expect(environment.queues.default?.undeliverableUrl).toBe(UNDELIVERABLE_URL);
  });

  it('takes every threshold from the environment (the soak sets them low)', () => {
    const environment = readSweeperEnvironment({
      ...base,
      [SweeperEnv.queuedMs]: '30000',
      [SweeperEnv.retryingGraceMs]: '10000',
      [SweeperEnv.scheduledGraceMs]: '10000',
      [SweeperEnv.maxSweeps]: '2',
      [SweeperEnv.countSettleMs]: '5000',
      [SweeperEnv.retentionMarginMs]: '1000',
    });
    expect(environment.thresholds).toEqual({
      queuedMs: 30_000,
      runningGraceMs: 600_000,
      retryingGraceMs: 10_000,
      scheduledGraceMs: 10_000,
    });
    expect(environment.maxSweeps).toBe(2);
    expect(environment.evidence).toEqual({ countSettleMs: 5_000, retentionMarginMs: 1_000 });
  });

  it('fails if a threshold is not a positive number', () => {
    expect(() => readSweeperEnvironment({ ...base, [SweeperEnv.queuedMs]: '-1' })).toThrow(
      /JOBSTACK_SWEEP_QUEUED_MS must be a positive number \(given -1\)/,
    );
    expect(() => readSweeperEnvironment({ ...base, [SweeperEnv.maxSweeps]: '1.5' })).toThrow(/positive integer/);
  });
});

describe('JobQueue read-only attributes', () => {
  const sqsClient = new SQSClient({ region: 'us-east-1' });
  const sqs = mockClient(sqsClient);
  const queue = new JobQueue(sqsClient, QUEUE_URL);
  beforeEach(() => sqs.reset());

  it('reads the waiting, in-flight and delayed counts and the retention period', async () => {
    sqs.on(GetQueueAttributesCommand).resolves({
      Attributes: {
        ApproximateNumberOfMessages: '3',
        ApproximateNumberOfMessagesNotVisible: '2',
        ApproximateNumberOfMessagesDelayed: '1',
        MessageRetentionPeriod: '345600',
      },
    });
    expect(await queue.messageCounts()).toEqual({ visible: 3, inFlight: 2, delayed: 1 });
    expect(await queue.retentionPeriodSeconds()).toBe(345_600);
    expect(sqs).toHaveReceivedCommandWith(GetQueueAttributesCommand, {
      QueueUrl: QUEUE_URL,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    });
  });

  it('treats a missing count as an error, never as an empty queue', async () => {
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '0' } });
    await expect(queue.messageCounts()).rejects.toThrow(/ApproximateNumberOfMessagesNotVisible/);
  });
});
