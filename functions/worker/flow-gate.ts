import type { SQSRecord } from 'aws-lambda';
import {
  type AnyJobDefinition,
  ConfigurationError,
  type FlowStore,
  flowKeyOf,
  type JobEnvelope,
  type JobQueue,
  type JobstackError,
  MAX_SQS_DELAY_SECONDS,
} from '../../shared/index.js';
import type { JobLog } from './job-log.js';

/** Message attributes a job waiting for its flow limit carries on the copy sent back to the queue. */
export const FlowWaitAttribute = {
  /** How many times the job waited for a concurrency slot: the exponent of its backoff. */
  concurrencyWaits: 'jobstack-flow-waits',
  /** Epoch ms the job record was last marked as sent (see `FlowStore.noteWaiting`). */
  notedAt: 'jobstack-flow-noted-at',
} as const;

/** First wait for a concurrency slot, seconds; it doubles per wait. */
export const CONCURRENCY_WAIT_BASE_SECONDS = 2;
/**
 * Longest wait for a concurrency slot, seconds. A slot frees when a run ends,
 * which no waiting job hears of, so waits are polls: a cap of a minute bounds
 * how late a job starts after a slot frees, at one receive a minute per waiting job.
 */
export const CONCURRENCY_WAIT_MAX_SECONDS = 60;
/**
 * A waiting job's record is marked as sent again when its last mark is older
 * than this: well inside the 15 minutes after which the sweeper stops
 * counting delayed messages as the job's own.
 */
export const FLOW_NOTE_INTERVAL_MS = 10 * 60_000;

export interface FlowGateDeps {
  readonly flow?: FlowStore;
  /** The queue the delivery came from (its priority level's): a waiting job's copy goes back there. */
  readonly queue: JobQueue;
  readonly clock: () => number;
  readonly random: () => number;
}

/** What the gate decided for one delivery. */
export type FlowGateResult =
  /** Run the job; call `claimed` after the claim and `leave` once its outcome is written. */
  | { readonly pass: true; readonly gate: FlowPass }
  /** The job waits: a copy of the message is back on the queue with a delay; delete this one. */
  | { readonly pass: false; readonly waiting: true }
  /** The job cannot be placed under its limits (a bad key, no flow store): end it dead with `error`. */
  | { readonly pass: false; readonly waiting: false; readonly error: JobstackError };

/** The slot a delivery holds while it runs, if its job type has a concurrency limit. */
export interface FlowPass {
  /** Tells the gate how the claim went; a job taking over a slot its earlier attempt kept moves the lease to its own. */
  claimed(claimed: boolean, logger: JobLog): Promise<void>;
  /** Gives the slot back (never throws: a failed release frees itself when its lease ends). */
  leave(logger: JobLog): Promise<void>;
}

const OPEN: FlowPass = { claimed: async () => undefined, leave: async () => undefined };

/**
 * The flow-control step before the claim: takes a concurrency slot, then a
 * rate-limit start, so a job over a limit waits without using an attempt. A job
 * type with neither limit passes with no request at all.
 *
 * A waiting job's message goes back as a new message with `DelaySeconds`
 * rather than by changing its visibility: a receive is counted towards the
 * queue's redrive limit every time a message is received, so waiting by
 * visibility would move a job that waits long to the undeliverable queue.
 */
