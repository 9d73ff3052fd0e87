import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand, paginateListStackResources } from '@aws-sdk/client-cloudformation';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import {
  type AdoptionApp,
  bundleOf,
  cleanUp,
  copyFixtureApp,
  describeFailure,
  errorLines,
  findDemoCode,
  makeAdoptionFolder,
  packRepository,
  run,
  writeStrippedTypeTests,
} from './harness.js';

/** The stack name in the fixture's jobstack.config.ts and CDK app. */
const STACK_NAME = 'AdoptionApp';
/** What the fixture's handler makes of the enqueued payload with `pathe` (Windows separators normalized). */
const EXPECTED_RESULT = { key: 'archive/invoices/c-42/2026-11.pdf', segments: 4 };
/** A line only the handler module has (its log message): it must not reach the enqueueing code. */
const HANDLER_MARKER = 'invoice key worked out';

/**
 * The proof that jobstack is adopted with `npm install`: the packed
 * package, installed into an app that is not this repository (its own
 * package.json, CDK app, contracts, handlers with their own dependency, and
 * enqueueing code), type-checks strictly, deploys to the emulator with the
 * app's `npx jobstack local up`, runs the app's job and lists it.
 *
 * The steps share one app and run in order; the temporary folder is removed
 * when every step passed and kept (its path printed) otherwise.
 */
describe('adopting jobstack from its packed tarball', () => {
  let app: AdoptionApp;
  let keep = false;
  let jobId: string | undefined;
  const endpoint = inject('endpoint');
  const inApp = (name: string, timeoutMs: number) => ({ cwd: app.dir, timeoutMs, logFile: app.logFile(name) });

  beforeAll(async () => {
    app = await makeAdoptionFolder();
    try {
      const tarball = await packRepository(app);
      await copyFixtureApp(app, tarball);
      // The repository's own install filled the npm cache; --prefer-offline takes what it can from there.
      const installed = await run(
        'npm',
        ['install', '--prefer-offline', '--no-audit', '--no-fund'],
        inApp('npm-install', 600_000),
      );
      if (installed.code !== 0) throw new Error(describeFailure('npm install in the app', installed));
      console.log(`adoption test: packed and installed into ${app.dir} (install ${installed.seconds.toFixed(0)} s)`);
    } catch (error) {
      keep = true;
      throw error;
    }
  }, 1_200_000);

  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => {
      keep = true;
    });
  });

  afterAll(async () => {
    if (app !== undefined) await cleanUp(app, keep);
  });

  it('installs a package that carries none of the demo app', async () => {
    const packageDir = join(app.dir, 'node_modules', 'jobstack');
    expect(await findDemoCode(packageDir)).toEqual([]);
  }, 60_000);

  it('type-checks strictly, and a wrong payload or a wrong use of the result does not compile', async () => {
    // Every `@ts-expect-error` in the type tests must meet an error, or tsc fails here.
    const checked = await run('npx', ['--no', '--', 'tsc', '--noEmit'], inApp('tsc', 300_000));
    expect(checked.code, describeFailure('tsc --noEmit', checked)).toBe(0);

    // And each of those lines is an error by itself: without the directives, exactly they fail.
    const stripped = await writeStrippedTypeTests(app.dir);
    expect(stripped.guardedLines.length).toBeGreaterThanOrEqual(4);
    const unchecked = await run('npx', ['--no', '--', 'tsc', '--noEmit', '-p', stripped.project], inApp('tsc-stripped', 300_000));
    expect(unchecked.code).not.toBe(0);
    expect(errorLines(unchecked.stdout, stripped.file), unchecked.stdout).toEqual(stripped.guardedLines);
    await stripped.remove();
  }, 660_000);

  it('enqueues with the contracts alone: the enqueueing code bundles neither the handlers nor their dependency', async () => {
    const { inputs, code } = await bundleOf(app.dir, 'src/enqueue.ts');
    expect(inputs).toContain('src/contracts.ts');
    expect(inputs.some((input) => input.startsWith('node_modules/jobstack/'))).toBe(true);
    expect(inputs).not.toContain('src/handlers.ts');
    expect(inputs.filter((input) => input.startsWith('node_modules/pathe/'))).toEqual([]);
    // Nor the CDK: the client side of jobstack stands without its construct.
    expect(inputs.filter((input) => input.startsWith('node_modules/aws-cdk-lib/'))).toEqual([]);
    expect(code).not.toContain(HANDLER_MARKER);
  }, 120_000);

  it("deploys the app's own stack, JobSystem beside its own topic, with npx jobstack local up", async () => {
    const deployed = await run(
      'npx',
      ['--no', '--', 'jobstack', 'local', 'up', '--endpoint', endpoint],
      inApp('local-up', 900_000),
    );
    expect(deployed.code, describeFailure('jobstack local up', deployed)).toBe(0);

    const cloudFormation = new CloudFormationClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const types: string[] = [];
    for await (const page of paginateListStackResources({ client: cloudFormation }, { StackName: STACK_NAME })) {
      types.push(...(page.StackResourceSummaries ?? []).map((resource) => resource.ResourceType ?? ''));
    }
    expect(types).toEqual(
      expect.arrayContaining(['AWS::SNS::Topic', 'AWS::SQS::Queue', 'AWS::DynamoDB::Table', 'AWS::Lambda::Function']),
    );
    const { Stacks } = await cloudFormation.send(new DescribeStacksCommand({ StackName: STACK_NAME }));
    const outputKeys = (Stacks?.[0]?.Outputs ?? []).map((output) => output.OutputKey);
    // The app's own output beside the ones the construct makes for the client and the CLI.
    expect(outputKeys).toEqual(expect.arrayContaining(['InvoiceEventsTopicArn', 'JobsTableName', 'QueueNames']));
  }, 960_000);

  it("runs the app's job: enqueued from the app's code, it succeeds with what the handler's own dependency computed", async () => {
    const enqueued = await run('npx', ['--no', '--', 'tsx', 'src/enqueue.ts'], {
      ...inApp('enqueue', 180_000),
      env: { LOCAL_JOBS_ENDPOINT: endpoint },
    });
    expect(enqueued.code, describeFailure('tsx src/enqueue.ts', enqueued)).toBe(0);
    const printed = JSON.parse(enqueued.stdout.trim().split('\n').at(-1) ?? '') as { jobId: string; state: string };
    expect(printed).toEqual({ jobId: expect.any(String), state: 'succeeded', ...EXPECTED_RESULT });
    jobId = printed.jobId;
  }, 240_000);

  it("shows the job in the app's npx jobstack list", async () => {
    expect(jobId, 'the job of the step before').toBeDefined();
    const listed = await run('npx', ['--no', '--', 'jobstack', 'list', '--json', '--endpoint', endpoint], inApp('list', 120_000));
    expect(listed.code, describeFailure('jobstack list', listed)).toBe(0);
    const { jobs } = JSON.parse(listed.stdout) as { jobs: { id: string; type: string; state: string }[] };
    expect(jobs).toContainEqual(expect.objectContaining({ id: jobId, type: 'invoice.archive', state: 'succeeded' }));
  }, 180_000);
});
