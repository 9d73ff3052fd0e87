import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import {
  jobstackModulePath,
  locateEntries,
  ownEntrySource,
  registryEntrySource,
  writeEntry,
} from '../../infra/generated-entries.js';
import { ConfigurationError } from '../../shared/errors.js';
import { WITH_TIME } from './fixtures/contracts.js';
import { FIXTURE_HANDLERS, jobSystemStack } from './fixtures/stacks.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
/**
 * In this source checkout jobstack's modules are the .ts files; in the package, dist/**.js. Each entry imports its
 * factory from the factory's own module, not through `jobstack/worker`, which re-exports all of them: that pulled
 * the other functions' dependencies into the bundle (115 KB more for the long-job step function).
 */
const factoryModule = (name: string): string => join(REPO, 'functions', name, 'create-handler.ts');
const WORKER_FACTORY = factoryModule('worker');
const CACHE = join(REPO, 'node_modules', '.cache', 'jobstack');

const scratch = mkdtempSync(join(tmpdir(), 'jobstack-entries-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('generated entries', () => {
  it('the worker entry imports the user’s handlers module and createWorkerHandler by absolute path', () => {
    const source = registryEntrySource('worker', FIXTURE_HANDLERS);
    expect(source).toContain(`import * as handlersModule from ${JSON.stringify(FIXTURE_HANDLERS)};`);
    expect(source).toContain(`import { createWorkerHandler } from ${JSON.stringify(WORKER_FACTORY)};`);
    expect(source).toContain('export const handler = createWorkerHandler({ registry });');
  });

  it('the long-job step and dashboard API entries use their own factories', () => {
    expect(registryEntrySource('longJobStep', FIXTURE_HANDLERS)).toContain(
      `import { createLongJobStepHandler } from ${JSON.stringify(factoryModule('long-job'))};`,
    );
    const dashboard = registryEntrySource('dashboardApi', FIXTURE_HANDLERS);
    expect(dashboard).toContain(`import { createDashboardApiHandler } from ${JSON.stringify(factoryModule('dashboard-api'))};`);
    expect(dashboard).toContain('createDashboardApiHandler({ registry })');
  });

  it('the sweeper and dead-letter entries re-export jobstack’s own entries of those functions, with no user code', () => {
    const sweeper = ownEntrySource('sweeper');
    expect(sweeper).toContain(`export { handler } from ${JSON.stringify(join(REPO, 'functions', 'sweeper', 'handler.ts'))};`);
    expect(ownEntrySource('deadLetter')).toContain(
      `export { handler } from ${JSON.stringify(join(REPO, 'functions', 'dead-letter', 'handler.ts'))};`,
    );
    expect(sweeper).not.toContain('handlersModule');
  });

  it('takes the default export, else the `registry` export, and names the module when it has neither', async () => {
    const factory = join(scratch, 'factory.mjs');
    writeFileSync(factory, 'export const createWorkerHandler = ({ registry }) => registry;\n');
    const load = async (name: string, handlersSource: string): Promise<unknown> => {
      const handlers = join(scratch, `${name}.mjs`);
      writeFileSync(handlers, handlersSource);
      const entry = join(scratch, `${name}-entry.mjs`);
      writeFileSync(
        entry,
        registryEntrySource('worker', handlers).replace(JSON.stringify(WORKER_FACTORY), JSON.stringify(factory)),
      );
      return ((await import(entry)) as { handler: unknown }).handler;
    };
    expect(await load('default-only', "export default { 'a.job': 1 };")).toEqual({ 'a.job': 1 });
    expect(await load('named-only', "export const registry = { 'b.job': 2 };")).toEqual({ 'b.job': 2 });
    expect(await load('both', "export default { 'a.job': 1 };\nexport const registry = { 'b.job': 2 };")).toEqual({ 'a.job': 1 });
    await expect(load('neither', 'export const other = 1;')).rejects.toThrow(/neither\.mjs exports no handler registry/);
  });

  it('writes each entry once, named by its content, into the project’s node_modules/.cache/jobstack', () => {
    const { directory, depsLockFilePath } = locateEntries(REPO);
    expect(directory).toBe(CACHE);
    expect(depsLockFilePath).toBe(join(REPO, 'package-lock.json'));
    const source = registryEntrySource('worker', FIXTURE_HANDLERS);
    const path = writeEntry(directory, 'worker', source);
    expect(path).toMatch(/node_modules\/\.cache\/jobstack\/worker-[0-9a-f]{16}\.mjs$/);
    expect(readFileSync(path, 'utf8')).toBe(source);
    expect(writeEntry(directory, 'worker', source)).toBe(path);
    expect(writeEntry(directory, 'worker', registryEntrySource('worker', join(scratch, 'other.ts')))).not.toBe(path);
  });

  it('a JobSystem writes its worker, step and dashboard entries from its handlers module', () => {
    jobSystemStack({ registry: WITH_TIME, webDashboard: { enabled: true } });
    for (const kind of ['worker', 'longJobStep', 'dashboardApi'] as const) {
      const expected = writeEntry(CACHE, kind, registryEntrySource(kind, FIXTURE_HANDLERS));
      expect(existsSync(expected)).toBe(true);
    }
  });

  it('finds the project from a nested folder, and fails outside any project', () => {
    const project = join(scratch, 'app');
    mkdirSync(join(project, 'infra', 'stacks'), { recursive: true });
    writeFileSync(join(project, 'pnpm-lock.yaml'), '');
    expect(locateEntries(join(project, 'infra', 'stacks'))).toEqual({
      depsLockFilePath: join(project, 'pnpm-lock.yaml'),
      directory: join(project, 'node_modules', '.cache', 'jobstack'),
    });
    const outside = join(scratch, 'nowhere');
    mkdirSync(outside);
    expect(() => locateEntries(outside)).toThrow(ConfigurationError);
    expect(() => locateEntries(outside)).toThrow(/cannot find a package lock file .* in .*nowhere or above/);
  });

  it('fails when one of jobstack’s own modules is missing', () => {
    expect(() => jobstackModulePath('entrypoints/absent')).toThrow(/jobstack's module 'entrypoints\/absent' is missing/);
  });
});

describe('handlers validation', () => {
  it('fails with a clear error when the handlers module does not exist', () => {
    const missing = join(scratch, 'jobs', 'handlers.ts');
    expect(() => jobSystemStack({ handlers: missing })).toThrow(ConfigurationError);
    expect(() => jobSystemStack({ handlers: missing })).toThrow(
      `handlers module '${missing}' does not exist: it must be the module whose default export (or export named 'registry') is your handler registry`,
    );
  });

  it('fails when handlers is a relative path or not a JavaScript or TypeScript module', () => {
    expect(() => jobSystemStack({ handlers: 'src/jobs/handlers.ts' })).toThrow(
      /handlers must be an absolute path \(given 'src\/jobs\/handlers.ts'\)/,
    );
    const json = join(scratch, 'handlers.json');
    writeFileSync(json, '{}');
    expect(() => jobSystemStack({ handlers: json })).toThrow(
      /handlers must be a JavaScript or TypeScript module .* \(given '.*handlers\.json'\)/,
    );
  });

  it('gives the long jobs of the registry the step function, with their job types', () => {
    const template = Template.fromStack(jobSystemStack({ registry: WITH_TIME }).stack);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'jobstack long-job steps (demo.long)',
      Environment: { Variables: Match.objectLike({ JOBSTACK_JOB_TYPES: 'demo.long' }) },
    });
  });
});
