import { OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { describe, expect, it } from 'vitest';
import { JOBSTACK_BUNDLING, splitBuildCommand, withCodeSplitting } from '../../infra/jobstack-function.js';

// The split build replaces NodejsFunction's one-file bundle, so it must honour the same settings the user can give
// (JobSystemBundlingOptions); worker-bundle.test.ts runs it for real.
describe('the split build of a jobstack function', () => {
  it('is an afterBundling step of NodejsFunction, building the entry with splitting into its output folder', () => {
    const hooks = withCodeSplitting('/app/entry.mjs', JOBSTACK_BUNDLING).commandHooks;
    expect(hooks?.beforeBundling('/in', '/out')).toEqual([]);
    const [command, ...rest] = hooks?.afterBundling('/in', '/asset-out') ?? [];
    expect(rest).toEqual([]);
    for (const arg of [
      "'index=/app/entry.mjs'",
      "'--splitting'",
      "'--format=esm'",
      "'--outdir=/asset-out'",
      "'--out-extension:.js=.mjs'",
      "'--chunk-names=chunks/[name]-[hash]'",
      "'--main-fields=module,main'",
      "'--minify'",
      "'--sourcemap'",
    ]) {
      expect(command).toContain(arg);
    }
    // The createRequire banner, with its single quotes escaped for bash.
    expect(command).toContain("'--banner:js=import { createRequire as __jobstackCreateRequire } from '\\''node:module'\\'';");
    // The SDK stays bundled: nothing is external unless the user says so.
    expect(command).not.toContain('--external:');
  });

  it('carries the user’s settings: externals and node modules stay external, define, loader, esbuildArgs', () => {
    const command = splitBuildCommand('/app/entry.mjs', '/out', {
      ...JOBSTACK_BUNDLING,
      externalModules: ['layer-lib'],
      nodeModules: ['sharp'],
      define: { 'process.env.STAGE': '"prod"' },
      loader: { '.txt': 'text' },
      esbuildArgs: { '--log-limit': '0', '--legal-comments': false, '--ignore-annotations': true },
      keepNames: true,
      sourceMap: false,
    });
    expect(command).toContain("'--external:layer-lib' '--external:sharp'");
    expect(command).toContain(`'--define:process.env.STAGE="prod"'`);
    expect(command).toContain("'--loader:.txt=text'");
    expect(command).toContain("'--log-limit=0'");
    expect(command).toContain("'--ignore-annotations'");
    expect(command).not.toContain('--legal-comments');
    expect(command).toContain("'--keep-names'");
    expect(command).not.toContain('--sourcemap');
  });

  it('refuses a CommonJS build, which esbuild cannot split', () => {
    expect(() => splitBuildCommand('/app/entry.mjs', '/out', { ...JOBSTACK_BUNDLING, format: OutputFormat.CJS })).toThrow(
      /bundles its functions as ESM \(given format 'cjs'\)/,
    );
  });
});
