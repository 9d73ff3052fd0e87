import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  CloudFormationClient,
  DescribeStacksCommand,
  paginateListStackResources,
  type StackResourceSummary,
} from '@aws-sdk/client-cloudformation';
import { DescribeTimeToLiveCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DEFAULT_STACK_NAME } from '../../shared/config.js';
import { DEFAULT_ENDPOINT, EmulatorError, emulatorFiles, type Log, REPO_ROOT } from './emulator.js';
import { runCommand } from './run.js';

/** The emulator's fixed account and region. */
export const EMULATOR_ACCOUNT = '000000000000';
export const EMULATOR_REGION = 'us-east-1';
const BOOTSTRAP_STACK = 'CDKToolkit';
/** The AWS CDK CLI major version `local up` drives (its `--method=direct` and output format). */
const CDK_CLI_MAJOR = 2;
/** Non-interactive, and `--method=direct` because change-set deploys after a no-change deploy fail there. */
const EMULATOR_DEPLOY_FLAGS = ['--require-approval', 'never', '--method=direct', '--no-notices'] as const;

export interface DeployToEmulatorOptions {
  /** @default DEFAULT_ENDPOINT */
  readonly endpoint?: string;
  /** @default DEFAULT_STACK_NAME ('jobstack') */
  readonly stackName?: string;
  /**
   * Folder of the CDK app to deploy (holds `cdk.json`); its own `aws-cdk` CLI does the deploy.
   *
   * @default REPO_ROOT (the demo app)
   */
  readonly appDir?: string;
  /** Folder whose `.jobstack/` holds the synthesized assembly. @default REPO_ROOT */
  readonly projectDir?: string;
  /**
   * Extra CDK context for the app, e.g. `{ demoJobs: 'false' }`.
   *
   * @default - none
   */
  readonly context?: Readonly<Record<string, string>>;
  /** @default - no output */
  readonly log?: Log;
}

/**
 * Deploys a CDK app's stack to a LocalStack-compatible emulator and returns
 * its outputs (keys in `StackOutput`).
 *
 * Runs the app's own CDK CLI (the `aws-cdk` 2.x its folder resolves) against the
 * emulator (`AWS_ENDPOINT_URL`, test credentials, account 000000000000), in the
 * app's folder: bootstraps once, synthesizes the app with context
 * `stackName=<stackName>`, finds the stack whose CloudFormation name is
 * `stackName` (its construct id may differ), and deploys that one from the
 * synthesized assembly with `--method=direct` (change-set deploys after a
 * no-change deploy fail on the emulator). Afterwards it checks what the
 * emulator's CloudFormation may have dropped and applies the missing settings
 * itself, logging each fix-up (see {@link applyEmulatorFixUps}). The template
 * deployed to AWS is never changed to suit the emulator.
 *
 * @example
 * const { endpoint } = await ensureEmulator({ log: console.log });
 * const outputs = await deployToEmulator({ endpoint, log: console.log });
 * console.log(outputs.QueueUrlDefault);
 */
