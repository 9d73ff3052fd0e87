import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The repository whose package is adopted (this file is `test/adoption/harness.ts`). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The app the test builds from: copied, never installed in place. */
export const FIXTURE_APP = fileURLToPath(new URL('./fixture-app/', import.meta.url));
/** Where the fixture's package.json expects the packed tarball. */
export const TARBALL_NAME = 'jobstack.tgz';
/** The fixture's type tests: every line after a `@ts-expect-error` must fail to compile on its own. */
export const TYPE_TESTS = 'src/type-tests.ts';

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
}

export interface RunOptions {
  readonly cwd: string;
  readonly timeoutMs: number;
  /** Added to the child's environment (see {@link childEnv}). */
  readonly env?: Readonly<Record<string, string>>;
  /** Full output goes to this file as well, so a kept temp folder explains a failure. */
  readonly logFile?: string;
}

/**
 * The environment of every command the adopter would type. Under `npm test`
 * npm exports its own settings as `npm_config_*` (among them `prefix` and
 * `local_prefix` = this repository), which would make an `npm install` in the
 * app install into the repository instead: they are dropped, as is a
 * `JOBSTACK_STACK` meant for the repository's own stack.
 */
export function childEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.toLowerCase().startsWith('npm_') || key === 'INIT_CWD' || key === 'JOBSTACK_STACK') continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

/**
 * Runs a command to its end and returns its exit code and output; never throws
 * for a non-zero exit. A command still running at `timeoutMs` is killed with
 * its whole process group (a deploy leaves cdk and esbuild children behind
 * otherwise) and reported with code -1.
 */
export function run(command: string, args: readonly string[], options: RunOptions): Promise<CommandResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: childEnv(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', async (code) => {
      clearTimeout(timer);
      const seconds = (Date.now() - started) / 1000;
      const result = { code: timedOut ? -1 : (code ?? -1), stdout, stderr, seconds };
      if (options.logFile !== undefined) {
        const heading = `$ ${command} ${args.join(' ')}\n# cwd ${options.cwd}, exit ${result.code}${timedOut ? ' (timed out)' : ''}, ${seconds.toFixed(1)} s\n`;
        await writeFile(options.logFile, `${heading}\n## stdout\n${stdout}\n## stderr\n${stderr}`).catch(() => undefined);
      }
      resolve(result);
    });
  });
}

/** A failure message with the command's last lines, enough to see why without opening the log. */
export function describeFailure(label: string, result: CommandResult): string {
  const tail = (text: string) => text.trim().split('\n').slice(-40).join('\n');
  return `${label} exited ${result.code} after ${result.seconds.toFixed(1)} s\n--- stdout (end)\n${tail(result.stdout)}\n--- stderr (end)\n${tail(result.stderr)}`;
}

/** The adopting app in its temporary folder. */
export interface AdoptionApp {
  /** The temporary folder holding the tarball, the logs and the app. */
  readonly root: string;
  /** The app itself (`root/app`). */
  readonly dir: string;
  /** One log file per command, numbered in the order they ran. */
  logFile(name: string): string;
}

/** Makes the temporary folder; the app is copied into it by {@link copyFixtureApp}. */
export async function makeAdoptionFolder(): Promise<AdoptionApp> {
  const root = await mkdtemp(join(tmpdir(), 'jobstack-adoption-'));
  const dir = join(root, 'app');
  await mkdir(join(root, 'logs'));
  let count = 0;
  return {
    root,
    dir,
    logFile: (name) => {
      count += 1;
      return join(root, 'logs', `${String(count).padStart(2, '0')}-${name}.log`);
    },
  };
}

/**
 * Whether a path of the working copy is not the package's source: installs,
 * the emulator's state, build and synth output, test leftovers, git itself.
 */
function isNotSource(path: string): boolean {
  const relativePath = relative(REPO_ROOT, path).split(sep).join('/');
  const parts = relativePath.split('/');
  return (
    ['.git', '.venv', '.jobstack', 'dist'].includes(parts[0] ?? '') ||
    parts.includes('node_modules') ||
    parts.includes('cdk.out') ||
    relativePath.startsWith('test/artifacts')
  );
}

/**
 * `npm pack` of the repository as a publish would make it (`prepack` builds
 * it), returning the tarball's path.
 *
 * It packs a copy of the working tree (uncommitted changes included) whose
 * `node_modules` links to the repository's: `prepack` empties and rebuilds
 * `dist/`, and doing that in the repository itself would pull `dist/` from
 * under the package tests that read it in the same `npm test` run. The tarball
 * is found in its folder rather than in `--json` output, which the build's own
 * output shares stdout with.
 */
export async function packRepository(app: AdoptionApp): Promise<string> {
  const source = join(app.root, 'source');
  await cp(REPO_ROOT, source, {
    recursive: true,
    filter: (path) => !isNotSource(path),
  });
  await symlink(await realpath(join(REPO_ROOT, 'node_modules')), join(source, 'node_modules'), 'dir');
  const destination = join(app.root, 'pack');
  await mkdir(destination);
  const packed = await run('npm', ['pack', '--pack-destination', destination], {
    cwd: source,
    timeoutMs: 600_000,
    logFile: app.logFile('npm-pack'),
  });
  if (packed.code !== 0) throw new Error(describeFailure('npm pack', packed));
  const tarballs = (await readdir(destination)).filter((name) => name.endsWith('.tgz'));
  if (tarballs.length !== 1)
    throw new Error(`npm pack left ${tarballs.length} tarballs in ${destination}: ${tarballs.join(', ')}`);
  return join(destination, tarballs[0] as string);
}

