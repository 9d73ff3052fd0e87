import * as z from 'zod';
import { CLI_JSON_OUTPUTS, type CliJsonError, type CliJsonOutputName, cliJsonErrorSchema } from '../../cli/json/outputs.js';

/**
 * Parses what `jobstack <command> --json` printed and checks it against the command's documented schema
 * (docs/cli/<name>.schema.json is made from the same zod schema): every field it lists has its type, and the
 * output has no field the schema does not list (zod drops those, so the parsed value would differ).
 * @throws Error naming the command and each mismatch
 */
export function parseCliJson<Name extends CliJsonOutputName>(
  name: Name,
  text: string,
): z.output<(typeof CLI_JSON_OUTPUTS)[Name]['schema']> {
  const schema: z.ZodType = CLI_JSON_OUTPUTS[name].schema;
  // TypeScript cannot follow a generic name to its schema's output type; the parse just checked it.
  return parseStrictly(schema, JSON.parse(text), `jobstack ${name} --json (docs/cli/${name}.schema.json)`) as z.output<
    (typeof CLI_JSON_OUTPUTS)[Name]['schema']
  >;
}

/** The same for the error line a command prints on stderr when it fails under `--json` (docs/cli/error.schema.json). */
export function parseCliJsonError(stderr: string): CliJsonError {
  const lines = stderr.trimEnd().split('\n');
  if (lines.length !== 1) throw new Error(`expected one error line on stderr, got ${lines.length}: ${stderr}`);
  return parseStrictly(cliJsonErrorSchema, JSON.parse(lines[0] as string), 'the --json error line (docs/cli/error.schema.json)');
}

function parseStrictly<Schema extends z.ZodType>(schema: Schema, value: unknown, what: string): z.output<Schema> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`${what} does not match its schema:\n${z.prettifyError(parsed.error)}`);
  const undocumented = extraPaths(value, parsed.data);
  if (undocumented.length > 0) throw new Error(`${what} prints fields its schema does not list: ${undocumented.join(', ')}`);
  return parsed.data;
}

/** Paths present in `given` but not in `kept` (what zod stripped as unknown keys). */
function extraPaths(given: unknown, kept: unknown, path = '$'): string[] {
  if (Array.isArray(given) && Array.isArray(kept))
    return given.flatMap((item, index) => extraPaths(item, kept[index], `${path}[${index}]`));
  if (!isObject(given) || !isObject(kept)) return [];
  return Object.keys(given).flatMap((key) =>
    key in kept ? extraPaths(given[key], kept[key], `${path}.${key}`) : [`${path}.${key}`],
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
