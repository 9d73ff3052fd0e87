import { ArnFormat, type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { MAX_STEPS_PER_EXECUTION_ENV } from '../functions/long-job/environment.js';
import { DEFAULT_MAX_STEPS_PER_EXECUTION } from '../functions/long-job/step-runner.js';
import { StepStatus } from '../functions/long-job/types.js';
import { FunctionEnv } from '../shared/config.js';
import type { LongJobPlan } from '../shared/long-jobs/define-long-job.js';
import { type FunctionBundling, JOBSTACK_BUNDLING, withCodeSplitting } from './jobstack-function.js';

const MAX_LAMBDA_TIMEOUT = Duration.minutes(15);
/** Step Lambda timeout over the longest step: the step ends at its own deadline, then records its outcome. */
const STEP_HEADROOM = Duration.seconds(60);
/** Lambda errors that mean "the invoke itself failed" and deserve a quick retry. */
const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.ClientExecutionTimeoutException',
];

/** Properties of a {@link LongJobs}. */
export interface LongJobsProps extends FunctionBundling {
  /** The registry's long jobs (`planLongJobs(registry)`). */
  readonly plan: LongJobPlan;
  /**
   * Path of the step function's entry (a module exporting `handler`, made with `createLongJobStepHandler`
   * over a registry holding the plan's job types), bundled with local esbuild.
   */
  readonly stepEntry: string;
  /** The job-status table the steps read and write. */
  readonly jobsTable: dynamodb.ITable;
  /**
   * The bucket of payloads over the inline limit: the steps read them (`s3:GetObject` under `payloadPrefix`).
   * @default - no bucket: a long job whose payload is in S3 cannot run
   */
  readonly payloadBucket?: s3.IBucket;
  /** Key prefix of the payload objects in `payloadBucket`, e.g. `payloads/`. @default 'payloads/' */
  readonly payloadPrefix?: string;
  /** Days a finished record is kept (TTL). */
  readonly recordRetentionDays: number;
  /**
   * Step invocations per execution before the job continues in a new
   * execution, to stay below Step Functions' 25,000 history events (about 9 a step).
   *
   * @default 1000
   */
  readonly maxStepsPerExecution?: number;
}

/**
 * Long jobs on Step Functions: a Standard state machine that calls the step
 * Lambda in a loop until the job is done. The loop state is only the job id
 * and counters; checkpoints live on the job record, so the 256 KiB state
 * limit never applies and `get(id)` shows progress. The step returns a status
 * that routes the loop (next step, wait, retry after backoff, continue as a new
 * execution, end); failures of the invoke itself are retried by the state
 * machine, and if they persist the job is recorded `dead` before it fails.
 *
 * @example
 * const longJobs = new LongJobs(this, 'LongJobs', { plan, stepEntry, jobsTable, recordRetentionDays: 30 });
 * longJobs.connectWorker(worker);
 */
export class LongJobs extends Construct {
  public readonly stepFunction: NodejsFunction;
  public readonly stateMachine: sfn.StateMachine;
  /** The state machine's ARN, known before it exists (its own continue-as-new needs it). */
  public readonly stateMachineArn: string;

