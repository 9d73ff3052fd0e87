import * as z from 'zod';
import type { JobRegistry } from '../../shared/index.js';

/** A job type as the dashboard's enqueue form needs it: its name, queue and payload schema as JSON Schema. */
export interface JobTypeInfo {
  readonly name: string;
  readonly queue: string;
  readonly description?: string;
  /** Whether it runs as a long job (Step Functions). */
  readonly long: boolean;
  /**
   * The payload schema as JSON Schema (draft 2020-12) of what enqueue accepts (the schema's input side);
   * parts JSON Schema cannot say (a refinement, a transform's output) are left open, and the server's
   * check at enqueue still applies. Absent when the schema cannot be converted at all.
   */
  readonly payloadSchema?: Record<string, unknown>;
  /** Why `payloadSchema` is absent. */
  readonly schemaError?: string;
}

/**
 * The registry's job types with their payload schemas, converted once with
 * zod's `toJSONSchema`: the form drawn from it is a convenience, the zod
 * schema checked at enqueue is still the rule.
 */
export function describeJobTypes(registry: JobRegistry): JobTypeInfo[] {
  return Object.values(registry)
    .map((contract) => {
      const base = {
        name: contract.name,
        queue: contract.queue,
        long: contract.mode === 'long',
        ...(contract.description === undefined ? {} : { description: contract.description }),
      };
      try {
        const payloadSchema = z.toJSONSchema(contract.schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
        return { ...base, payloadSchema };
      } catch (error) {
        return { ...base, schemaError: (error as Error).message };
      }
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}
