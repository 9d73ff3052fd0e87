import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSRecord } from 'aws-lambda';
import {
  ConfigurationError,
  type DurationInput,
  type EnqueueOptions,
  FlowKeyError,
  type HandlerRegistry,
  InvalidArgumentError,
  InvalidDurationError,
  InvalidOrderingKeyError,
  InvalidPayloadError,
  InvalidScheduleError,
  type JobClient,
  type JobErrorInfo,
  JobIdSchema,
  type JobQueue,
  type JobStore,
  PayloadTooLargeError,
  UnknownJobTypeError,
} from '../../shared/index.js';
import { findJobDefinition } from '../../shared/job-definition.js';
import { ENQUEUE_EVENT_DETAIL_TYPE, EnqueueEventDetailSchema } from '../../shared/triggers/enqueue-event.js';
import { InvalidEnqueueEventError, TriggerMappingError } from '../../shared/triggers/errors.js';
import { IntakeEventSchema, IntakeMessageSchema } from '../../shared/triggers/intake-message.js';
import { eventJobId, type JobTriggerEvent, mapTriggerEvent } from '../../shared/triggers/trigger.js';
import type { JobObserver } from '../worker/job-observer.js';

/** Name of the dead-letter reason of an intake message that names no job a record could be made for. */
export const UNREADABLE_EVENT_ERROR = 'UnreadableEventError';

/**
 * Errors of `enqueue` that say the request itself is wrong: the same event would be refused
 * again, so it ends as a dead job record instead of being retried. Anything else (DynamoDB or
 * SQS failing, EnqueueError) is retried by SQS and, after the intake queue's receive limit, kept
 * in its dead-letter queue.
 */
const REFUSALS = [
  UnknownJobTypeError,
  InvalidPayloadError,
  PayloadTooLargeError,
  InvalidArgumentError,
  InvalidDurationError,
  InvalidScheduleError,
  InvalidOrderingKeyError,
  FlowKeyError,
  TriggerMappingError,
  InvalidEnqueueEventError,
] as const;

/** The largest payload kept on a dead record, as JSON; a larger one is left out (the reason says so). */
const MAX_DEAD_PAYLOAD_BYTES = 64_000;

export interface IntakeDeps {
  /** Registry with the job types' triggers (the handlers registry the worker runs). */
  readonly registry: HandlerRegistry;
  /** The SDK client: every job is enqueued through its `enqueue`, with its validation and idempotency. */
  readonly client: JobClient<HandlerRegistry>;
  /** For the dead records of refused events. */
  readonly store: JobStore;
  /** The intake queue, with its dead-letter queue: where unreadable messages go. */
  readonly intakeQueue: JobQueue;
  readonly logger: Logger;
  /**
   * Counts the dead records of refused events of known job types, as the worker counts its dead jobs
   * (the `JobsDead` metric the queue's dead-jobs alarm watches). @default - nothing counted
   */
  readonly observer?: JobObserver;
}

/** What became of one intake message. */
export type IntakeOutcome =
  | { readonly outcome: 'enqueued'; readonly jobId: string; readonly created: boolean }
  | { readonly outcome: 'dead'; readonly jobId: string; readonly created: boolean; readonly error: JobErrorInfo }
  | { readonly outcome: 'dead-lettered'; readonly reason: string };

/**
 * Handles one message of the intake queue: an EventBridge event wrapped by the rule that
 * matched it (`IntakeMessageSchema`). A `jobstack.enqueue` event enqueues the job its detail
 * names; a trigger's event enqueues its job type with `trigger.payload(event)`. Both go through
 * the client's `enqueue`, with a job id from the event id unless the detail gives one, so a
 * redelivered event enqueues nothing new.
 *
 * An event that is refused (unknown type, a detail or payload that does not fit, a mapping that
 * throws) becomes a `dead` job record with the reason, and the message is done: the same event
 * would be refused again. A message that names no job type (not an event, a detail without a
 * `type`) goes to the intake dead-letter queue with the reason. Any other failure throws, so SQS
 * delivers the message again, up to the queue's receive limit.
 */
