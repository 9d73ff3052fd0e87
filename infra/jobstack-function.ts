import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** How a jobstack function is bundled: the lock file that fixes NodejsFunction's project root, and esbuild's settings. */
export interface FunctionBundling {
  /**
   * The project's lock file; its folder is the project root every entry must be under.
   * @default - NodejsFunction's own search from the current folder
   */
  readonly depsLockFilePath?: string;
  /** @default JOBSTACK_BUNDLING */
  readonly bundling?: BundlingOptions;
}

export interface JobstackFunctionProps extends FunctionBundling {
  /** Path of the handler module (exports `handler`). */
  readonly entry: string;
  readonly description: string;
  /** @default Duration.seconds(60) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  readonly environment: Readonly<Record<string, string>>;
  /** `service` field of the function's Powertools logs. */
  readonly serviceName: string;
}

/**
 * A jobstack Lambda function with the settings every one of them shares:
 * Node.js 22 on arm64, bundled locally with esbuild as minified ESM with the
 * AWS SDK inside (never Docker), X-Ray active tracing, a one-month log group,
 * and an own role that may write only to that log group.
 */
export class JobstackFunction extends Construct {
  public readonly function: NodejsFunction;
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: JobstackFunctionProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // An own role instead of AWSLambdaBasicExecutionRole: that managed policy may write
    // to every log group in the account; this one may write only to the function's own.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: props.description,
    });
    logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: props.entry,
      role: this.role,
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(60),
      logGroup,
      tracing: lambda.Tracing.ACTIVE,
      description: props.description,
      environment: { ...props.environment, POWERTOOLS_SERVICE_NAME: props.serviceName },
      ...(props.depsLockFilePath === undefined ? {} : { depsLockFilePath: props.depsLockFilePath }),
      bundling: withCodeSplitting(props.entry, props.bundling ?? JOBSTACK_BUNDLING),
    });

    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Active X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level ' +
        'permissions, so CDK grants them on *.',
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22.x is the runtime jobstack is pinned to and tested on (an LTS line supported by Lambda); moving ' +
        'to a newer runtime is a deliberate upgrade made together with the test suite, not implicitly.',
    });
  }
}

/** How every jobstack function is bundled; the benchmarks build with the same settings. */
export const JOBSTACK_BUNDLING: BundlingOptions = {
  format: OutputFormat.ESM,
  minify: true,
  sourceMap: true,
  // The AWS SDK's ES modules (its `module` field) rather than its CommonJS build: esbuild can leave out what is
  // not used, and code reached only through `import()` can go to a chunk of its own (withCodeSplitting).
  mainFields: ['module', 'main'],
  // Bundle the AWS SDK v3 too: a pinned, tree-shaken SDK starts faster than the
  // runtime's and does not change under us.
  externalModules: [],
  forceDockerBundling: false,
  // ESM output: some bundled CommonJS dependencies call `require` for Node built-ins.
  banner:
    "import { createRequire as __jobstackCreateRequire } from 'node:module'; const require = __jobstackCreateRequire(import.meta.url);",
};

/** Where esbuild puts the chunks of a split bundle, inside the asset. */
export const CHUNK_FOLDER = 'chunks';

/**
 * `bundling` plus a step that bundles `entry` again with esbuild's code splitting, into the same asset:
 * `index.mjs` and what it imports statically, plus one chunk per `import()` target (the S3 client for
 * large payloads, the Step Functions client for long jobs, the AWS SDK's rarely used credential
 * providers), which Node loads only when that code first runs. NodejsFunction writes one file
 * (`--outfile`, which esbuild's splitting cannot use), so its own bundle is replaced: the second
 * build writes `index.mjs` and its source map over it, with the same settings (the SDK still bundled),
 * and leaves the `node_modules` of `nodeModules` alone. Local bundling only, as every jobstack function.
 */
export function withCodeSplitting(entry: string, bundling: BundlingOptions): BundlingOptions {
  return {
    ...bundling,
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (_inputDir, outputDir) => [splitBuildCommand(entry, outputDir, bundling)],
    },
  };
}

/** The esbuild command line of the split build, run by NodejsFunction's local bundling after its own build. */
export function splitBuildCommand(entry: string, outputDir: string, bundling: BundlingOptions): string {
  const format = bundling.format ?? OutputFormat.ESM;
  if (format !== OutputFormat.ESM) throw new Error(`jobstack bundles its functions as ESM (given format '${format}')`);
  const args = [
    `index=${entry}`,
    '--bundle',
    '--splitting',
    '--format=esm',
    '--platform=node',
    `--target=${bundling.target ?? 'node22'}`,
    `--outdir=${outputDir}`,
    '--out-extension:.js=.mjs',
    `--chunk-names=${CHUNK_FOLDER}/[name]-[hash]`,
    '--log-level=warning',
    ...(bundling.minify ? ['--minify'] : []),
    ...(bundling.sourceMap ? ['--sourcemap'] : []),
    ...(bundling.keepNames ? ['--keep-names'] : []),
    ...(bundling.tsconfig ? [`--tsconfig=${bundling.tsconfig}`] : []),
    ...(bundling.mainFields ? [`--main-fields=${bundling.mainFields.join(',')}`] : []),
    ...(bundling.banner ? [`--banner:js=${bundling.banner}`] : []),
    ...(bundling.footer ? [`--footer:js=${bundling.footer}`] : []),
    ...[...(bundling.externalModules ?? []), ...(bundling.nodeModules ?? [])].map((name) => `--external:${name}`),
    ...Object.entries(bundling.define ?? {}).map(([name, value]) => `--define:${name}=${value}`),
    ...Object.entries(bundling.loader ?? {}).map(([extension, loader]) => `--loader:${extension}=${loader}`),
    ...Object.entries(bundling.esbuildArgs ?? {}).flatMap(([name, value]) =>
      value === false ? [] : [value === true ? name : `${name}=${value}`],
    ),
  ];
  return [esbuildBinary(), ...args].map(shellQuote).join(' ');
}

/** The esbuild executable of the esbuild package jobstack depends on (the one NodejsFunction finds as well). */
function esbuildBinary(): string {
  return join(dirname(createRequire(import.meta.url).resolve('esbuild')), '..', 'bin', 'esbuild');
}

/** Quotes one word for the shell NodejsFunction runs its local bundling in: `cmd /c` on Windows, else `bash -c`. */
function shellQuote(word: string): string {
  if (process.platform === 'win32') return `"${word.replaceAll('"', '\\"')}"`;
  return `'${word.replaceAll("'", "'\\''")}'`;
}
