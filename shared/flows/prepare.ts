import type { ZodType } from 'zod';
import { fairnessKeyOf } from '../flow/fairness.js';
import { type AnyJobContract, findJobDefinition } from '../job-definition.js';
import { orderingKeyOf } from '../ordering/ordering.js';
import { unstorableNumbers } from '../storable.js';
import type { NewJobRecord } from '../store/types.js';
import { InvalidFlowJobError } from './errors.js';

/**
 * Largest payload of a job a flow creates, as JSON: it is always inline (the
 * same limit as `enqueue`'s inline payloads, MAX_INLINE_PAYLOAD_BYTES), since it
 * is written inside a transaction, with no S3 upload before it.
 */
export const MAX_FLOW_PAYLOAD_BYTES = 200_000;

/** The links a flow job carries (see JobRecord). */
export interface FlowLinks {
  readonly batchId?: string;
  readonly parentId?: string;
  readonly enqueuedBy?: string;
  readonly callbackOf?: string;
}

/** A job record prepared for a flow, and its size as stored (for the transaction's 4 MB limit). */
export interface PreparedFlowJob {
  readonly record: NewJobRecord;
  readonly sizeBytes: number;
}

/**
 * Checks a job a flow will create (a follow-up, a child, a batch member or
 * callback) against its contract in `registry` and builds its record, `queued`:
 * payload JSON-safe and valid for the schema, inline-sized; its queue, attempts,
 * default priority, fairness and ordering keys from the contract. Debounced and
 * throttled types are refused: each needs its own conditional write before the
 * job exists, which a transaction of many jobs cannot hold.
 * @throws InvalidFlowJobError saying what is wrong, with the given value
 */
export function prepareFlowJob(
  registry: Readonly<Record<string, AnyJobContract>>,
  request: { readonly type: string; readonly payload: unknown; readonly id: string; readonly correlationId: string },
  links: FlowLinks,
): PreparedFlowJob {
  const { type, id } = request;
  const context = { jobId: id, jobType: type };
  const definition = findJobDefinition(registry, type);
  if (!definition) {
    throw new InvalidFlowJobError(
      `unknown job type '${type}' (known types: ${Object.keys(registry).join(', ') || 'none'})`,
      context,
    );
  }
  if (definition.debounce || definition.throttle) {
    throw new InvalidFlowJobError(
      `job type '${type}' is ${definition.debounce ? 'debounced' : 'throttled'}: flows cannot start it (use jobs.enqueue)`,
      context,
    );
  }
  const unstorable = unstorableNumbers(request.payload);
  if (unstorable.length > 0)
    throw new InvalidFlowJobError(`payload of '${type}' is not storable: ${unstorable.join('; ')}`, context);
  let json: string | undefined;
  try {
    json = JSON.stringify(request.payload);
  } catch (error) {
    throw new InvalidFlowJobError(`payload of '${type}' is not JSON: ${(error as Error).message}`, context);
  }
  if (json === undefined)
    throw new InvalidFlowJobError(`payload of '${type}' is not JSON (given ${typeof request.payload})`, context);
  const sizeBytes = Buffer.byteLength(json);
  if (sizeBytes > MAX_FLOW_PAYLOAD_BYTES) {
    throw new InvalidFlowJobError(
      `payload of '${type}' is ${sizeBytes} bytes as JSON; a job a flow creates holds at most ${MAX_FLOW_PAYLOAD_BYTES}`,
      context,
    );
  }
  const wire: unknown = JSON.parse(json);
  const checked = (definition.schema as ZodType).safeParse(wire);
  if (!checked.success) {
    const issues = checked.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new InvalidFlowJobError(`invalid payload for job type '${type}': ${issues.join('; ')}`, context);
  }
  let fairnessKey: string | undefined;
  let orderingKey: string | undefined;
  try {
    fairnessKey = fairnessKeyOf(type, definition.fairness, checked.data);
    orderingKey = definition.ordering === undefined ? undefined : orderingKeyOf(type, definition.ordering, checked.data, id);
  } catch (error) {
    throw new InvalidFlowJobError((error as Error).message, { ...context, cause: error });
  }
  const record: NewJobRecord = {
    id,
    type,
    queue: definition.queue,
    maxAttempts: definition.retry.maxAttempts,
    payload: wire,
    correlationId: request.correlationId,
    state: 'queued',
    ...(definition.priority === undefined ? {} : { priority: definition.priority }),
    ...(fairnessKey === undefined ? {} : { fairnessKey }),
    ...(orderingKey === undefined ? {} : { orderingKey }),
    ...links,
  };
  // The item also holds its ids, times and links: a kilobyte is a generous allowance.
  return { record, sizeBytes: sizeBytes + 1_024 };
}
