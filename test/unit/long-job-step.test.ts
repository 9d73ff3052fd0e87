import { Logger } from '@aws-lambda-powertools/logger';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createStepRunner, MAX_CHECKPOINT_BYTES } from '../../functions/long-job/step-runner.js';
import type { StepInput, StepOutput } from '../../functions/long-job/types.js';
import { defineRegistry, type JobErrorInfo, type JobRecord, NonRetryableError } from '../../shared/index.js';
import { defineLongJob } from '../../shared/long-jobs/define-long-job.js';
import type { CheckpointUpdate, LongJobRecords } from '../../shared/long-jobs/long-job-store.js';

/**
 * An in-memory job table with the same conditions as the DynamoDB store. Like
 * the document client, it refuses values DynamoDB cannot hold exactly, and
 * `failWrites` makes the next writes of a kind throw (an outage).
 */
class MemoryRecords implements LongJobRecords {
  readonly records = new Map<string, JobRecord>();
  readonly failWrites = { succeed: 0, saveCheckpoint: 0, markDead: 0 };
  constructor(private readonly clock: () => number) {}

  private write(kind: keyof MemoryRecords['failWrites'], values: Record<string, unknown>): void {
    if (this.failWrites[kind] > 0) {
      this.failWrites[kind]--;
      throw new Error(`InternalServerError in ${kind}`);
    }
    marshall(values, { removeUndefinedValues: true });
  }

  add(record: Partial<JobRecord> & { id: string; type: string }): void {
    const now = new Date(this.clock()).toISOString();
    this.records.set(record.id, {
      state: 'queued',
      queue: 'default',
      attempts: 0,
      maxAttempts: 3,
      createdAt: now,
      updatedAt: now,
      ...record,
    });
  }
  async get(id: string) {
    const record = this.records.get(id);
    return record ? structuredClone(record) : undefined;
  }
  private owned(id: string, attempt: number): JobRecord | undefined {
    const record = this.records.get(id);
    return record?.state === 'running' && record.attempts === attempt ? record : undefined;
  }
  async beginAttempt(id: string, executionArn: string) {
    const record = this.records.get(id);
    if (!record || !['queued', 'scheduled', 'retrying'].includes(record.state) || record.cancelRequested) return undefined;
    Object.assign(record, { state: 'running', attempts: record.attempts + 1, executionArn });
    return structuredClone(record);
  }
  async saveCheckpoint(id: string, attempt: number, update: CheckpointUpdate) {
    this.write('saveCheckpoint', { ...update });
    const record = this.owned(id, attempt);
    // As LongJobStore: only over the checkpoint the step started from.
    if (!record || (record.steps ?? 0) !== update.steps - 1) return undefined;
    Object.assign(record, update);
    return structuredClone(record);
  }
  async succeed(id: string, attempt: number, result: unknown, steps: number, executionArn: string) {
    this.write('succeed', { result });
    const record = this.owned(id, attempt);
    if (!record || (record.steps ?? 0) !== steps - 1) return false;
    Object.assign(record, { state: 'succeeded', result, steps, executionArn, progress: { percent: 100 } });
    return true;
  }
  async scheduleRetry(id: string, attempt: number, error: JobErrorInfo, nextAttemptAt: number) {
    const record = this.owned(id, attempt);
    if (!record) return false;
    Object.assign(record, { state: 'retrying', error, nextAttemptAt: new Date(nextAttemptAt).toISOString() });
    return true;
  }
  async markDead(id: string, error: JobErrorInfo, options: { attempt?: number }) {
    this.write('markDead', { error });
    const record = options.attempt === undefined ? this.records.get(id) : this.owned(id, options.attempt);
    if (!record) return false;
    Object.assign(record, { state: 'dead', error });
    return true;
  }
  async markCancelledByRun(id: string, attempt: number) {
    const record = this.owned(id, attempt);
    if (!record) return false;
    record.state = 'cancelled';
    return true;
  }
}

const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
/** One step per invocation, as before the loop: for the tests of what a single step returns. */
const oneStepPerCall = { invocationBudgetMs: 0 };
const FIFTEEN_MINUTES = 15 * 60_000;

/** The ARN of a job's first execution, as the worker names it (series suffix with a made-up hash). */
function firstExecutionArn(jobId: string): string {
  return `arn:exec:${jobId}_r0_q0123abcd`;
}