  constructor(scope: Construct, id: string, props: LongJobsProps) {
    super(scope, id);
    const maxSteps = props.maxStepsPerExecution ?? DEFAULT_MAX_STEPS_PER_EXECUTION;
    if (!Number.isInteger(maxSteps) || maxSteps < 1 || maxSteps > 2_500) {
      throw new Error(`maxStepsPerExecution must be 1..2500 to stay below 25,000 history events (given ${maxSteps})`);
    }
    if (props.plan.jobTypes.length === 0) throw new Error('plan must name at least one long job type (given none)');
    const stack = Stack.of(this);
    const stepTimeout = Duration.seconds(
      Math.min(MAX_LAMBDA_TIMEOUT.toSeconds(), Math.ceil(props.plan.longestStepTimeoutMs / 1_000) + STEP_HEADROOM.toSeconds()),
    );

    const logGroup = new logs.LogGroup(this, 'StepLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, 'StepRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'jobstack long-job step function',
    });
    logGroup.grantWrite(role);
    this.stepFunction = new NodejsFunction(this, 'StepFunction', {
      entry: props.stepEntry,
      role,
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 512,
      timeout: stepTimeout,
      logGroup,
      // Like every jobstack function (JobstackFunction): the README promises every function is traced.
      tracing: lambda.Tracing.ACTIVE,
      description: `jobstack long-job steps (${props.plan.jobTypes.join(', ')})`,
      environment: {
        [FunctionEnv.jobsTable]: props.jobsTable.tableName,
        [FunctionEnv.recordRetentionDays]: String(props.recordRetentionDays),
        [MAX_STEPS_PER_EXECUTION_ENV]: String(maxSteps),
        // The step handler checks at cold start that its registry has a step for each of these.
        [FunctionEnv.jobTypes]: props.plan.jobTypes.join(','),
        POWERTOOLS_SERVICE_NAME: 'jobstack-long-job',
      },
      ...(props.depsLockFilePath === undefined ? {} : { depsLockFilePath: props.depsLockFilePath }),
      bundling: withCodeSplitting(props.stepEntry, props.bundling ?? JOBSTACK_BUNDLING),
    });
    // The record of the job only: no index access, so no index wildcard.
    role.addToPolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], resources: [props.jobsTable.tableArn] }),
    );
    if (props.payloadBucket) {
      // Payloads over the inline limit travel by reference; each step reads its job's object, as the worker does.
      const payloadObjects = props.payloadBucket.arnForObjects(`${props.payloadPrefix ?? 'payloads/'}*`);
      this.stepFunction.addEnvironment(FunctionEnv.payloadBucket, props.payloadBucket.bucketName);
      role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [payloadObjects] }));
      const bucketLogicalId = stack.getLogicalId(props.payloadBucket.node.defaultChild as CfnElement);
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${bucketLogicalId}.Arn>/${props.payloadPrefix ?? 'payloads/'}*]`,
        reason: 'Payload objects are named by job id under one prefix; the grant covers exactly that prefix of this bucket.',
      });
    }

    // A fixed name lets the state machine start its own continuation without a dependency cycle.
    const stateMachineName = `${stack.stackName}-long-jobs`;
    this.stateMachineArn = stack.formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: stateMachineName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    const loopState = {
      'jobId.$': '$.jobId',
      'startAttempt.$': '$.startAttempt',
      'generation.$': '$.generation',
      'executionSteps.$': '$.executionSteps',
    };
    const taskTimeout = sfn.Timeout.duration(stepTimeout.plus(Duration.seconds(30)));

    const recordFailure = new tasks.LambdaInvoke(this, 'RecordFailure', {
      lambdaFunction: this.stepFunction,
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
      payload: sfn.TaskInput.fromObject({ action: 'record-failure', 'jobId.$': '$.jobId', 'error.$': '$.failure' }),
      resultPath: sfn.JsonPath.DISCARD,
      taskTimeout,
    })
      .addRetry({ errors: ['States.ALL'], interval: Duration.seconds(5), maxAttempts: 5, backoffRate: 2 })
      .next(new sfn.Fail(this, 'StepFailed', { error: 'LongJobStepFailed', causePath: '$.failure.Cause' }));

    const step = new tasks.LambdaInvoke(this, 'Step', {
      lambdaFunction: this.stepFunction,
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
      payload: sfn.TaskInput.fromObject({ ...loopState, executionArn: sfn.JsonPath.stringAt('$$.Execution.Id') }),
      taskTimeout,
    })
      // The invoke failed (throttled, service error): retry soon.
      .addRetry({
        errors: LAMBDA_SERVICE_ERRORS,
        interval: Duration.seconds(2),
        maxAttempts: 6,
        backoffRate: 2,
        jitterStrategy: sfn.JitterType.FULL,
      })
      // The step crashed, timed out or could not reach DynamoDB. Job code errors never land here: they come back as a status.
      .addRetry({
        errors: ['States.ALL'],
        interval: Duration.seconds(5),
        maxAttempts: 4,
        backoffRate: 2,
        jitterStrategy: sfn.JitterType.FULL,
      })
      .addCatch(recordFailure, { errors: ['States.ALL'], resultPath: '$.failure' });

    const pause = new sfn.Wait(this, 'Pause', { time: sfn.WaitTime.secondsPath('$.waitSeconds') });
    pause.next(step);
    const continueAsNew = new sfn.CustomState(this, 'ContinueAsNew', {
      stateJson: {
        Type: 'Task',
        Resource: `arn:${stack.partition}:states:::states:startExecution`,
        Parameters: {
          StateMachineArn: this.stateMachineArn,
          'Name.$': '$.nextExecutionName',
          Input: { ...loopState, 'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$': '$$.Execution.Id' },
        },
        ResultPath: null,
        Retry: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 2, MaxAttempts: 5, BackoffRate: 2 }],
      },
    }).next(new sfn.Succeed(this, 'ContinuedAsNew'));

    const status = (value: string) => sfn.Condition.stringEquals('$.status', value);
    const route = new sfn.Choice(this, 'Route')
      .when(status(StepStatus.continue), step)
      .when(sfn.Condition.or(status(StepStatus.wait), status(StepStatus.retry)), pause)
      .when(status(StepStatus.continueAsNew), continueAsNew)
      .when(status(StepStatus.succeeded), new sfn.Succeed(this, 'Succeeded'))
      .when(status(StepStatus.cancelled), new sfn.Succeed(this, 'Cancelled'))
      .when(status(StepStatus.finished), new sfn.Succeed(this, 'AlreadyFinished'))
      .when(
        status(StepStatus.dead),
        new sfn.Fail(this, 'JobDead', { error: 'JobDead', cause: 'the long job failed for good; see its record' }),
      )
      .otherwise(
        new sfn.Fail(this, 'UnknownStatus', { error: 'UnknownStepStatus', cause: 'the step returned an unknown status' }),
      );
    step.next(route);

    const stateMachineLogs = new logs.LogGroup(this, 'StateMachineLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(step),
      tracingEnabled: true,
      // Every event, without execution data (payloads stay out of the logs).
      logs: { destination: stateMachineLogs, level: sfn.LogLevel.ALL, includeExecutionData: false },
      comment: 'jobstack long jobs: one step Lambda call per loop turn, checkpoints on the job record',
    });
    // Continue-as-new starts an execution of this same state machine.
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [this.stateMachineArn] }),
    );

    Validations.of(this.stepFunction).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Node.js 22.x is the runtime jobstack is pinned to and tested on; upgrading is a deliberate change with the tests.',
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Active X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions, so CDK grants them on *.',
    });
    const stepLogicalId = stack.getLogicalId(this.stepFunction.node.defaultChild as CfnElement);
    Validations.of(this.stateMachine.role).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::<${stepLogicalId}.Arn>:*]`,
        reason: 'CDK grants lambda:InvokeFunction on the step function and its versions (function:*); it is the only function.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'X-Ray tracing and CloudWatch Logs delivery of a state machine support no resource-level permissions.',
      },
    );
  }

  /**
   * Lets a worker hand long jobs to this state machine: sets
   * `JOBSTACK_LONG_JOB_STATE_MACHINE_ARN` and grants `states:StartExecution`.
   */
  public connectWorker(worker: lambda.Function): void {
    worker.addEnvironment(FunctionEnv.longJobStateMachineArn, this.stateMachineArn);
    iam.Grant.addToPrincipal({ grantee: worker, actions: ['states:StartExecution'], resourceArns: [this.stateMachineArn] });
  }

  /**
   * Lets `grantee` cancel long jobs (the client SDK's `cancel`).
   *
   * Actions: `states:StopExecution` on this state machine's executions.
   */
  public grantCancel(grantee: iam.IGrantable): void {
    const stack = Stack.of(this);
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['states:StopExecution'],
      resourceArns: [
        stack.formatArn({
          service: 'states',
          resource: 'execution',
          resourceName: `${this.stateMachine.stateMachineName}:*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
    });
  }
}
