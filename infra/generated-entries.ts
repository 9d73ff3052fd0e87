import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigurationError } from '../shared/errors.js';

/**
 * The Lambda entries of a `JobSystem` are small generated files. Those of the worker, the long-job step
 * function and the dashboard API import the user's handler registry and hand it to a factory of
 * `jobstack/worker`; those of the sweeper and the dead-letter consumer re-export jobstack's own entry of
 * that function (`functions/<name>/handler`, which calls its factory). Every import is by absolute path,
 * so the entries work the same in this source checkout (`.ts` files) and in the installed package
 * (`dist/**.js`), wherever the user keeps their handlers. The functions without user code get a
 * generated entry too: NodejsFunction requires the entry to be under the project root, which jobstack's
 * own files are not when the package is linked from elsewhere (`npm link`, workspaces); imports have no
 * such limit.
 */

/** Extensions esbuild bundles without a loader setting: what a handlers module may be. */
export const HANDLERS_MODULE_EXTENSIONS = ['.ts', '.mts', '.cts', '.tsx', '.js', '.mjs', '.cjs', '.jsx'] as const;

/**
 * Lock files NodejsFunction recognises, in the order it prefers them. Its project root (the folder
 * esbuild runs in, and which every entry must be under) is the folder of the first one found walking up
 * from the current folder.
 */
const LOCK_FILES = ['pnpm-lock.yaml', 'yarn.lock', 'bun.lock', 'bun.lockb', 'package-lock.json'] as const;

/**
 * Entries that import the user's handler registry and hand it to a factory of `jobstack/worker`, imported from
 * the factory's own module: through `entrypoints/worker`, which re-exports every factory, esbuild kept some of the
 * other functions' dependencies (115 KB more in the long-job step function's bundle).
 */
export const RegistryEntry = {
  worker: { factory: 'createWorkerHandler', module: 'functions/worker/create-handler' },
  longJobStep: { factory: 'createLongJobStepHandler', module: 'functions/long-job/create-handler' },
  dashboardApi: { factory: 'createDashboardApiHandler', module: 'functions/dashboard-api/create-handler' },
  eventIntake: { factory: 'createEventIntakeHandler', module: 'functions/event-intake/create-handler' },
} as const;
export type RegistryEntryKind = keyof typeof RegistryEntry;

/**
 * Entries of jobstack's own functions, by the module they re-export `handler` from. That module rather
 * than `jobstack/worker`: importing one factory through the entry that re-exports all of them bundles
 * some of the others' dependencies too (about 115 KB more for the sweeper).
 */
export const OwnEntry = {
  sweeper: 'functions/sweeper/handler',
  deadLetter: 'functions/dead-letter/handler',
  eventPublisher: 'functions/event-publisher/handler',
  flowCoordinator: 'functions/flow-coordinator/handler',
} as const;
export type OwnEntryKind = keyof typeof OwnEntry;

/** Where a synth finds the project and writes the generated entries. */
export interface EntryLocation {
  /** The lock file NodejsFunction is given, so its project root is the one the entries are written under. */
  readonly depsLockFilePath: string;
  /** The folder the generated entries are written to. */
  readonly directory: string;
}

/**
 * Finds the project the way NodejsFunction does (the nearest lock file above `cwd`) and puts the
 * generated entries in its `node_modules/.cache/jobstack/`. Not the OS temp folder: NodejsFunction
 * requires every entry to be under the project root (the lock file's folder), and `node_modules/.cache`
 * is the conventional, already ignored place for a tool's regenerable files inside a project.
 *
 * @throws ConfigurationError when no lock file is found (NodejsFunction could not bundle either)
 */
export function locateEntries(cwd: string = process.cwd()): EntryLocation {
  let folder = resolve(cwd);
  for (;;) {
    const lockFile = LOCK_FILES.map((name) => join(folder, name)).find((path) => existsSync(path));
    if (lockFile !== undefined) {
      return { depsLockFilePath: lockFile, directory: join(folder, 'node_modules', '.cache', 'jobstack') };
    }
    const parent = dirname(folder);
    if (parent === folder) break;
    folder = parent;
  }
  throw new ConfigurationError(
    `cannot find a package lock file (${LOCK_FILES.join(', ')}) in ${resolve(cwd)} or above: run the CDK app ` +
      'from inside your project, whose dependencies (jobstack, your handlers) are installed there',
  );
}