/** Plays the state machine: calls the runner until a final status, sleeping waits on the fake clock. */
async function runMachine(runner: ReturnType<typeof createStepRunner>, jobId: string, clock: { now: number }, maxTurns = 100) {
  let state: StepInput = { jobId, startAttempt: 0, generation: 0, executionSteps: 0, executionArn: firstExecutionArn(jobId) };
  const statuses: StepOutput[] = [];
  for (let turn = 0; turn < maxTurns; turn++) {
    const output = await runner.runStep(state, FIFTEEN_MINUTES);
    statuses.push(output);
    const { status, waitSeconds, nextExecutionName, ...next } = output;
    const { stepsRun: _stepsRun, resumeAt: _resumeAt, ...loop } = next;
    if (status === 'continue') state = { ...state, ...loop };
    else if (status === 'wait' || status === 'retry') {
      clock.now += waitSeconds * 1_000;
      state = { ...state, ...loop };
    } else if (status === 'continue-as-new') state = { ...next, executionArn: `arn:exec:${nextExecutionName}` };
    else return statuses;
  }
  throw new Error('the loop did not end');
}

function counterJob(options: { failOnAttempt1AtStep?: number; waitFor?: string } = {}) {
  return defineLongJob({
    name: 'test.count',
    schema: z.object({ steps: z.number().int() }),
    retry: { maxAttempts: 3, baseDelay: '10s', maxDelay: '1m', jitter: 'none' },
    stepTimeout: '1m',
    step: async ({ steps }, { checkpoint, attempt }) => {
      const done = (checkpoint as { done: number } | undefined)?.done ?? 0;
      if (options.failOnAttempt1AtStep === done + 1 && attempt === 1) throw new Error('transient');
      if (done + 1 >= steps) return { done: true, result: { steps: done + 1 } };
      return {
        checkpoint: { done: done + 1 },
        progress: (100 * (done + 1)) / steps,
        ...(options.waitFor === undefined ? {} : { waitFor: options.waitFor as '1s' }),
      };
    },
  });
}

