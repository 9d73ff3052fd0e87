import { createHash } from 'node:crypto';
import { JobIdSchema } from '../envelope.js';
import { unstorableNumbers } from '../storable.js';
import { InvalidTriggerError, TriggerMappingError } from './errors.js';

/**
 * An EventBridge event as a rule delivers it: the envelope EventBridge adds
 * (`id`, `source`, `detail-type`, `time`, ...) around the `detail` its sender put.
 */
export interface JobTriggerEvent<Detail = unknown> {
  readonly version: string;
  /** Unique per `PutEvents` entry; EventBridge keeps it when it delivers the event again. */
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  /** ISO-8601, the sender's `Time` or when EventBridge received the event. */
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: Detail;
}

/**
 * Starts a job of this type whenever a matching event reaches the job system's
 * bus (`JobSystemProps.eventBus`): the stack creates one EventBridge rule for it.
 *
 * @example
 * trigger: {
 *   source: 'shop.orders',
 *   detailType: 'OrderPlaced',
 *   pattern: { detail: { total: [{ numeric: ['>', 0] }] } },
 *   payload: (event) => ({ orderId: (event.detail as { id: string }).id }),
 * }
 */
export interface JobTriggerInput<Payload> {
  /** The events' `source`, or any of several. */
  readonly source: string | readonly string[];
  /** The events' `detail-type`, or any of several. */
  readonly detailType: string | readonly string[];
  /**
   * More of the EventBridge event pattern, in its own syntax (arrays of values or of
   * filters such as `{ prefix: 'eu-' }`), e.g. `{ detail: { status: ['paid'] } }`; not `source` or
   * `detail-type`, which come from the fields above.
   * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html
   * @default - every event of the source and detail type
   */
  readonly pattern?: Readonly<Record<string, unknown>>;
  /**
   * Maps a matching event to the job's payload, in the intake function. Its result is
   * checked against the job type's schema like an `enqueue` payload; if it throws or
   * the result does not fit, the job is recorded `dead` with the reason.
   */
  readonly payload: (event: JobTriggerEvent) => Payload;
}

/** A checked trigger, as the contract keeps it. */
export interface JobTrigger {
  readonly sources: readonly string[];
  readonly detailTypes: readonly string[];
  readonly pattern?: Readonly<Record<string, unknown>>;
  readonly payload: (event: JobTriggerEvent) => unknown;
}

/** EventBridge's limits on an event's `source` and `detail-type` (PutEventsRequestEntry). */
const MAX_SOURCE_LENGTH = 256;
const MAX_DETAIL_TYPE_LENGTH = 128;
/**
 * EventBridge's largest rule event pattern: 4096 characters, the most its quota can be raised to (the
 * default quota is 2048, so a longer pattern also needs a quota increase).
 */
const MAX_PATTERN_LENGTH = 4_096;
const RESERVED_PATTERN_KEYS = ['source', 'detail-type'] as const;

/**
 * Checks a job type's `trigger` option. @throws InvalidTriggerError naming the job and quoting the value
 */
export function resolveTrigger(jobType: string, input: JobTriggerInput<unknown>): JobTrigger {
  if (typeof input !== 'object' || input === null) {
    throw new InvalidTriggerError(jobType, `must be an object with source, detailType and payload (given ${String(input)})`);
  }
  const sources = valueList(jobType, 'source', input.source, MAX_SOURCE_LENGTH);
  const detailTypes = valueList(jobType, 'detailType', input.detailType, MAX_DETAIL_TYPE_LENGTH);
  if (typeof input.payload !== 'function') {
    throw new InvalidTriggerError(jobType, `payload must be a function of the event (given ${typeof input.payload})`);
  }
  const pattern = input.pattern === undefined ? undefined : checkPattern(jobType, input.pattern);
  const rendered = JSON.stringify(eventPatternOf({ sources, detailTypes, ...(pattern ? { pattern } : {}) }));
  if (rendered.length > MAX_PATTERN_LENGTH) {
    throw new InvalidTriggerError(
      jobType,
      `event pattern is ${rendered.length} characters, over EventBridge's ${MAX_PATTERN_LENGTH} (given ${rendered.slice(0, 80)}...)`,
    );
  }
  return { sources, detailTypes, ...(pattern ? { pattern } : {}), payload: input.payload };
}

