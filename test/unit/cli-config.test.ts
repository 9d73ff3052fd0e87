import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resolveConnection } from '../../cli/connect.js';
import { ProjectConfigError, ProjectConfigNotFoundError } from '../../cli/errors.js';
import { checkConfig, findProjectConfigFile, loadProjectConfig, loadProjectRegistry } from '../../cli/load-config.js';
import { defineConfig } from '../../cli/project-config.js';

/** jobstack's own definitions, imported by absolute URL: the temp projects have no node_modules. */
const SHARED = pathToFileURL(fileURLToPath(new URL('../../shared/index.ts', import.meta.url))).href;

const REGISTRY_MODULE = `
import { z } from 'zod';
import { defineJob, defineRegistry } from '${SHARED}';
export const sendEmail = defineJob({ name: 'email.send', schema: z.object({ to: z.string() }), handler: async () => 'sent' });
export default defineRegistry(sendEmail);
`;

const folders: string[] = [];

/** A temp project: `files` maps relative paths to contents. Under the OS temp folder, so no config above it. */
function project(files: Record<string, string>): string {
  // realpath: macOS's temp folder is a symlink, and the loader reports resolved paths.
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'jobstack-config-')));
  folders.push(root);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
  vi.unstubAllEnvs();
});

describe('findProjectConfigFile', () => {
  it('finds the config in a parent folder of the cwd', () => {
    const root = project({ 'jobstack.config.ts': 'export default {}', 'src/jobs/deep/.keep': '' });
    expect(findProjectConfigFile(join(root, 'src', 'jobs', 'deep'))).toBe(join(root, 'jobstack.config.ts'));
  });

  it('takes the nearest config, and .ts before .mts, .js and .mjs in one folder', () => {
    const root = project({
      'jobstack.config.mjs': 'export default {}',
      'jobstack.config.ts': 'export default {}',
      'packages/api/jobstack.config.js': 'export default {}',
      'packages/api/jobstack.config.mjs': 'export default {}',
    });
    expect(findProjectConfigFile(root)).toBe(join(root, 'jobstack.config.ts'));
    expect(findProjectConfigFile(join(root, 'packages', 'api'))).toBe(join(root, 'packages', 'api', 'jobstack.config.js'));
  });

  it('returns undefined when no folder up to the root has one', () => {
    expect(findProjectConfigFile(project({ 'src/.keep': '' }))).toBeUndefined();
  });
});

