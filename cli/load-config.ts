import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { JobRegistry } from '../shared/index.js';
import { ProjectConfigError, ProjectConfigNotFoundError } from './errors.js';
import { type JobstackProjectConfig, PROJECT_CONFIG_FILE_NAMES } from './project-config.js';

/** A project config as loaded: every path absolute, nothing imported yet but the config file itself. */
export interface ProjectConfig {
  /** Absolute path of the config file. */
  readonly configFile: string;
  /** The config file's folder: the project folder (`.venv` and `.jobstack/` of `local up` live here). */
  readonly projectDir: string;
  /** Absolute path of the registry module (`registry` resolved against the config file's folder). */
  readonly registryModule: string;
  /** Folder of the CDK app `local up` deploys (`app`, else the project folder). */
  readonly appDir: string;
  /** Absolute path of the handlers module `jobstack dev` runs (`handlers` resolved), when the config names one. */
  readonly handlersModule?: string;
  readonly stackName?: string;
  readonly endpoint?: string;
}

const KNOWN_KEYS: readonly (keyof JobstackProjectConfig)[] = ['registry', 'stackName', 'endpoint', 'app', 'handlers'];
/** CloudFormation's rule for stack names. */
const STACK_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;

/**
 * The nearest config file: `jobstack.config.ts`, `.mts`, `.js` or `.mjs` in `from`, else in
 * each parent folder up to the filesystem root.
 *
 * @returns its absolute path, or undefined when there is none
 */
export function findProjectConfigFile(from: string = process.cwd()): string | undefined {
  let dir = resolve(from);
  for (;;) {
    for (const name of PROJECT_CONFIG_FILE_NAMES) {
      const candidate = join(dir, name);
      if (existsSync(candidate)) return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * Finds the config file from `cwd` (see {@link findProjectConfigFile}), imports it and checks
 * its settings. A `.ts` or `.mts` file needs tsx registered, as `bin/jobstack.js` does.
 *
 * @throws ProjectConfigNotFoundError when there is no config file
 * @throws ProjectConfigError when it does not load, has no default export or a wrong setting
 */
export async function loadProjectConfig(options: { cwd?: string } = {}): Promise<ProjectConfig> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const configFile = findProjectConfigFile(cwd);
  if (configFile === undefined) throw new ProjectConfigNotFoundError(cwd);
  const exports = await importModule(configFile, (cause) => `cannot load ${configFile}: ${messageOf(cause)}`, configFile);
  if (!('default' in exports) || exports.default === undefined) {
    throw new ProjectConfigError(
      `${configFile} has no default export; end it with: export default defineConfig({ registry: './path/to/contracts.ts' })`,
      configFile,
    );
  }
  return checkConfig(exports.default, configFile);
}

/**
 * Imports the config's registry module: its default export, or else its export named
 * `registry`. Checked only for shape (an object of job contracts keyed by name), not with
 * `instanceof`, because the user's modules may see another copy of jobstack than the CLI.
 *
 * @throws ProjectConfigError when the module does not load or exports no registry
 */
export async function loadProjectRegistry(config: ProjectConfig): Promise<JobRegistry> {
  const shown = relative(config.projectDir, config.registryModule);
  const exports = await importModule(
    config.registryModule,
    (cause) => `cannot load the registry module ${shown} named in ${config.configFile}: ${messageOf(cause)}`,
    config.configFile,
  );
  const candidate = exports.default ?? exports.registry;
  if (candidate === undefined) {
    throw new ProjectConfigError(
      `the registry module ${shown} named in ${config.configFile} has neither a default export nor an export named ` +
        `'registry'; add: export default defineRegistry(yourJob, ...)`,
      config.configFile,
    );
  }
  const problem = registryProblem(candidate);
  if (problem !== undefined) {
    const which = exports.default === undefined ? "its export 'registry'" : 'its default export';
    throw new ProjectConfigError(
      `the registry module ${shown} named in ${config.configFile}: ${which} is not a job registry (${problem}); ` +
        'build it with defineRegistry(...)',
      config.configFile,
    );
  }
  return candidate as JobRegistry;
}

/** Checks a config file's default export and resolves its paths against the file's folder. */
export function checkConfig(value: unknown, configFile: string): ProjectConfig {
  const fail = (problem: string): never => {
    throw new ProjectConfigError(`${configFile}: ${problem}`, configFile);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('the default export must be an object: export default defineConfig({ registry: ... })');
  }
  const input = value as Record<string, unknown>;
  const unknownKeys = Object.keys(input).filter((key) => !(KNOWN_KEYS as readonly string[]).includes(key));
  if (unknownKeys.length > 0) fail(`unknown setting '${unknownKeys[0]}' (known: ${KNOWN_KEYS.join(', ')})`);
  if (typeof input.registry !== 'string' || input.registry.trim() === '') {
    fail("'registry' must be the path of your contracts module, e.g. './src/jobs/contracts.ts'");
  }
  if (input.stackName !== undefined && (typeof input.stackName !== 'string' || !STACK_NAME_PATTERN.test(input.stackName))) {
    fail(`'stackName' must be a CloudFormation stack name (letters, digits, '-'; given ${JSON.stringify(input.stackName)})`);
  }
  if (input.endpoint !== undefined && !isHttpUrl(input.endpoint)) {
    fail(`'endpoint' must be a URL such as http://127.0.0.1:4566 (given ${JSON.stringify(input.endpoint)})`);
  }
  if (input.app !== undefined && (typeof input.app !== 'string' || input.app.trim() === '')) {
    fail("'app' must be the folder of your CDK app (the one with cdk.json), relative to the config file");
  }
  if (input.handlers !== undefined && (typeof input.handlers !== 'string' || input.handlers.trim() === '')) {
    fail(
      "'handlers' must be the path of your handlers module (the one your JobSystem's `handlers` names), relative to the config file",
    );
  }
  const projectDir = dirname(configFile);
  return {
    configFile,
    projectDir,
    registryModule: resolve(projectDir, input.registry as string),
    appDir: resolve(projectDir, (input.app as string | undefined) ?? '.'),
    ...(input.stackName === undefined ? {} : { stackName: input.stackName as string }),
    ...(input.endpoint === undefined ? {} : { endpoint: input.endpoint as string }),
    ...(input.handlers === undefined ? {} : { handlersModule: resolve(projectDir, input.handlers as string) }),
  };
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string' || !URL.canParse(value)) return false;
  return ['http:', 'https:'].includes(new URL(value).protocol);
}

/** Why `value` is not a registry, or undefined when it looks like one. */
function registryProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `it is ${describeValue(value)}`;
  for (const [key, entry] of Object.entries(value)) {
    const name = (entry as { name?: unknown } | null)?.name;
    const schema = (entry as { schema?: unknown } | null)?.schema;
    if (typeof entry !== 'object' || entry === null || name !== key || typeof schema !== 'object' || schema === null) {
      return `entry '${key}' is not a job contract`;
    }
  }
  return undefined;
}

async function importModule(
  file: string,
  message: (cause: unknown) => string,
  configFile: string,
): Promise<Record<string, unknown>> {
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (cause) {
    throw new ProjectConfigError(message(cause), configFile, { cause });
  }
}

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  // Node's module-not-found messages run to several lines; the first says what is missing.
  return text.split('\n')[0] ?? text;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