describe('long-job step loop', () => {
  it('runs step after step from the last checkpoint until done, with progress, then 100 %', async () => {
    const clock = { now: Date.parse('2026-03-22T10:00:00Z') };
    const records = new MemoryRecords(() => clock.now);
    records.add({ id: 'j1', type: 'test.count', payload: { steps: 4 } });
    const runner = createStepRunner({
      ...oneStepPerCall,
      registry: defineRegistry(counterJob()),
      records,
      logger,
      clock: () => clock.now,
    });
    const statuses = await runMachine(runner, 'j1', clock);
    expect(statuses.map((s) => s.status)).toEqual(['continue', 'continue', 'continue', 'succeeded']);
    expect(await records.get('j1')).toMatchObject({
      state: 'succeeded',
      attempts: 1,
      steps: 4,
      result: { steps: 4 },
      progress: { percent: 100 },
      executionArn: firstExecutionArn('j1'),
    });
  });

  it('retries a failing step after the retry policy delay, resuming from the checkpoint', async () => {
    const clock = { now: 0 };
    const records = new MemoryRecords(() => clock.now);
    records.add({ id: 'j2', type: 'test.count', payload: { steps: 3 } });
    const runner = createStepRunner({
      ...oneStepPerCall,
      registry: defineRegistry(counterJob({ failOnAttempt1AtStep: 2 })),
      records,
      logger,
      clock: () => clock.now,
    });
    const statuses = await runMachine(runner, 'j2', clock);
    expect(statuses.map((s) => [s.status, s.waitSeconds])).toEqual([
      ['continue', 0],
      ['retry', 10],
      ['continue', 0],
      ['succeeded', 0],
    ]);
    expect(clock.now).toBe(10_000);
    expect(await records.get('j2')).toMatchObject({ state: 'succeeded', attempts: 2, steps: 3 });
  });

  it('ends dead after the last attempt, and at once for a non-retryable error', async () => {
    const clock = { now: 0 };
    const always = defineLongJob({
      name: 'test.always',
      schema: z.object({}),
      retry: { maxAttempts: 2, baseDelay: '1s', jitter: 'none' },
      step: async () => {
        throw new Error('down');
      },
    });
    const fatal = defineLongJob({
      name: 'test.fatal',
      schema: z.object({}),
      step: async () => {
        throw new NonRetryableError('no');
      },
    });
    const records = new MemoryRecords(() => clock.now);
    records.add({ id: 'a', type: 'test.always', payload: {}, maxAttempts: 2 });
    records.add({ id: 'f', type: 'test.fatal', payload: {} });
    const runner = createStepRunner({ registry: defineRegistry(always, fatal), records, logger, clock: () => clock.now });
    expect((await runMachine(runner, 'a', clock)).map((s) => s.status)).toEqual(['retry', 'dead']);
    expect(await records.get('a')).toMatchObject({ state: 'dead', attempts: 2, error: { message: 'down' } });
    expect((await runMachine(runner, 'f', clock)).map((s) => s.status)).toEqual(['dead']);
    expect(await records.get('f')).toMatchObject({
      state: 'dead',
      attempts: 1,
      error: { name: 'NonRetryableError', retryable: false },
    });
  });

  it('waits between steps for waitFor, on the state machine (no Lambda running)', async () => {
    const clock = { now: 0 };
    const records = new MemoryRecords(() => clock.now);
    records.add({ id: 'w', type: 'test.count', payload: { steps: 3 } });
    const runner = createStepRunner({
      registry: defineRegistry(counterJob({ waitFor: '90s' })),
      records,
      logger,
      clock: () => clock.now,
    });
    const statuses = await runMachine(runner, 'w', clock);
    expect(statuses.map((s) => [s.status, s.waitSeconds])).toEqual([
      ['wait', 90],
      ['wait', 90],
      ['succeeded', 0],
    ]);
  });

  it('continues as a new execution after maxStepsPerExecution steps, with a fresh deterministic name', async () => {
    const clock = { now: 0 };
    const records = new MemoryRecords(() => clock.now);
    records.add({ id: 'many', type: 'test.count', payload: { steps: 5 } });
    const runner = createStepRunner({
      ...oneStepPerCall,
      registry: defineRegistry(counterJob()),
      records,
      logger,
      clock: () => clock.now,
      maxStepsPerExecution: 2,
    });
    const statuses = await runMachine(runner, 'many', clock);
    expect(statuses.map((s) => s.status)).toEqual([
      'continue',
      'continue',
      'continue-as-new',
      'continue',
      'continue',
      'continue-as-new',
      'succeeded',
    ]);
    expect(statuses[2]).toMatchObject({ generation: 1, executionSteps: 0, nextExecutionName: 'many_r0_q0123abcd_g1' });
    expect(statuses[5]).toMatchObject({ generation: 2, nextExecutionName: 'many_r0_q0123abcd_g2' });
    expect(await records.get('many')).toMatchObject({
      state: 'succeeded',
      steps: 5,
      executionArn: 'arn:exec:many_r0_q0123abcd_g2',
    });
  });

  it('ends cancelled at the next step boundary when cancellation was requested', async () => {
    const clock = { now: 0 };
    const records = new MemoryRecords(() => clock.now);
    records.add({ id: 'c', type: 'test.count', payload: { steps: 10 } });
    const runner = createStepRunner({
      ...oneStepPerCall,
      registry: defineRegistry(counterJob()),
      records,
      logger,
      clock: () => clock.now,
    });
    const input: StepInput = { jobId: 'c', startAttempt: 0, generation: 0, executionSteps: 0, executionArn: 'arn:exec:0' };
    expect((await runner.runStep(input, FIFTEEN_MINUTES)).status).toBe('continue');
    (records.records.get('c') as JobRecord).cancelRequested = true;
    expect((await runner.runStep({ ...input, executionSteps: 1 }, FIFTEEN_MINUTES)).status).toBe('cancelled');
    expect(await records.get('c')).toMatchObject({ state: 'cancelled', steps: 1 });
  });

  it('stops a step at the Lambda deadline and retries it, so the step never outlives the function', async () => {
    const records = new MemoryRecords(Date.now);
    const slow = defineLongJob({
      name: 'test.slow',
      schema: z.object({}),
      retry: { maxAttempts: 2, baseDelay: '1s', jitter: 'none' },
      step: () => new Promise(() => {}),
    });
    records.add({ id: 's', type: 'test.slow', payload: {} });
    const runner = createStepRunner({ registry: defineRegistry(slow), records, logger });
    const input: StepInput = { jobId: 's', startAttempt: 0, generation: 0, executionSteps: 0, executionArn: 'arn:exec:0' };
    const started = Date.now();
    // 5.2 s left in the Lambda: the step gets 200 ms (5 s are kept to record the outcome).
    const output = await runner.runStep(input, 5_200);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(output).toMatchObject({ status: 'retry', waitSeconds: 1 });
    expect(await records.get('s')).toMatchObject({ state: 'retrying', error: { name: 'JobTimeoutError' } });
  });

  it('fails a job whose checkpoint is too large, without storing it', async () => {
    const clock = { now: 0 };
    const big = defineLongJob({
      name: 'test.big',
      schema: z.object({}),
      step: async () => ({ checkpoint: 'x'.repeat(MAX_CHECKPOINT_BYTES + 1) }),
    });
    const records = new MemoryRecords(() => clock.now);
    records.add({ id: 'b', type: 'test.big', payload: {} });
    const runner = createStepRunner({ registry: defineRegistry(big), records, logger, clock: () => clock.now });
    expect((await runMachine(runner, 'b', clock)).map((s) => s.status)).toEqual(['dead']);
    expect(await records.get('b')).toMatchObject({ state: 'dead', error: { name: 'CheckpointTooLargeError' } });
    expect((await records.get('b'))?.checkpoint).toBeUndefined();
  });

  it('does nothing for a job that is already finished or gone', async () => {
    const records = new MemoryRecords(Date.now);
    records.add({ id: 'done', type: 'test.count', state: 'succeeded', payload: { steps: 1 } });
    const runner = createStepRunner({ registry: defineRegistry(counterJob()), records, logger });
    const input: StepInput = { jobId: 'done', startAttempt: 0, generation: 0, executionSteps: 0, executionArn: 'arn:exec:0' };
    expect((await runner.runStep(input, FIFTEEN_MINUTES)).status).toBe('finished');
    expect((await runner.runStep({ ...input, jobId: 'missing' }, FIFTEEN_MINUTES)).status).toBe('finished');
  });
});

