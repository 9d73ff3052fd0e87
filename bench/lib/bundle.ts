import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { locateEntries, registryEntrySource, writeEntry } from '../../infra/generated-entries.js';
import { JobstackFunction } from '../../infra/jobstack-function.js';
import { DEMO_HANDLERS, JobstackStack } from '../../infra/jobstack-stack.js';

/** One Lambda function of a synthesized stack and its bundled code. */
export interface BundledFunction {
  /** Logical id in the template. */
  readonly logicalId: string;
  readonly handler: string;
  /** Folder holding the bundle (`index.mjs`, `index.mjs.map`). */
  readonly assetDir: string;
  /** The function's environment, with values CloudFormation resolves at deploy time (Refs) replaced by placeholders. */
  readonly environment: Record<string, string>;
  readonly memoryMb: number;
}

/**
 * Bundles every Lambda function of a JobstackStack exactly as `cdk deploy`
 * does: it synthesizes the real stack (NodejsFunction runs the local esbuild
 * with the stack's own settings) and returns the asset folders.
 *
 * @example
 * const [worker] = bundleStackFunctions().filter((f) => f.logicalId.includes('Worker'));
 */
export function bundleStackFunctions(): BundledFunction[] {
  const outdir = mkdtempSync(join(tmpdir(), 'jobstack-bench-bundle-'));
  const stack = new JobstackStack(new App({ outdir }), 'jobstack', { env: { account: '111111111111', region: 'us-east-1' } });
  return bundledFunctions(stack, outdir);
}

/**
 * Bundles one handler file as a jobstack function (JobstackFunction: the settings every jobstack
 * function shares), so a reference handler is built the same way as the real ones.
 */
export function bundleReferenceFunction(entry: string): BundledFunction {
  const outdir = mkdtempSync(join(tmpdir(), 'jobstack-bench-bundle-'));
  const stack = new Stack(new App({ outdir }), 'reference', { env: { account: '111111111111', region: 'us-east-1' } });
  new JobstackFunction(stack, 'Reference', {
    entry,
    description: 'reference handler',
    environment: {},
    serviceName: 'reference',
  });
  const [reference] = bundledFunctions(stack, outdir);
  if (!reference) throw new Error('the reference stack has no bundled function');
  return reference;
}

/** The demo worker's entry: the file the construct generates (content-addressed, so this is the same path). */
export function demoWorkerEntry(): string {
  return writeEntry(locateEntries().directory, 'worker', registryEntrySource('worker', DEMO_HANDLERS));
}

function bundledFunctions(stack: Stack, outdir: string): BundledFunction[] {
  const template = Template.fromStack(stack);
  const functions: BundledFunction[] = [];
  for (const [logicalId, resource] of Object.entries(template.findResources('AWS::Lambda::Function'))) {
    const properties = resource.Properties as {
      Code?: { S3Key?: unknown };
      Handler?: string;
      MemorySize?: number;
      Environment?: { Variables?: Record<string, unknown> };
    };
    const key = properties.Code?.S3Key;
    if (typeof key !== 'string') continue; // inline or custom-resource code, not one of ours
    const assetDir = join(outdir, `asset.${key.replace(/\.zip$/, '')}`);
    if (!existsSync(join(assetDir, 'index.mjs'))) continue;
    const environment = Object.fromEntries(
      Object.entries(properties.Environment?.Variables ?? {}).map(([name, value]) => [name, resolvePlaceholders(value)]),
    );
    functions.push({
      logicalId,
      handler: properties.Handler ?? 'index.handler',
      assetDir,
      environment,
      memoryMb: properties.MemorySize ?? 128,
    });
  }
  return functions;
}

/**
 * A template value with what CloudFormation would resolve at deploy time
 * (Ref, Fn::GetAtt, ...) replaced by placeholder names, keeping Fn::Join's
 * structure so a JSON-valued variable stays valid JSON.
 */
export function resolvePlaceholders(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const object = (value ?? {}) as Record<string, unknown>;
  if (typeof object.Ref === 'string') return `bench-${object.Ref}`;
  const getAtt = object['Fn::GetAtt'];
  if (Array.isArray(getAtt)) return `bench-${getAtt.map(String).join('-')}`;
  const join = object['Fn::Join'];
  if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) {
    return (join[1] as unknown[]).map(resolvePlaceholders).join(join[0]);
  }
  return 'bench-placeholder';
}

/** Sizes of the files in a bundle folder and its subfolders (the chunks of a split bundle), in bytes, by relative path. */
export function bundleFiles(assetDir: string): Record<string, number> {
  return Object.fromEntries(
    readdirSync(assetDir, { recursive: true, encoding: 'utf8' })
      .filter((name) => statSync(join(assetDir, name)).isFile())
      .map((name) => [name.replaceAll('\\', '/'), statSync(join(assetDir, name)).size]),
  );
}

/**
 * The files of a bundle that `node` loads until `script` (which imports the bundle) ends, as paths relative to
 * `assetDir`: read from Node's ESM debug log (`NODE_DEBUG=esm`), so it counts what a top-level `await import()`
 * loads at start as well, which reading the static imports alone would not.
 */
export function filesLoadedBy(script: string, assetDir: string, env: Record<string, string>): string[] {
  const result = spawnSync(process.execPath, [script], { env: { ...env, NODE_DEBUG: 'esm' }, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`node ${script} exited ${result.status}: …${result.stderr.slice(-1_500)}`);
  const prefix = pathToFileURL(assetDir).href;
  const files = new Set<string>();
  for (const match of result.stderr.matchAll(/Storing (file:\/\/\S+)/g)) {
    const url = match[1] as string;
    if (url.startsWith(`${prefix}/`)) files.add(decodeURIComponent(url.slice(prefix.length + 1)));
  }
  return [...files];
}

/** A relative module specifier after `from` or a bare `import`, never `import(` (a dynamic import). */
const STATIC_IMPORT = /\bfrom\s*["'](\.\.?\/[^"']+)["']|\bimport\s*["'](\.\.?\/[^"']+)["']/g;

/**
 * The files of a split bundle that Node loads when the function starts: `index.mjs` and every chunk it
 * imports statically, transitively (relative paths). The other `.mjs` files are loaded by `import()`
 * when their code first runs.
 */
export function initFiles(assetDir: string, entry = 'index.mjs'): string[] {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = readFileSync(join(assetDir, file), 'utf8');
    for (const match of code.matchAll(STATIC_IMPORT)) {
      const specifier = (match[1] ?? match[2]) as string;
      visit(posix.normalize(posix.join(posix.dirname(file), specifier)));
    }
  };
  visit(entry);
  return [...seen];
}

/** esbuild's metafile is not kept by NodejsFunction; the source map tells which inputs the bundle holds. */
export function bundleInputs(assetDir: string): { source: string; bytes: number }[] {
  const map = JSON.parse(readFileSync(join(assetDir, 'index.mjs.map'), 'utf8')) as {
    sources: string[];
    sourcesContent?: (string | null)[];
  };
  return map.sources.map((source, i) => ({ source, bytes: Buffer.byteLength(map.sourcesContent?.[i] ?? '') }));
}
