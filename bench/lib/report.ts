import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repo root (this file is `bench/lib/report.ts`). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BENCHMARKS_FILE = join(REPO_ROOT, 'BENCHMARKS.md');

/** The machine a figure was measured on. */
export function machine(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const memoryGiB = (totalmem() / 1024 ** 3).toFixed(1);
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout: leave it unknown
  }
  return `${cpus().length} × ${cpu}, ${memoryGiB} GiB RAM, Node.js ${process.version} (${process.platform}/${process.arch}), commit ${commit}`;
}

export type Cell = string | number;

/** A GitHub-flavoured markdown table. Numbers are printed as given: format them first. */
export function markdownTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const line = (cells: readonly Cell[]) => `| ${cells.map((c) => String(c)).join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Fixed decimals without trailing noise: 3 → "3", 0.1 → "0.1", 2.3456 → "2.35". */
export function num(value: number, decimals = 2): string {
  if (!Number.isFinite(value)) return String(value);
  return Number(value.toFixed(decimals)).toString();
}

/**
 * Replaces this benchmark's section of BENCHMARKS.md (between
 * `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`), appending it when missing,
 * so each benchmark can be re-run alone without touching the others' figures.
 */
export function writeSection(name: string, body: string, command: string): void {
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const stamp = `_Measured ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} with \`${command}\` on ${machine()}._`;
  const section = `${start}\n${stamp}\n\n${body.trim()}\n${end}`;
  const current = existsSync(BENCHMARKS_FILE) ? readFileSync(BENCHMARKS_FILE, 'utf8') : '# jobstack benchmarks\n';
  const from = current.indexOf(start);
  const to = current.indexOf(end);
  const next =
    from >= 0 && to > from
      ? `${current.slice(0, from)}${section}${current.slice(to + end.length)}`
      : `${current.trimEnd()}\n\n${section}\n`;
  writeFileSync(BENCHMARKS_FILE, next);
}

/** `--name value` or `--name=value` from argv, else the environment variable, else the default. */
export function option(name: string, envName: string, fallback: string): string {
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === `--${name}` && argv[i + 1] !== undefined) return argv[i + 1] as string;
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
  }
  return process.env[envName] ?? fallback;
}

/** A positive integer option (see {@link option}). */
export function intOption(name: string, envName: string, fallback: number): number {
  const raw = option(name, envName, String(fallback));
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0)
    throw new RangeError(`--${name} / ${envName} must be a positive integer (given ${raw})`);
  return value;
}

/** Whether `--flag` is on the command line. */
export function flag(name: string): boolean {
  return process.argv.slice(2).includes(`--${name}`);
}
