import * as z from 'zod';
import {
  LIFECYCLE_EVENT_SOURCE,
  LifecycleDetailType,
  type LifecycleEventName,
  lifecycleDetailSchemaOf,
} from './lifecycle-events.js';

/**
 * The JSON Schema (draft 2020-12) of each lifecycle event's `detail`, by detail-type, made from the zod
 * schemas. Input mode: a schema allows fields it does not list, so a consumer validating with it keeps
 * working when a later version adds one. `docs/events/<detail-type>.schema.json` are these, written by
 * `npm run events:schemas`.
 */
export function lifecycleDetailJsonSchemas(): Record<string, object> {
  const schemas: Record<string, object> = {};
  for (const [event, detailType] of Object.entries(LifecycleDetailType) as [LifecycleEventName, string][]) {
    const generated = z.toJSONSchema(lifecycleDetailSchemaOf(event), { io: 'input' }) as Record<string, unknown>;
    const { $schema, ...rest } = generated;
    schemas[detailType] = {
      $schema,
      title: `${detailType} detail`,
      description: `The detail of an EventBridge event with source "${LIFECYCLE_EVENT_SOURCE}" and detail-type "${detailType}".`,
      ...rest,
    };
  }
  return schemas;
}

/** A schema file's text: two-space JSON and a final newline. */
export function jsonSchemaFileText(schema: object): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}
