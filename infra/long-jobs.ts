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
import { INVOCATION_BUDGET_ENV, MAX_STEPS_PER_EXECUTION_ENV } from '../functions/long-job/environment.js';
import { DEFAULT_INVOCATION_BUDGET_MS, DEFAULT_MAX_STEPS_PER_EXECUTION } from '../functions/long-job/step-runner.js';
import { expressStateMachineName, StepStatus } from '../functions/long-job/types.js';
import { FunctionEnv } from '../shared/config.js';
import { type DurationInput, parseDuration } from '../shared/duration.js';
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
  /**
   * How long one step Lambda invocation keeps starting steps: short steps
   * share an invocation, and with it the state machine's transitions (a Task
   * and a Choice per invocation). A step starts only if its whole stepTimeout
   * still fits in the invocation; the Lambda timeout grows by this much (up to
   * 15 minutes) so that it does. 0: one step per invocation.
   *
   * @default '60s'
   */
  readonly invocationBudget?: DurationInput;
}

/**
 * Long jobs on Step Functions: a Standard state machine that calls the step
 * Lambda in a loop until the job is done, and, when the plan has job types
 * declared to fit 5 minutes (`maxDuration`), an Express state machine with the
 * same loop for them. Each invocation runs as many steps as fit its time budget. The loop state is only the job id
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
  /**
   * The Express state machine of the job types declared to take at most 5
   * minutes; undefined when the plan has none. Its executions hand over to the
   * Standard one when a job overruns (ContinueAsNew starts a Standard execution).
   */
  public readonly expressStateMachine?: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: LongJobsProps) {
    super(scope, id);
    const maxSteps = props.maxStepsPerExecution ?? DEFAULT_MAX_STEPS_PER_EXECUTION;
    if (!Number.isInteger(maxSteps) || maxSteps < 1 || maxSteps > 2_500) {
      throw new Error(`maxStepsPerExecution must be 1..2500 to stay below 25,000 history events (given ${maxSteps})`);
    }
    if (props.plan.jobTypes.length === 0) throw new Error('plan must name at least one long job type (given none)');
    const budgetMs = props.invocationBudget === undefined ? DEFAULT_INVOCATION_BUDGET_MS : parseDuration(props.invocationBudget);
    if (budgetMs > MAX_LAMBDA_TIMEOUT.toMilliseconds()) {
      throw new Error(`invocationBudget must be 0..15m, a Lambda invocation's longest (given ${budgetMs} ms)`);
    }
    const stack = Stack.of(this);
    // The last step of an invocation may start just before the budget ends and run its whole stepTimeout.
    const stepTimeout = Duration.seconds(
      Math.min(
        MAX_LAMBDA_TIMEOUT.toSeconds(),
        Math.ceil((props.plan.longestStepTimeoutMs + budgetMs) / 1_000) + STEP_HEADROOM.toSeconds(),
      ),
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
        [INVOCATION_BUDGET_ENV]: String(budgetMs),
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

    this.stateMachine = this.loopStateMachine('', {
      stateMachineName,
      type: sfn.StateMachineType.STANDARD,
      stepTimeout,
      comment: 'jobstack long jobs: one step Lambda call per loop turn (as many steps as fit it), checkpoints on the job record',
    });
    if (props.plan.expressJobTypes.length > 0) {
      // Express (AWS Step Functions, "Choosing workflow type"): executions of at most 5 minutes, run at least once,
      // billed per request and per GB-second instead of per state transition; history only in CloudWatch Logs,
      // so logging is on at level ALL. What "at least once" means for the steps: see createStepRunner.
      this.expressStateMachine = this.loopStateMachine('Express', {
        stateMachineName: expressStateMachineName(stateMachineName),
        type: sfn.StateMachineType.EXPRESS,
        stepTimeout,
        comment: `jobstack long jobs declared to take at most 5 minutes (${props.plan.expressJobTypes.join(', ')}); overruns continue on ${stateMachineName}`,
      });
    }

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
    for (const machine of [this.stateMachine, ...(this.expressStateMachine ? [this.expressStateMachine] : [])]) {
      Validations.of(machine.role).acknowledge(
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
  }

  /**
   * The loop: Step (the step Lambda, which runs as many steps as fit its
   * invocation) → Route on the status it returns → Step again, Pause, continue
   * as new on the Standard machine, or an end. The Standard machine's states
   * are made in this construct's scope (their ids predate the Express machine);
   * the Express machine's in a child scope of `prefix`.
   */
  private loopStateMachine(
    prefix: '' | 'Express',
    options: { stateMachineName: string; type: sfn.StateMachineType; stepTimeout: Duration; comment: string },
  ): sfn.StateMachine {
    const scope: Construct = prefix === '' ? this : new Construct(this, prefix);
    const stack = Stack.of(this);
    const express = options.type === sfn.StateMachineType.EXPRESS;
    const loopState = {
      'jobId.$': '$.jobId',
      'startAttempt.$': '$.startAttempt',
      'generation.$': '$.generation',
      'executionSteps.$': '$.executionSteps',
    };
    const taskTimeout = sfn.Timeout.duration(options.stepTimeout.plus(Duration.seconds(30)));

    const recordFailure = new tasks.LambdaInvoke(scope, 'RecordFailure', {
      lambdaFunction: this.stepFunction,
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
      payload: sfn.TaskInput.fromObject({ action: 'record-failure', 'jobId.$': '$.jobId', 'error.$': '$.failure' }),
      resultPath: sfn.JsonPath.DISCARD,
      taskTimeout,
    })
      .addRetry({ errors: ['States.ALL'], interval: Duration.seconds(5), maxAttempts: 5, backoffRate: 2 })
      .next(new sfn.Fail(scope, 'StepFailed', { error: 'LongJobStepFailed', causePath: '$.failure.Cause' }));

    const step = new tasks.LambdaInvoke(scope, 'Step', {
      lambdaFunction: this.stepFunction,
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
      payload: sfn.TaskInput.fromObject({
        ...loopState,
        executionArn: sfn.JsonPath.stringAt('$$.Execution.Id'),
        // The Express deadline counts from the start; a handover from Express passes resumeAt in the input.
        executionStartedAt: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
        executionInput: sfn.JsonPath.objectAt('$$.Execution.Input'),
        workflow: express ? 'express' : 'standard',
      }),
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

    const pause = new sfn.Wait(scope, 'Pause', { time: sfn.WaitTime.secondsPath('$.waitSeconds') });
    pause.next(step);
    // Always onto the Standard machine: from Standard to keep the history short, from Express when the job overran.
    const continueAsNew = new sfn.CustomState(scope, 'ContinueAsNew', {
      stateJson: {
        Type: 'Task',
        Resource: `arn:${stack.partition}:states:::states:startExecution`,
        Parameters: {
          StateMachineArn: this.stateMachineArn,
          'Name.$': '$.nextExecutionName',
          Input: {
            ...loopState,
            'resumeAt.$': '$.resumeAt',
            'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$': '$$.Execution.Id',
          },
        },
        ResultPath: null,
        Retry: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 2, MaxAttempts: 5, BackoffRate: 2 }],
      },
    }).next(new sfn.Succeed(scope, 'ContinuedAsNew'));

    const status = (value: string) => sfn.Condition.stringEquals('$.status', value);
    const route = new sfn.Choice(scope, 'Route')
      .when(status(StepStatus.continue), step)
      .when(sfn.Condition.or(status(StepStatus.wait), status(StepStatus.retry)), pause)
      .when(status(StepStatus.continueAsNew), continueAsNew)
      .when(status(StepStatus.succeeded), new sfn.Succeed(scope, 'Succeeded'))
      .when(status(StepStatus.cancelled), new sfn.Succeed(scope, 'Cancelled'))
      .when(status(StepStatus.finished), new sfn.Succeed(scope, 'AlreadyFinished'))
      .when(
        status(StepStatus.dead),
        new sfn.Fail(scope, 'JobDead', { error: 'JobDead', cause: 'the long job failed for good; see its record' }),
      )
      .otherwise(
        new sfn.Fail(scope, 'UnknownStatus', { error: 'UnknownStepStatus', cause: 'the step returned an unknown status' }),
      );
    step.next(route);

    const stateMachineLogs = new logs.LogGroup(scope, 'StateMachineLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const stateMachine = new sfn.StateMachine(scope, 'StateMachine', {
      stateMachineName: options.stateMachineName,
      stateMachineType: options.type,
      definitionBody: sfn.DefinitionBody.fromChainable(step),
      tracingEnabled: true,
      // Every event, without execution data (payloads stay out of the logs). For Express the logs are the only history.
      logs: { destination: stateMachineLogs, level: sfn.LogLevel.ALL, includeExecutionData: false },
      comment: options.comment,
    });
    // Continue-as-new starts an execution of the Standard state machine.
    stateMachine.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [this.stateMachineArn] }),
    );
    return stateMachine;
  }

  /**
   * Lets a worker hand long jobs to this state machine: sets
   * `JOBSTACK_LONG_JOB_STATE_MACHINE_ARN` and grants `states:StartExecution`.
   */
  public connectWorker(worker: lambda.Function): void {
    worker.addEnvironment(FunctionEnv.longJobStateMachineArn, this.stateMachineArn);
    // The worker starts Express jobs on the Express machine, whose ARN it derives from this one (expressStateMachineArn).
    const resourceArns = [this.stateMachineArn, ...(this.expressStateMachine ? [this.expressStateMachine.stateMachineArn] : [])];
    iam.Grant.addToPrincipal({ grantee: worker, actions: ['states:StartExecution'], resourceArns });
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
