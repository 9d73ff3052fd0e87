import { UsageError } from './errors.js';

/** Options every command that reaches a stack accepts, with whether each takes a value. */
const GLOBAL_OPTIONS: ReadonlyMap<string, { readonly takesValue: boolean }> = new Map([
  ['--stack', { takesValue: true }],
  ['--endpoint', { takesValue: true }],
  ['--local', { takesValue: false }],
  ['--json', { takesValue: false }],
]);

/**
 * Lets the global options come before the command (`jobstack --local list`) as well as after it:
 * returns the command's name and its arguments, with any leading global options moved behind the
 * command, where each command's own parser reads them. `--name=value` forms are kept as given.
 *
 * @throws UsageError for an unknown option before the command, or a value-taking option without its value.
 */
export function commandWithGlobalOptions(argv: readonly string[]): { name: string | undefined; args: string[] } {
  const leading: string[] = [];
  let index = 0;
  while (index < argv.length) {
    const token = argv[index] as string;
    if (!token.startsWith('--') || token === '--help') break;
    const [flag, inlineValue] = splitInline(token);
    const option = GLOBAL_OPTIONS.get(flag);
    if (option === undefined) {
      throw new UsageError(
        `unknown option '${flag}' before the command (options allowed there: ${[...GLOBAL_OPTIONS.keys()].join(', ')})`,
      );
    }
    leading.push(token);
    index++;
    if (option.takesValue && inlineValue === undefined) {
      const value = argv[index];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`option '${flag}' needs a value`);
      leading.push(value);
      index++;
    }
  }
  const [name, ...rest] = argv.slice(index);
  return { name, args: [...rest, ...leading] };
}

function splitInline(token: string): [string, string | undefined] {
  const equals = token.indexOf('=');
  return equals === -1 ? [token, undefined] : [token.slice(0, equals), token.slice(equals + 1)];
}
