import { COMMANDS } from './command-table.js';
import { ExitCode, UsageError } from './errors.js';
import { commandWithGlobalOptions } from './global-options.js';
import { HELP } from './help.js';
import { errorLine } from './json/print.js';

/** Where the CLI writes its help and its error lines (commands write their own output to stdout). */
export interface CliOutput {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const PROCESS_OUTPUT: CliOutput = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/**
 * Runs one `jobstack` command line and returns its exit code: 0 done; 1 failed (`wait`: the job ended
 * dead or cancelled); 2 `wait` timed out; 3 `wait` failed. A failure prints one line on stderr, as
 * `{"error":{...}}` under `--json`.
 */
export async function runCli(argv: readonly string[], output: CliOutput = PROCESS_OUTPUT): Promise<number> {
  const json = wantsJson(argv);
  let name: string | undefined;
  let rest: string[];
  try {
    ({ name, args: rest } = commandWithGlobalOptions(argv));
  } catch (error) {
    output.stderr(errorLine(error, json));
    return 1;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    output.stdout(`${HELP}\n`);
    return name === undefined ? 1 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    output.stderr(errorLine(new UsageError(`unknown command '${name}' (see jobstack --help)`), json));
    return 1;
  }
  try {
    await command(rest);
    return 0;
  } catch (error) {
    if (error instanceof ExitCode) return error.code;
    output.stderr(errorLine(error, json));
    return name === 'wait' ? 3 : 1;
  }
}

/** `--json` anywhere before a `--` that ends the options. */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}