export async function deployToEmulator(options: DeployToEmulatorOptions = {}): Promise<Record<string, string>> {
  const endpoint = options.endpoint ?? DEFAULT_ENDPOINT;
  const stackName = options.stackName ?? DEFAULT_STACK_NAME;
  const appDir = options.appDir ?? REPO_ROOT;
  const log = options.log ?? (() => {});
  if (!existsSync(join(appDir, 'cdk.json'))) {
    throw new EmulatorError(`no cdk.json in ${appDir}: local up deploys the CDK app there (set 'app' in jobstack.config.ts)`);
  }
  const cdk = findCdkCli(appDir);
  const env = emulatorEnv(endpoint);
  // One assembly folder per emulator, so deploys to two emulators can run side by side.
  const assemblyDir = join(emulatorFiles(endpoint, options.projectDir ?? REPO_ROOT).dir, 'cdk.out');
  const cdkLog = compactCdkLog(log);
  const clients = emulatorClients(endpoint);
  const run = (args: readonly string[]) => runCommand(process.execPath, [cdk, ...args], { cwd: appDir, env, log: cdkLog });

  if (await stackExists(clients.cloudFormation, BOOTSTRAP_STACK)) {
    log(`deploy: ${BOOTSTRAP_STACK} exists on the emulator; skipping bootstrap`);
  } else {
    log(`deploy: bootstrapping aws://${EMULATOR_ACCOUNT}/${EMULATOR_REGION} on ${endpoint}`);
    await run(['bootstrap', `aws://${EMULATOR_ACCOUNT}/${EMULATOR_REGION}`, '--no-notices', '--output', assemblyDir]);
  }

  const context = [
    '--context',
    `stackName=${stackName}`,
    ...Object.entries(options.context ?? {}).flatMap(([key, value]) => ['--context', `${key}=${value}`]),
  ];
  log(`deploy: cdk synth in ${appDir}`);
  await run(['synth', '--quiet', '--no-notices', '--output', assemblyDir, ...context]);
  const stack = findStackArtifact(assemblyDir, stackName);
  log(`deploy: cdk deploy ${stackName} to ${endpoint}`);
  const started = Date.now();
  // From the assembly just synthesized: the app is not synthesized (and its Lambdas bundled) twice.
  await run(['deploy', stack.selector, '--app', assemblyDir, ...EMULATOR_DEPLOY_FLAGS]);
  log(`deploy: ${stackName} deployed in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const template = JSON.parse(readFileSync(join(assemblyDir, stack.templateFile), 'utf8')) as Template;
  await applyEmulatorFixUps({ clients, stackName, template, log });
  return readStackOutputs(clients.cloudFormation, stackName);
}

/**
 * The `aws-cdk` CLI the app's folder resolves (its own `node_modules`, or a parent's in a
 * workspace), as the path of its bin script. Never a global one: its version is the project's choice.
 */
export function findCdkCli(appDir: string): string {
  const require = createRequire(join(appDir, 'package.json'));
  let manifestPath: string;
  try {
    manifestPath = require.resolve('aws-cdk/package.json');
  } catch {
    throw new EmulatorError(
      `no AWS CDK CLI in ${appDir}: jobstack local up deploys with the project's own; install it with npm install --save-dev aws-cdk@${CDK_CLI_MAJOR}`,
    );
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { version?: string; bin?: { cdk?: string } };
  if (!manifest.version?.startsWith(`${CDK_CLI_MAJOR}.`) || manifest.bin?.cdk === undefined) {
    throw new EmulatorError(
      `the AWS CDK CLI in ${dirname(manifestPath)} is version ${manifest.version ?? 'unknown'}; jobstack local up needs ` +
        `${CDK_CLI_MAJOR}.x: npm install --save-dev aws-cdk@${CDK_CLI_MAJOR}`,
    );
  }
  return join(dirname(manifestPath), manifest.bin.cdk);
}

interface AssemblyManifest {
  readonly artifacts?: Record<
    string,
    { type?: string; displayName?: string; properties?: { stackName?: string; templateFile?: string } }
  >;
}

/**
 * The synthesized stack whose CloudFormation name is `stackName` (a stack's name is its
 * artifact id unless the app sets `stackName`), with the selector `cdk deploy` takes for it
 * (its construct path) and its template file in the assembly.
 */
export function findStackArtifact(assemblyDir: string, stackName: string): { selector: string; templateFile: string } {
  const manifest = JSON.parse(readFileSync(join(assemblyDir, 'manifest.json'), 'utf8')) as AssemblyManifest;
  const stacks = Object.entries(manifest.artifacts ?? {}).filter(([, artifact]) => artifact.type === 'aws:cloudformation:stack');
  const found = stacks.find(([id, artifact]) => (artifact.properties?.stackName ?? id) === stackName);
  if (found === undefined) {
    const names = stacks.map(([id, artifact]) => artifact.properties?.stackName ?? id);
    throw new EmulatorError(
      `the CDK app has no stack named '${stackName}' (it has: ${names.join(', ') || 'none'}); ` +
        "set 'stackName' in jobstack.config.ts to the stack holding your JobSystem",
    );
  }
  const [id, artifact] = found;
  return { selector: artifact.displayName ?? id, templateFile: artifact.properties?.templateFile ?? `${id}.template.json` };
}

