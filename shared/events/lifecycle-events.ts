import * as z from 'zod';
import { ConfigurationError } from '../errors.js';
import { JobState } from '../states.js';

/**
 * The `source` of every lifecycle event jobstack publishes. A rule that matches
 * `{ "source": ["jobstack"] }` sees the events of every job system publishing to
 * that bus; `detail.stack` tells the stacks apart.
 */
export const LIFECYCLE_EVENT_SOURCE = 'jobstack';

/** The `detail-type` of each lifecycle event, by the state the job moved to. */
export const LifecycleDetailType = {
  succeeded: 'jobstack.job.succeeded',
  dead: 'jobstack.job.dead',
  cancelled: 'jobstack.job.cancelled',
  /** Opt-in (`include: ['started']`): a run took the job (`scheduled`, `queued` or `retrying` → `running`). */
  started: 'jobstack.job.started',
  /** Opt-in (`include: ['retrying']`): an attempt failed and another one is due. */
  retrying: 'jobstack.job.retrying',
} as const;
export type LifecycleDetailType = (typeof LifecycleDetailType)[keyof typeof LifecycleDetailType];

/** The lifecycle events published only when asked for (`JobSystemProps.lifecycleEvents.include`). */
export const OPTIONAL_LIFECYCLE_EVENTS = ['started', 'retrying'] as const;
export type OptionalLifecycleEvent = (typeof OPTIONAL_LIFECYCLE_EVENTS)[number];

/** The job states whose entry is always published. */
export const TERMINAL_LIFECYCLE_STATES = ['succeeded', 'dead', 'cancelled'] as const;

/** The state a job is in after each lifecycle event: `started` is the move into `running`. */
export const LIFECYCLE_EVENT_STATE = {
  succeeded: JobState.succeeded,
  dead: JobState.dead,
  cancelled: JobState.cancelled,
  started: JobState.running,
  retrying: JobState.retrying,
} as const satisfies Record<keyof typeof LifecycleDetailType, JobState>;

/** Serialized size (UTF-8 bytes of JSON) above which a result or error is cut and `truncated` is set. */
export const LIFECYCLE_SUMMARY_MAX_BYTES = 8 * 1024;

/** An error as a lifecycle event carries it: no stack, the message cut to fit {@link LIFECYCLE_SUMMARY_MAX_BYTES}. */
export const LifecycleErrorSummarySchema = z.object({
  name: z.string(),
  message: z.string(),
  retryable: z.boolean(),
});

const detailFields = {
  stack: z.string().describe('The CloudFormation stack of the job system that published the event.'),
  jobId: z.string().describe('The job id (`jobs.get(jobId)` reads the whole record).'),
  type: z.string().describe('The job type.'),
  queue: z.string().describe('The logical queue the job runs on.'),
  attempts: z
    .number()
    .int()
    .min(0)
    .describe("Attempts started so far over the job's life; with jobId and state, the event's idempotency key."),
  maxAttempts: z.number().int().min(1).describe('Attempts the job may take.'),
  createdAt: z.string().describe('When the job was enqueued (ISO-8601).'),
  startedAt: z.string().optional().describe('When its latest attempt started (ISO-8601).'),
  finishedAt: z.string().optional().describe('When it ended (ISO-8601; terminal states).'),
  durationMs: z.number().int().min(0).optional().describe('finishedAt - startedAt: how long the last attempt ran.'),
  nextAttemptAt: z.string().optional().describe('When the next attempt is due (retrying; ISO-8601).'),
  result: z
    .unknown()
    .optional()
    .describe('What the handler returned (succeeded), when its JSON fits in 8 KB; read the job for a larger one.'),
  error: LifecycleErrorSummarySchema.optional().describe(
    'The last error (dead, retrying; cancelled when a run ended with one), without its stack.',
  ),
  truncated: z
    .literal(true)
    .optional()
    .describe('Set when the result was left out or the error message cut because its JSON exceeded 8 KB.'),
  resultBytes: z.number().int().min(0).optional().describe("UTF-8 bytes of the result's JSON, given when it was left out."),
  correlationId: z.string().optional().describe('The correlation id given at enqueue.'),
  batchId: z.string().optional().describe('The batch the job belongs to (jobs.batch).'),
  parentId: z.string().optional().describe('The job that started this one (ctx.enqueue).'),
};