/**
 * Absolute path of one of jobstack's own modules (`functions/worker/create-handler`, `functions/sweeper/handler`, ...).
 * This file is `infra/generated-entries.ts` in the source checkout and `dist/infra/generated-entries.js`
 * in the package, so the module sits at `../<module>` with `.ts` or `.js`: whichever exists.
 *
 * @throws ConfigurationError when neither exists (an incomplete installation)
 */
export function jobstackModulePath(module: string): string {
  const candidates = ['.js', '.ts'].map((extension) => fileURLToPath(new URL(`../${module}${extension}`, import.meta.url)));
  const found = candidates.find((path) => existsSync(path));
  if (found === undefined) {
    throw new ConfigurationError(
      `jobstack's module '${module}' is missing (looked for ${candidates.join(' and ')}): reinstall jobstack`,
    );
  }
  return found;
}

/**
 * Checks that `handlers` names a module esbuild can bundle: an absolute path of an existing file with a
 * JavaScript or TypeScript extension.
 *
 * @throws ConfigurationError naming what is wrong
 */
export function assertHandlersModule(handlers: string): void {
  if (!isAbsolute(handlers)) {
    throw new ConfigurationError(
      `handlers must be an absolute path (given '${handlers}'); build it from the stack file, e.g. ` +
        "fileURLToPath(new URL('../src/jobs/handlers.ts', import.meta.url)) or path.join(__dirname, ...)",
    );
  }
  const extension = extname(handlers);
  if (!(HANDLERS_MODULE_EXTENSIONS as readonly string[]).includes(extension)) {
    throw new ConfigurationError(
      `handlers must be a JavaScript or TypeScript module (${HANDLERS_MODULE_EXTENSIONS.join(', ')}) (given '${handlers}')`,
    );
  }
  if (!existsSync(handlers) || !statSync(handlers).isFile()) {
    throw new ConfigurationError(
      `handlers module '${handlers}' does not exist: it must be the module whose default export (or export named ` +
        "'registry') is your handler registry",
    );
  }
}

/** The source of a generated entry that hands the user's handler registry to a `jobstack/worker` factory. */
export function registryEntrySource(kind: RegistryEntryKind, handlers: string): string {
  const { factory, module } = RegistryEntry[kind];
  const factoryModule = jobstackModulePath(module);
  return [
    `// Generated by jobstack's JobSystem construct: the ${kind} Lambda's entry. Rewritten on every synth; do not edit.`,
    `import * as handlersModule from ${JSON.stringify(handlers)};`,
    `import { ${factory} } from ${JSON.stringify(factoryModule)};`,
    '',
    "// The handler registry is the module's default export, else its export named `registry`. Read from a copy of the",
    "// namespace, so esbuild does not warn about whichever of the two the module does not have. A CommonJS module's",
    '// default export is its whole exports object: when that merely holds `registry`, the named export is meant.',
    'const { default: defaultExport, registry: namedExport } = { ...handlersModule };',
    'const registry =',
    '  defaultExport !== undefined && defaultExport?.registry !== namedExport ? defaultExport : (namedExport ?? defaultExport);',
    'if (registry === undefined) {',
    `  throw new TypeError(${JSON.stringify(
      `${handlers} exports no handler registry: export it as the default export or as 'registry'`,
    )});`,
    '}',
    `export const handler = ${factory}({ registry });`,
    '',
  ].join('\n');
}

/** The source of a generated entry of one of jobstack's own functions (no user code). */
export function ownEntrySource(kind: OwnEntryKind): string {
  return [
    `// Generated by jobstack's JobSystem construct: the ${kind} Lambda's entry. Rewritten on every synth; do not edit.`,
    `export { handler } from ${JSON.stringify(jobstackModulePath(OwnEntry[kind]))};`,
    '',
  ].join('\n');
}

/**
 * Writes `source` to `<directory>/<kind>-<hash of source>.mjs` and returns that path. Named by content,
 * so a synth that changes nothing writes nothing and two synths (parallel tests, two apps of one project)
 * never overwrite each other's entry with a different one. `.mjs` because the entry is ESM whatever the
 * project's package.json `type` says. It is written to a temporary name and renamed, so a concurrent
 * synth never reads half a file.
 */
export function writeEntry(directory: string, kind: string, source: string): string {
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const path = join(directory, `${kind}-${hash}.mjs`);
  if (existsSync(path) && readFileSync(path, 'utf8') === source) return path;
  mkdirSync(directory, { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, source);
  renameSync(temporary, path);
  return path;
}
