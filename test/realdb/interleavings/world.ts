import { Logger } from '@aws-lambda-powertools/logger';
import type { SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { createRecordProcessor, LEASE_SLACK_MS, RedeliveryRequestedError } from '../../../functions/worker/process-record.js';
import {
  defineJob,
  ENVELOPE_VERSION,
  envelopeFromRecord,
  type JobContext,
  type JobQueue,
  type JobRecord,
  type JobStore,
  NonRetryableError,
  newJobId,
  serializeEnvelope,
} from '../../../shared/index.js';
import { RecordingQueue } from '../recording-queue.js';
import type { FakeClock } from '../tables.js';

/** The one job type of the model; its handler waits for the test to say how the attempt ends. */
export const MODEL_JOB_TYPE = 'model.effect';
export const MODEL_JOB_TIMEOUT_MS = 30_000;
export const MODEL_MAX_ATTEMPTS = 3;
/**
 * The queue's visibility timeout: a message received by a run that crashed comes
 * back after it. The stack sets it above the function timeout.
 */
export const VISIBILITY_TIMEOUT_MS = 6 * MODEL_JOB_TIMEOUT_MS;

/**
 * What a completing handler returns: a plain result, or one with a number the
 * document client cannot write exactly (beyond 2^53) or DynamoDB refuses (1e-200).
 */
export type HandlerResult = 'plain' | 'unsafe-integer' | 'out-of-range-number';

const RESULTS: Record<HandlerResult, (attempt: number) => unknown> = {
  plain: (attempt) => ({ attempt }),
  'unsafe-integer': (attempt) => ({ attempt, total: 2 ** 60 }),
  'out-of-range-number': (attempt) => ({ attempt, ratio: 1e-200 }),
};

export type HandlerOutcome = { kind: 'complete'; result: HandlerResult } | { kind: 'throw'; retryable: boolean };

/** One SQS message of a job. SQS may hand it to several deliveries (at-least-once). */
export interface ModelMessage {
  readonly id: number;
  readonly jobId: string;
  readonly body: string;
  /** Fake-clock ms from which a normal receive may take it. */
  visibleAt: number;
  deleted: boolean;
  receives: number;
  /** Only the latest receive's handle deletes the message or changes its visibility, as in SQS. */
  latestReceipt: string;
}

/** A handler run of one attempt, paused until a command completes, fails or crashes it. */
export interface Invocation {
  readonly id: number;
  readonly jobId: string;
  readonly attempt: number;
  /** The lease the claim gave this attempt (epoch ms on the fake clock). */
  readonly leaseUntil: number;
  readonly delivery: Delivery;
  status: 'running' | 'completed' | 'threw' | 'crashed';
  finish(outcome: HandlerOutcome): void;
}

/** One receive of a message and the worker's processing of it. */
export interface Delivery {
  readonly id: number;
  readonly receipt: string;
  readonly message: ModelMessage;
  /** Set by a crash: from then on the run's store and queue calls never return (the Lambda is gone). */
  crashed: boolean;
  settled?: Promise<'delete' | 'keep'>;
}

/** What happened to a job, kept by the world for the invariants. */
export interface JobObservations {
  readonly id: string;
  /** Handler runs started, per attempt number (fencing: never above 1). */
  readonly handlerStarts: Map<number, number>;
  /** Attempts whose handler returned. */
  readonly completedAttempts: Set<number>;
  /** The record as last read after a step. */
  lastRecord?: JobRecord;
  /** A manual retry requeued the job since the last read (dead → queued is allowed then). */
  retriedSinceLastRead: boolean;
  /** A handler returned while its attempt still owned the job: its outcome had to be recorded. */
  returnedWhileOwner: boolean;
  /** Handler runs started after that (a completed handler run again). */
  startsAfterOwnedReturn: number;
}

/**
 * The system under test: the real worker pipeline (`createRecordProcessor`) and
 * the real JobStore on a real DynamoDB table, with SQS modelled in memory and a
 * fake clock. Commands act on it; invariants read it. Extend it with more actors
 * (the sweeper, the undeliverable consumer, ctx.once steps) by giving them a
 * method here and a command in commands.ts.
 */
export class World {
  readonly queue = new RecordingQueue();
  readonly messages: ModelMessage[] = [];
  readonly invocations: Invocation[] = [];
  readonly jobs: JobObservations[] = [];
  private nextId = 1;
  private readonly logger = new Logger({ logLevel: 'SILENT' });

  constructor(
    readonly store: JobStore,
    readonly clock: FakeClock,
  ) {}

  /** Enqueues a job as the client does: the record, then its message. */
  async enqueue(): Promise<string> {
    const id = newJobId(this.clock.now());
    await this.store.create({
      id,
      type: MODEL_JOB_TYPE,
      queue: 'default',
      maxAttempts: MODEL_MAX_ATTEMPTS,
      payload: { n: 1 },
      correlationId: id,
      state: 'queued',
    });
    const enqueuedAt = new Date(this.clock.now()).toISOString();
    this.addMessage(id, serializeEnvelope({ v: ENVELOPE_VERSION, id, type: MODEL_JOB_TYPE, payload: { n: 1 }, enqueuedAt }));
    this.jobs.push({
      id,
      handlerStarts: new Map(),
      completedAttempts: new Set(),
      retriedSinceLastRead: false,
      returnedWhileOwner: false,
      startsAfterOwnedReturn: 0,
    });
    return id;
  }

  /**
   * Receives a message and runs the worker on it until the handler starts or
   * the processing ends. `duplicate`: SQS hands out a message that is not
   * visible (at-least-once delivery); otherwise only a visible one is taken.
   * @returns false when no message fits.
   */
  async deliver(pick: number, duplicate: boolean): Promise<boolean> {
    const now = this.clock.now();
    const candidates = this.messages.filter((message) => !message.deleted && (duplicate || message.visibleAt <= now));
    const message = candidates[pick % Math.max(candidates.length, 1)];
    if (!message) return false;
    const id = this.nextId++;
    const delivery: Delivery = { id, receipt: `receipt-${id}`, message, crashed: false };
    message.receives++;
    message.latestReceipt = delivery.receipt;
    if (!duplicate) message.visibleAt = now + VISIBILITY_TIMEOUT_MS;

    let handlerEntered!: () => void;
    const entered = new Promise<'entered'>((resolve) => {
      handlerEntered = () => resolve('entered');
    });
    const processRecord = createRecordProcessor({
      registry: { [MODEL_JOB_TYPE]: this.definitionFor(delivery, handlerEntered) },
      store: severable(this.store, delivery),
      queue: severable(this.queue as JobQueue, delivery),
      queueName: 'default',
      logger: this.logger,
      clock: this.clock.now,
      random: () => 0.5,
    });
    delivery.settled = processRecord(sqsRecord(message, delivery)).then(
      () => 'delete' as const,
      (error: unknown) => {
        // Any other error is one the worker did not expect (a rejected DynamoDB write, a bug): fail the run.
        if (error instanceof RedeliveryRequestedError) return 'keep' as const;
        throw error;
      },
    );
    const first = await Promise.race([delivery.settled, entered]);
    if (first !== 'entered') this.settle(delivery, first);
    return true;
  }

  /** Lets a paused handler return (or throw), then waits for the worker to record the outcome. */
  async finish(pick: number, outcome: HandlerOutcome): Promise<boolean> {
    const invocation = this.running()[pick % Math.max(this.running().length, 1)];
    if (!invocation?.delivery.settled) return false;
    if (outcome.kind === 'complete') {
      const record = await this.store.get(invocation.jobId);
      const job = this.jobs.find((candidate) => candidate.id === invocation.jobId);
      if (job && record?.state === 'running' && record.attempts === invocation.attempt) job.returnedWhileOwner = true;
    }
    invocation.finish(outcome);
    this.settle(invocation.delivery, await invocation.delivery.settled);
    return true;
  }

  /** The Lambda running a paused handler dies: nothing more is written, and its message comes back after the visibility timeout. */
  crash(pick: number): boolean {
    const invocation = this.running()[pick % Math.max(this.running().length, 1)];
    if (!invocation) return false;
    invocation.delivery.crashed = true;
    invocation.status = 'crashed';
    // Let the paused promise end (its run can no longer write anything), so its deadline timer is cleared.
    invocation.finish({ kind: 'throw', retryable: true });
    return true;
  }

  async cancel(pick: number): Promise<void> {
    const job = this.jobs[pick % this.jobs.length];
    if (job) await this.store.cancel(job.id);
  }

  /** A person retries a dead job, as `jobstack retry` does: requeue, then send its message. */
  async retry(pick: number): Promise<void> {
    const job = this.jobs[pick % this.jobs.length];
    if (!job) return;
    const outcome = await this.store.requeueDead(job.id, { extraAttempts: MODEL_MAX_ATTEMPTS, reason: 'retry' });
    if (!outcome.requeued) return;
    job.retriedSinceLastRead = true;
    this.addMessage(job.id, serializeEnvelope(envelopeFromRecord(outcome.record)));
  }

  /**
   * Lets the system settle with nothing going wrong any more: paused handlers
   * return, time passes, every message is delivered until none is left.
   * `afterStep` runs after each step (the invariants).
   */
  async drain(afterStep: (step: string) => Promise<void>, maxSteps = 60): Promise<void> {
    for (let step = 0; step < maxSteps; step++) {
      if (this.running().length > 0) {
        await this.finish(0, { kind: 'complete', result: 'plain' });
        await afterStep('drain: complete');
        continue;
      }
      const pending = this.messages.filter((message) => !message.deleted);
      if (pending.length === 0) return;
      const nextVisible = Math.min(...pending.map((message) => message.visibleAt));
      if (nextVisible > this.clock.now()) this.clock.set(nextVisible);
      await this.deliver(0, false);
      await afterStep('drain: deliver');
    }
    throw new Error(`the system did not settle within ${maxSteps} steps`);
  }

  running(): Invocation[] {
    return this.invocations.filter((invocation) => invocation.status === 'running');
  }

  /** Ends every paused handler without letting it write, so no timer or promise outlives the run. */
  shutdown(): void {
    for (const invocation of this.running()) {
      invocation.delivery.crashed = true;
      invocation.status = 'crashed';
      invocation.finish({ kind: 'throw', retryable: true });
    }
  }

  private addMessage(jobId: string, body: string): void {
    const id = this.nextId++;
    this.messages.push({ id, jobId, body, visibleAt: this.clock.now(), deleted: false, receives: 0, latestReceipt: '' });
  }

  /** What the Lambda event source does with the message once processing ended: delete it, or leave it to come back. */
  private settle(delivery: Delivery, outcome: 'delete' | 'keep'): void {
    if (delivery.crashed || delivery.message.latestReceipt !== delivery.receipt) return;
    if (outcome === 'delete') {
      delivery.message.deleted = true;
      return;
    }
    const asked = this.queue.redeliveries.findLast((redelivery) => redelivery.receiptHandle === delivery.receipt);
    if (asked) delivery.message.visibleAt = this.clock.now() + asked.seconds * 1_000;
  }

  private definitionFor(delivery: Delivery, entered: () => void) {
    return defineJob({
      name: MODEL_JOB_TYPE,
      schema: z.object({ n: z.number() }),
      retry: { maxAttempts: MODEL_MAX_ATTEMPTS, baseDelay: '1s', maxDelay: '10s', jitter: 'none' },
      timeout: `${MODEL_JOB_TIMEOUT_MS / 1_000}s`,
      handler: (_payload: { n: number }, ctx: JobContext) => this.runHandler(delivery, ctx, entered),
    });
  }

  private runHandler(delivery: Delivery, ctx: JobContext, entered: () => void): Promise<unknown> {
    const job = this.jobs.find((candidate) => candidate.id === ctx.jobId);
    if (!job) throw new Error(`handler ran for unknown job ${ctx.jobId}`);
    job.handlerStarts.set(ctx.attempt, (job.handlerStarts.get(ctx.attempt) ?? 0) + 1);
    if (job.returnedWhileOwner) job.startsAfterOwnedReturn++;
    return new Promise((resolve, reject) => {
      const invocation: Invocation = {
        id: this.nextId++,
        jobId: ctx.jobId,
        attempt: ctx.attempt,
        leaseUntil: ctx.deadline + LEASE_SLACK_MS,
        delivery,
        status: 'running',
        finish: (outcome) => {
          if (outcome.kind === 'complete') {
            if (invocation.status === 'running') invocation.status = 'completed';
            job.completedAttempts.add(ctx.attempt);
            resolve(RESULTS[outcome.result](ctx.attempt));
            return;
          }
          if (invocation.status === 'running') invocation.status = 'threw';
          reject(outcome.retryable ? new Error('handler failed') : new NonRetryableError('handler refused'));
        },
      };
      this.invocations.push(invocation);
      entered();
    });
  }
}

/**
 * `target` as seen by one delivery: once the delivery crashed, every call
 * hangs forever, as calls from a Lambda that no longer exists never arrive.
 */
function severable<T extends object>(target: T, delivery: Delivery): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => (delivery.crashed ? new Promise(() => {}) : value.apply(object, args));
    },
  });
}

function sqsRecord(message: ModelMessage, delivery: Delivery): SQSRecord {
  return {
    messageId: `message-${message.id}`,
    receiptHandle: delivery.receipt,
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(message.receives),
      SentTimestamp: '0',
      SenderId: 'model',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:model',
    awsRegion: 'us-east-1',
  };
}
