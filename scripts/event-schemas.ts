/**
 * Writes the JSON Schema of every event detail jobstack documents into docs/events/, generated from
 * the zod schemas the code validates with (zod v4 `z.toJSONSchema`), so the docs cannot drift from
 * the code: test/unit/event-schemas.test.ts fails when a checked-in file differs from what this writes.
 *
 *   npm run events:schemas   (then `npx biome check --write docs/events`)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EVENT_SCHEMA_FILES } from './event-schema-files.js';

const root = fileURLToPath(new URL('../', import.meta.url));
for (const [file, render] of Object.entries(EVENT_SCHEMA_FILES)) {
  const path = join(root, file);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, render());
  console.log(`wrote ${file}`);
}
