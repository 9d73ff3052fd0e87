import { Logger } from '@aws-lambda-powertools/logger';
import type { SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { createUndeliverableProcessor } from '../../../functions/dead-letter/process-undeliverable.js';
import { type StaleThresholds, sweep } from '../../../functions/sweeper/sweep.js';
import { createRecordProcessor, LEASE_SLACK_MS, RedeliveryRequestedError } from '../../../functions/worker/process-record.js';
import {
  defineJob,
  ENVELOPE_VERSION,
  envelopeFromRecord,
  type IdempotencyStore,
  isTerminal,
  type JobContext,
  JobErrorName,
  type JobMaintenance,
  type JobQueue,
  type JobRecord,
  MessageDeferredError,
  NonRetryableError,
  newJobId,
  type QueueMessageCounts,
  serializeEnvelope,
} from '../../../shared/index.js';
import { SuccessBatch } from '../../../shared/store/success-batch.js';
import { RecordingQueue } from '../recording-queue.js';
import type { FakeClock } from '../tables.js';

/** A job type whose handler waits for the test to say how the attempt ends. */
export const MODEL_JOB_TYPE = 'model.effect';
/** Job types whose handler wraps a counted side effect in `ctx.once`, with the default `onInterrupted: 'fail'` or with `'rerun'`. */
export const ONCE_JOB_TYPE = 'model.once';
export const ONCE_RERUN_JOB_TYPE = 'model.once-rerun';
/** The name of the one `ctx.once` step of the once job types. */
export const ONCE_STEP = 'effect';
export const MODEL_JOB_TIMEOUT_MS = 30_000;
export const MODEL_MAX_ATTEMPTS = 3;
/**
 * The queue's visibility timeout: a message received by a run that crashed comes
 * back after it. The stack sets it above the function timeout.
 */
export const VISIBILITY_TIMEOUT_MS = 6 * MODEL_JOB_TIMEOUT_MS;
/**
 * SQS's redrive `maxReceiveCount`: the receive after this many moves the message
 * to the undeliverable queue. The stack uses maxAttempts + 2; the model uses
 * less, so that the search reaches the undeliverable consumer within a short
 * run and the consumer meets jobs that still have attempts left: whatever the
 * count, it must never kill a job that another message can still move.
 */
export const MODEL_MAX_RECEIVES = MODEL_MAX_ATTEMPTS;
/** The undeliverable queue's visibility timeout (6 minutes in the stack). */
export const UNDELIVERABLE_VISIBILITY_MS = 360_000;
/** The sweeper's thresholds, scaled to the model's time (its commands move the clock by seconds to minutes). */
export const MODEL_SWEEP_THRESHOLDS: StaleThresholds = {
  queuedMs: 60_000,
  runningGraceMs: 30_000,
  retryingGraceMs: 30_000,
  scheduledGraceMs: 30_000,
};
/** The model's counts are exact, but the sweeper still waits this long after a send before trusting them. */
export const MODEL_COUNT_SETTLE_MS = 5_000;
const MODEL_MAX_SWEEPS = 3;

/** What a job's handler does: the plain type, or a `ctx.once` step with either `onInterrupted` choice. */
export type JobKind = 'plain' | 'once' | 'once-rerun';
const TYPE_OF: Record<JobKind, string> = { plain: MODEL_JOB_TYPE, once: ONCE_JOB_TYPE, 'once-rerun': ONCE_RERUN_JOB_TYPE };

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

/**
 * How a paused handler goes on. `complete` lets it past its current pause (for
 * a once handler: into the step, out of it, then return), `throw` makes it
 * throw there (inside the step: the step throws).
 */
export type HandlerOutcome = { kind: 'complete'; result: HandlerResult } | { kind: 'throw'; retryable: boolean };

/**
 * Where a paused handler waits. A plain handler pauses once (`handler`); a once
 * handler before its step, inside it (after the side effect, before
 * `completeStep`) and after it: the crash points of `ctx.once`.
 */
export type Stage = 'handler' | 'before-step' | 'inside-step' | 'after-step';

/** One SQS message of a job. SQS may hand it to several deliveries (at-least-once). */
export interface ModelMessage {
  readonly id: number;
  readonly jobId: string;
  readonly body: string;
  /** The job queue, or the undeliverable queue SQS moved it to after too many receives. */
  queue: 'main' | 'undeliverable';
  /** Fake-clock ms from which a normal receive may take it. */
  visibleAt: number;
  deleted: boolean;
  receives: number;
  /** Only the latest receive's handle deletes the message or changes its visibility, as in SQS. */
  latestReceipt: string;
}

/** A handler run of one attempt, paused until a command moves it on, fails it or crashes it. */
export interface Invocation {
  readonly id: number;
  readonly jobId: string;
  readonly kind: JobKind;
  readonly attempt: number;
  /** The lease the claim gave this attempt (epoch ms on the fake clock). */
  readonly leaseUntil: number;
  readonly delivery: Delivery;
  status: 'running' | 'completed' | 'threw' | 'crashed';
  stage: Stage;
  /** Lets the handler go on from its pause. */
  resume(outcome: HandlerOutcome): void;
}

/** One receive of a message and the worker's processing of it. */
export interface Delivery {
  readonly id: number;
  readonly receipt: string;
  readonly message: ModelMessage;
  /** Set by a crash: from then on the run's store and queue calls never return (the Lambda is gone). */
  crashed: boolean;
  settled?: Promise<'delete' | 'keep'>;
  /** Called when the handler reaches a pause. */
  paused?: () => void;
}

/** A job marked dead by the sweeper or the undeliverable consumer, with what the model knew at that moment. */
export interface MaintenanceKill {
  readonly by: 'sweeper' | 'undeliverable consumer';
  /** Messages of the job in the job queue (visible, in flight or delayed) when the killer started. */
  readonly liveMessages: number;
  /** The record before the kill. */
  readonly before: JobRecord | undefined;
  /** Fake-clock ms of the kill. */
  readonly at: number;
}

/** What happened to a job, kept by the world for the invariants. */
export interface JobObservations {
  readonly id: string;
  readonly kind: JobKind;
  /** Handler runs started, per attempt number (fencing: never above 1). */
  readonly handlerStarts: Map<number, number>;
  /** Attempts whose handler returned. */
  readonly completedAttempts: Set<number>;
  /** The record as last read after a step. */
  lastRecord?: JobRecord;
  /** A manual retry or redrive requeued the job since the last read (dead → queued is allowed then). */
  retriedSinceLastRead: boolean;
  /** A handler returned while its attempt still owned the job: its outcome had to be recorded. */
  returnedWhileOwner: boolean;
  /** Handler runs started after that (a completed handler run again). */
  startsAfterOwnedReturn: number;
  /** The side effect inside `ctx.once`, per run of it: by which attempt, and whether the step then threw (undone). */
  readonly effects: { attempt: number; undone: boolean }[];
  /** `ctx.once` returned to a handler, or a person resolved the step with a result: the effect must not run again. */
  stepCompleted: boolean;
  /** A person resolved the interrupted step as "did not happen": one more run of the effect is allowed per such answer. */
  rerunResolutions: number;
  /** Side-effect runs that broke at-most-once, described when they happened. */
  readonly onceViolations: string[];
  /** Kills by the sweeper or the undeliverable consumer. */
  readonly maintenanceKills: MaintenanceKill[];
  /** Index into the dead-letter copies from which a copy counts for the job's current life (after its last requeue). */
  copiesFrom: number;
  /**
   * No message of the job exists and the sweeper must recover it: its send was lost (a failed enqueue whose
   * rollback failed too), or the undeliverable consumer dropped its last message and left it to the sweeper.
   */
  unsent: boolean;
}

/**
 * The system under test: the real worker pipeline (`createRecordProcessor`),
 * the real undeliverable consumer (`createUndeliverableProcessor`), the real
 * sweeper (`sweep`) and the real JobMaintenance and IdempotencyStore on a real
 * DynamoDB, with SQS modelled in memory (job queue with its redrive to the
 * undeliverable queue, dead-letter copies) and a fake clock. Commands act on
 * it; invariants read it.
 */
export class World {
  readonly queue = new RecordingQueue();
  readonly undeliverableQueue = new RecordingQueue('undeliverable');
  readonly messages: ModelMessage[] = [];
  readonly invocations: Invocation[] = [];
  readonly jobs: JobObservations[] = [];
  /** Dead-letter copies a redrive has taken out of the dead-letter queue (by index into `queue.deadLetters`). */
  readonly consumedCopies = new Set<number>();
  private nextId = 1;
  private readonly logger = new Logger({ logLevel: 'SILENT' });

  /**
   * @param queueName the queue of this world's jobs; one per run, so that the
   *   sweeper (which scans the whole shared table) acts only on this run's jobs
   */
  constructor(
    readonly store: JobMaintenance,
    readonly idempotency: IdempotencyStore,
    readonly clock: FakeClock,
    readonly queueName: string,
  ) {
    this.queue.countMessages = () => this.counts('main');
    this.undeliverableQueue.countMessages = () => this.counts('undeliverable');
  }

  /** Enqueues a job as the client does: the record, then its message (unless the send is lost). */
  async enqueue(kind: JobKind, options: { sendLost?: boolean } = {}): Promise<string> {
    const id = newJobId(this.clock.now());
    const type = TYPE_OF[kind];
    await this.store.create({
      id,
      type,
      queue: this.queueName,
      maxAttempts: MODEL_MAX_ATTEMPTS,
      payload: { n: 1 },
      correlationId: id,
      state: 'queued',
    });
    const enqueuedAt = new Date(this.clock.now()).toISOString();
    if (!options.sendLost)
      this.addMessage(id, serializeEnvelope({ v: ENVELOPE_VERSION, id, type, payload: { n: 1 }, enqueuedAt }));
    this.jobs.push({
      id,
      kind,
      handlerStarts: new Map(),
      completedAttempts: new Set(),
      retriedSinceLastRead: false,
      returnedWhileOwner: false,
      startsAfterOwnedReturn: 0,
      effects: [],
      stepCompleted: false,
      rerunResolutions: 0,
      onceViolations: [],
      maintenanceKills: [],
      copiesFrom: 0,
      unsent: options.sendLost === true,
    });
    return id;
  }

  /**
   * Receives a job-queue message and runs the worker on it until the handler
   * pauses or the processing ends. `duplicate`: SQS hands out a message that is
   * not visible (at-least-once delivery); otherwise only a visible one is
   * taken. A visible message already received MODEL_MAX_RECEIVES times is moved
   * to the undeliverable queue instead, as SQS's redrive does.
   * @returns false when no message fits.
   */
  async deliver(pick: number, duplicate: boolean): Promise<boolean> {
    const now = this.clock.now();
    const candidates = this.live('main').filter((message) => duplicate || message.visibleAt <= now);
    const message = candidates[pick % Math.max(candidates.length, 1)];
    if (!message) return false;
    // SQS moves a message while handing it out normally; a duplicate of an in-flight message is not a receive it redrives.
    if (!duplicate && message.receives >= MODEL_MAX_RECEIVES) {
      message.queue = 'undeliverable';
      message.receives = 0;
      message.visibleAt = now;
      return true;
    }
    const delivery = this.receive(message, duplicate ? undefined : VISIBILITY_TIMEOUT_MS);
    const processRecord = createRecordProcessor({
      registry: {
        [MODEL_JOB_TYPE]: this.definitionFor('plain', delivery),
        [ONCE_JOB_TYPE]: this.definitionFor('once', delivery),
        [ONCE_RERUN_JOB_TYPE]: this.definitionFor('once-rerun', delivery),
      },
      store: severable(this.store, delivery),
      queue: severable(this.queue as JobQueue, delivery),
      idempotency: severable(this.idempotency, delivery),
      // Every other delivery writes its success as a PartiQL statement (BatchExecuteStatement), so the batched
      // success's condition meets the same takeovers, crashes and cancels as UpdateItem's.
      ...(delivery.id % 2 === 1
        ? { successes: new SuccessBatch(severable(this.store, delivery) as JobMaintenance, { batchFrom: 1 }) }
        : {}),
      queueName: this.queueName,
      logger: this.logger,
      clock: this.clock.now,
      random: () => 0.5,
    });
    const paused = new Promise<'paused'>((resolve) => {
      delivery.paused = () => resolve('paused');
    });
    delivery.settled = processRecord(sqsRecord(message, delivery)).then(
      () => 'delete' as const,
      (error: unknown) => {
        // Any other error is one the worker did not expect (a rejected DynamoDB write, a bug): fail the run.
        if (error instanceof RedeliveryRequestedError || isDeadLetterOutage(error)) return 'keep' as const;
        throw error;
      },
    );
    const first = await Promise.race([delivery.settled, paused]);
    if (first !== 'paused') this.settle(delivery, first, this.queue);
    return true;
  }

  /** Lets a paused handler go on (or throw), then waits until it pauses again or the worker has recorded the outcome. */
  async finish(pick: number, outcome: HandlerOutcome): Promise<boolean> {
    const invocation = this.running()[pick % Math.max(this.running().length, 1)];
    if (!invocation?.delivery.settled) return false;
    if (outcome.kind === 'complete' && (invocation.stage === 'handler' || invocation.stage === 'after-step')) {
      const record = await this.store.get(invocation.jobId);
      const job = this.job(invocation.jobId);
      if (record?.state === 'running' && record.attempts === invocation.attempt) job.returnedWhileOwner = true;
    }
    const delivery = invocation.delivery;
    const paused = new Promise<'paused'>((resolve) => {
      delivery.paused = () => resolve('paused');
    });
    invocation.resume(outcome);
    const first = await Promise.race([delivery.settled as Promise<'delete' | 'keep'>, paused]);
    if (first !== 'paused') this.settle(delivery, first, this.queue);
    return true;
  }

  /**
   * The Lambda running a paused handler dies where it is paused (for a once
   * handler: before, inside or after its step): nothing more is written, and its
   * message comes back after the visibility timeout.
   */
  crash(pick: number): boolean {
    const invocation = this.running()[pick % Math.max(this.running().length, 1)];
    if (!invocation) return false;
    this.kill(invocation);
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
    this.requeued(job);
    this.addMessage(job.id, serializeEnvelope(envelopeFromRecord(outcome.record)));
  }

  /**
   * `jobstack redrive` on one dead-letter copy, as shared/client/redrive.ts
   * decides: requeue a dead job and send the copy's body back to the queue;
   * send it too when the job is already waiting; discard it when the job
   * finished or is live; leave it when the job stays dead.
   */
  async redrive(pick: number): Promise<boolean> {
    const copies = this.queue.deadLetters
      .map((copy, index) => ({ copy, index }))
      .filter(({ index }) => !this.consumedCopies.has(index));
    const chosen = copies[pick % Math.max(copies.length, 1)];
    const jobId = chosen?.copy.reason.jobId;
    if (!chosen || jobId === undefined) return false;
    const job = this.job(jobId);
    const outcome = await this.store.requeueDead(jobId, { extraAttempts: MODEL_MAX_ATTEMPTS, reason: 'redrive' });
    if (outcome.requeued) this.requeued(job);
    const state = outcome.record?.state;
    if (outcome.requeued || state === 'queued' || state === 'scheduled') {
      this.addMessage(jobId, chosen.copy.body);
      this.consumedCopies.add(chosen.index);
    } else if (state !== 'dead') this.consumedCopies.add(chosen.index);
    return true;
  }

  /**
   * A person resolves the interrupted `ctx.once` step of a dead job
   * (`jobs.resolveStep`): it happened (with a result), or it did not (`rerun`).
   * Then retries the job, as the docs say to.
   */
  async resolveStep(pick: number, rerun: boolean): Promise<boolean> {
    const onceJobs = this.jobs.filter((job) => job.kind !== 'plain');
    const job = onceJobs[pick % Math.max(onceJobs.length, 1)];
    if (!job || (await this.store.get(job.id))?.state !== 'dead') return false;
    const resolved = await this.idempotency.resolveStep(job.id, ONCE_STEP, rerun ? { rerun: true } : { result: 'resolved' });
    if (resolved && rerun) job.rerunResolutions++;
    if (resolved && !rerun) job.stepCompleted = true;
    await this.retry(this.jobs.indexOf(job));
    return resolved;
  }

  /**
   * One run of the real sweeper, with evidence from the model's queues (their
   * exact counts, SQS's default retention). Its re-sends become messages.
   */
  async sweep(): Promise<void> {
    const before = await this.snapshot();
    const sentBefore = this.queue.sent.length;
    await sweep({
      store: this.store,
      cursors: this.idempotency,
      queues: new Map([[this.queueName, { queue: this.queue, undeliverable: this.undeliverableQueue }]]),
      logger: this.logger,
      thresholds: MODEL_SWEEP_THRESHOLDS,
      evidence: { countSettleMs: MODEL_COUNT_SETTLE_MS, retentionMarginMs: 3_600_000 },
      maxSweeps: MODEL_MAX_SWEEPS,
      clock: this.clock.now,
    });
    for (const sent of this.queue.sent.slice(sentBefore)) {
      if (!this.jobs.some((job) => job.id === sent.envelope.id)) continue;
      this.addMessage(sent.envelope.id, serializeEnvelope(sent.envelope), (sent.delaySeconds ?? 0) * 1_000);
    }
    await this.noteKills('sweeper', JobErrorName.stuckJob, before);
  }

  /**
   * The undeliverable queue's consumer (the real createUndeliverableProcessor)
   * receives one visible message there and decides about its job. The message
   * is deleted when it returns; when it throws (deferred, or the dead-letter
   * copy failed) it comes back after the delay asked for or the visibility timeout.
   * @returns false when the undeliverable queue has no visible message.
   */
  async consumeUndeliverable(pick: number): Promise<boolean> {
    const now = this.clock.now();
    const candidates = this.live('undeliverable').filter((message) => message.visibleAt <= now);
    const message = candidates[pick % Math.max(candidates.length, 1)];
    if (!message) return false;
    const before = await this.snapshot();
    const delivery = this.receive(message, UNDELIVERABLE_VISIBILITY_MS);
    const process = createUndeliverableProcessor({
      store: this.store,
      queue: this.queue,
      undeliverable: this.undeliverableQueue,
      logger: this.logger,
      queueName: this.queueName,
      clock: this.clock.now,
    });
    const outcome = await process(sqsRecord(message, delivery)).then(
      () => 'delete' as const,
      (error: unknown) => {
        if (error instanceof MessageDeferredError) return 'keep' as const;
        if (isDeadLetterOutage(error)) return 'keep' as const;
        throw error;
      },
    );
    this.settle(delivery, outcome, this.undeliverableQueue);
    await this.noteKills('undeliverable consumer', JobErrorName.deliveryLimitExceeded, before);
    // A job with attempts left whose last message the consumer dropped is the sweeper's to recover, like a lost
    // send: it re-sends once it can prove no message exists, and the drain proves the job still ends.
    const job = this.jobs.find((candidate) => candidate.id === message.jobId);
    const record = await this.store.get(message.jobId);
    if (
      job &&
      record &&
      !isTerminal(record.state) &&
      this.live('main', job.id).length + this.live('undeliverable', job.id).length === 0
    )
      job.unsent = true;
    return true;
  }

  /** SQS refuses (or accepts again) sends to the dead-letter queue. */
  setDeadLetterOutage(down: boolean): void {
    this.queue.failDeadLetters = down;
  }

  /**
   * Lets the system settle with nothing going wrong any more: dead-letter sends
   * work, paused handlers go on, time passes, every message (in the job queue
   * or the undeliverable queue) is delivered until none is left; with no message
   * left, the sweeper runs until it has nothing to do (re-sending what was never
   * sent, forwarding owed dead-letter copies). `afterStep` runs after each step.
   */
  async drain(afterStep: (step: string) => Promise<void>, maxSteps = 120): Promise<void> {
    this.setDeadLetterOutage(false);
    for (let step = 0; step < maxSteps; step++) {
      if (this.running().length > 0) {
        await this.finish(0, { kind: 'complete', result: 'plain' });
        await afterStep('drain: complete');
        continue;
      }
      const pending = this.messages.filter((message) => !message.deleted);
      if (pending.length === 0) {
        if (await this.settled()) return;
        // Past every threshold and the count settle time: the sweeper may act on anything still owed.
        this.clock.advance(MODEL_SWEEP_THRESHOLDS.queuedMs + MODEL_COUNT_SETTLE_MS + 1);
        await this.sweep();
        await afterStep('drain: sweep');
        continue;
      }
      const nextVisible = Math.min(...pending.map((message) => message.visibleAt));
      if (nextVisible > this.clock.now()) this.clock.set(nextVisible);
      const visible = pending.find((message) => message.visibleAt <= this.clock.now());
      if (visible?.queue === 'undeliverable') {
        await this.consumeUndeliverable(0);
        await afterStep('drain: undeliverable');
      } else {
        await this.deliver(0, false);
        await afterStep('drain: deliver');
      }
    }
    throw new Error(`the system did not settle within ${maxSteps} steps`);
  }

  running(): Invocation[] {
    return this.invocations.filter((invocation) => invocation.status === 'running');
  }

  /** Undeleted messages of `queue`, optionally of one job. */
  live(queue: ModelMessage['queue'], jobId?: string): ModelMessage[] {
    return this.messages.filter(
      (message) => !message.deleted && message.queue === queue && (jobId === undefined || message.jobId === jobId),
    );
  }

  job(id: string): JobObservations {
    const job = this.jobs.find((candidate) => candidate.id === id);
    if (!job) throw new Error(`unknown job ${id}`);
    return job;
  }

  /** Ends every paused handler without letting it write, so no timer or promise outlives the run. */
  shutdown(): void {
    for (const invocation of this.running()) this.kill(invocation);
  }

  /** True when every job is finished and no dead job still owes its dead-letter copy. */
  private async settled(): Promise<boolean> {
    const records = await Promise.all(this.jobs.map((job) => this.store.get(job.id)));
    return records.every((record) => record !== undefined && isTerminal(record.state) && !record.deadLetterPending);
  }

  private kill(invocation: Invocation): void {
    invocation.delivery.crashed = true;
    invocation.status = 'crashed';
    // Let the paused promise end (its run can no longer write anything), so its deadline timer is cleared.
    invocation.resume({ kind: 'throw', retryable: true });
  }

  private requeued(job: JobObservations): void {
    job.retriedSinceLastRead = true;
    job.copiesFrom = this.queue.deadLetters.length;
  }

  private receive(message: ModelMessage, hideForMs: number | undefined): Delivery {
    const id = this.nextId++;
    const delivery: Delivery = { id, receipt: `receipt-${id}`, message, crashed: false };
    message.receives++;
    message.latestReceipt = delivery.receipt;
    if (hideForMs !== undefined) message.visibleAt = this.clock.now() + hideForMs;
    return delivery;
  }

  /** SQS's counts of a queue, exact: visible, in flight (received, hidden) and delayed (never received, hidden). */
  private counts(queue: ModelMessage['queue']): QueueMessageCounts {
    const now = this.clock.now();
    const live = this.live(queue);
    return {
      visible: live.filter((message) => message.visibleAt <= now).length,
      inFlight: live.filter((message) => message.visibleAt > now && message.receives > 0).length,
      delayed: live.filter((message) => message.visibleAt > now && message.receives === 0).length,
    };
  }

  /** Every job's record and its live job-queue messages, before a maintenance actor runs. */
  private async snapshot(): Promise<Map<string, { record: JobRecord | undefined; liveMessages: number }>> {
    const entries = await Promise.all(
      this.jobs.map(
        async (job) =>
          [job.id, { record: await this.store.get(job.id), liveMessages: this.live('main', job.id).length }] as const,
      ),
    );
    return new Map(entries);
  }

  /** Notes the jobs a maintenance actor just marked dead (with its error), with what the model knew before it ran. */
  private async noteKills(
    by: MaintenanceKill['by'],
    errorName: string,
    before: Map<string, { record: JobRecord | undefined; liveMessages: number }>,
  ): Promise<void> {
    const records = await Promise.all(this.jobs.map((job) => this.store.get(job.id)));
    for (const [index, job] of this.jobs.entries()) {
      const seen = before.get(job.id);
      const record = records[index];
      if (record?.state !== 'dead' || seen?.record?.state === 'dead' || record.error?.name !== errorName) continue;
      job.maintenanceKills.push({ by, liveMessages: seen?.liveMessages ?? 0, before: seen?.record, at: this.clock.now() });
    }
  }

  private addMessage(jobId: string, body: string, delayMs = 0): void {
    const id = this.nextId++;
    this.messages.push({
      id,
      jobId,
      body,
      queue: 'main',
      visibleAt: this.clock.now() + delayMs,
      deleted: false,
      receives: 0,
      latestReceipt: '',
    });
    const job = this.jobs.find((candidate) => candidate.id === jobId);
    if (job) job.unsent = false;
  }

  /** What the Lambda event source does with the message once processing ended: delete it, or leave it to come back. */
  private settle(delivery: Delivery, outcome: 'delete' | 'keep', queue: RecordingQueue): void {
    if (delivery.crashed || delivery.message.latestReceipt !== delivery.receipt) return;
    if (outcome === 'delete') {
      delivery.message.deleted = true;
      return;
    }
    const asked = queue.redeliveries.findLast((redelivery) => redelivery.receiptHandle === delivery.receipt);
    if (asked) delivery.message.visibleAt = this.clock.now() + asked.seconds * 1_000;
  }

  private definitionFor(kind: JobKind, delivery: Delivery) {
    return defineJob({
      name: TYPE_OF[kind],
      schema: z.object({ n: z.number() }),
      retry: { maxAttempts: MODEL_MAX_ATTEMPTS, baseDelay: '1s', maxDelay: '10s', jitter: 'none' },
      timeout: `${MODEL_JOB_TIMEOUT_MS / 1_000}s`,
      handler: (_payload: { n: number }, ctx: JobContext) => this.runHandler(kind, delivery, ctx),
    });
  }

  private async runHandler(kind: JobKind, delivery: Delivery, ctx: JobContext): Promise<unknown> {
    const job = this.job(ctx.jobId);
    job.handlerStarts.set(ctx.attempt, (job.handlerStarts.get(ctx.attempt) ?? 0) + 1);
    if (job.returnedWhileOwner) job.startsAfterOwnedReturn++;
    const invocation: Invocation = {
      id: this.nextId++,
      jobId: ctx.jobId,
      kind,
      attempt: ctx.attempt,
      leaseUntil: ctx.deadline + LEASE_SLACK_MS,
      delivery,
      status: 'running',
      stage: 'handler',
      resume: () => {},
    };
    this.invocations.push(invocation);
    try {
      let outcome: HandlerOutcome;
      if (kind === 'plain') {
        outcome = await this.pause(invocation, 'handler');
      } else {
        failIfThrow(await this.pause(invocation, 'before-step'));
        await ctx.once(
          ONCE_STEP,
          async () => {
            this.runEffect(job, ctx.attempt);
            const inside = await this.pause(invocation, 'inside-step');
            // A step that throws says its effect did not happen (ctx.once forgets it); a crash says nothing.
            if (inside.kind === 'throw' && invocation.status !== 'crashed') {
              const last = job.effects.at(-1);
              if (last) last.undone = true;
            }
            failIfThrow(inside);
            return { by: ctx.attempt };
          },
          { onInterrupted: kind === 'once-rerun' ? 'rerun' : 'fail' },
        );
        if (invocation.status !== 'crashed') job.stepCompleted = true;
        outcome = await this.pause(invocation, 'after-step');
      }
      failIfThrow(outcome);
      if (invocation.status === 'running') invocation.status = 'completed';
      job.completedAttempts.add(ctx.attempt);
      return RESULTS[outcome.kind === 'complete' ? outcome.result : 'plain'](ctx.attempt);
    } catch (error) {
      if (invocation.status === 'running') invocation.status = 'threw';
      throw error;
    }
  }

  /** The side effect inside the step: counted, and checked against what `ctx.once` promises. */
  private runEffect(job: JobObservations, attempt: number): void {
    const earlier = job.effects.filter((effect) => !effect.undone);
    if (job.stepCompleted) job.onceViolations.push(`attempt ${attempt} ran the effect after the step had completed`);
    else if (job.kind === 'once' && earlier.length > job.rerunResolutions) {
      job.onceViolations.push(
        `attempt ${attempt} ran the effect again (earlier: attempts ${earlier.map((effect) => effect.attempt).join(', ')}) ` +
          "without the handler asking for 'rerun' or a person resolving the step as not done",
      );
    }
    job.effects.push({ attempt, undone: false });
  }

  private pause(invocation: Invocation, stage: Stage): Promise<HandlerOutcome> {
    return new Promise((resolve) => {
      invocation.stage = stage;
      invocation.resume = resolve;
      invocation.delivery.paused?.();
    });
  }
}

/** The error of a dead-letter send refused during a DeadLetterOutage: the Lambda fails the record and SQS delivers it again. */
function isDeadLetterOutage(error: unknown): boolean {
  return error instanceof Error && error.message.includes('RecordingQueue.failDeadLetters');
}

function failIfThrow(outcome: HandlerOutcome): asserts outcome is Extract<HandlerOutcome, { kind: 'complete' }> {
  if (outcome.kind === 'throw') throw outcome.retryable ? new Error('handler failed') : new NonRetryableError('handler refused');
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