/** The `detail` of any lifecycle event: `state` names the state the job moved to. */
export const LifecycleEventDetailSchema = z.object({
  ...detailFields,
  state: z.enum([JobState.succeeded, JobState.dead, JobState.cancelled, JobState.running, JobState.retrying]),
});
export type LifecycleEventDetail = z.infer<typeof LifecycleEventDetailSchema>;

/** The `detail` schema of one detail-type: `state` fixed to that event's state. */
export function lifecycleDetailSchemaOf(event: keyof typeof LifecycleDetailType) {
  return z.object({ ...detailFields, state: z.literal(LIFECYCLE_EVENT_STATE[event]) });
}

/**
 * The key a consumer deduplicates lifecycle events by. Delivery is at least once (the
 * table's stream, the publisher's retries and EventBridge's own retries can each
 * repeat an event); a repeat carries the same `jobId`, `state` and `attempts`,
 * while a later run of the same job (a retry after `dead`) has more attempts.
 *
 * @example
 * const key = lifecycleEventIdempotencyKey(event.detail);
 * if (await seen.putIfAbsent(key)) await handle(event.detail);
 */
export function lifecycleEventIdempotencyKey(detail: Pick<LifecycleEventDetail, 'jobId' | 'state' | 'attempts'>): string {
  return `${detail.jobId}:${detail.state}:${detail.attempts}`;
}

/**
 * `JobSystemProps.lifecycleEvents`: `true` publishes the terminal events (`succeeded`,
 * `dead`, `cancelled`); `include` adds `started` and `retrying`.
 */
export type LifecycleEventsOption = boolean | { readonly include?: readonly OptionalLifecycleEvent[] };

/** A lifecycle event by its short name (`detail-type` without `jobstack.job.`). */
export type LifecycleEventName = keyof typeof LifecycleDetailType;

/**
 * The lifecycle events `option` turns on (undefined when off).
 *
 * @throws ConfigurationError when `include` is not an array of `'started'` / `'retrying'` without repeats
 */
export function resolveLifecycleEvents(option: unknown): readonly LifecycleEventName[] | undefined {
  if (option === undefined || option === false) return undefined;
  if (option === true) return [...TERMINAL_LIFECYCLE_STATES];
  if (typeof option !== 'object' || option === null || Array.isArray(option)) {
    throw new ConfigurationError(
      `lifecycleEvents must be true, false or { include?: ('started' | 'retrying')[] } (given ${describe(option)})`,
    );
  }
  const unknownKeys = Object.keys(option).filter((key) => key !== 'include');
  if (unknownKeys.length > 0) {
    throw new ConfigurationError(`lifecycleEvents has unknown option ${unknownKeys.join(', ')} (given ${describe(option)})`);
  }
  const include = (option as { include?: unknown }).include ?? [];
  if (!Array.isArray(include)) {
    throw new ConfigurationError(
      `lifecycleEvents.include must be an array of 'started' | 'retrying' (given ${describe(include)})`,
    );
  }
  const seen = new Set<string>();
  for (const name of include) {
    if (!(OPTIONAL_LIFECYCLE_EVENTS as readonly unknown[]).includes(name)) {
      throw new ConfigurationError(
        `lifecycleEvents.include may hold only 'started' and 'retrying' (given ${describe(include)}: ${describe(name)} is not one)`,
      );
    }
    if (seen.has(name as string)) {
      throw new ConfigurationError(`lifecycleEvents.include names ${describe(name)} twice (given ${describe(include)})`);
    }
    seen.add(name as string);
  }
  return [...TERMINAL_LIFECYCLE_STATES, ...OPTIONAL_LIFECYCLE_EVENTS.filter((name) => seen.has(name))];
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
