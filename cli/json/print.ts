import { JobstackError } from '../../shared/index.js';
import { ProjectConfigNotFoundError, UsageError } from '../errors.js';
import type { CliJsonError, CliJsonOutput, CliJsonOutputName } from './outputs.js';

// `name` picks the documented schema whose type `value` must have (docs/cli/<name>.schema.json); it is
// only read by the type checker.

/** The `--json` output of command `name`: two-space JSON and a final newline. */
export function jsonOutputText<Name extends CliJsonOutputName>(_name: Name, value: CliJsonOutput<Name>): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Prints the `--json` output of command `name` on stdout. */
export function printJsonOutput<Name extends CliJsonOutputName>(name: Name, value: CliJsonOutput<Name>): void {
  process.stdout.write(jsonOutputText(name, value));
}

/** One output of `name` on one line, for commands that print many (`watch`: newline-delimited JSON). */
export function jsonOutputLine<Name extends CliJsonOutputName>(_name: Name, value: CliJsonOutput<Name>): string {
  return `${JSON.stringify(value)}\n`;
}

/**
 * A failure as `--json` prints it on stderr (cliJsonErrorSchema). Mistakes in the command line (ours, and
 * node:util parseArgs' unknown or malformed options) are all `UsageError`; others keep their class name.
 */
export function jsonError(error: unknown): CliJsonError {
  if (isParseArgsError(error)) return { error: { name: UsageError.name, message: oneLine(error.message) } };
  if (error instanceof JobstackError && error.jobId !== undefined) {
    return { error: { name: error.name, message: error.message, jobId: error.jobId } };
  }
  if (error instanceof Error) return { error: { name: error.name, message: error.message } };
  return { error: { name: 'Error', message: String(error) } };
}

/** The error as one line of text: the error's own message, named when it is one of ours; never a stack trace. */
export function errorText(error: unknown): string {
  // These two say what to do in their own words; the class name adds nothing.
  if (error instanceof UsageError || error instanceof ProjectConfigNotFoundError) return error.message;
  if (isParseArgsError(error)) return oneLine(error.message);
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** What the CLI writes to stderr for a failure: `jobstack: <text>`, or under `--json` the error object on one line. */
export function errorLine(error: unknown, json: boolean): string {
  return json ? `${JSON.stringify(jsonError(error))}\n` : `jobstack: ${errorText(error)}\n`;
}

function isParseArgsError(error: unknown): error is TypeError {
  return error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS');
}

/** node:util parseArgs explains some mistakes (a value starting with a dash) over several lines. */
function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ');
}
