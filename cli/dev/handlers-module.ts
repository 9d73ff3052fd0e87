import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { type HandlerRegistry, jobsWithoutHandlers } from '../../shared/index.js';

/** A build of the handlers module that failed: esbuild's messages, to show, not to crash on. */
export class HandlersBuildError extends Error {
  constructor(readonly messages: readonly string[]) {
    super(`the handlers module did not build:\n${messages.join('\n')}`);
    this.name = 'HandlersBuildError';
  }
}

/** The entry modules of the `jobstack` package, as this CLI itself loads them. */
const JOBSTACK_ENTRIES: Readonly<Record<string, string>> = {
  jobstack: new URL('../../entrypoints/index.js', import.meta.url).href,
  'jobstack/worker': new URL('../../entrypoints/worker.js', import.meta.url).href,
  'jobstack/cdk': new URL('../../entrypoints/cdk.js', import.meta.url).href,
};

/**
 * Keeps `jobstack` imports pointing at the very modules this CLI runs: the record processor
 * recognises the handlers' errors (`NonRetryableError`, …) by class, so the handlers must throw
 * the same classes, not copies bundled into their module.
 */
const sameJobstack: Plugin = {
  name: 'jobstack-as-the-cli-loads-it',
  setup(builder) {
    builder.onResolve({ filter: /^jobstack(\/(worker|cdk))?$/ }, (args) => ({
      path: JOBSTACK_ENTRIES[args.path] as string,
      external: true,
    }));
  },
};

export interface HandlersBuild {
  /** Every source file the module is made of (what a watcher should follow). */
  readonly inputs: readonly string[];
  readonly registry: HandlerRegistry;
}

/**
 * Builds the handlers module (the one the `JobSystem` construct bundles) into `outDir` and loads
 * it: the project's own files are bundled afresh on each call, so a saved change is what the
 * next call returns; packages stay imports (loaded once, as in any Node process).
 *
 * @throws HandlersBuildError when esbuild cannot build it (syntax errors, missing files)
 * @throws Error when its default export (or export `registry`) is not a registry of handlers
 */
export async function loadHandlersModule(entry: string, outDir: string, generation: number): Promise<HandlersBuild> {
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, `handlers-${generation}.mjs`);
  const result = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    plugins: [sameJobstack],
    sourcemap: 'inline',
    metafile: true,
    logLevel: 'silent',
  }).catch((error: unknown) => {
    const errors = (error as { errors?: { text: string; location?: { file: string; line: number; column: number } }[] }).errors;
    if (!errors) throw error;
    throw new HandlersBuildError(
      errors.map((e) => (e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ${e.text}` : e.text)),
    );
  });
  try {
    const module = (await import(pathToFileURL(outfile).href)) as { default?: unknown; registry?: unknown };
    const registry = (module.default ?? module.registry) as HandlerRegistry | undefined;
    if (registry === undefined || typeof registry !== 'object') {
      throw new Error(`${entry} has no default export (or export 'registry') holding a registry: defineRegistry(...)`);
    }
    const contractsOnly = jobsWithoutHandlers(registry);
    if (contractsOnly.length > 0) {
      throw new Error(`${entry} holds contracts without handlers: ${contractsOnly.join(', ')}`);
    }
    return { inputs: Object.keys(result.metafile.inputs), registry };
  } finally {
    // The module is in memory now; its file only takes space.
    rmSync(outfile, { force: true });
  }
}
