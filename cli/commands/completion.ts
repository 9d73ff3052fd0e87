import { parseArgs } from 'node:util';
import { completionScript, SHELLS, type Shell } from '../completion.js';
import { UsageError } from '../errors.js';

/** `jobstack completion bash|zsh|fish`: prints the shell's completion script. */
export async function completionCommand(argv: string[]): Promise<void> {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, options: {} });
  const [shell] = positionals;
  if (positionals.length !== 1 || !(SHELLS as readonly string[]).includes(shell as string)) {
    throw new UsageError(`usage: jobstack completion ${SHELLS.join('|')} (given '${positionals.join(' ')}')`);
  }
  process.stdout.write(completionScript(shell as Shell));
}