export function createIntakeProcessor(deps: IntakeDeps) {
  return async function processIntake(message: SQSRecord): Promise<IntakeOutcome> {
    const parsed = readMessage(message.body);
    if (!parsed.ok) return deadLetter(message.body, parsed.reason);
    const { kind, event } = parsed;
    if (kind.jobstack === 'trigger') return startTriggered(kind.jobType, event);
    return enqueueFromEvent(event, message.body);
  };

  async function enqueueFromEvent(event: JobTriggerEvent, body: string): Promise<IntakeOutcome> {
    const detail = event.detail as Record<string, unknown> | null;
    const type = typeof detail === 'object' && detail !== null && !Array.isArray(detail) ? detail.type : undefined;
    if (typeof type !== 'string' || type.length === 0) {
      return deadLetter(
        body,
        `${ENQUEUE_EVENT_DETAIL_TYPE} event ${event.id} has no job type: its detail must be an object with a string 'type' (given ${preview(event.detail)})`,
      );
    }
    const given = (detail as Record<string, unknown>).jobId;
    const derived = eventJobId(type, event.id);
    const checked = EnqueueEventDetailSchema.safeParse(detail);
    if (!checked.success) {
      const jobId = JobIdSchema.safeParse(given).success ? (given as string) : derived;
      const issues = checked.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
      return recordDead(
        jobId,
        type,
        (detail as Record<string, unknown>).payload,
        new InvalidEnqueueEventError(event.id, issues, { jobId, jobType: type }),
      );
    }
    const { payload, idempotencyKey, delay, jobId = derived } = checked.data;
    const options: EnqueueOptions = {
      jobId,
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
      // A malformed duration string is refused by `enqueue` (InvalidDurationError), as the SDK refuses it.
      ...(delay === undefined ? {} : { delay: delay as DurationInput }),
    };
    return enqueue(type, payload, options, event);
  }

  async function startTriggered(jobType: string, event: JobTriggerEvent): Promise<IntakeOutcome> {
    const trigger = findJobDefinition(deps.registry, jobType)?.trigger;
    const jobId = eventJobId(jobType, event.id);
    if (trigger === undefined) {
      // The rule and the function come from the same registry; this is a deploy of mismatched code.
      throw new ConfigurationError(`job type '${jobType}' has no trigger in this function's registry (event ${event.id})`, {
        jobType,
      });
    }
    let payload: unknown;
    try {
      payload = mapTriggerEvent(jobType, jobId, trigger, event);
    } catch (error) {
      return recordDead(jobId, jobType, undefined, error as Error);
    }
    return enqueue(jobType, payload, { jobId }, event);
  }

  async function enqueue(
    type: string,
    payload: unknown,
    options: EnqueueOptions,
    event: JobTriggerEvent,
  ): Promise<IntakeOutcome> {
    const jobId = options.jobId as string;
    try {
      const job = await deps.client.enqueue(type, payload, options);
      deps.logger.info('Enqueued a job from an event', {
        jobId: job.jobId,
        jobType: type,
        eventId: event.id,
        source: event.source,
        created: job.created,
      });
      return { outcome: 'enqueued', jobId: job.jobId, created: job.created };
    } catch (error) {
      if (!REFUSALS.some((refusal) => error instanceof refusal)) throw error;
      return recordDead(jobId, type, payload, error as Error);
    }
  }

  /** Records the refused event's job as `dead` with the reason (once: a redelivery finds the record). */
  async function recordDead(jobId: string, type: string, payload: unknown, error: Error): Promise<IntakeOutcome> {
    const definition = findJobDefinition(deps.registry, type);
    const json = payload === undefined ? undefined : safeJson(payload);
    const kept = json !== undefined && Buffer.byteLength(json) <= MAX_DEAD_PAYLOAD_BYTES;
    const info: JobErrorInfo = {
      name: error.name,
      message:
        kept || json === undefined ? error.message : `${error.message} (payload of ${Buffer.byteLength(json)} bytes not kept)`,
      retryable: false,
    };
    const created = await deps.store.create({
      id: jobId,
      type,
      queue: definition?.queue ?? 'unknown',
      maxAttempts: definition?.retry.maxAttempts ?? 1,
      payload: kept ? JSON.parse(json) : null,
      correlationId: jobId,
      state: 'dead',
      error: info,
    });
    if (created && definition) deps.observer?.dead({ jobType: type, queue: definition.queue, attempt: 0 }, info.name);
    deps.logger.error('Refused an event: its job is recorded dead', { jobId, jobType: type, error: info, created });
    return { outcome: 'dead', jobId, created, error: info };
  }

  async function deadLetter(body: string, reason: string): Promise<IntakeOutcome> {
    await deps.intakeQueue.sendToDeadLetter(body, { errorName: UNREADABLE_EVENT_ERROR, errorMessage: reason });
    deps.logger.error('Unreadable intake message: moved to the intake dead-letter queue', { reason });
    return { outcome: 'dead-lettered', reason };
  }
}

type ReadResult =
  | {
      readonly ok: true;
      readonly kind: { jobstack: 'enqueue' } | { jobstack: 'trigger'; jobType: string };
      readonly event: JobTriggerEvent;
    }
  | { readonly ok: false; readonly reason: string };

/** The rule's wrapper and the event in it; never throws. */
function readMessage(body: string): ReadResult {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, reason: `the message is not JSON (given ${preview(body)})` };
  }
  const message = IntakeMessageSchema.safeParse(json);
  if (!message.success) {
    return { ok: false, reason: `the message is not from a jobstack intake rule: ${issuesOf(message.error.issues)}` };
  }
  const event = IntakeEventSchema.safeParse(message.data.event);
  if (!event.success) return { ok: false, reason: `the message holds no EventBridge event: ${issuesOf(event.error.issues)}` };
  const kind =
    message.data.jobstack === 'trigger'
      ? { jobstack: 'trigger' as const, jobType: message.data.jobType }
      : { jobstack: 'enqueue' as const };
  return { ok: true, kind, event: event.data as unknown as JobTriggerEvent };
}

function issuesOf(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  return issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`).join('; ');
}

function safeJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

function preview(value: unknown): string {
  const text = typeof value === 'string' ? value : (safeJson(value) ?? String(value));
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}