export async function enterFlowGate(
  message: SQSRecord,
  envelope: JobEnvelope,
  definition: AnyJobDefinition,
  payload: unknown,
  leaseUntil: number,
  deps: FlowGateDeps,
  logger: JobLog,
): Promise<FlowGateResult> {
  const { concurrency, rateLimit } = definition;
  if (!concurrency && !rateLimit) return { pass: true, gate: OPEN };
  const context = { jobId: envelope.id, jobType: envelope.type };
  if (!deps.flow) {
    const error = new ConfigurationError(
      `job type '${envelope.type}' has a concurrency or rate limit, but this worker has no flow store to keep it`,
      context,
    );
    return { pass: false, waiting: false, error };
  }
  const flow = deps.flow;
  let concurrencyKey: string | undefined;
  let rateKey: string | undefined;
  try {
    if (concurrency) concurrencyKey = flowKeyOf('concurrency', concurrency, payload, context);
    if (rateLimit) rateKey = flowKeyOf('rateLimit', rateLimit, payload, context);
  } catch (error) {
    return { pass: false, waiting: false, error: error as JobstackError };
  }

  let slot: { key: string; leaseUntil: number; heldBefore: boolean } | undefined;
  if (concurrency && concurrencyKey !== undefined) {
    const result = await flow.acquireSlot({
      jobType: envelope.type,
      key: concurrencyKey,
      jobId: envelope.id,
      limit: concurrency.limit,
      leaseUntil,
    });
    if (!result.granted) {
      const waits = Number(message.messageAttributes?.[FlowWaitAttribute.concurrencyWaits]?.stringValue ?? 0) || 0;
      const ceiling = Math.min(CONCURRENCY_WAIT_MAX_SECONDS, CONCURRENCY_WAIT_BASE_SECONDS * 2 ** Math.min(waits, 10));
      const seconds = ceiling * (0.5 + 0.5 * deps.random());
      await wait(message, envelope, { reason: 'concurrency', key: concurrencyKey, seconds, waits: waits + 1 }, deps, logger, {
        holders: result.holders,
        contended: result.contended,
      });
      return { pass: false, waiting: true };
    }
    slot = { key: concurrencyKey, leaseUntil: result.leaseUntil, heldBefore: result.heldBefore };
  }

  if (rateLimit && rateKey !== undefined) {
    let result: Awaited<ReturnType<FlowStore['takeStart']>>;
    try {
      result = await flow.takeStart({ jobType: envelope.type, key: rateKey, limit: rateLimit.limit, perMs: rateLimit.perMs });
    } catch (error) {
      // The message comes back (a failed record); the slot must not wait for its lease to end.
      if (slot && !slot.heldBefore) await release(flow, envelope, slot, logger);
      throw error;
    }
    if (!result.allowed) {
      if (slot && !slot.heldBefore) await release(flow, envelope, slot, logger);
      const seconds = (result.waitMs / 1_000) * (1 + 0.25 * deps.random());
      const waits = Number(message.messageAttributes?.[FlowWaitAttribute.concurrencyWaits]?.stringValue ?? 0) || 0;
      await wait(message, envelope, { reason: 'rate', key: rateKey, seconds, waits }, deps, logger, {
        contended: result.contended,
      });
      return { pass: false, waiting: true };
    }
  }

  if (!slot) return { pass: true, gate: OPEN };
  const held = slot;
  let mine = !held.heldBefore;
  return {
    pass: true,
    gate: {
      async claimed(claimed, log) {
        if (!claimed || !held.heldBefore) return;
        // An earlier attempt of this job kept the slot (its release failed): this attempt takes it over under its own lease.
        try {
          mine = await flow.extendSlot({ jobType: envelope.type, key: held.key, jobId: envelope.id, leaseUntil });
        } catch (error) {
          // The run goes on: the slot stays held under the earlier lease, and this run releases it after.
          mine = true;
          log.warn('Could not move the kept slot to this attempt’s lease; it ends with the earlier lease', {
            key: held.key,
            error: error as Error,
          });
          return;
        }
        if (mine) held.leaseUntil = leaseUntil;
        else log.warn('The slot an earlier attempt kept is gone; running without extending it', { key: held.key });
      },
      async leave(log) {
        // A duplicate delivery found the slot held by the running delivery of its job: that one releases it.
        if (mine) await release(flow, envelope, held, log);
      },
    },
  };
}

async function release(
  flow: FlowStore,
  envelope: JobEnvelope,
  slot: { key: string; leaseUntil: number },
  logger: JobLog,
): Promise<void> {
  try {
    await flow.releaseSlot({ jobType: envelope.type, key: slot.key, jobId: envelope.id, leaseUntil: slot.leaseUntil });
  } catch (error) {
    logger.warn('Could not release the concurrency slot; it frees itself when its lease ends', {
      key: slot.key,
      leaseUntil: slot.leaseUntil,
      error: error as Error,
    });
  }
}

/** Sends the message back with a delay (1 s..15 min) and lets the original be deleted. */
async function wait(
  message: SQSRecord,
  envelope: JobEnvelope,
  plan: { reason: 'concurrency' | 'rate'; key: string; seconds: number; waits: number },
  deps: FlowGateDeps,
  logger: JobLog,
  details: Record<string, unknown>,
): Promise<void> {
  const delaySeconds = Math.max(1, Math.min(MAX_SQS_DELAY_SECONDS, Math.ceil(plan.seconds)));
  const now = deps.clock();
  const notedAttribute = Number(message.messageAttributes?.[FlowWaitAttribute.notedAt]?.stringValue);
  // Before the first note, the record's own last write is no older than the enqueue.
  let notedAt = Number.isFinite(notedAttribute) && notedAttribute > 0 ? notedAttribute : Date.parse(envelope.enqueuedAt);
  if (!(now - notedAt < FLOW_NOTE_INTERVAL_MS) && deps.flow) {
    try {
      await deps.flow.noteWaiting(envelope.id);
      notedAt = now;
    } catch (error) {
      logger.warn('Could not mark the waiting job as sent; trying again at its next wait', { error: error as Error });
    }
  }
  // `deps.queue` is the queue the message came from (its priority level's); the copy keeps its fairness group.
  await deps.queue.sendAgain(
    message.body,
    delaySeconds,
    {
      [FlowWaitAttribute.concurrencyWaits]: String(plan.waits),
      [FlowWaitAttribute.notedAt]: String(notedAt),
    },
    message.attributes?.MessageGroupId,
  );
  logger.info('Job waits for its flow limit', {
    reason: plan.reason,
    key: plan.key,
    waitMs: delaySeconds * 1_000,
    waits: plan.waits,
    ...details,
  });
}
