// `npm run events:schemas`: writes docs/events/<detail-type>.schema.json, the JSON Schema of each lifecycle
// event's detail (zod schemas in shared/events/) and of the `jobstack.enqueue` event's (shared/triggers/). test/unit/event-schemas.test.ts fails when the
// checked-in files differ from what this would write.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jsonSchemaFileText, lifecycleDetailJsonSchemas } from '../shared/events/json-schemas.js';
import { ENQUEUE_EVENT_DETAIL_TYPE, enqueueEventJsonSchema } from '../shared/triggers/enqueue-event.js';

export const EVENT_SCHEMAS_DIR = fileURLToPath(new URL('../docs/events/', import.meta.url));

export function eventSchemaFiles(): Record<string, string> {
  return Object.fromEntries([
    ...Object.entries(lifecycleDetailJsonSchemas()).map(([detailType, schema]) => [
      `${detailType}.schema.json`,
      jsonSchemaFileText(schema),
    ]),
    [`${ENQUEUE_EVENT_DETAIL_TYPE}.schema.json`, jsonSchemaFileText(enqueueEventJsonSchema())],
  ]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  mkdirSync(EVENT_SCHEMAS_DIR, { recursive: true });
  for (const [name, text] of Object.entries(eventSchemaFiles())) {
    writeFileSync(join(EVENT_SCHEMAS_DIR, name), text);
    console.log(`wrote docs/events/${name}`);
  }
  // Formatted as `npm run lint` wants them.
  spawnSync('npx', ['biome', 'format', '--write', EVENT_SCHEMAS_DIR], { stdio: 'inherit' });
}