/**
 * Arguments of a `cdk deploy` to the emulator: non-interactive, and `--method=direct`
 * because change-set deploys after a no-change deploy fail there.
 */
export function cdkDeployArgs(stackName: string, assemblyDir: string, extra: readonly string[] = []): string[] {
  return ['deploy', stackName, ...extra, ...EMULATOR_DEPLOY_FLAGS, '--output', assemblyDir];
}

/** The environment the CDK CLI and SDK clients need to talk to the emulator. */
export function emulatorEnv(endpoint: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_ENDPOINT_URL: endpoint,
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: EMULATOR_REGION,
    AWS_DEFAULT_REGION: EMULATOR_REGION,
    CDK_DEFAULT_ACCOUNT: EMULATOR_ACCOUNT,
    CDK_DEFAULT_REGION: EMULATOR_REGION,
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    // A profile or session token from the caller's shell must not leak into the emulator deploy.
    AWS_PROFILE: undefined,
    AWS_SESSION_TOKEN: undefined,
  };
}

/** Reads a stack's outputs as a record; throws when the stack does not exist. */
export async function readStackOutputs(cloudFormation: CloudFormationClient, stackName: string): Promise<Record<string, string>> {
  const { Stacks } = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
  const outputs: Record<string, string> = {};
  for (const output of Stacks?.[0]?.Outputs ?? []) {
    if (output.OutputKey !== undefined && output.OutputValue !== undefined) outputs[output.OutputKey] = output.OutputValue;
  }
  return outputs;
}

interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}
interface Template {
  readonly Resources?: Record<string, TemplateResource>;
}

export interface EmulatorClients {
  readonly cloudFormation: CloudFormationClient;
  readonly sqs: SQSClient;
  readonly dynamodb: DynamoDBClient;
}

function emulatorClients(endpoint: string): EmulatorClients {
  const config = {
    endpoint,
    region: EMULATOR_REGION,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  return {
    cloudFormation: new CloudFormationClient(config),
    sqs: new SQSClient(config),
    dynamodb: new DynamoDBClient(config),
  };
}

export interface FixUpOptions {
  readonly clients: EmulatorClients;
  readonly stackName: string;
  /** The synthesized template that was deployed. */
  readonly template: Template;
  readonly log: Log;
}

/**
 * Checks the deployed resources against the template and sets what the
 * emulator's CloudFormation dropped. Each fix-up is applied only when the check
 * shows the setting missing, and is logged as `emulator fix-up: ...`.
 *
 * - SQS `RedrivePolicy` (the crash safety net to the DLQ).
 * - DynamoDB `TimeToLiveSpecification` (MiniStack 1.5.33 ignores it on create;
 *   its TTL reaper only deletes expired items once TTL is enabled).
 *
 * @returns the fix-ups applied, as log lines
 */
export async function applyEmulatorFixUps({ clients, stackName, template, log }: FixUpOptions): Promise<string[]> {
  const physicalIds = new Map<string, string>();
  for await (const page of paginateListStackResources({ client: clients.cloudFormation }, { StackName: stackName })) {
    for (const resource of page.StackResourceSummaries ?? ([] as StackResourceSummary[])) {
      if (resource.LogicalResourceId && resource.PhysicalResourceId) {
        physicalIds.set(resource.LogicalResourceId, resource.PhysicalResourceId);
      }
    }
  }
  const physicalId = (logicalId: string): string => {
    const id = physicalIds.get(logicalId);
    if (id === undefined) throw new Error(`stack ${stackName} has no resource ${logicalId}`);
    return id;
  };

  const applied: string[] = [];
  const note = (line: string): void => {
    const message = `emulator fix-up: ${line}`;
    applied.push(message);
    log(message);
  };

  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    if (resource.Type === 'AWS::SQS::Queue' && resource.Properties?.RedrivePolicy !== undefined) {
      const queueUrl = physicalId(logicalId);
      const { Attributes } = await clients.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }),
      );
      if (Attributes?.RedrivePolicy) continue;
      const wanted = resource.Properties.RedrivePolicy as { deadLetterTargetArn: unknown; maxReceiveCount: number };
      const deadLetterTargetArn = await resolveQueueArn(clients.sqs, wanted.deadLetterTargetArn, physicalId);
      await clients.sqs.send(
        new SetQueueAttributesCommand({
          QueueUrl: queueUrl,
          Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn, maxReceiveCount: wanted.maxReceiveCount }) },
        }),
      );
      note(`set RedrivePolicy on ${queueName(queueUrl)} (CloudFormation on the emulator dropped it)`);
    }

    if (resource.Type === 'AWS::DynamoDB::Table') {
      const ttl = resource.Properties?.TimeToLiveSpecification as { AttributeName?: string; Enabled?: boolean } | undefined;
      if (ttl?.Enabled !== true || ttl.AttributeName === undefined) continue;
      const tableName = physicalId(logicalId);
      const { TimeToLiveDescription } = await clients.dynamodb.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
      const status = TimeToLiveDescription?.TimeToLiveStatus;
      if (status === 'ENABLED' || status === 'ENABLING') continue;
      await clients.dynamodb.send(
        new UpdateTimeToLiveCommand({
          TableName: tableName,
          TimeToLiveSpecification: { AttributeName: ttl.AttributeName, Enabled: true },
        }),
      );
      note(`enabled TTL on ${ttl.AttributeName} of table ${tableName} (CloudFormation on the emulator dropped it)`);
    }
  }
  return applied;
}