describe('long-job metrics', () => {
  it('reports each attempt start, the retry and the success to the observer, under the job queue', async () => {
    const clock = { now: 0 };
    const records = new MemoryRecords(() => clock.now);
    records.add({ id: 'm1', type: 'test.count', payload: { steps: 3 } });
    const events: string[] = [];
    const runner = createStepRunner({
      registry: defineRegistry(counterJob({ failOnAttempt1AtStep: 2 })),
      records,
      logger,
      clock: () => clock.now,
      observer: {
        started: (job) => events.push(`started ${job.jobType} ${job.queue} #${job.attempt}`),
        retried: (job, delayMs) => events.push(`retried #${job.attempt} after ${delayMs}`),
        succeeded: (job) => events.push(`succeeded #${job.attempt}`),
        dead: () => events.push('dead'),
        cancelled: () => events.push('cancelled'),
      },
    });
    await runMachine(runner, 'm1', clock);
    expect(events).toEqual([
      'started test.count default #1',
      'retried #1 after 10000',
      'started test.count default #2',
      'succeeded #2',
    ]);
  });
});

describe('long jobs whose payload is in S3 (fault 8)', () => {
  it('reads the payload by its reference, as the worker does, and runs the job', async () => {
    const clock = { now: 0 };
    const records = new MemoryRecords(() => clock.now);
    const payloadRef = { bucket: 'payloads', key: 'payloads/big.json', sizeBytes: 300_000 };
    records.add({ id: 'big', type: 'test.count', payload: null, payloadRef });
    const payloads = { get: vi.fn(async () => ({ steps: 2 })) };
    const runner = createStepRunner({
      ...oneStepPerCall,
      registry: defineRegistry(counterJob()),
      records,
      logger,
      payloads,
      clock: () => clock.now,
    });

    expect((await runMachine(runner, 'big', clock)).map((s) => s.status)).toEqual(['continue', 'succeeded']);
    expect(payloads.get).toHaveBeenCalledWith(payloadRef);
    expect(await records.get('big')).toMatchObject({ state: 'succeeded', result: { steps: 2 } });
  });

  it('ends dead when the payload object is gone', async () => {
    const records = new MemoryRecords(Date.now);
    records.add({ id: 'gone', type: 'test.count', payload: null, payloadRef: { bucket: 'b', key: 'k', sizeBytes: 1 } });
    const payloads = {
      get: async () => {
        throw new NonRetryableError('payload s3://b/k no longer exists');
      },
    };
    const runner = createStepRunner({ registry: defineRegistry(counterJob()), records, logger, payloads });
    expect((await runMachine(runner, 'gone', { now: 0 })).map((s) => s.status)).toEqual(['dead']);
    expect(await records.get('gone')).toMatchObject({
      state: 'dead',
      error: { message: expect.stringMatching(/no longer exists/) },
    });
  });
});

