import * as z from 'zod';
import { CLI_JSON_OUTPUTS, type CliJsonOutputName, cliJsonErrorSchema } from './outputs.js';

/** The name of the schema file of the error object every command prints on stderr under `--json`. */
export const CLI_ERROR_SCHEMA_NAME = 'error';

/**
 * The JSON Schema (draft 2020-12) of each command's `--json` output, by command (and of the error object,
 * as `error`), made from the zod schemas in outputs.ts. Input mode: objects allow fields they do not list,
 * so a script validating with a schema keeps working when a later version prints one more field.
 * `docs/cli/<name>.schema.json` are these, written by `npm run cli:schemas`.
 */
export function cliJsonSchemas(): Record<CliJsonOutputName | typeof CLI_ERROR_SCHEMA_NAME, object> {
  const schemas = Object.fromEntries(
    (Object.entries(CLI_JSON_OUTPUTS) as [CliJsonOutputName, (typeof CLI_JSON_OUTPUTS)[CliJsonOutputName]][]).map(
      ([name, { usage, description, schema }]) => [name, withTitle(schema, usage, description)],
    ),
  ) as Record<CliJsonOutputName, object>;
  return {
    ...schemas,
    [CLI_ERROR_SCHEMA_NAME]: withTitle(
      cliJsonErrorSchema,
      'jobstack <command> --json, on failure',
      'What a failed command prints on stderr, on one line, under --json; the exit code is not 0. name is UsageError for a mistake in the command line, else the class of the error (InvalidPayloadError, UnknownJobTypeError, …).',
    ),
  };
}

function withTitle(schema: z.ZodType, title: string, description: string): object {
  const { $schema, ...rest } = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
  return { $schema, title, description, ...rest };
}
