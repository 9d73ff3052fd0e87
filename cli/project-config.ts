/**
 * The project config file, `jobstack.config.ts` in the root of the project that uses jobstack.
 *
 * This module stays free of imports: the `jobstack` entry re-exports `defineConfig`, and a
 * config file must load without pulling in the AWS SDK or the CLI.
 */

/** What `jobstack.config.ts` (or `.mts`, `.js`, `.mjs`) exports as its default export. */
export interface JobstackProjectConfig {
  /**
   * Path of the module holding the job contracts, relative to the config file. Its default
   * export, or else its export named `registry`, is the registry (`defineRegistry(...)`).
   * Contracts suffice: the CLI never runs a handler.
   */
  readonly registry: string;
  /**
   * The CloudFormation stack holding the `JobSystem` (what the CLI reads outputs from and
   * what `jobstack local up` deploys). `--stack` and env `JOBSTACK_STACK` override it.
   *
   * @default 'jobstack'
   */
  readonly stackName?: string;
  /**
   * AWS endpoint the CLI talks to, e.g. `http://127.0.0.1:4566` to always use the local
   * emulator. `--endpoint` and `--local` override it.
   *
   * @default - the standard AWS environment (AWS_ENDPOINT_URL, profile, region)
   */
  readonly endpoint?: string;
  /**
   * Folder of the CDK app (the one holding `cdk.json`) that `jobstack local up` deploys,
   * relative to the config file.
   *
   * @default - the config file's folder
   */
  readonly app?: string;
  /**
   * Path of the handlers module, relative to the config file: the module your `JobSystem`'s
   * `handlers` names (its default export is the registry of handlers). `jobstack dev` runs it.
   *
   * @default - none: `jobstack dev` then needs `--handlers`
   */
  readonly handlers?: string;
}

/** File names the CLI looks for, in this order, in the current folder and then each parent. */
export const PROJECT_CONFIG_FILE_NAMES = [
  'jobstack.config.ts',
  'jobstack.config.mts',
  'jobstack.config.js',
  'jobstack.config.mjs',
] as const;

/**
 * Types the project config; returns it unchanged (the CLI checks it when it loads it).
 *
 * @example
 * // jobstack.config.ts
 * import { defineConfig } from 'jobstack';
 * export default defineConfig({ registry: './src/jobs/contracts.ts', stackName: 'my-app' });
 */
export function defineConfig(config: JobstackProjectConfig): JobstackProjectConfig {
  return config;
}
