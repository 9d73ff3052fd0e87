import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EVENT_SCHEMA_FILES } from '../../scripts/event-schema-files.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('docs/events JSON Schemas', () => {
  it.each(Object.entries(EVENT_SCHEMA_FILES))(
    '%s matches the zod schema (regenerate: npx tsx scripts/event-schemas.ts)',
    (file, render) => {
      // Compared as JSON: the checked-in file is formatted by Biome, as every JSON file of the repository.
      expect(JSON.parse(readFileSync(`${root}${file}`, 'utf8'))).toEqual(JSON.parse(render()));
    },
  );
});
