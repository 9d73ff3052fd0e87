import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initFiles } from '../../bench/lib/bundle.js';
import { JobSystem } from '../../infra/job-system.js';
import { CHUNK_FOLDER } from '../../infra/jobstack-function.js';
import { FunctionEnv } from '../../shared/config.js';
import { ONE_QUEUE } from './fixtures/contracts.js';
import { FIXTURE_HANDLERS, TEST_ENV } from './fixtures/stacks.js';

/** A template value with what CloudFormation resolves at deploy time (Ref, Fn::GetAtt, Fn::Join) as placeholder text. */
function placeholder(value: unknown): string {
  if (typeof value === 'string') return value;
  const object = (value ?? {}) as Record<string, unknown>;
  if (typeof object.Ref === 'string') return `placeholder-${object.Ref}`;
  const getAtt = object['Fn::GetAtt'];
  if (Array.isArray(getAtt)) return `placeholder-${getAtt.join('-')}`;
  const join = object['Fn::Join'];
  if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) {
    return (join[1] as unknown[]).map(placeholder).join(join[0]);
  }
  return 'placeholder';
}

// The one test that bundles with local esbuild, as `cdk deploy` does: a user's stack whose worker entry
// is generated from the fixture handlers module.
describe('worker bundle of a generated entry', () => {
  let outdir: string;
  let bundle: string;
  let environment: Record<string, string>;
  /** Source-map sources of the sweeper's and the dead-letter consumer's bundles. */
  let ownBundleSources: string[][];

  beforeAll(() => {
    outdir = mkdtempSync(join(tmpdir(), 'jobstack-cdk-'));
    const stack = new Stack(new App({ outdir }), 'UserStack', { env: TEST_ENV });
    new JobSystem(stack, 'Jobs', { registry: ONE_QUEUE, handlers: FIXTURE_HANDLERS });
    const template = Template.fromStack(stack);
    const assetOf = (fn: { [key: string]: { Code: { S3Key: string } } }) =>
      join(outdir, `asset.${fn.Properties?.Code.S3Key.replace(/\.zip$/, '')}`);
    ownBundleSources = ['^jobstack: re-sends', '^jobstack: marks dead'].map((description) => {
      const [fn] = Object.values(
        template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp(description) } }),
      );
      if (fn === undefined) throw new Error(`no function described ${description}`);
      return (JSON.parse(readFileSync(join(assetOf(fn), 'index.mjs.map'), 'utf8')) as { sources: string[] }).sources;
    });
    const workers = template.findResources('AWS::Lambda::Function', {
      Properties: { Description: Match.stringLikeRegexp('^jobstack worker for queue') },
    });
    const [worker] = Object.values(workers);
    if (worker === undefined) throw new Error('the stack has no worker function');
    bundle = assetOf(worker);
    environment = Object.fromEntries(
      Object.entries(worker.Properties.Environment.Variables as Record<string, unknown>).map(([name, value]) => [
        name,
        placeholder(value),
      ]),
    );
  }, 120_000);

  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  /** Imports the bundle in a fresh Node process, as Lambda's cold start does; prints `typeof handler`. */
  function coldStart(overrides: Record<string, string> = {}) {
    const script = `const m = await import(${JSON.stringify(pathToFileURL(join(bundle, 'index.mjs')).href)}); console.log(typeof m.handler);`;
    return spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH ?? '',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        // Tests may run on an older Node than Lambda's; the SDK's notice about it is not the bundle's output.
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...environment,
        ...overrides,
      },
    });
  }

  it('bundles the generated entry, the user’s handlers module and the worker factory as minified ESM with a source map', () => {
    expect(existsSync(join(bundle, 'index.mjs'))).toBe(true);
    const map = JSON.parse(readFileSync(join(bundle, 'index.mjs.map'), 'utf8')) as { sources: string[] };
    const sources = map.sources.map((source) => source.replaceAll('\\', '/'));
    expect(sources.some((source) => /node_modules\/\.cache\/jobstack\/worker-[0-9a-f]{16}\.mjs$/.test(source))).toBe(true);
    expect(sources.some((source) => source.endsWith('test/cdk/fixtures/handlers.ts'))).toBe(true);
    expect(sources.some((source) => source.endsWith('test/cdk/fixtures/contracts.ts'))).toBe(true);
    // entrypoints/worker.ts only re-exports, so the factory's own module is what the map lists.
    expect(sources.some((source) => source.endsWith('functions/worker/create-handler.ts'))).toBe(true);
  });

  it('bundles the sweeper and the dead-letter consumer from jobstack’s own entries, without the user’s handlers', () => {
    const [sweeper, deadLetter] = ownBundleSources.map((sources) => sources.map((source) => source.replaceAll('\\', '/')));
    expect(sweeper?.some((source) => source.endsWith('functions/sweeper/handler.ts'))).toBe(true);
    expect(deadLetter?.some((source) => source.endsWith('functions/dead-letter/handler.ts'))).toBe(true);
    for (const sources of [sweeper, deadLetter]) {
      expect(sources?.some((source) => source.includes('test/cdk/fixtures/'))).toBe(false);
    }
  });

  /** Source files (from each file's source map) of the bundle's files, by file relative to the asset. */
  function sourcesOf(file: string): string[] {
    const map = JSON.parse(readFileSync(join(bundle, `${file}.map`), 'utf8')) as { sources: string[] };
    return map.sources.map((source) => source.replaceAll('\\', '/'));
  }

  /** Packages the worker needs only for some jobs or only where X-Ray traces: none may load before the handler exists. */
  const LAZY_PACKAGES = {
    's3 client (large payloads)': /node_modules\/@aws-sdk\/client-s3\//,
    'step functions client (long jobs)': /node_modules\/@aws-sdk\/client-sfn\//,
    'x-ray sdk': /node_modules\/aws-xray-sdk-core\//,
    'powertools tracer': /node_modules\/@aws-lambda-powertools\/tracer\//,
  };

  it('keeps the S3 and Step Functions clients and the X-Ray SDK out of the files loaded at start, in chunks of the asset', () => {
    const chunks = readdirSync(join(bundle, CHUNK_FOLDER)).filter((name) => name.endsWith('.mjs'));
    expect(chunks.length).toBeGreaterThan(0);
    const atStart = initFiles(bundle);
    expect(atStart[0]).toBe('index.mjs');
    const lazy = chunks.map((name) => `${CHUNK_FOLDER}/${name}`).filter((file) => !atStart.includes(file));
    const startSources = atStart.flatMap(sourcesOf);
    const lazySources = lazy.flatMap(sourcesOf);
    // What is loaded at start still holds the DynamoDB client every job needs.
    expect(startSources.some((source) => source.includes('node_modules/@aws-sdk/client-dynamodb/'))).toBe(true);
    for (const [name, pattern] of Object.entries(LAZY_PACKAGES)) {
      expect(
        startSources.filter((source) => pattern.test(source)),
        `${name} at start`,
      ).toEqual([]);
      expect(
        lazySources.some((source) => pattern.test(source)),
        `${name} in a lazy chunk`,
      ).toBe(true);
    }
  });

  /** The bundle's files a cold start loads, from Node's ESM debug log. */
  function filesLoadedAtStart(overrides: Record<string, string>): string[] {
    const started = coldStart({ NODE_DEBUG: 'esm', ...overrides });
    expect(started.status).toBe(0);
    const prefix = `${pathToFileURL(bundle).href}/`;
    return [...started.stderr.matchAll(/Storing (file:\/\/\S+)/g)]
      .map((match) => match[1] as string)
      .filter((url) => url.startsWith(prefix))
      .map((url) => url.slice(prefix.length));
  }

  it('loads the Tracer’s chunk at cold start only where the Tracer traces (in Lambda, POWERTOOLS_TRACE_ENABLED not false)', () => {
    const tracerSources = (files: string[]) =>
      files
        .flatMap(sourcesOf)
        .filter((source) => LAZY_PACKAGES['x-ray sdk'].test(source) || LAZY_PACKAGES['powertools tracer'].test(source));
    const inLambda = { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' };
    expect(tracerSources(filesLoadedAtStart(inLambda)).length).toBeGreaterThan(0);
    expect(tracerSources(filesLoadedAtStart({ ...inLambda, POWERTOOLS_TRACE_ENABLED: 'false' }))).toEqual([]);
    expect(tracerSources(filesLoadedAtStart({}))).toEqual([]);
  });

  it('includes the AWS SDK instead of importing the runtime copy', () => {
    const code = readFileSync(join(bundle, 'index.mjs'), 'utf8');
    expect(code).not.toMatch(/from\s*["']@aws-sdk\//);
    expect(code).toMatch(/DynamoDB/);
  });

  it('starts in Node with the worker’s environment: the handlers cover the queue’s JOBSTACK_JOB_TYPES', () => {
    expect(environment[FunctionEnv.jobTypes]).toBe('demo.echo,demo.sleep');
    const started = coldStart();
    expect(started.stderr).toBe('');
    expect(started.stdout.trim()).toBe('function');
  });

  it('fails at cold start naming a job type of the queue that the handlers module lacks', () => {
    const started = coldStart({ [FunctionEnv.jobTypes]: 'demo.echo,billing.charge' });
    expect(started.status).not.toBe(0);
    expect(started.stderr).toMatch(/ConfigurationError/);
    expect(started.stderr).toMatch(/billing\.charge/);
  });
});
