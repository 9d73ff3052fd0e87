import { JobstackError } from '../shared/index.js';
import { COMMANDS } from './command-table.js';
import { ExitCode, ProjectConfigNotFoundError, UsageError } from './errors.js';
import { commandWithGlobalOptions } from './global-options.js';
import { HELP } from './help.js';

async function main(argv: string[]): Promise<number> {
  let name: string | undefined;
  let rest: string[];
  try {
    ({ name, args: rest } = commandWithGlobalOptions(argv));
  } catch (error) {
    process.stderr.write(`jobstack: ${describe(error)}\n`);
    return 1;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${HELP}\n`);
    return name === undefined ? 1 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`jobstack: unknown command '${name}' (see jobstack --help)\n`);
    return 1;
  }
  const errorExit = name === 'wait' ? 3 : 1;
  try {
    await command(rest);
    return 0;
  } catch (error) {
    if (error instanceof ExitCode) return error.code;
    process.stderr.write(`jobstack: ${describe(error)}\n`);
    return errorExit;
  }
}

/** One line, never a stack trace: the error's own message, named when it is one of ours. */
function describe(error: unknown): string {
  // These two say what to do in their own words; the class name adds nothing.
  if (error instanceof UsageError || error instanceof ProjectConfigNotFoundError) return error.message;
  if (error instanceof JobstackError) return `${error.name}: ${error.message}`;
  if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) return error.message;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

process.exitCode = await main(process.argv.slice(2));