describe('recording what a long job step returned (fault 3)', () => {
  const ran = vi.fn();
  const returning = (value: { done: true; result: unknown } | { checkpoint: unknown }) =>
    defineLongJob({
      name: 'test.returns',
      schema: z.object({}),
      retry: { maxAttempts: 3, baseDelay: '1s', jitter: 'none' },
      step: async () => {
        ran();
        return value as { done: true; result: unknown };
      },
    });
  afterEach(() => ran.mockReset());

  async function run(value: Parameters<typeof returning>[0], failWrites: Partial<MemoryRecords['failWrites']> = {}) {
    const clock = { now: 0 };
    const records = new MemoryRecords(() => clock.now);
    Object.assign(records.failWrites, failWrites);
    records.add({ id: 'r', type: 'test.returns', payload: {} });
    const runner = createStepRunner({ registry: defineRegistry(returning(value)), records, logger, clock: () => clock.now });
    const statuses = await runMachine(runner, 'r', clock, 10);
    return { statuses: statuses.map((s) => s.status), record: await records.get('r') };
  }

  it('stores a final result with numbers beyond 2^53 as a placeholder with its JSON text; the last step runs once', async () => {
    const { statuses, record } = await run({ done: true, result: { total: 2 ** 60 } });
    expect(statuses).toEqual(['succeeded']);
    expect(ran).toHaveBeenCalledTimes(1);
    expect(record?.result).toEqual({
      resultNotStorable: true,
      reason: expect.stringMatching(/total: .* is beyond/),
      json: JSON.stringify({ total: 2 ** 60 }),
    });
  });

  it('ends the job dead with a clear error when a checkpoint holds numbers it cannot store exactly, never re-running', async () => {
    const { statuses, record } = await run({ checkpoint: { cursor: 2 ** 60 } });
    expect(statuses).toEqual(['dead']);
    expect(ran).toHaveBeenCalledTimes(1);
    expect(record).toMatchObject({
      state: 'dead',
      error: { name: 'CheckpointNotStorableError', message: expect.stringMatching(/cursor/), retryable: false },
    });
    expect(record?.checkpoint).toBeUndefined();
  });

  it('tries a failing final write again and succeeds, running the last step once', async () => {
    const { statuses, record } = await run({ done: true, result: { ok: true } }, { succeed: 2 });
    expect(statuses).toEqual(['succeeded']);
    expect(ran).toHaveBeenCalledTimes(1);
    expect(record).toMatchObject({ state: 'succeeded', result: { ok: true } });
  });

  it('ends the job dead with OutcomeNotRecordedError when the final result cannot be written', async () => {
    const { statuses, record } = await run({ done: true, result: { ok: true } }, { succeed: 99 });
    expect(statuses).toEqual(['dead']);
    expect(ran).toHaveBeenCalledTimes(1);
    expect(record).toMatchObject({ state: 'dead', error: { name: 'OutcomeNotRecordedError', retryable: false } });
  });

  it('ends the job dead with OutcomeNotRecordedError when a checkpoint cannot be written', async () => {
    const { statuses, record } = await run({ checkpoint: { page: 2 } }, { saveCheckpoint: 99 });
    expect(statuses).toEqual(['dead']);
    expect(ran).toHaveBeenCalledTimes(1);
    expect(record).toMatchObject({ state: 'dead', error: { name: 'OutcomeNotRecordedError' } });
  });
});

describe('cancel aborts the signal of a running step (fault 13)', () => {
  afterEach(() => vi.useRealTimers());

  it('aborts the step soon after a cancel request; a step that stops on it ends the job cancelled', async () => {
    vi.useFakeTimers();
    const listening = defineLongJob({
      name: 'test.listening',
      schema: z.object({}),
      stepTimeout: '10m',
      step: (_payload, { signal }) =>
        new Promise((_, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason));
        }),
    });
    const records = new MemoryRecords(Date.now);
    records.add({ id: 'l', type: 'test.listening', payload: {} });
    const runner = createStepRunner({ registry: defineRegistry(listening), records, logger });
    const output = runner.runStep(
      { jobId: 'l', startAttempt: 0, generation: 0, executionSteps: 0, executionArn: firstExecutionArn('l') },
      FIFTEEN_MINUTES,
    );
    await vi.advanceTimersByTimeAsync(6_000);
    (records.records.get('l') as JobRecord).cancelRequested = true;
    await vi.advanceTimersByTimeAsync(5_000);

    expect((await output).status).toBe('cancelled');
    expect(await records.get('l')).toMatchObject({ state: 'cancelled', attempts: 1 });
  });
});

describe('one execution chain per attempt series (fault 10)', () => {
  it('ends a stray execution without running the step when another chain runs the job', async () => {
    const records = new MemoryRecords(Date.now);
    const ran = vi.fn();
    const job = defineLongJob({
      name: 'test.once',
      schema: z.object({}),
      step: async () => {
        ran();
        return { done: true, result: null };
      },
    });
    records.add({
      id: 'o',
      type: 'test.once',
      payload: {},
      state: 'running',
      attempts: 1,
      executionArn: 'arn:exec:o_r0_qaaaaaaaa',
    });
    const runner = createStepRunner({ registry: defineRegistry(job), records, logger });
    const output = await runner.runStep(
      { jobId: 'o', startAttempt: 0, generation: 0, executionSteps: 0, executionArn: 'arn:exec:o_r0_qbbbbbbbb' },
      FIFTEEN_MINUTES,
    );
    expect(output.status).toBe('finished');
    expect(ran).not.toHaveBeenCalled();
    expect(await records.get('o')).toMatchObject({ state: 'running', attempts: 1 });
  });
});