async function resolveQueueArn(sqs: SQSClient, value: unknown, physicalId: (logicalId: string) => string): Promise<string> {
  if (typeof value === 'string') return value;
  const getAtt = (value as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
  if (getAtt?.[1] !== 'Arn') throw new Error(`cannot resolve dead-letter queue ARN from ${JSON.stringify(value)}`);
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: physicalId(getAtt[0]), AttributeNames: ['QueueArn'] }),
  );
  if (!Attributes?.QueueArn) throw new Error(`queue ${getAtt[0]} has no QueueArn on the emulator`);
  return Attributes.QueueArn;
}

async function stackExists(cloudFormation: CloudFormationClient, stackName: string): Promise<boolean> {
  try {
    const { Stacks } = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    const status = Stacks?.[0]?.StackStatus;
    return status !== undefined && !status.startsWith('DELETE') && status !== 'ROLLBACK_COMPLETE';
  } catch (error) {
    if (/does not exist/.test((error as Error).message)) return false;
    throw error;
  }
}

function queueName(queueUrl: string): string {
  return queueUrl.slice(queueUrl.lastIndexOf('/') + 1);
}

/** The AWS SDK's multi-line "node >=22 from 2027" notice, printed by every CLI run on Node 20. */
const SDK_NODE_VERSION_WARNING =
  /NodeVersionSupportWarning|^versions published after the first week|^will require node >=22|^To continue receiving updates to AWS services|^and security updates please upgrade|^More information can be found at: https:\/\/a\.co\/|^\(Use `node --trace-warnings/;

/** Keeps the CDK CLI's output to what a person wants to see: progress of finished resources, results, errors. */
function compactCdkLog(log: Log): Log {
  return (line) => {
    if (/^npm warn/.test(line)) return;
    if (/_IN_PROGRESS\s+\|/.test(line)) return;
    if (/feature flags are not configured/.test(line)) return;
    if (SDK_NODE_VERSION_WARNING.test(line)) return;
    if (/^\s*\.\.\..*index\.mjs(\.map)?\s/.test(line)) return;
    log(`  cdk: ${line.trimEnd()}`);
  };
}
