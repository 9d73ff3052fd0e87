import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WORKER_ENTRY, JobstackStack } from '../../infra/jobstack-stack.js';

// The one test that bundles the real worker with local esbuild, as `cdk deploy` does.
describe('worker bundle', () => {
  let outdir: string;
  let bundle: string;

  beforeAll(() => {
    outdir = mkdtempSync(join(tmpdir(), 'jobstack-cdk-'));
    const stack = new JobstackStack(new App({ outdir }), 'jobstack', {
      env: { account: '111111111111', region: 'us-east-1' },
    });
    const template = Template.fromStack(stack);
    const [worker] = Object.values(template.findResources('AWS::Lambda::Function'));
    if (worker === undefined) throw new Error('the stack has no worker function');
    const assetHash = (worker.Properties.Code.S3Key as string).replace(/\.zip$/, '');
    bundle = join(outdir, `asset.${assetHash}`);
  }, 60_000);

  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('bundles functions/worker/handler.ts as minified ESM with a source map', () => {
    expect(existsSync(DEFAULT_WORKER_ENTRY)).toBe(true);
    expect(existsSync(join(bundle, 'index.mjs'))).toBe(true);
    expect(existsSync(join(bundle, 'index.mjs.map'))).toBe(true);
  });

  it('includes the AWS SDK instead of importing the runtime copy', () => {
    const code = readFileSync(join(bundle, 'index.mjs'), 'utf8');
    expect(code).not.toMatch(/from\s*["']@aws-sdk\//);
    expect(code).toMatch(/DynamoDB/);
  });
});
