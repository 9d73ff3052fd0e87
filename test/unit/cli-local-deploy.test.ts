import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { findCdkCli, findStackArtifact } from '../../cli/local/deploy.js';
import { EmulatorError } from '../../cli/local/emulator.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const folders: string[] = [];

function folder(files: Record<string, string> = {}): string {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'jobstack-deploy-')));
  folders.push(root);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

afterEach(() => {
  for (const root of folders.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe('findStackArtifact', () => {
  const manifest = JSON.stringify({
    artifacts: {
      Tree: { type: 'cdk:tree' },
      ApiStack: {
        type: 'aws:cloudformation:stack',
        displayName: 'ApiStack',
        properties: { templateFile: 'ApiStack.template.json' },
      },
      ProdJobsStack1A2B3C: {
        type: 'aws:cloudformation:stack',
        displayName: 'Prod/JobsStack',
        properties: { stackName: 'my-app-jobs', templateFile: 'ProdJobsStack1A2B3C.template.json' },
      },
    },
  });

  it('finds a stack by its CloudFormation name and gives cdk deploy its construct path', () => {
    const assembly = folder({ 'manifest.json': manifest });
    expect(findStackArtifact(assembly, 'my-app-jobs')).toEqual({
      selector: 'Prod/JobsStack',
      templateFile: 'ProdJobsStack1A2B3C.template.json',
    });
    expect(findStackArtifact(assembly, 'ApiStack')).toEqual({ selector: 'ApiStack', templateFile: 'ApiStack.template.json' });
  });

  it('names the stacks the app has when none has the configured name', () => {
    const assembly = folder({ 'manifest.json': manifest });
    expect(() => findStackArtifact(assembly, 'jobstack')).toThrow(
      "the CDK app has no stack named 'jobstack' (it has: ApiStack, my-app-jobs); set 'stackName' in jobstack.config.ts",
    );
  });
});

describe('findCdkCli', () => {
  it("uses the aws-cdk the app's folder resolves", () => {
    // realpath: node_modules may be a symlink, and resolution reports the real path.
    expect(findCdkCli(REPO)).toBe(realpathSync(join(REPO, 'node_modules', 'aws-cdk', 'bin', 'cdk')));
  });

  it('tells how to install aws-cdk 2.x when the project has none', () => {
    const app = folder({ 'cdk.json': '{}' });
    const error = (() => {
      try {
        return findCdkCli(app);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(EmulatorError);
    expect((error as Error).message).toBe(
      `no AWS CDK CLI in ${app}: jobstack local up deploys with the project's own; install it with npm install --save-dev aws-cdk@2`,
    );
  });

  it('refuses an aws-cdk of another major version', () => {
    const app = folder({
      'node_modules/aws-cdk/package.json': JSON.stringify({ name: 'aws-cdk', version: '1.204.0', bin: { cdk: 'bin/cdk' } }),
    });
    expect(() => findCdkCli(app)).toThrow(/is version 1\.204\.0; jobstack local up needs 2\.x/);
  });
});