describe('loadProjectConfig and loadProjectRegistry', () => {
  it('loads a .ts config from a subfolder, resolves its paths against the config folder, and loads its registry', async () => {
    const root = project({
      'jobstack.config.ts': `
        const config: { registry: string; stackName: string; endpoint: string; app: string } = {
          registry: './src/jobs/contracts.ts', stackName: 'my-app', endpoint: 'http://127.0.0.1:4599', app: 'infra',
        };
        export default config;`,
      'src/jobs/contracts.ts': REGISTRY_MODULE,
      'src/api/.keep': '',
    });
    const config = await loadProjectConfig({ cwd: join(root, 'src', 'api') });
    expect(config).toEqual({
      configFile: join(root, 'jobstack.config.ts'),
      projectDir: root,
      registryModule: join(root, 'src', 'jobs', 'contracts.ts'),
      appDir: join(root, 'infra'),
      stackName: 'my-app',
      endpoint: 'http://127.0.0.1:4599',
    });
    const registry = await loadProjectRegistry(config);
    expect(Object.keys(registry)).toEqual(['email.send']);
    expect(registry['email.send']?.queue).toBe('default');
  });

  it("loads an .mjs config whose registry module exports 'registry' instead of a default", async () => {
    const root = project({
      'jobstack.config.mjs': `export default { registry: './registry.mjs' };`,
      'registry.mjs': `export const registry = { 'report.build': { name: 'report.build', schema: {}, queue: 'reports' } };`,
    });
    const config = await loadProjectConfig({ cwd: root });
    expect(config.appDir).toBe(root);
    expect(config.stackName).toBeUndefined();
    expect(Object.keys(await loadProjectRegistry(config))).toEqual(['report.build']);
  });

  it('says how to create a config when there is none, in one line and a three-line example', async () => {
    const root = project({ 'src/.keep': '' });
    const error = await loadProjectConfig({ cwd: join(root, 'src') }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProjectConfigNotFoundError);
    expect(error).toBeInstanceOf(ProjectConfigError);
    const lines = (error as Error).message.split('\n');
    expect(lines[0]).toBe(
      `no jobstack.config.ts in ${join(root, 'src')} or any parent folder. Create one in your project's root:`,
    );
    expect(lines.slice(1)).toEqual([
      "  import { defineConfig } from 'jobstack';",
      "  export default defineConfig({ registry: './src/jobs/contracts.ts', stackName: 'my-app' });",
      '  // registry: the module whose default export is your defineRegistry(...) of job contracts',
    ]);
  });

  it('names the registry module that has neither a default nor a registry export', async () => {
    const root = project({
      'jobstack.config.ts': `export default { registry: './src/contracts.ts' };`,
      'src/contracts.ts': `export const jobs = {};`,
    });
    const error = await loadProjectRegistry(await loadProjectConfig({ cwd: root })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProjectConfigError);
    expect((error as ProjectConfigError).name).toBe('ProjectConfigError');
    expect((error as ProjectConfigError).configFile).toBe(join(root, 'jobstack.config.ts'));
    expect((error as Error).message).toMatch(
      /registry module src\/contracts\.ts named in .*jobstack\.config\.ts has neither a default export nor an export named 'registry'/,
    );
  });

  it('rejects an export that is not a registry of job contracts', async () => {
    const root = project({
      'jobstack.config.ts': `export default { registry: './contracts.ts' };`,
      'contracts.ts': `export default { 'email.send': { name: 'email.sent', schema: {} } };`,
    });
    await expect(loadProjectRegistry(await loadProjectConfig({ cwd: root }))).rejects.toThrow(
      /its default export is not a job registry \(entry 'email\.send' is not a job contract\)/,
    );
  });

  it('names a registry module that does not exist, with the cause kept', async () => {
    const root = project({ 'jobstack.config.ts': `export default { registry: './missing.ts' };` });
    const error = await loadProjectRegistry(await loadProjectConfig({ cwd: root })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProjectConfigError);
    expect((error as Error).message).toMatch(/cannot load the registry module missing\.ts named in/);
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it('asks for a default export when the config file has none', async () => {
    const root = project({ 'jobstack.config.mjs': `export const config = { registry: './contracts.ts' };` });
    await expect(loadProjectConfig({ cwd: root })).rejects.toThrow(/jobstack\.config\.mjs has no default export/);
  });
});

describe('checkConfig', () => {
  const file = '/project/jobstack.config.ts';

  it.each([
    [[], /the default export must be an object/],
    [{ registry: './c.ts', stack: 'x' }, /unknown setting 'stack' \(known: registry, stackName, endpoint, app, handlers\)/],
    [{}, /'registry' must be the path of your contracts module/],
    [{ registry: './c.ts', stackName: 'my_app' }, /'stackName' must be a CloudFormation stack name/],
    [{ registry: './c.ts', endpoint: 'localhost:4566' }, /'endpoint' must be a URL/],
    [{ registry: './c.ts', app: '' }, /'app' must be the folder of your CDK app/],
  ])('rejects %j', (value, message) => {
    expect(() => checkConfig(value, file)).toThrow(message);
  });

  it('defineConfig returns the config as given', () => {
    const config = { registry: './c.ts', stackName: 'my-app' };
    expect(defineConfig(config)).toBe(config);
  });
});

describe('resolveConnection', () => {
  it('prefers --stack, then JOBSTACK_STACK, then the config, then jobstack', () => {
    vi.stubEnv('JOBSTACK_STACK', undefined);
    expect(resolveConnection({}, {}).stackName).toBe('jobstack');
    expect(resolveConnection({}, { stackName: 'from-config' }).stackName).toBe('from-config');
    vi.stubEnv('JOBSTACK_STACK', 'from-env');
    expect(resolveConnection({}, { stackName: 'from-config' }).stackName).toBe('from-env');
    expect(resolveConnection({ stack: 'from-flag' }, { stackName: 'from-config' }).stackName).toBe('from-flag');
  });

  it("uses the config's endpoint unless --endpoint or --local says otherwise", () => {
    const remote = { endpoint: 'https://aws.example.com' };
    expect(resolveConnection({}, remote).aws).toEqual({ endpoint: 'https://aws.example.com' });
    expect(resolveConnection({ endpoint: 'http://127.0.0.1:4700' }, remote).aws).toMatchObject({
      endpoint: 'http://127.0.0.1:4700',
      credentials: { accessKeyId: 'test' },
    });
    expect(resolveConnection({ local: true }, remote).aws).toMatchObject({ endpoint: 'http://127.0.0.1:4566' });
    expect(resolveConnection({ local: true }, { endpoint: 'http://localhost:4600' }).aws).toMatchObject({
      endpoint: 'http://localhost:4600',
    });
    expect(resolveConnection({}, {}).aws).toEqual({});
  });
});