describe('job types that are names of Object members (fault 11)', () => {
  it.each(['constructor', '__proto__', 'toString'])('ends a long job of type %s dead as an unknown type', async (type) => {
    const records = new MemoryRecords(Date.now);
    records.add({ id: 'p', type, payload: {} });
    const runner = createStepRunner({ registry: defineRegistry(counterJob()), records, logger });
    expect((await runMachine(runner, 'p', { now: 0 })).map((s) => s.status)).toEqual(['dead']);
    expect(await records.get('p')).toMatchObject({ state: 'dead', error: { name: 'UnknownJobTypeError' } });
  });
});

/** A job of `steps` steps that each take `stepMs` on the fake clock and note which checkpoint they started from. */
function timedJob(clock: { now: number }, seen: number[], options: { stepMs: number; onStep?: (done: number) => void }) {
  return defineLongJob({
    name: 'test.timed',
    schema: z.object({ steps: z.number().int() }),
    retry: { maxAttempts: 3, baseDelay: '10s', jitter: 'none' },
    stepTimeout: '1m',
    step: async ({ steps }, { checkpoint, step }) => {
      const done = (checkpoint as { done: number } | undefined)?.done ?? 0;
      expect(step).toBe(done);
      seen.push(done);
      options.onStep?.(done);
      clock.now += options.stepMs;
      if (done + 1 >= steps) return { done: true, result: { steps: done + 1 } };
      return { checkpoint: { done: done + 1 }, progress: (100 * (done + 1)) / steps };
    },
  });
}