/** Copies the fixture app into the folder and puts the tarball where its package.json points. */
export async function copyFixtureApp(app: AdoptionApp, tarball: string): Promise<void> {
  await cp(FIXTURE_APP, app.dir, {
    recursive: true,
    // A developer may have tried the fixture in place; its installs and synths are not part of it.
    filter: (source) => !/[\\/](node_modules|cdk\.out)([\\/]|$)/.test(relative(FIXTURE_APP, source)),
  });
  await cp(tarball, join(app.dir, TARBALL_NAME));
}

/** Every file under `dir`, as paths relative to it with `/` separators. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .sort();
}

/** Paths of the repository's demo app, which the package must not carry. */
const DEMO_PATHS = [
  /(^|\/)functions\/jobs\//,
  // The demo workload the CLI's `demo` command used to run (now the repository's demo/run.ts).
  /(^|\/)demo\//,
  /(^|\/)infra\/app\.[cm]?[jt]s$/,
  /(^|\/)infra\/jobstack-stack\./,
  /(^|\/)jobstack\.config\./,
];
/** A demo job type's name: code that knows it is demo code. */
const DEMO_JOB_NAME = 'demo.echo';

/**
 * What of the repository's demo the installed package holds: files at demo
 * paths, and code (JavaScript or declarations, outside comments) naming a demo
 * job type. Documentation and doc comments may use the demo as an example;
 * code may not depend on it.
 */
export async function findDemoCode(packageDir: string): Promise<string[]> {
  const files = await listFiles(packageDir);
  const found = files.filter((file) => DEMO_PATHS.some((pattern) => pattern.test(file)));
  for (const file of files.filter((name) => /\.(c|m)?js$|\.d\.(c|m)?ts$/.test(name))) {
    const code = withoutComments(await readFile(join(packageDir, file), 'utf8'));
    if (code.includes(DEMO_JOB_NAME)) found.push(`${file} (names ${DEMO_JOB_NAME})`);
  }
  return found;
}

/**
 * The text without block comments and whole-line `//` comments: enough for
 * compiled output, whose comments are the source's doc comments.
 */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

/**
 * Bundles one of the app's modules as a deploy of it would (esbuild, every
 * import resolved from the app's own node_modules) and returns the files that
 * went in, relative to the app, and the bundle's code.
 */
export async function bundleOf(appDir: string, entry: string): Promise<{ inputs: string[]; code: string }> {
  const output = await build({
    entryPoints: [join(appDir, entry)],
    absWorkingDir: appDir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const code = output.outputFiles.map((file) => file.text).join('\n');
  return { inputs: Object.keys(output.metafile.inputs).sort(), code };
}

export interface StrippedTypeTests {
  /** The copy without its `@ts-expect-error` directives, relative to the app. */
  readonly file: string;
  /** The tsconfig that compiles that copy alone. */
  readonly project: string;
  /** 1-based line numbers in the copy that each directive guarded. */
  readonly guardedLines: number[];
  /** Deletes the copy and its tsconfig, leaving the app as it was. */
  remove(): Promise<void>;
}

/**
 * Writes the type tests again without their `@ts-expect-error` lines, beside
 * the original (so its imports still resolve), with a tsconfig that compiles it
 * alone. Compiling it must then fail on exactly the guarded lines: each one is
 * an error on its own, not merely a line somewhere near one.
 */
export async function writeStrippedTypeTests(appDir: string): Promise<StrippedTypeTests> {
  const source = await readFile(join(appDir, TYPE_TESTS), 'utf8');
  const kept: string[] = [];
  const guardedLines: number[] = [];
  for (const line of source.split('\n')) {
    if (line.trim().startsWith('// @ts-expect-error')) {
      guardedLines.push(kept.length + 1);
      continue;
    }
    kept.push(line);
  }
  const file = TYPE_TESTS.replace(/\.ts$/, '.stripped.ts');
  const project = 'tsconfig.stripped.json';
  await writeFile(join(appDir, file), kept.join('\n'));
  await writeFile(join(appDir, project), JSON.stringify({ extends: './tsconfig.json', include: [file] }, null, 2));
  return {
    file,
    project,
    guardedLines,
    remove: async () => {
      await rm(join(appDir, file), { force: true });
      await rm(join(appDir, project), { force: true });
    },
  };
}

/** Line numbers of `tsc` errors reported in `file` (tsc's `file(line,col): error TS…` format). */
export function errorLines(tscOutput: string, file: string): number[] {
  const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`^${escaped}\\((\\d+),\\d+\\): error TS\\d+`, 'gm');
  return [...new Set([...tscOutput.matchAll(pattern)].map((match) => Number(match[1])))].sort((a, b) => a - b);
}

/** Removes the temporary folder, or keeps it and says where when something failed. */
export async function cleanUp(app: AdoptionApp, keep: boolean): Promise<void> {
  if (keep) {
    console.error(`adoption test: kept ${app.root} (app in ${app.dir}, one log per command in ${join(app.root, 'logs')})`);
    return;
  }
  await rm(app.root, { recursive: true, force: true });
}
