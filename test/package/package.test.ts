// The published package as a user gets it: what `npm pack` puts in the tarball, whether every `exports` target
// exists, and whether the built entry points load in plain Node (no tsx) from an installed layout.
// Needs `npm run build` first (`npm test` and `npm run test:package` build before they run this).
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import semver from 'semver';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** An installed copy of the package, inside the repository so its dependencies resolve from the repository's node_modules. */
const INSTALL_ROOT = join(ROOT, 'test', 'artifacts', 'package-install');
const INSTALLED = join(INSTALL_ROOT, 'node_modules', 'jobstack');

interface PackageJson {
  readonly name: string;
  readonly engines: { readonly node: string };
  readonly bin: Readonly<Record<string, string>>;
  readonly exports: Readonly<Record<string, string | Readonly<Record<string, string>>>>;
  readonly peerDependencies: Readonly<Record<string, string>>;
}

interface LockPackage {
  readonly version?: string;
  readonly dev?: boolean;
  readonly engines?: { readonly node?: string };
}

const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson;

/** Every file a target of `exports` names, as a path from the package root (`dist/entrypoints/index.js`). */
const exportTargets = Object.values(packageJson.exports).flatMap((target) =>
  (typeof target === 'string' ? [target] : Object.values(target)).map((path) => path.replace(/^\.\//, '')),
);

/** `.` → `jobstack`, `./cdk` → `jobstack/cdk`: what a user writes in an import. */
const importSpecifiers = Object.keys(packageJson.exports)
  .filter((subpath) => subpath !== './package.json')
  .map((subpath) => (subpath === '.' ? packageJson.name : `${packageJson.name}/${subpath.slice(2)}`));

/** Packages the Lambda-side entries must not pull in: build-time tools and the CDK (an optional peer). */
const BUILD_TIME_PACKAGES = ['aws-cdk-lib', 'constructs', 'esbuild', 'tsx', 'typescript'];

/** The names of the packages a built entry module imports, directly or through the package's own modules. */
async function packagesImportedBy(entry: string): Promise<string[]> {
  const result = await build({
    entryPoints: [join(ROOT, entry)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const packages = new Set<string>();
  for (const input of Object.values(result.metafile.inputs)) {
    for (const imported of input.imports) {
      if (!imported.external || imported.path.startsWith('node:')) continue;
      const [scopeOrName = '', name] = imported.path.split('/');
      packages.add(scopeOrName.startsWith('@') ? `${scopeOrName}/${name}` : scopeOrName);
    }
  }
  return [...packages].sort();
}

describe('the built package', () => {
  let packed: string[];

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist', 'entrypoints'))) {
      throw new Error('dist/ is missing: run `npm run build` first (npm test and npm run test:package do)');
    }
    // --ignore-scripts: list what the existing build would ship, without prepack building again.
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: ROOT,
      maxBuffer: 16 * 1024 * 1024,
    });
    const [tarball] = JSON.parse(stdout) as { files: { path: string }[] }[];
    packed = (tarball?.files ?? []).map((file) => file.path).sort();

    // The installed layout: exactly the packed files under node_modules/jobstack, beside a package.json of
    // its own so that `import 'jobstack'` there resolves through node_modules, not to the repository itself.
    rmSync(INSTALL_ROOT, { recursive: true, force: true });
    for (const file of packed) {
      mkdirSync(dirname(join(INSTALLED, file)), { recursive: true });
      cpSync(join(ROOT, file), join(INSTALLED, file));
    }
    writeFileSync(
      join(INSTALL_ROOT, 'package.json'),
      JSON.stringify({ name: 'package-test-app', type: 'module', private: true }),
    );
  }, 60_000);

  it('ships every exports target, the bin and the files the code reads at run time', () => {
    for (const target of exportTargets) {
      expect(existsSync(join(ROOT, target)), `${target} exists after the build`).toBe(true);
      expect(packed, `${target} is in the tarball`).toContain(target);
    }
    for (const bin of Object.values(packageJson.bin)) expect(packed).toContain(bin.replace(/^\.\//, ''));
    expect(packed).toContain('dist/dashboard/public/index.html');
    expect(packed).toContain('dist/cli/local/ministack-with-patches.py');
    expect(packed).toContain('dist/cli/main.js');
  });

  it('ships no tests, benchmarks, demo app, TypeScript sources or build configuration', () => {
    const unwanted = packed.filter(
      (path) =>
        /^(test|bench|etc|scripts|docs|\.ci|entrypoints|shared|functions|infra|cli|dashboard)\//.test(path) ||
        /^dist\/(functions\/jobs|test|bench)\//.test(path) ||
        /^dist\/infra\/(app|jobstack-stack)\./.test(path) ||
        (path.endsWith('.ts') && !path.endsWith('.d.ts')) ||
        path.endsWith('.d.ts.map') ||
        /^(tsconfig|api-extractor|biome|vitest\.config|cdk|jobstack\.config)\b/.test(path),
    );
    expect(unwanted).toEqual([]);
  });

  it('loads every entry point in plain Node from the installed package, without tsx', async () => {
    const script = [
      'const names = {};',
      ...importSpecifiers.map(
        (specifier) => `names[${JSON.stringify(specifier)}] = Object.keys(await import(${JSON.stringify(specifier)})).sort();`,
      ),
      'console.log(JSON.stringify(names));',
    ].join('\n');
    writeFileSync(join(INSTALL_ROOT, 'import-all.mjs'), script);
    const { NODE_OPTIONS: _loaderHooks, ...env } = process.env;
    const { stdout } = await run(process.execPath, ['import-all.mjs'], { cwd: INSTALL_ROOT, env });
    const names = JSON.parse(stdout) as Record<string, string[]>;

    expect(Object.keys(names)).toEqual(importSpecifiers);
    for (const specifier of importSpecifiers) expect(names[specifier], specifier).not.toEqual([]);
    expect(names.jobstack).toEqual(expect.arrayContaining(['createJobClient', 'defineJob', 'defineRegistry']));
    expect(names['jobstack/cdk']).toContain('JobSystem');
  }, 60_000);

  it('runs the compiled CLI from the installed package, where no cli/*.ts exists', async () => {
    expect(existsSync(join(INSTALLED, 'cli', 'main.ts'))).toBe(false);
    // A folder outside the repository: the CLI must not find this repository's jobstack.config.ts.
    const cwd = mkdtempSync(join(tmpdir(), 'jobstack-package-cli-'));
    try {
      const { stdout } = await run(process.execPath, [join(INSTALLED, 'bin', 'jobstack.js'), '--help'], { cwd });
      expect(stdout).toMatch(/usage: jobstack/);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 60_000);

  it('keeps the CDK and build tools out of what jobstack and jobstack/worker import', async () => {
    for (const specifier of ['.', './worker']) {
      const target = packageJson.exports[specifier];
      const entry = typeof target === 'string' ? target : target?.import;
      if (entry === undefined) throw new Error(`package.json exports has no import target for ${specifier}`);
      const imported = await packagesImportedBy(entry);
      expect(
        imported.filter((name) => BUILD_TIME_PACKAGES.includes(name)),
        specifier,
      ).toEqual([]);
    }
  }, 60_000);
});

describe('engines.node', () => {
  it('promises no Node.js version that a runtime or peer dependency in the lock file refuses', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, LockPackage>;
    };
    const peers = new Set(Object.keys(packageJson.peerDependencies));
    const refusing: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      if (path === '') continue;
      const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
      const shipped = entry.dev !== true || (path === `node_modules/${name}` && peers.has(name));
      const range = entry.engines?.node;
      if (shipped && range !== undefined && !semver.subset(packageJson.engines.node, range)) {
        refusing.push(`${name}@${entry.version} needs node ${range}`);
      }
    }
    expect(refusing).toEqual([]);
  });
});