describe('several steps per invocation, within its time budget', () => {
  it('runs steps while the budget lasts, then the next invocation continues from the last checkpoint', async () => {
    const clock = { now: 0 };
    const seen: number[] = [];
    const records = new MemoryRecords(() => clock.now);
    records.add({ id: 'b10', type: 'test.timed', payload: { steps: 10 } });
    const runner = createStepRunner({
      registry: defineRegistry(timedJob(clock, seen, { stepMs: 1_000 })),
      records,
      logger,
      clock: () => clock.now,
      invocationBudgetMs: 3_500,
    });
    const statuses = await runMachine(runner, 'b10', clock);
    // 1 s steps in a 3.5 s budget: a fourth step starts at 3 s, none at 4 s.
    expect(statuses.map((s) => [s.status, s.stepsRun])).toEqual([
      ['continue', 4],
      ['continue', 4],
      ['succeeded', 2],
    ]);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await records.get('b10')).toMatchObject({ state: 'succeeded', attempts: 1, steps: 10, result: { steps: 10 } });
  });

  it('runs all 10 short steps of a job in one invocation with the default budget', async () => {
    const clock = { now: 0 };
    const seen: number[] = [];
    const records = new MemoryRecords(() => clock.now);
    records.add({ id: 'short', type: 'test.timed', payload: { steps: 10 } });
    const runner = createStepRunner({
      registry: defineRegistry(timedJob(clock, seen, { stepMs: 5 })),
      records,
      logger,
      clock: () => clock.now,
    });
    expect((await runMachine(runner, 'short', clock)).map((s) => [s.status, s.stepsRun])).toEqual([['succeeded', 10]]);
  });

  it('starts no step whose whole stepTimeout does not fit in the Lambda time left', async () => {
    const clock = { now: 0 };
    const seen: number[] = [];
    const records = new MemoryRecords(() => clock.now);
    records.add({ id: 'fit', type: 'test.timed', payload: { steps: 3 } });
    const runner = createStepRunner({
      registry: defineRegistry(timedJob(clock, seen, { stepMs: 30_000 })),
      records,
      logger,
      clock: () => clock.now,
      invocationBudgetMs: 10 * 60_000,
    });
    // 2 minutes left: after a 30 s step, 85 s remain beyond the 5 s safety (a 1 min step fits); after two, 55 s (it does not).
    const output = await runner.runStep(
      { jobId: 'fit', startAttempt: 0, generation: 0, executionSteps: 0, executionArn: firstExecutionArn('fit') },
      2 * 60_000,
    );
    expect(output).toMatchObject({ status: 'continue', stepsRun: 2, executionSteps: 1 });
    expect(await records.get('fit')).toMatchObject({ state: 'running', steps: 2, checkpoint: { done: 2 } });
  });

  it('keeps the checkpoints a loop wrote before a step broke off, and the next invocation resumes at the last of them', async () => {
    const clock = { now: 0 };
    const seen: number[] = [];
    const records = new MemoryRecords(() => clock.now);
    records.add({ id: 'crash', type: 'test.timed', payload: { steps: 6 } });
    let crashAt: number | undefined = 3;
    const job = timedJob(clock, seen, {
      stepMs: 10,
      onStep: (done) => {
        if (done === crashAt) {
          crashAt = undefined;
          // As when the invocation dies mid-step: checkpoints 1..3 are written, step 4's work is lost.
          throw new CrashError();
        }
      },
    });
    class CrashError extends Error {}
    const runner = createStepRunner({ registry: defineRegistry(job), records, logger, clock: () => clock.now });
    const input: StepInput = {
      jobId: 'crash',
      startAttempt: 0,
      generation: 0,
      executionSteps: 0,
      executionArn: firstExecutionArn('crash'),
    };
    const crashed = await runner.runStep(input, FIFTEEN_MINUTES);
    // A job error comes back as a retry of the attempt; the record keeps the 3 checkpoints the loop wrote before it.
    expect(crashed).toMatchObject({ status: 'retry', stepsRun: 4 });
    expect(await records.get('crash')).toMatchObject({ state: 'retrying', steps: 3, checkpoint: { done: 3 } });
    const resumed = await runner.runStep({ ...input, executionSteps: 1 }, FIFTEEN_MINUTES);
    expect(resumed).toMatchObject({ status: 'succeeded', stepsRun: 3 });
    expect(seen).toEqual([0, 1, 2, 3, 3, 4, 5]);
    expect(await records.get('crash')).toMatchObject({ state: 'succeeded', attempts: 2, steps: 6 });
  });

  it('records each checkpoint once when two runs of the same execution loop over the job at once', async () => {
    const clock = { now: 0 };
    const seen: number[] = [];
    const records = new MemoryRecords(() => clock.now);
    records.add({ id: 'twice', type: 'test.timed', payload: { steps: 10 } });
    const runner = createStepRunner({
      registry: defineRegistry(timedJob(clock, seen, { stepMs: 1 })),
      records,
      logger,
      clock: () => clock.now,
    });
    const input: StepInput = {
      jobId: 'twice',
      startAttempt: 0,
      generation: 0,
      executionSteps: 0,
      executionArn: firstExecutionArn('twice'),
    };
    const saves: number[] = [];
    const save = records.saveCheckpoint.bind(records);
    records.saveCheckpoint = async (id, attempt, update) => {
      const saved = await save(id, attempt, update);
      if (saved) saves.push(update.steps);
      return saved;
    };
    // Both begin from the same record (an Express execution run twice by Step Functions).
    records.records.set('twice', {
      ...(records.records.get('twice') as JobRecord),
      state: 'running',
      attempts: 1,
      executionArn: input.executionArn,
    });
    const outputs = await Promise.all([runner.runStep(input, FIFTEEN_MINUTES), runner.runStep(input, FIFTEEN_MINUTES)]);
    expect(outputs.map((o) => o.status).sort()).toEqual(['finished', 'succeeded']);
    expect(saves).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await records.get('twice')).toMatchObject({ state: 'succeeded', steps: 10, result: { steps: 10 } });
  });

  it('checks for cancel between steps: a cancel asked during a step ends the job after it, no further step runs', async () => {
    const clock = { now: 0 };
    const seen: number[] = [];
    const records = new MemoryRecords(() => clock.now);
    records.add({ id: 'cx', type: 'test.timed', payload: { steps: 10 } });
    const job = timedJob(clock, seen, {
      stepMs: 10,
      onStep: (done) => {
        if (done === 2) (records.records.get('cx') as JobRecord).cancelRequested = true;
      },
    });
    const runner = createStepRunner({ registry: defineRegistry(job), records, logger, clock: () => clock.now });
    expect((await runMachine(runner, 'cx', clock)).map((s) => [s.status, s.stepsRun])).toEqual([['cancelled', 3]]);
    expect(seen).toEqual([0, 1, 2]);
    expect(await records.get('cx')).toMatchObject({ state: 'cancelled', steps: 3 });
  });

  it('ends at once when the job was cancelled outright during a step (its checkpoint is refused)', async () => {
    const clock = { now: 0 };
    const seen: number[] = [];
    const records = new MemoryRecords(() => clock.now);
    records.add({ id: 'cy', type: 'test.timed', payload: { steps: 10 } });
    const job = timedJob(clock, seen, {
      stepMs: 10,
      onStep: (done) => {
        if (done === 4) (records.records.get('cy') as JobRecord).state = 'cancelled';
      },
    });
    const runner = createStepRunner({ registry: defineRegistry(job), records, logger, clock: () => clock.now });
    expect((await runMachine(runner, 'cy', clock)).map((s) => [s.status, s.stepsRun])).toEqual([['cancelled', 5]]);
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(await records.get('cy')).toMatchObject({ state: 'cancelled', steps: 4 });
  });

  it('retries a step that fails mid-loop after its backoff, from the checkpoint before it, by the retry policy', async () => {
    const clock = { now: 0 };
    const records = new MemoryRecords(() => clock.now);
    records.add({ id: 'rt', type: 'test.count', payload: { steps: 6 } });
    const runner = createStepRunner({
      registry: defineRegistry(counterJob({ failOnAttempt1AtStep: 3 })),
      records,
      logger,
      clock: () => clock.now,
    });
    const statuses = await runMachine(runner, 'rt', clock);
    expect(statuses.map((s) => [s.status, s.waitSeconds, s.stepsRun])).toEqual([
      ['retry', 10, 3],
      ['succeeded', 0, 4],
    ]);
    expect(await records.get('rt')).toMatchObject({ state: 'succeeded', attempts: 2, steps: 6, error: { message: 'transient' } });
  });
});

