import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { COMMANDS } from '../../cli/command-table.js';
import { HELP } from '../../cli/help.js';
import { CLI_ERROR_SCHEMA_NAME } from '../../cli/json/json-schemas.js';
import { CLI_JSON_OUTPUTS } from '../../cli/json/outputs.js';
import { jsonError } from '../../cli/json/print.js';
import { runCli } from '../../cli/run-cli.js';
import { CLI_SCHEMAS_DIR, cliSchemaFiles } from '../../scripts/cli-schemas.js';
import { InvalidPayloadError } from '../../shared/index.js';
import { parseCliJson, parseCliJsonError } from '../helpers/cli-json.js';

/** The commands with no `--json` output: they run until Ctrl-C (dev) or print a script (completion). */
const WITHOUT_JSON = ['dev', 'completion'];

describe('CLI --json schemas (docs/cli/)', () => {
  const expected = cliSchemaFiles();

  it('documents every command that prints --json output, and nothing else', () => {
    const names = Object.keys(CLI_JSON_OUTPUTS);
    // A command with two shapes has one file per shape: flow and flow-state, local-up and local-down.
    const commandOf = (name: string) =>
      Object.keys(COMMANDS).find((command) => name === command || name.startsWith(`${command}-`));
    expect(names.filter((name) => commandOf(name) === undefined)).toEqual([]);
    expect(
      Object.keys(COMMANDS).filter(
        (command) => !WITHOUT_JSON.includes(command) && !names.some((name) => commandOf(name) === command),
      ),
    ).toEqual([]);
    expect(readdirSync(CLI_SCHEMAS_DIR).sort()).toEqual(
      [...names, CLI_ERROR_SCHEMA_NAME].map((name) => `${name}.schema.json`).sort(),
    );
  });

  it.each(Object.keys(expected))('%s matches the zod schema (run `npm run cli:schemas` after changing it)', (name) => {
    // Compared as JSON: the checked-in files are formatted by Biome, the script's output is JSON.stringify's.
    expect(JSON.parse(readFileSync(join(CLI_SCHEMAS_DIR, name), 'utf8'))).toEqual(JSON.parse(expected[name] ?? 'null'));
  });

  it('reuses the SDK record schema and lets later versions add fields', () => {
    const get = JSON.parse(expected['get.schema.json'] ?? '{}');
    expect(get.required).toEqual(expect.arrayContaining(['id', 'type', 'state', 'queue', 'attempts', 'maxAttempts']));
    expect(get).not.toHaveProperty('additionalProperties');
    const { $schema, title, description, ...recordSchema } = get;
    expect(JSON.parse(expected['list.schema.json'] ?? '{}').properties.jobs.items).toEqual(recordSchema);
  });

  it('docs/cli.md links every schema, and the help points to them', () => {
    const doc = readFileSync(new URL('../../docs/cli.md', import.meta.url), 'utf8');
    for (const name of Object.keys(expected)) expect(doc).toContain(`(cli/${name})`);
    expect(HELP).toMatch(/docs\/cli\/<command>\.schema\.json \(see docs\/cli\.md\)/);
  });
});

describe('checking output against a schema (test/helpers/cli-json.ts)', () => {
  const enqueued = { jobId: 'job-1', type: 'demo.echo', state: 'queued', created: true };

  it('accepts what the schema documents', () => {
    expect(parseCliJson('enqueue', JSON.stringify(enqueued))).toEqual(enqueued);
  });

  it('rejects a wrong type, a missing field and an undocumented one, naming it', () => {
    expect(() => parseCliJson('enqueue', JSON.stringify({ ...enqueued, state: 'sleeping' }))).toThrow(/state/);
    expect(() => parseCliJson('enqueue', JSON.stringify({ ...enqueued, created: undefined }))).toThrow(/created/);
    expect(() => parseCliJson('enqueue', JSON.stringify({ ...enqueued, extra: 1 }))).toThrow(
      /fields its schema does not list: \$\.extra/,
    );
    expect(() => parseCliJson('list', JSON.stringify({ jobs: [{ ...record(), internal: 'x' }] }))).toThrow(
      /\$\.jobs\[0\]\.internal/,
    );
  });

  it('keeps payloads and results whole: their contents are the job’s, not undocumented fields', () => {
    const withResult = { ...record(), payload: { any: { nested: [1] } }, result: { ok: true } };
    expect(parseCliJson('get', JSON.stringify(withResult))).toEqual(withResult);
  });
});

describe('--json errors', () => {
  afterEach(() => vi.restoreAllMocks());

  it('an SDK error keeps its class name and the job it is about', () => {
    const error = new InvalidPayloadError('demo.echo', ['message: expected string'], { jobId: 'job-1' });
    expect(parseCliJsonError(JSON.stringify(jsonError(error)))).toEqual({
      error: { name: 'InvalidPayloadError', message: error.message, jobId: 'job-1' },
    });
  });

  it('local down --json prints its documented shape (nothing started for this endpoint, so nothing stops)', async () => {
    let out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((text) => {
      out += String(text);
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    // Port 1: no emulator or metrics bridge of this checkout ever ran there (no pid files).
    expect(await runCli(['local', 'down', '--json', '--endpoint', 'http://127.0.0.1:1'])).toBe(0);
    expect(parseCliJson('local-down', out)).toEqual({ stopped: false, metricsBridgeStopped: false });
  });
});

function record() {
  return {
    id: 'job-1',
    type: 'demo.echo',
    state: 'queued',
    queue: 'default',
    attempts: 0,
    maxAttempts: 3,
    createdAt: '2026-12-01T10:00:00.000Z',
    updatedAt: '2026-12-01T10:00:00.000Z',
  };
}
