import { spawn } from 'node:child_process';

export interface RunOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Receives each non-empty output line (stdout and stderr). @default - output is only collected */
  readonly log?: (line: string) => void;
  /** Collect output without logging it, even when `log` is given. @default false */
  readonly quiet?: boolean;
}

/** Thrown when a child command exits non-zero; carries its last output lines. */
export class CommandFailedError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly output: string,
  ) {
    const tail = output.trim().split('\n').slice(-20).join('\n');
    super(`${command} exited with ${exitCode ?? 'a signal'}${tail ? `:\n${tail}` : ''}`);
    this.name = 'CommandFailedError';
  }
}

/** Runs a command to completion without a shell, streaming its lines to `log`. @returns its combined output */
export function runCommand(command: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let pending = '';
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      output += text;
      if (!options.log || options.quiet) return;
      pending += text;
      const lines = pending.split(/\r?\n/);
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') options.log(line);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', reject);
    child.once('close', (code) => {
      if (options.log && !options.quiet && pending.trim() !== '') options.log(pending);
      if (code === 0) resolve(output);
      else reject(new CommandFailedError([command, ...args].join(' '), code, output));
    });
  });
}