describe('on an Express execution (5 minutes at most)', () => {
  const expressInput = (jobId: string, startedAt: number): StepInput => ({
    jobId,
    startAttempt: 0,
    generation: 0,
    executionSteps: 0,
    executionArn: `arn:aws:states:us-east-1:1:express:jobs-express:${jobId}_r0_q0123abcd:run-1`,
    workflow: 'express',
    executionStartedAt: new Date(startedAt).toISOString(),
  });

  it('hands a job that overruns its maxDuration over to Standard before the execution ends, and it finishes there', async () => {
    const clock = { now: Date.parse('2026-12-01T10:00:00Z') };
    const seen: number[] = [];
    const records = new MemoryRecords(() => clock.now);
    records.add({ id: 'over', type: 'test.timed', payload: { steps: 10 } });
    const runner = createStepRunner({
      registry: defineRegistry(timedJob(clock, seen, { stepMs: 40_000 })),
      records,
      logger,
      clock: () => clock.now,
      invocationBudgetMs: 15 * 60_000,
    });
    const first = await runner.runStep(expressInput('over', clock.now), FIFTEEN_MINUTES);
    // 40 s steps with a 1 min stepTimeout in 5 min less 20 s: a step starts only while 60 s remain (at 0, 40, …, 200 s).
    expect(first).toMatchObject({ status: 'continue-as-new', generation: 1, resumeAt: 0 });
    expect(first.nextExecutionName).toBe('over_r0_q0123abcd_g1');
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
    const rest = await runMachine(runner, 'over', clock);
    expect(rest.at(-1)).toMatchObject({ status: 'succeeded' });
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await records.get('over')).toMatchObject({ state: 'succeeded', attempts: 1, steps: 10 });
  });

  it('hands over a retry whose backoff does not fit, and the Standard execution waits out the rest of it', async () => {
    const clock = { now: Date.parse('2026-12-01T10:00:00Z') };
    const records = new MemoryRecords(() => clock.now);
    records.add({ id: 'late', type: 'test.count', payload: { steps: 3 } });
    const slowRetry = defineLongJob({
      ...counterJob({ failOnAttempt1AtStep: 2 }),
      stepTimeout: '1m',
      retry: { maxAttempts: 3, baseDelay: '5m', maxDelay: '5m', jitter: 'none' },
    });
    const runner = createStepRunner({ registry: defineRegistry(slowRetry), records, logger, clock: () => clock.now });
    const handedOver = await runner.runStep(expressInput('late', clock.now), FIFTEEN_MINUTES);
    expect(handedOver).toMatchObject({ status: 'continue-as-new', resumeAt: clock.now + 5 * 60_000 });
    expect(await records.get('late')).toMatchObject({ state: 'retrying', steps: 1 });

    const { resumeAt, nextExecutionName, status: _status, waitSeconds: _wait, stepsRun: _run, ...loop } = handedOver;
    const standard: StepInput = {
      ...loop,
      executionArn: `arn:exec:${nextExecutionName}`,
      executionInput: { resumeAt: resumeAt ?? 0 },
    };
    clock.now += 2_000;
    expect(await runner.runStep(standard, FIFTEEN_MINUTES)).toMatchObject({
      status: 'wait',
      waitSeconds: 298,
      executionSteps: 1,
    });
    clock.now += 298_000;
    expect(await runner.runStep({ ...standard, executionSteps: 1 }, FIFTEEN_MINUTES)).toMatchObject({
      status: 'succeeded',
      stepsRun: 2,
    });
    expect(await records.get('late')).toMatchObject({ state: 'succeeded', attempts: 2, steps: 3 });
  });
});
