import * as z from 'zod';
import { InvalidEnvelopeError } from './errors.js';

/** Version of the message format; a worker rejects versions it does not know instead of guessing. */
export const ENVELOPE_VERSION = 1;

const JOB_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** Job ids: up to 128 characters of letters, digits and `._:-` (safe as SQS, Step Functions and Scheduler names). */
export const JobIdSchema = z.string().regex(JOB_ID_PATTERN, 'job id must be 1..128 characters of A-Z a-z 0-9 . _ : -');

/**
 * The message body carried by SQS. It holds the payload itself so a worker needs
 * no read before running a job; the DynamoDB record holds the state.
 */
export const JobEnvelopeSchema = z.object({
  v: z.literal(ENVELOPE_VERSION),
  id: JobIdSchema,
  type: z.string().min(1).max(128),
  payload: z.unknown(),
  /** Set instead of `payload` when the payload was too large to travel inline (it is in S3). */
  payloadRef: z.object({ bucket: z.string().min(1), key: z.string().min(1), sizeBytes: z.number().int().min(0) }).optional(),
  /** ISO-8601 time of the `enqueue` call. */
  enqueuedAt: z.iso.datetime(),
  /** Carried into every log line of the job; defaults to the job id. */
  correlationId: z.string().min(1).max(256).optional(),
});

export type JobEnvelope = z.infer<typeof JobEnvelopeSchema>;

export type EnvelopeParseResult =
  | { readonly ok: true; readonly envelope: JobEnvelope }
  | { readonly ok: false; readonly error: InvalidEnvelopeError; readonly jobId?: string; readonly jobType?: string };

/**
 * Parses an SQS message body. Never throws: a body that is not JSON, not an
 * object, of an unknown version or missing fields comes back as `ok: false` with
 * a readable reason, and with the job id whenever one could be read, so the
 * worker can mark that job dead rather than lose track of it.
 */
export function parseEnvelope(body: string): EnvelopeParseResult {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, error: new InvalidEnvelopeError(`body is not JSON (${describeBody(body)})`) };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, error: new InvalidEnvelopeError(`body is JSON but not an object (${describeBody(body)})`) };
  }
  const candidate = json as Record<string, unknown>;
  const checked = checkEnvelope(candidate);
  if (checked) return { ok: true, envelope: checked };
  const jobId = typeof candidate.id === 'string' && JOB_ID_PATTERN.test(candidate.id) ? candidate.id : undefined;
  const jobType = typeof candidate.type === 'string' ? candidate.type : undefined;
  const context = { ...(jobId === undefined ? {} : { jobId }), ...(jobType === undefined ? {} : { jobType }) };
  if (candidate.v !== ENVELOPE_VERSION) {
    const reason = `unsupported message version ${JSON.stringify(candidate.v)} (this worker reads version ${ENVELOPE_VERSION})`;
    return { ok: false, error: new InvalidEnvelopeError(reason, context), ...context };
  }
  // Not the common shape (see checkEnvelope): zod decides, and says why when the body is invalid.
  const parsed = JobEnvelopeSchema.safeParse(json);
  if (!parsed.success) {
    const reason = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
    return { ok: false, error: new InvalidEnvelopeError(reason, context), ...context };
  }
  return { ok: true, envelope: parsed.data };
}

/** The pattern `z.iso.datetime()` checks with its defaults (a real calendar date, UTC `Z`, seconds required). */
const ISO_DATETIME_UTC = z.regexes.datetime({});
const ENVELOPE_KEYS = new Set(['v', 'id', 'type', 'payload', 'payloadRef', 'enqueuedAt', 'correlationId']);

/**
 * The worker's check of an envelope in the shape jobstack itself sends (inline payload, a UTC timestamp), by hand:
 * the zod schema costs more CPU per message than running a small job. Answers the envelope only when the schema
 * would accept it unchanged (same fields, same checks), and `undefined` for anything else, which then goes to
 * the schema: a `payloadRef`, an unusual timestamp, an invalid field. The payload keeps its job type's schema.
 */
function checkEnvelope(candidate: Record<string, unknown>): JobEnvelope | undefined {
  const { v, id, type, enqueuedAt, correlationId } = candidate;
  if (v !== ENVELOPE_VERSION) return undefined;
  if (typeof id !== 'string' || !JOB_ID_PATTERN.test(id)) return undefined;
  if (typeof type !== 'string' || type.length === 0 || type.length > 128) return undefined;
  if (typeof enqueuedAt !== 'string' || !ISO_DATETIME_UTC.test(enqueuedAt)) return undefined;
  if (
    correlationId !== undefined &&
    (typeof correlationId !== 'string' || correlationId.length === 0 || correlationId.length > 256)
  )
    return undefined;
  // The schema wants the `payload` key (z.unknown() in an object is required in zod 4).
  if (!('payload' in candidate)) return undefined;
  for (const key in candidate) if (!ENVELOPE_KEYS.has(key) || key === 'payloadRef') return undefined;
  const envelope: { -readonly [K in keyof JobEnvelope]: JobEnvelope[K] } = {
    v: ENVELOPE_VERSION,
    id,
    type,
    payload: candidate.payload,
    enqueuedAt,
  };
  if (correlationId !== undefined) envelope.correlationId = correlationId;
  return envelope;
}

/**
 * The message body of a job. JSON.stringify escapes control characters and lone
 * surrogates but leaves U+FFFE and U+FFFF raw, and SQS refuses a body holding
 * them (its allowed set stops at U+FFFD); escaped, they parse back unchanged.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
 */
export function serializeEnvelope(envelope: JobEnvelope): string {
  return JSON.stringify(envelope).replace(/[\uFFFE\uFFFF]/g, (char) => `\\u${char.charCodeAt(0).toString(16)}`);
}

function describeBody(body: string): string {
  const preview = body.length > 40 ? `${body.slice(0, 40)}…` : body;
  return `${body.length} bytes: ${JSON.stringify(preview)}`;
}

/**
 * The message that (re)starts a job from its record: used by `retry`, the
 * sweeper and redrive-like paths, so every re-send carries the same fields.
 */
export function envelopeFromRecord(record: {
  readonly id: string;
  readonly type: string;
  readonly payload?: unknown;
  readonly payloadRef?: JobEnvelope['payloadRef'];
  readonly correlationId?: string;
  readonly createdAt: string;
}): JobEnvelope {
  return {
    v: ENVELOPE_VERSION,
    id: record.id,
    type: record.type,
    payload: record.payloadRef ? null : (record.payload ?? null),
    enqueuedAt: record.createdAt,
    ...(record.payloadRef ? { payloadRef: record.payloadRef } : {}),
    ...(record.correlationId === undefined ? {} : { correlationId: record.correlationId }),
  };
}