/** The EventBridge event pattern of a trigger: its sources and detail types, and the rest of its pattern. */
export function eventPatternOf(trigger: Omit<JobTrigger, 'payload'>): Record<string, unknown> {
  return { ...trigger.pattern, source: [...trigger.sources], 'detail-type': [...trigger.detailTypes] };
}

/**
 * The id of the job an event starts: the same for every delivery of the event, so
 * EventBridge delivering it twice (it delivers at least once) creates one job, and
 * different for each job type the event starts. `ev:<type>:<event id>` when that is
 * a valid job id, else `ev:` and a SHA-256 of both.
 */
export function eventJobId(jobType: string, eventId: string): string {
  const readable = `ev:${jobType}:${eventId}`;
  if (JobIdSchema.safeParse(readable).success) return readable;
  return `ev:${createHash('sha256').update(`${jobType}\n${eventId}`).digest('hex')}`;
}

/**
 * Runs a trigger's payload function on an event and returns its result in JSON
 * form (what the schema and the handler see).
 * @throws TriggerMappingError when the function throws or returns something that is not JSON
 */
export function mapTriggerEvent(jobType: string, jobId: string, trigger: JobTrigger, event: JobTriggerEvent): unknown {
  let mapped: unknown;
  try {
    mapped = trigger.payload(event);
  } catch (error) {
    throw new TriggerMappingError(jobId, jobType, event.id, error);
  }
  if (mapped instanceof Promise) {
    throw new TriggerMappingError(jobId, jobType, event.id, new Error('it returned a Promise: it must return the payload'));
  }
  const unstorable = unstorableNumbers(mapped);
  if (unstorable.length > 0) throw new TriggerMappingError(jobId, jobType, event.id, new Error(unstorable.join('; ')));
  let json: string | undefined;
  try {
    json = JSON.stringify(mapped);
  } catch (error) {
    throw new TriggerMappingError(jobId, jobType, event.id, error);
  }
  if (json === undefined) {
    throw new TriggerMappingError(jobId, jobType, event.id, new Error(`it returned ${typeof mapped}, not a JSON value`));
  }
  return JSON.parse(json);
}

function valueList(jobType: string, field: string, value: unknown, maxLength: number): string[] {
  const list = typeof value === 'string' ? [value] : Array.isArray(value) ? [...(value as unknown[])] : undefined;
  if (list === undefined || list.length === 0) {
    throw new InvalidTriggerError(
      jobType,
      `${field} must be a string or a non-empty array of strings (given ${JSON.stringify(value)})`,
    );
  }
  for (const item of list) {
    if (typeof item !== 'string' || item.length === 0 || item.length > maxLength) {
      throw new InvalidTriggerError(
        jobType,
        `${field} values must be strings of 1..${maxLength} characters (given ${JSON.stringify(item)})`,
      );
    }
  }
  return list as string[];
}

function checkPattern(jobType: string, pattern: unknown): Record<string, unknown> {
  if (typeof pattern !== 'object' || pattern === null || Array.isArray(pattern)) {
    throw new InvalidTriggerError(jobType, `pattern must be an object (given ${JSON.stringify(pattern)})`);
  }
  const reserved = RESERVED_PATTERN_KEYS.filter((key) => Object.hasOwn(pattern, key));
  if (reserved.length > 0) {
    throw new InvalidTriggerError(
      jobType,
      `pattern must not hold ${reserved.join(' or ')} (given ${JSON.stringify(pattern)}): use source and detailType`,
    );
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(pattern);
  } catch {
    json = undefined;
  }
  if (json === undefined) throw new InvalidTriggerError(jobType, 'pattern must be JSON (given an object that is not)');
  return JSON.parse(json) as Record<string, unknown>;
}
