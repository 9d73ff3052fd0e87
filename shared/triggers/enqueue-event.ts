import * as z from 'zod';
import { JobIdSchema } from '../envelope.js';

/** The `detail-type` of the event that enqueues a job from any language: `aws events put-events`, boto3, any SDK. */
export const ENQUEUE_EVENT_DETAIL_TYPE = 'jobstack.enqueue';

/**
 * The detail of a `jobstack.enqueue` event. Each field means what the SDK's
 * `enqueue(type, payload, { idempotencyKey, delay, jobId })` means, and goes
 * through the same code: the payload is checked against the job type's schema,
 * a key or id seen before enqueues nothing new, a delay over 15 minutes uses a
 * one-time schedule. Unknown fields are refused (a typo must not pass unseen).
 * The job id defaults to one derived from the event id, so EventBridge
 * delivering the event twice enqueues one job.
 *
 * Its JSON Schema is docs/events/jobstack.enqueue.schema.json.
 *
 * @example
 * aws events put-events --entries '[{"Source":"billing","DetailType":"jobstack.enqueue",
 *   "Detail":"{\"type\":\"email.send\",\"payload\":{\"to\":\"a@example.com\"},\"idempotencyKey\":\"order-42\"}"}]'
 */
export const EnqueueEventDetailSchema = z
  .strictObject({
    /** The job type, as named in the registry. */
    type: z.string().min(1).max(128).describe('The job type, as named in the registry (e.g. "email.send").'),
    /** The payload, checked against the job type's schema. */
    payload: z.json().describe("The job's payload; checked against the job type's schema."),
    idempotencyKey: z
      .string()
      .min(1)
      .max(512)
      .optional()
      .describe('Enqueueing again with the same key (for the same job type) within 24 hours returns the first job.'),
    delay: z
      .union([z.number().int().min(0), z.string().min(1)])
      .optional()
      .describe("Start no earlier than this from now: milliseconds, or a string like '30s', '15m', '2h', '7d'."),
    jobId: JobIdSchema.optional().describe(
      'Your own job id; enqueueing the same id twice creates one job. Default: derived from the event id.',
    ),
  })
  .describe('The detail of a jobstack.enqueue event: enqueues one job, as the SDK enqueue does.');

export type EnqueueEventDetail = z.infer<typeof EnqueueEventDetailSchema>;

/** The JSON Schema of `EnqueueEventDetailSchema` (what docs/events/jobstack.enqueue.schema.json holds). */
export function enqueueEventJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(EnqueueEventDetailSchema),
    title: 'jobstack.enqueue event detail',
  };
}
