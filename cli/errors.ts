import { JobstackError } from '../shared/index.js';

/** A mistake in how the CLI was called: printed with a hint to `--help`. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Ends a command with this exit code after printing its own output. */
export class ExitCode extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
    this.name = 'ExitCode';
  }
}

/**
 * The project config (`jobstack.config.ts`) or the registry module it names cannot be used:
 * it does not load, has no default export, has a wrong setting, or its module exports no registry.
 */
export class ProjectConfigError extends JobstackError {
  constructor(
    message: string,
    readonly configFile: string | undefined,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
    this.name = 'ProjectConfigError';
  }
}

/** No config file in the current folder or any parent; the message says how to create one. */
export class ProjectConfigNotFoundError extends ProjectConfigError {
  constructor(readonly searchedFrom: string) {
    super(
      `no jobstack.config.ts in ${searchedFrom} or any parent folder. Create one in your project's root:\n` +
        `  import { defineConfig } from 'jobstack';\n` +
        `  export default defineConfig({ registry: './src/jobs/contracts.ts', stackName: 'my-app' });\n` +
        `  // registry: the module whose default export is your defineRegistry(...) of job contracts`,
      undefined,
    );
    this.name = 'ProjectConfigNotFoundError';
  }
}
