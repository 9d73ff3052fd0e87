// `npm run cli:schemas`: writes docs/cli/<command>.schema.json, the JSON Schema of what each command prints
// with --json (zod schemas in cli/json/outputs.ts), and docs/cli/error.schema.json, the error object a failed
// command prints on stderr. test/unit/cli-json-schemas.test.ts fails when the checked-in files differ from
// what this would write.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliJsonSchemas } from '../cli/json/json-schemas.js';
import { jsonSchemaFileText } from '../shared/events/json-schemas.js';

export const CLI_SCHEMAS_DIR = fileURLToPath(new URL('../docs/cli/', import.meta.url));

export function cliSchemaFiles(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(cliJsonSchemas()).map(([name, schema]) => [`${name}.schema.json`, jsonSchemaFileText(schema)]),
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  mkdirSync(CLI_SCHEMAS_DIR, { recursive: true });
  for (const [name, text] of Object.entries(cliSchemaFiles())) {
    writeFileSync(join(CLI_SCHEMAS_DIR, name), text);
    console.log(`wrote docs/cli/${name}`);
  }
  // Formatted as `npm run lint` wants them.
  spawnSync('npx', ['biome', 'format', '--write', CLI_SCHEMAS_DIR], { stdio: 'inherit' });
}
