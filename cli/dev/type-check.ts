import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/**
 * Type-checks the project (`tsc --noEmit` with its own tsconfig.json and TypeScript) in the
 * background: esbuild, which builds the handlers on save, strips types without checking them,
 * so `jobstack dev` runs a saved change at once and reports its type errors when tsc is done.
 * A check still running when the next save comes is stopped: only the latest code matters.
 */
export class BackgroundTypeCheck {
  private running: ChildProcess | undefined;

  private constructor(
    private readonly tsc: string,
    private readonly tsconfig: string,
  ) {}

  /** A checker for the project in `projectDir`, or undefined when it has no tsconfig.json or no TypeScript. */
  static forProject(projectDir: string): BackgroundTypeCheck | undefined {
    const tsconfig = join(projectDir, 'tsconfig.json');
    if (!existsSync(tsconfig)) return undefined;
    try {
      const tsc = createRequire(join(projectDir, 'package.json')).resolve('typescript/bin/tsc');
      return new BackgroundTypeCheck(tsc, tsconfig);
    } catch {
      return undefined;
    }
  }

  /** Starts a check; `report` gets its error lines (empty when the types are sound), unless a newer check replaced it. */
  start(report: (errors: readonly string[]) => void): void {
    this.running?.kill();
    const child = spawn(process.execPath, [this.tsc, '--noEmit', '--pretty', 'false', '-p', this.tsconfig], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.running = child;
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('close', (code, signal) => {
      if (this.running !== child) return;
      this.running = undefined;
      if (signal !== null) return;
      report(code === 0 ? [] : output.split('\n').filter((line) => /error TS\d+/.test(line)));
    });
  }

  stop(): void {
    this.running?.kill();
    this.running = undefined;
  }
}
