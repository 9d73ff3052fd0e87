import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import {
  LIFECYCLE_EVENT_SOURCE,
  LIFECYCLE_SUMMARY_MAX_BYTES,
  LifecycleDetailType,
  type LifecycleEventDetail,
  LifecycleEventDetailSchema,
  type LifecycleEventName,
} from '../../shared/events/lifecycle-events.js';
import type { JobRecord } from '../../shared/record.js';
import type { StateTransition } from '../../shared/store/stream-changes.js';
import { MalformedJobRecordError } from './errors.js';

/** Where and for which stack the publisher publishes, and which events it publishes. */
export interface LifecycleEntryOptions {
  /** Name or ARN of the bus. */
  readonly eventBusName: string;
  /** `detail.stack`. */
  readonly stack: string;
  readonly events: ReadonlySet<LifecycleEventName>;
}

/**
 * The lifecycle event a transition is, or undefined when it is none (`scheduled`, `queued`,
 * including a manual retry's `dead → queued`). `started` is an entry into `running`: a takeover
 * of an expired lease (`running → running`) is no state change and no new event.
 */
export function lifecycleEventOf(transition: Pick<StateTransition, 'from' | 'to'>): LifecycleEventName | undefined {
  switch (transition.to) {
    case 'succeeded':
    case 'dead':
    case 'cancelled':
    case 'retrying':
      return transition.to;
    case 'running':
      return transition.from === 'running' ? undefined : 'started';
    default:
      return undefined;
  }
}

/**
 * The PutEvents entry of a transition, or undefined when the transition is no event the stack
 * publishes. The detail is checked against {@link LifecycleEventDetailSchema}: a record it does not
 * fit is never published half-formed.
 *
 * @throws MalformedJobRecordError when the record lacks what the detail needs
 */
export function lifecycleEntryOf(transition: StateTransition, options: LifecycleEntryOptions): PutEventsRequestEntry | undefined {
  const event = lifecycleEventOf(transition);
  if (event === undefined || !options.events.has(event)) return undefined;
  const detail = lifecycleDetailOf(transition.job, options.stack);
  const time = timeOf(transition.job, event);
  return {
    EventBusName: options.eventBusName,
    Source: LIFECYCLE_EVENT_SOURCE,
    DetailType: LifecycleDetailType[event],
    Detail: JSON.stringify(detail),
    ...(time === undefined ? {} : { Time: time }),
  };
}

/** The event detail of a job record as a transition left it, with the result or error cut to 8 KB. */
export function lifecycleDetailOf(job: JobRecord, stack: string): LifecycleEventDetail {
  const record = job as JobRecord & Record<string, unknown>;
  const started = parseTime(job.startedAt);
  const finished = parseTime(job.finishedAt);
  const candidate: Record<string, unknown> = {
    stack,
    jobId: job.id,
    type: job.type,
    queue: job.queue,
    state: job.state,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    createdAt: job.createdAt,
    ...optionalString('startedAt', job.startedAt),
    ...optionalString('finishedAt', job.finishedAt),
    ...(started !== undefined && finished !== undefined && finished >= started ? { durationMs: finished - started } : {}),
    ...(job.state === 'retrying' ? optionalString('nextAttemptAt', job.nextAttemptAt) : {}),
    ...(job.state === 'succeeded' ? resultSummary(job.result) : {}),
    ...(job.state !== 'succeeded' && job.state !== 'running' && job.error !== undefined ? errorSummary(job.error) : {}),
    ...optionalString('correlationId', job.correlationId),
    // Written by batches and child jobs; read defensively, as records from before them lack them.
    ...optionalString('batchId', record.batchId),
    ...optionalString('parentId', record.parentId),
  };
  const parsed = LifecycleEventDetailSchema.safeParse(candidate);
  if (!parsed.success) {
    throw new MalformedJobRecordError(
      `job record ${JSON.stringify(job.id)} cannot become a lifecycle event: ${parsed.error.issues
        .map((issue) => `${issue.path.join('.') || '(record)'}: ${issue.message}`)
        .join('; ')}`,
      typeof job.id === 'string' ? { jobId: job.id } : {},
    );
  }
  return parsed.data;
}

function resultSummary(result: unknown): Partial<LifecycleEventDetail> {
  if (result === undefined) return {};
  const json = JSON.stringify(result);
  if (json === undefined) return {};
  const bytes = Buffer.byteLength(json, 'utf8');
  return bytes <= LIFECYCLE_SUMMARY_MAX_BYTES ? { result } : { truncated: true, resultBytes: bytes };
}

function errorSummary(error: NonNullable<JobRecord['error']>): Partial<LifecycleEventDetail> {
  const name = String(error.name).slice(0, 256);
  const retryable = error.retryable === true;
  const message = String(error.message);
  const whole = { name, message, retryable };
  if (Buffer.byteLength(JSON.stringify(whole), 'utf8') <= LIFECYCLE_SUMMARY_MAX_BYTES) return { error: whole };
  const room = LIFECYCLE_SUMMARY_MAX_BYTES - Buffer.byteLength(JSON.stringify({ ...whole, message: '' }), 'utf8');
  return { error: { name, message: truncateToJsonBytes(message, room), retryable }, truncated: true };
}

/**
 * The longest prefix of `text` (whole code points) whose JSON string literal takes at most
 * `maxBytes` UTF-8 bytes beyond the two quotes `""` that an empty string takes.
 */
export function truncateToJsonBytes(text: string, maxBytes: number): string {
  const points = Array.from(text);
  const fits = (count: number): boolean =>
    Buffer.byteLength(JSON.stringify(points.slice(0, count).join('')), 'utf8') - 2 <= maxBytes;
  let low = 0;
  let high = points.length;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (fits(middle)) low = middle;
    else high = middle - 1;
  }
  return points.slice(0, low).join('');
}

function timeOf(job: JobRecord, event: LifecycleEventName): Date | undefined {
  const stamp = event === 'started' ? job.startedAt : event === 'retrying' ? job.updatedAt : (job.finishedAt ?? job.updatedAt);
  const ms = parseTime(stamp);
  return ms === undefined ? undefined : new Date(ms);
}

function parseTime(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function optionalString(key: string, value: unknown): Record<string, string> {
  return typeof value === 'string' ? { [key]: value } : {};
}
