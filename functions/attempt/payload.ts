import type { S3Client } from '@aws-sdk/client-s3';
import type { ZodType } from 'zod';
import { type AnyJobDefinition, ConfigurationError, InvalidPayloadError, type PayloadRef } from '../../shared/index.js';
import type { PayloadStore } from '../../shared/payload-store.js';

/** Reads payloads that travel by reference (over the inline limit, in S3). */
export interface PayloadReader {
  get(ref: PayloadRef): Promise<unknown>;
}

/** Where a job's payload is: inline, or in S3 by reference (then `payload` is null). Envelopes and records both fit. */
export interface PayloadSource {
  readonly id: string;
  readonly type: string;
  readonly payload?: unknown;
  readonly payloadRef?: PayloadRef | undefined;
}

/**
 * The payload as the handler's schema will see it: the inline value, or the
 * object the reference points to.
 *
 * @throws ConfigurationError when the payload is in S3 and no reader is configured
 * @throws NonRetryableError when the object is gone or not JSON (from the reader)
 */
export async function resolvePayload(source: PayloadSource, payloads: PayloadReader | undefined): Promise<unknown> {
  if (!source.payloadRef) return source.payload;
  if (!payloads) {
    throw new ConfigurationError(`job ${source.id} carries its payload in S3 but this function has no payload bucket`, {
      jobId: source.id,
      jobType: source.type,
    });
  }
  return payloads.get(source.payloadRef);
}

export type PayloadCheck =
  | { readonly ok: true; readonly payload: unknown }
  | { readonly ok: false; readonly error: InvalidPayloadError };

/** Checks a payload against its job type's schema; the parsed value (defaults applied) is what the handler gets. */
export function validatePayload(definition: AnyJobDefinition, raw: unknown, jobId: string): PayloadCheck {
  const schema: ZodType = definition.schema;
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, payload: parsed.data };
  const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  return { ok: false, error: new InvalidPayloadError(definition.name, issues, { jobId }) };
}

/**
 * A payload reader for `bucket` that loads the S3 client on first use, not at
 * cold start: large payloads are rare, and most invocations never need it.
 * `wrapClient` lets the caller instrument the client (X-Ray).
 */
export function lazyPayloadReader(bucket: string, options: { wrapClient?: (client: S3Client) => S3Client } = {}): PayloadReader {
  let store: Promise<PayloadStore> | undefined;
  return {
    async get(ref: PayloadRef): Promise<unknown> {
      store ??= Promise.all([import('@aws-sdk/client-s3'), import('../../shared/payload-store.js')]).then(
        ([{ S3Client }, { PayloadStore }]) => {
          const client = new S3Client({});
          return new PayloadStore(options.wrapClient ? options.wrapClient(client) : client, bucket);
        },
      );
      return (await store).get(ref);
    },
  };
}
