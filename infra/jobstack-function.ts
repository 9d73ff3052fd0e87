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
      bundling: props.bundling ?? JOBSTACK_BUNDLING,
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
  // Bundle the AWS SDK v3 too: a pinned, tree-shaken SDK starts faster than the
  // runtime's and does not change under us.
  externalModules: [],
  forceDockerBundling: false,
  // ESM output: some bundled CommonJS dependencies call `require` for Node built-ins.
  banner:
    "import { createRequire as __jobstackCreateRequire } from 'node:module'; const require = __jobstackCreateRequire(import.meta.url);",
};
