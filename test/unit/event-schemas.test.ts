import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENT_SCHEMAS_DIR, eventSchemaFiles } from '../../scripts/event-schemas.js';
import { LifecycleDetailType } from '../../shared/events/lifecycle-events.js';
import { ENQUEUE_EVENT_DETAIL_TYPE } from '../../shared/triggers/enqueue-event.js';

describe('event JSON Schemas (docs/events/)', () => {
  const expected = eventSchemaFiles();

  it('has one file per lifecycle detail-type and one for jobstack.enqueue', () => {
    expect(Object.keys(expected).sort()).toEqual(
      [...Object.values(LifecycleDetailType), ENQUEUE_EVENT_DETAIL_TYPE].map((detailType) => `${detailType}.schema.json`).sort(),
    );
    expect(readdirSync(EVENT_SCHEMAS_DIR).sort()).toEqual(Object.keys(expected).sort());
  });

  it.each(Object.keys(expected))('%s matches the zod schema (run `npm run events:schemas` after changing it)', (name) => {
    // Compared as JSON: the checked-in files are formatted by Biome, the script's output is JSON.stringify's.
    expect(JSON.parse(readFileSync(join(EVENT_SCHEMAS_DIR, name), 'utf8'))).toEqual(JSON.parse(expected[name] ?? 'null'));
  });

  it('fixes state to the detail-type and lets later versions add fields', () => {
    const dead = JSON.parse(expected['jobstack.job.dead.schema.json'] ?? '{}');
    expect(dead.properties.state).toEqual({ type: 'string', const: 'dead' });
    expect(dead.required).toEqual(expect.arrayContaining(['jobId', 'state', 'attempts', 'type', 'queue', 'stack']));
    expect(dead).not.toHaveProperty('additionalProperties');
    const started = JSON.parse(expected['jobstack.job.started.schema.json'] ?? '{}');
    expect(started.properties.state).toEqual({ type: 'string', const: 'running' });
  });
});
