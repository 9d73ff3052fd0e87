import { Annotations, type CfnElement, CfnOutput, Duration, Fn, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { type BundlingOptions, NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DeadLetterEnv } from '../functions/dead-letter/environment.js';
import { SweeperEnv } from '../functions/sweeper/environment.js';
import type { JobstackConfig } from '../shared/client/stack-config.js';
import {
  ATTENTION_INDEX_NAME,
  ClientEnv,
  FunctionEnv,
  priorityLevelOutputSuffix,
  queueOutputSuffix,
  StackOutput,
} from '../shared/config.js';
import { DASHBOARD_NAME_OUTPUT } from '../shared/dashboard-metrics/dashboard-name.js';
import type { DurationInput } from '../shared/duration.js';
import { ConfigurationError } from '../shared/errors.js';
import { type LifecycleEventsOption, resolveLifecycleEvents } from '../shared/events/lifecycle-events.js';
import {
  MIN_LEVEL_CONCURRENCY,
  minConcurrencyFor,
  orderedLevels,
  type PriorityLevels,
  priorityLevelsProblem,
  splitConcurrency,
} from '../shared/flow/priorities.js';
import { type JobRegistry, planQueues, type QueuePlan } from '../shared/job-definition.js';
import { planLongJobs } from '../shared/long-jobs/define-long-job.js';
import { FIFO_MAX_BATCH_SIZE } from '../shared/ordering/ordering.js';
import { pauseItemId } from '../shared/pause/pause-store.js';
import { PAYLOAD_KEY_PREFIX } from '../shared/payload-store.js';
import { planSchedules } from '../shared/scheduling/declared.js';
import { ENQUEUE_KEY_PREFIX, STEP_KEY_PREFIX } from '../shared/store/idempotency-store.js';
import { acknowledgeEnqueueTimeGrants, EventIntake, type EventIntakeOptions, planTriggers } from './event-intake.js';
import { JobFlows } from './flows.js';
import {
  assertHandlersModule,
  type EntryLocation,
  locateEntries,
  type OwnEntryKind,
  ownEntrySource,
  type RegistryEntryKind,
  registryEntrySource,
  writeEntry,
} from './generated-entries.js';
import { type FunctionBundling, JOBSTACK_BUNDLING, JobstackFunction, withCodeSplitting } from './jobstack-function.js';
import { LifecycleEvents } from './lifecycle-events.js';
import { LongJobs } from './long-jobs.js';
import { JobMonitoring, type JobSystemMonitoringOptions } from './monitoring.js';
import { JobScheduling } from './scheduling.js';
import { WebDashboardApi, type WebDashboardOptions } from './web-dashboard.js';

/** Output keys a `JobSystem` creates besides the `StackOutput` ones the client reads: for people and scripts. */
export const JobSystemOutput = {
  /** Prefix of `WorkerFunctionNameDefault`, ...: the worker function of each queue. */
  workerFunctionNamePrefix: 'WorkerFunctionName',
  /** The CloudWatch dashboard's console URL. */
  dashboardUrl: 'DashboardUrl',
  /** The CloudWatch dashboard's name: `jobstack metrics` and the web dashboard read its widgets with GetDashboard. */
  dashboardName: DASHBOARD_NAME_OUTPUT,
  /** The SNS topic alarms notify. */
  alarmTopicArn: 'AlarmTopicArn',
  /** The dashboard API's Function URL (only with `webDashboard`). */
  dashboardApiUrl: 'DashboardApiUrl',
} as const;

/** Stacks whose `StackOutput` outputs a `JobSystem` already created (their logical ids are fixed), by its path. */
const OUTPUT_OWNERS = new WeakMap<Stack, string>();

/** SQS's largest message (1 MiB); set explicitly so the limit the SDK checks against is the one deployed. */
export const MAX_MESSAGE_SIZE_BYTES = 1_048_576;
/** Lambda's hard limit on one invocation. */
const MAX_WORKER_TIMEOUT = Duration.minutes(15);
/** Headroom above the longest job's timeout for the worker's own bookkeeping (status writes, DLQ moves). */
const WORKER_TIMEOUT_HEADROOM = Duration.seconds(30);
/** AWS's rule for SQS event sources: visibility timeout at least 6 × the function timeout. */
const VISIBILITY_TIMEOUT_FACTOR = 6;
const MAX_VISIBILITY_TIMEOUT = Duration.hours(12);
const MESSAGE_RETENTION = Duration.days(14);
/** Key prefix of payloads in the payload bucket (see shared/payload-store.ts). */
const PAYLOAD_PREFIX = PAYLOAD_KEY_PREFIX;
/** SQS allows a redrive `maxReceiveCount` of 1..1000. */
const MAX_RECEIVE_COUNT_LIMIT = 1000;
/** Extra receives over `maxAttempts` before SQS itself dead-letters a message (crash safety net only). */
const RECEIVE_COUNT_HEADROOM = 2;
const QUEUE_NAME_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;
/** The event source's `MaximumConcurrency` when none is set. */
const DEFAULT_MAX_CONCURRENCY = 10;
/** AWS's limits for FIFO event sources (batch size at most 10, no batching window). */
const FIFO_EVENT_SOURCE_DOCS = 'https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-parameters.html';

/** Bundling settings of a {@link JobSystem}, merged over jobstack's own (`JOBSTACK_BUNDLING`). */
export type JobSystemBundlingOptions = Pick<
  BundlingOptions,
  'define' | 'esbuildArgs' | 'externalModules' | 'nodeModules' | 'loader' | 'keepNames' | 'tsconfig' | 'minify' | 'sourceMap'
>;

/** Properties of a {@link JobSystem}. */
export interface JobSystemProps {
  /**
   * Your job types: `defineRegistry(...)` of job contracts (or full definitions). The construct plans
   * from it one SQS queue, dead-letter queue and worker per logical queue, the recurring schedules the
   * job types declare, and, when there are long jobs, the long-job state machine and step function.
   * Contracts suffice: no handler code is loaded at synth time.
   */
  readonly registry: JobRegistry;

  /**
   * Absolute path of your module whose default export, or else its export named `registry`, is the
   * handler registry (every job type of `registry` with its handler or step). The worker, the long-job
   * step function and the dashboard API bundle it (with local esbuild) through a small generated entry.
   *
   * @example fileURLToPath(new URL('../src/jobs/handlers.ts', import.meta.url))
   */
  readonly handlers: string;

  /**
   * Timeout of every worker function.
   *
   * @default - per queue: the longest job timeout on that queue + 30 seconds, capped at 15 minutes
   */
  readonly workerTimeout?: Duration;

  /**
   * Largest number of messages the worker gets in one invocation (1..10000;
   * above 10 needs `maxBatchingWindow`).
   *
   * @default 10
   */
  readonly batchSize?: number;

  /**
   * Most concurrent worker invocations the event source starts per queue (2..1000).
   *
   * @default 10
   */
  readonly maxConcurrency?: number;

  /**
   * How long the event source gathers messages before invoking the worker (up to 5 minutes).
   *
   * @default - no batching window: the worker is invoked as soon as messages arrive
   */
  readonly maxBatchingWindow?: Duration;

  /**
   * Settings of single logical queues, by queue name, merged over the construct-wide `batchSize`,
   * `maxConcurrency`, `maxBatchingWindow`, `workerTimeout` and `visibilityTimeout` (a setting a queue leaves
   * out is the construct-wide one). Every name must be a queue the registry's job types use.
   *
   * @example { 'media-reports': { maxConcurrency: 2, workerTimeout: Duration.minutes(10) } }
   * @default - every queue uses the construct-wide settings
   */
  readonly queues?: { readonly [queueName: string]: QueueSettings };

  /**
   * How long a job record is kept after it finishes before DynamoDB TTL
   * deletes it. Whole days.
   *
   * @default Duration.days(30)
   */
  readonly recordRetention?: Duration;

  /**
   * Visibility timeout of every queue; must be at least 6 × the worker
   * timeout (AWS's rule for SQS event sources) and at most 12 hours.
   *
   * @default - per queue: 6 × that queue's worker timeout
   */
  readonly visibilityTimeout?: Duration;

  /**
   * What happens to the tables when they leave the stack. Queues are always
   * destroyed (their messages are transient; the job records are the truth).
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Alarms (to an SNS topic, optionally emailed) and the CloudWatch dashboard:
   * tune or switch off single alarms, subscribe an email, name the dashboard.
   *
   * @default - every alarm on with its default threshold, no email subscription
   */
  readonly monitoring?: JobSystemMonitoringOptions;

  /**
   * Deploy the web dashboard's JSON API (list, inspect, retry, cancel, redrive) as a Lambda function
   * with a Function URL. The URL always requires IAM auth (SigV4); grant callers with
   * `webDashboard.grantInvokeUrl(role)`.
   *
   * @default - not deployed (`jobstack dashboard` serves the same API locally with your credentials)
   */
  readonly webDashboard?: WebDashboardOptions;

  /**
   * Create the stack outputs the CLI and `connectJobClient` read (keys in `StackOutput`, plus
   * `WorkerFunctionName<Queue>`, `DashboardUrl`, `AlarmTopicArn` and `DashboardApiUrl`). Their logical ids
   * are fixed, so they are found in whatever stack holds the construct; hence one `JobSystem` with outputs
   * per stack. Functions bound with `bindClient` need no outputs.
   *
   * @default true
   */
  readonly outputs?: boolean;

  /**
   * Bundling settings merged over jobstack's (minified ESM with a source map, the AWS SDK bundled,
   * local esbuild): e.g. `externalModules` for a dependency a layer provides, `nodeModules` for a native
   * one, `define` for build-time constants. Applies to every function of the construct.
   *
   * @default - jobstack's bundling as is
   */
  readonly bundling?: JobSystemBundlingOptions;

  /**
   * Step invocations per long-job execution before it continues as a new one.
   *
   * @default 1000
   */
  readonly maxStepsPerExecution?: number;

  /**
   * How long one long-job step invocation keeps starting steps, so short steps
   * share it and its state transitions (see `LongJobsProps.invocationBudget`).
   *
   * @default '60s'
   */
  readonly longJobInvocationBudget?: DurationInput;

  /**
   * The EventBridge bus jobstack publishes lifecycle events to and takes job-starting events
   * (`jobstack.enqueue`, job triggers) from: `'default'` (the account's default bus), `'create'` (a bus
   * the construct creates for this job system), or a bus you give.
   *
   * @default 'default'
   */
  readonly eventBus?: events.IEventBus | 'default' | 'create';

  /**
   * Publish job lifecycle events to `eventBus` (source `jobstack`, detail-types `jobstack.job.succeeded`,
   * `jobstack.job.dead`, `jobstack.job.cancelled`; with `include`, also `jobstack.job.started` and
   * `jobstack.job.retrying`). A publisher function reads them from the job table's stream, off the
   * worker's path; delivery is at least once, deduplicate by `jobId` + `state` + `attempts`.
   *
   * @default false
   */
  readonly lifecycleEvents?: LifecycleEventsOption;

  /**
   * Jobs started by events on `eventBus`: `jobstack.enqueue` events (on by default) and the job types
   * with a `trigger`. See README, "Enqueue from any language" and "Jobs started by events".
   *
   * @default - `jobstack.enqueue` events from any source, and every trigger
   */
  readonly eventIntake?: EventIntakeOptions;
}

export type { JobSystemMonitoringOptions } from './monitoring.js';

/**
 * Settings of one logical queue (`JobSystemProps.queues`); each one left out is the construct-wide setting
 * of the same name. Validated as the construct-wide ones are, with the queue named in the error.
 */
export interface QueueSettings {
  /**
   * Largest number of messages the queue's worker gets in one invocation (1..10000; above 10 needs a
   * `maxBatchingWindow`, this queue's or the construct-wide one). A FIFO queue (one carrying job types with
   * `ordering`) takes 1..10 and no batching window (`Duration.seconds(0)` here leaves a construct-wide one out).
   *
   * @default - the construct-wide `batchSize`
   */
  readonly batchSize?: number;

  /**
   * Most concurrent worker invocations the queue's event source starts (2..1000).
   *
   * @default - the construct-wide `maxConcurrency`
   */
  readonly maxConcurrency?: number;

  /**
   * How long the queue's event source gathers messages before invoking the worker (up to 5 minutes).
   *
   * @default - the construct-wide `maxBatchingWindow`
   */
  readonly maxBatchingWindow?: Duration;

  /**
   * Timeout of the queue's worker function (1 second..15 minutes).
   *
   * @default - the construct-wide `workerTimeout`, else the longest job timeout on the queue + 30 seconds
   */
  readonly workerTimeout?: Duration;

  /**
   * Visibility timeout of the queue; at least 6 × its worker timeout and at most 12 hours.
   *
   * @default - the construct-wide `visibilityTimeout`, else 6 × the queue's worker timeout
   */
  readonly visibilityTimeout?: Duration;

  /**
   * Priority levels of the queue: level name → weight (2..5 levels, names like queue names, weights positive
   * integers). The construct creates one SQS queue per level (sharing the queue's dead-letter and undeliverable
   * queues and its worker) and one event source per level, and splits the queue's `maxConcurrency` between them
   * by weight, each level getting at least 2 (the least `MaximumConcurrency` AWS allows), so the lowest level is
   * never starved. A job goes to the level `enqueue`'s `priority` names, else its contract's `priority`, else the
   * lowest level (the queue's own SQS queue). `maxConcurrency` must be at least 2 × the number of levels.
   * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html#events-sqs-max-concurrency
   *
   * @example { high: 6, normal: 3, low: 1 }
   * @default - no levels: one SQS queue
   */
  readonly priorities?: PriorityLevels;
}

/** What the construct creates for one logical queue. */
export interface JobQueueResources {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  /**
   * Where SQS moves a message received `maxReceiveCount` times without being
   * deleted (its worker kept timing out or crashing). Its consumer marks the job
   * dead and forwards the message to `deadLetterQueue`.
   */
  readonly undeliverableQueue: sqs.Queue;
  /** The queue's visibility timeout (≥ 6 × the worker timeout). */
  readonly visibilityTimeout: Duration;
  /**
   * With `priorities`: every level's SQS queue by level name, highest first; the lowest level's is `queue`.
   * Absent on a queue without levels.
   */
  readonly levels?: ReadonlyMap<string, sqs.Queue>;
  /** The worker's `MaximumConcurrency` per level (with `priorities`), highest level first. */
  readonly levelConcurrency?: ReadonlyMap<string, number>;
  readonly worker: NodejsFunction;
  /**
   * The event source mappings that feed the queue to `worker`, one per priority level (highest first; one on a
   * queue without levels): the ones `pause` disables and `resume` enables.
   */
  readonly workerEventSources: readonly SqsEventSource[];
  readonly deadLetterHandler: NodejsFunction;
}

/**
 * A serverless job system: per logical queue an SQS queue, its dead-letter
 * queue and a Lambda worker; a job-status table and an idempotency table
 * shared by all queues; the stack outputs the CLI and the client read.
 *
 * Secure defaults: SSE on every queue, SSL-only queue policies, point-in-time
 * recovery on every table, partial batch responses on every event source.
 *
 * @example
 * import contracts from './jobs/contracts.js';
 *
 * const jobs = new JobSystem(this, 'Jobs', {
 *   registry: contracts,
 *   handlers: fileURLToPath(new URL('./jobs/handlers.ts', import.meta.url)),
 * });
 * jobs.bindClient(apiFunction);
 */
export class JobSystem extends Construct {
  /** Job records: one item per job, the single source of truth for its state. */
  public readonly jobsTable: dynamodb.Table;
  /** Enqueue idempotency keys → job ids, expiring with their window. */
  public readonly idempotencyTable: dynamodb.Table;
  /** Payloads over the client's inline limit (200 KB by default), kept as long as the job records. */
  public readonly payloadBucket: s3.Bucket;
  /** Queue, dead-letter queue and worker by logical queue name. */
  public readonly queues: ReadonlyMap<string, JobQueueResources>;
  /** Alarms, their SNS topic (`monitoring.alarmTopic`) and the CloudWatch dashboard. */
  public readonly monitoring: JobMonitoring;
  /** The deployed dashboard API (only with `webDashboard: { enabled: true }`). */
  public readonly webDashboard?: WebDashboardApi;
  /** The schedule group, Scheduler role and dead-letter queue, and the recurring schedules. */
  public readonly scheduling: JobScheduling;
  /** The long-job state machine and step function (only when the registry has long jobs). */
  public readonly longJobs?: LongJobs;
  /** The stuck-job sweeper, run every 5 minutes. */
  public readonly sweeper: NodejsFunction;
  /** The flow coordinator on the job table's stream: follow-ups, children, batches (infra/flows.ts). */
  public readonly flows: JobFlows;
  /** The bus of lifecycle events and job-starting events (`JobSystemProps.eventBus`). */
  public readonly eventBus: events.IEventBus;
  /** The lifecycle-event publisher and its on-failure queue (only with `lifecycleEvents`). */
  public readonly lifecycleEvents?: LifecycleEvents;
  /** The rules, queue and function that enqueue jobs from events (absent with `enqueueEvents: false` and no triggers). */
  public readonly eventIntake?: EventIntake;

  private readonly handlersModule: string;
  private readonly entryLocation: EntryLocation;
  private readonly functionBundling: FunctionBundling;

  constructor(scope: Construct, id: string, props: JobSystemProps) {
    super(scope, id);
    const queuePlans = planQueues(props.registry);
    validateProps(props, queuePlans);
    const lifecycleEvents = resolveLifecycleEvents(props.lifecycleEvents);
    this.handlersModule = props.handlers;
    this.entryLocation = locateEntries();
    this.functionBundling = {
      depsLockFilePath: this.entryLocation.depsLockFilePath,
      bundling: mergeBundling(props.bundling),
    };

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const recordRetention = props.recordRetention ?? Duration.days(30);
    this.eventBus = resolveEventBus(this, props.eventBus);

    this.jobsTable = jobstackTable(this, 'JobsTable', {
      partitionKey: 'id',
      timeToLive: true,
      removalPolicy,
      // Lifecycle events and flows (batches, waiting parents) react to state changes
      // from the stream, off the worker's path: a plain job keeps its write count.
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    });
    // Sparse on purpose: only jobs in `scheduled`, `retrying`, `dead` or `cancelled`
    // carry `attentionState`, and DynamoDB writes an index entry only for items that
    // have the index key. A plain queued → running → succeeded job never has it, so
    // the common path costs no index writes at all (each would be a second write
    // unit per transition); operators still list the jobs that need them by state.
    this.jobsTable.addGlobalSecondaryIndex({
      indexName: ATTENTION_INDEX_NAME,
      partitionKey: { name: 'attentionState', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'updatedAt', type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });

    this.idempotencyTable = jobstackTable(this, 'IdempotencyTable', { partitionKey: 'id', timeToLive: true, removalPolicy });

    this.payloadBucket = new s3.Bucket(this, 'PayloadBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // A payload is needed as long as its record may be retried: the record's retention plus a day.
      lifecycleRules: [{ expiration: Duration.days(Math.ceil(recordRetention.toDays({ integral: false })) + 1) }],
      removalPolicy,
    });
    Validations.of(this.payloadBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Objects are written and read only by jobstack itself (enqueue and the worker) and expire with the job ' +
        'records; access logging would add a second bucket and cost per request without an auditing need.',
    });

    const queues = new Map<string, JobQueueResources>();
    for (const plan of queuePlans) {
      queues.set(plan.name, this.createQueue(plan, props, recordRetention));
    }
    this.queues = queues;
    this.sweeper = this.createSweeper(queues, recordRetention);
    this.flows = new JobFlows(this, 'Flows', {
      jobsTable: this.jobsTable,
      queues,
      entry: this.ownEntry('flowCoordinator'),
      ...this.functionBundling,
      recordRetention,
    });
    this.acknowledgeIndexWildcard(this.flows.coordinator.role as iam.Role);

    this.scheduling = new JobScheduling(this, 'Scheduling', {
      queues: new Map([...queues].map(([name, resources]) => [name, resources.queue])),
      levelQueues: [...queues.values()].flatMap((resources) => jobQueuesOf(resources).slice(1)),
      targetOf: (jobType) => {
        const contract = props.registry[jobType];
        const priority = contract?.priority;
        return priority === undefined ? undefined : queues.get(contract?.queue ?? '')?.levels?.get(priority);
      },
      schedules: planSchedules(props.registry),
    });
    const longJobPlan = planLongJobs(props.registry);
    if (longJobPlan) {
      this.longJobs = new LongJobs(this, 'LongJobs', {
        plan: longJobPlan,
        stepEntry: this.registryEntry('longJobStep'),
        jobsTable: this.jobsTable,
        payloadBucket: this.payloadBucket,
        payloadPrefix: PAYLOAD_PREFIX,
        recordRetentionDays: recordRetention.toDays({ integral: false }),
        ...this.functionBundling,
        ...(props.maxStepsPerExecution === undefined ? {} : { maxStepsPerExecution: props.maxStepsPerExecution }),
        ...(props.longJobInvocationBudget === undefined ? {} : { invocationBudget: props.longJobInvocationBudget }),
      });
      for (const { worker } of queues.values()) this.longJobs.connectWorker(worker);
    }

    if (lifecycleEvents !== undefined) {
      this.lifecycleEvents = new LifecycleEvents(this, 'LifecycleEvents', {
        jobsTable: this.jobsTable,
        eventBus: this.eventBus,
        events: lifecycleEvents,
        entry: this.ownEntry('eventPublisher'),
        ...this.functionBundling,
      });
    }

    const triggers = planTriggers(props.registry);
    if (props.eventIntake?.enqueueEvents !== false || triggers.length > 0) {
      this.eventIntake = new EventIntake(this, 'EventIntake', {
        ...props.eventIntake,
        eventBus: this.eventBus,
        entry: this.registryEntry('eventIntake'),
        ...this.functionBundling,
        triggers,
        environment: {
          [ClientEnv.config]: Stack.of(this).toJsonString(this.clientConfig),
          [FunctionEnv.recordRetentionDays]: String(recordRetention.toDays({ integral: false })),
        },
      });
      // What `enqueue` calls (and the dead records of refused events: a conditional PutItem).
      this.grantEnqueue(this.eventIntake.function);
      const intakeRole = this.eventIntake.function.role as iam.Role;
      this.acknowledgePayloadWildcard(intakeRole);
      this.acknowledgeIndexWildcard(intakeRole);
      acknowledgeEnqueueTimeGrants(intakeRole, this.scheduling.group, this.longJobs?.stateMachine);
    }

    this.monitoring = new JobMonitoring(this, 'Monitoring', {
      ...props.monitoring,
      ...(this.eventIntake ? { intakeDeadLetterQueue: this.eventIntake.deadLetterQueue } : {}),
      flowFailuresQueue: this.flows.failures,
      queues,
      ...(this.lifecycleEvents ? { lifecycleEventsFailureQueue: this.lifecycleEvents.failureQueue } : {}),
      schedulerDeadLetterQueue: this.scheduling.deadLetterQueue,
      ...(this.longJobs ? { stateMachine: this.longJobs.stateMachine } : {}),
    });
    if (props.webDashboard?.enabled === true) {
      this.webDashboard = new WebDashboardApi(this, 'WebDashboard', {
        jobsTable: this.jobsTable,
        idempotencyTable: this.idempotencyTable,
        queues,
        entry: this.registryEntry('dashboardApi'),
        dashboard: this.monitoring.dashboard,
        ...this.functionBundling,
      });
      // Its pause and resume buttons.
      this.grantPause(this.webDashboard.function);
    }
    if (props.outputs ?? true) this.createOutputs();
  }

  /**
   * Every function that runs your job code: each queue's worker and, with long jobs, the step function.
   * Give them what your handlers use, as you would any function of your stack:
   *
   * @example
   * for (const fn of jobs.jobFunctions) {
   *   ordersTable.grantReadWriteData(fn);
   *   fn.addEnvironment('ORDERS_TABLE', ordersTable.tableName);
   * }
   */
  public get jobFunctions(): readonly lambda.Function[] {
    return [...[...this.queues.values()].map(({ worker }) => worker), ...(this.longJobs ? [this.longJobs.stepFunction] : [])];
  }

  /**
   * What a client configured from the environment (`jobClientFromEnvironment`) needs: the same
   * `JobstackConfig` `connectJobClient` reads from the stack outputs, as tokens resolved at deploy time.
   */
  public get clientConfig(): JobstackConfig {
    const stack = Stack.of(this);
    return {
      stackName: stack.stackName,
      jobsTable: this.jobsTable.tableName,
      idempotencyTable: this.idempotencyTable.tableName,
      payloadBucket: this.payloadBucket.bucketName,
      queues: Object.fromEntries(
        [...this.queues].map(([name, { queue, deadLetterQueue, levels, workerEventSources }]) => [
          name,
          {
            url: queue.queueUrl,
            deadLetterUrl: deadLetterQueue.queueUrl,
            arn: queue.queueArn,
            eventSourceMappingIds: workerEventSources.map((source) => source.eventSourceMappingId),
            ...(levels === undefined
              ? {}
              : {
                  levels: [...levels].map(([level, levelQueue]) => ({
                    name: level,
                    url: levelQueue.queueUrl,
                    arn: levelQueue.queueArn,
                  })),
                }),
          },
        ]),
      ),
      scheduling: {
        groupName: this.scheduling.groupName,
        roleArn: this.scheduling.role.roleArn,
        deadLetterQueueArn: this.scheduling.deadLetterQueue.queueArn,
      },
      ...(this.longJobs ? { longJobStateMachineArn: this.longJobs.stateMachine.stateMachineArn } : {}),
    };
  }

  /**
   * Makes `fn` a client of this job system: sets env `JOBSTACK_CONFIG` (the JSON of
   * {@link JobSystem.clientConfig}, read by `jobClientFromEnvironment` without a CloudFormation call) and
   * grants what the client SDK's methods call: `grantEnqueue` (enqueue, enqueueMany, cancel, delays,
   * schedules), `grantRead` (get, getMany, wait, list, queueStatus), `grantOperate` (retry, redrive) and
   * `grantPause` (pause, resume), each with
   * `cloudformation:DescribeStacks` on this stack so `connectJobClient` works too. Not `resolveStep`:
   * settling a `ctx.once` step is an operator's repair (`grantResolveSteps`).
   *
   * The JSON takes about 750 bytes plus 350 a queue (and about 300 more per priority level) once deployed; Lambda allows 4 KB of environment
   * variables in all. `fn` may be in another stack of the app (the values then travel as exports).
   */
  public bindClient(fn: lambda.Function): void {
    fn.addEnvironment(ClientEnv.config, Stack.of(this).toJsonString(this.clientConfig));
    this.grantEnqueue(fn);
    this.grantRead(fn);
    this.grantOperate(fn);
    this.grantPause(fn);
  }

  /**
   * Lets `grantee` pause and resume the logical queues (the client SDK's `pause` and `resume`).
   *
   * Actions: `lambda:UpdateEventSourceMapping` and `lambda:GetEventSourceMapping` on the workers' event
   * source mappings only, by their ARNs (Lambda scopes these actions to event source mapping resources:
   * https://docs.aws.amazon.com/lambda/latest/dg/lambda-api-permissions-ref.html); no
   * `lambda:ListEventSourceMappings`, which takes only `*`: the client gets the mappings' UUIDs from the
   * stack's configuration. `dynamodb:GetItem`, `dynamodb:UpdateItem`, `dynamodb:DeleteItem` on the jobs
   * table, only on the queues' pause items (`dynamodb:LeadingKeys` `queue#*`);
   * `cloudformation:DescribeStacks` on this stack (the pause records the stack's last update time).
   */
  public grantPause(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['lambda:UpdateEventSourceMapping', 'lambda:GetEventSourceMapping'],
      resourceArns: this.eventSourceMappingArns(),
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      resourceArns: [this.jobsTable.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${pauseItemId('')}*`] } },
    });
    this.grantDescribeStack(grantee);
  }

  /** The ARNs of the event source mappings that feed the workers, one per logical queue and priority level. */
  private eventSourceMappingArns(): string[] {
    return [...this.queues.values()].flatMap(({ workerEventSources }) =>
      workerEventSources.map((source) => source.eventSourceMappingArn),
    );
  }

  /**
   * Lets `grantee` enqueue and cancel jobs on every queue (what the client SDK's
   * `enqueue`, `enqueueMany` and `cancel` call).
   *
   * Actions: `sqs:SendMessage`, `sqs:GetQueueAttributes`, `sqs:GetQueueUrl` on
   * every queue (not the dead-letter queues); on the jobs table
   * `dynamodb:PutItem` (create), `dynamodb:BatchWriteItem` (enqueueMany),
   * `dynamodb:GetItem` (idempotent re-enqueue), `dynamodb:UpdateItem` (cancel),
   * `dynamodb:DeleteItem` (rolls back a record whose message could not be sent;
   * conditional on it never having run); on the idempotency table only
   * `dynamodb:PutItem`, and only on enqueue keys (`dynamodb:LeadingKeys`
   * `enqueue#*`): an enqueuer can neither read nor forge the `ctx.once` results
   * that share the table. `s3:PutObject` under `payloads/` (large payloads).
   * The schedule group's schedules (delays, runtime schedules), stopping long-job
   * executions (cancel), and `cloudformation:DescribeStacks` on this stack.
   */
  public grantEnqueue(grantee: iam.IGrantable): void {
    for (const resources of this.queues.values()) {
      for (const queue of jobQueuesOf(resources)) queue.grantSendMessages(grantee);
    }
    this.jobsTable.grant(
      grantee,
      'dynamodb:PutItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    );
    // Binding a key is one conditional PutItem (the loser learns the owner from ReturnValuesOnConditionCheckFailure).
    // ForAllValues: every partition key the request touches must match; LeadingKeys is the partition key.
    // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:PutItem'],
      resourceArns: [this.idempotencyTable.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${ENQUEUE_KEY_PREFIX}*`] } },
    });
    // Payloads over the inline limit.
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:PutObject'],
      resourceArns: [this.payloadBucket.arnForObjects(`${PAYLOAD_PREFIX}*`)],
    });
    // Delays beyond 15 minutes and cancelling them; runtime schedules; stopping cancelled long jobs.
    this.scheduling.grantSchedule(grantee);
    this.longJobs?.grantCancel(grantee);
    this.grantDescribeStack(grantee);
  }

  /**
   * Lets `grantee` resolve `ctx.once` steps whose outcome was unknown (the
   * client SDK's `resolveStep`), an operator's task after checking the side
   * effect. Actions: `dynamodb:UpdateItem` and `dynamodb:DeleteItem` on the
   * idempotency table, only on step items (`dynamodb:LeadingKeys` `step#*`);
   * `cloudformation:DescribeStacks` on this stack. Retrying the job afterwards
   * needs `grantEnqueue`.
   */
  public grantResolveSteps(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      resourceArns: [this.idempotencyTable.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${STEP_KEY_PREFIX}*`] } },
    });
    this.grantDescribeStack(grantee);
  }

  /**
   * Lets `grantee` act on failed jobs: the client SDK's `retry` and `redrive`.
   *
   * Actions: `sqs:ReceiveMessage`, `sqs:ChangeMessageVisibility`,
   * `sqs:GetQueueUrl`, `sqs:DeleteMessage`, `sqs:GetQueueAttributes` on every
   * dead-letter queue; `sqs:SendMessage` on every queue; `dynamodb:GetItem`,
   * `dynamodb:UpdateItem` on the jobs table; `cloudformation:DescribeStacks` on
   * this stack.
   */
  public grantOperate(grantee: iam.IGrantable): void {
    for (const resources of this.queues.values()) {
      resources.deadLetterQueue.grantConsumeMessages(grantee);
      for (const queue of jobQueuesOf(resources)) queue.grantSendMessages(grantee);
    }
    this.jobsTable.grant(grantee, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
    this.grantDescribeStack(grantee);
  }

  /**
   * Lets `grantee` read job records, queue depths and queue pauses (the client SDK's `get`,
   * `getMany`, `wait`, `list` and `queueStatus`; the CLI's `stats` and `queues`).
   *
   * Actions: `dynamodb:GetItem`, `dynamodb:BatchGetItem`, `dynamodb:Query`,
   * `dynamodb:Scan` on the jobs table and its attention index;
   * `sqs:GetQueueAttributes` on every queue and dead-letter queue;
   * `lambda:GetEventSourceMapping` on the workers' event source mappings (their state);
   * `cloudformation:DescribeStacks` on this stack.
   */
  public grantRead(grantee: iam.IGrantable): void {
    this.jobsTable.grant(grantee, 'dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:Scan');
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['lambda:GetEventSourceMapping'],
      resourceArns: this.eventSourceMappingArns(),
    });
    for (const resources of this.queues.values()) {
      for (const queue of jobQueuesOf(resources)) queue.grant(grantee, 'sqs:GetQueueAttributes');
      resources.deadLetterQueue.grant(grantee, 'sqs:GetQueueAttributes');
    }
    this.grantDescribeStack(grantee);
  }

  /**
   * `cloudformation:DescribeStacks` on this construct's stack only, so `connectJobClient` can read its
   * outputs. The stack's own id (`AWS::StackId`, the ARN with its unique suffix) rather than a
   * `stack/<name>/*` pattern: no wildcard, and a later stack of the same name is not covered.
   */
  private grantDescribeStack(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['cloudformation:DescribeStacks'],
      resourceArns: [Stack.of(this).stackId],
    });
  }

  /** Writes (content-addressed) the entry that hands the user's handler registry to a `jobstack/worker` factory. */
  private registryEntry(kind: RegistryEntryKind): string {
    return writeEntry(this.entryLocation.directory, kind, registryEntrySource(kind, this.handlersModule));
  }

  /**
   * The stack outputs the CLI and `connectJobClient` read (`configFromOutputs`), with logical ids fixed to
   * their keys so they are found in any stack, whatever the construct's id and path.
   */
  private createOutputs(): void {
    const stack = Stack.of(this);
    const owner = OUTPUT_OWNERS.get(stack);
    if (owner !== undefined) {
      throw new ConfigurationError(
        `stack '${stack.stackName}' already holds the outputs of JobSystem '${owner}'; give '${this.node.path}' ` +
          'outputs: false (the CLI and connectJobClient read one job system per stack)',
      );
    }
    OUTPUT_OWNERS.set(stack, this.node.path);
    const output = (key: string, value: string, description?: string): void => {
      new CfnOutput(this, `Output${key}`, { value, ...(description === undefined ? {} : { description }) }).overrideLogicalId(
        key,
      );
    };
    output(StackOutput.jobsTableName, this.jobsTable.tableName);
    output(StackOutput.idempotencyTableName, this.idempotencyTable.tableName);
    output(StackOutput.payloadBucketName, this.payloadBucket.bucketName);
    output(StackOutput.queueNames, [...this.queues.keys()].join(','));
    for (const [name, { queue, deadLetterQueue, worker, levels, workerEventSources }] of this.queues) {
      const suffix = queueOutputSuffix(name);
      // One mapping per priority level: pause and resume disable and enable them all.
      const mappingIds = workerEventSources.map((source) => source.eventSourceMappingId);
      output(
        `${StackOutput.eventSourceMappingIdsPrefix}${suffix}`,
        mappingIds.length === 1 ? (mappingIds[0] as string) : Fn.join(',', mappingIds),
      );
      output(`${StackOutput.queueUrlPrefix}${suffix}`, queue.queueUrl);
      output(`${StackOutput.deadLetterQueueUrlPrefix}${suffix}`, deadLetterQueue.queueUrl);
      output(`${JobSystemOutput.workerFunctionNamePrefix}${suffix}`, worker.functionName);
      output(`${StackOutput.queueArnPrefix}${suffix}`, queue.queueArn);
      if (levels === undefined) continue;
      output(`${StackOutput.queueLevelsPrefix}${suffix}`, [...levels.keys()].join(','));
      for (const [level, levelQueue] of levels) {
        const levelSuffix = priorityLevelOutputSuffix(name, level);
        output(`${StackOutput.queueLevelUrlPrefix}${levelSuffix}`, levelQueue.queueUrl);
        output(`${StackOutput.queueLevelArnPrefix}${levelSuffix}`, levelQueue.queueArn);
      }
    }
    output(StackOutput.scheduleGroupName, this.scheduling.groupName);
    output(StackOutput.schedulerRoleArn, this.scheduling.role.roleArn);
    output(StackOutput.schedulerDeadLetterQueueArn, this.scheduling.deadLetterQueue.queueArn);
    if (this.longJobs) output(StackOutput.longJobStateMachineArn, this.longJobs.stateMachine.stateMachineArn);
    output(JobSystemOutput.dashboardUrl, this.monitoring.dashboardUrl, 'The CloudWatch dashboard');
    output(JobSystemOutput.dashboardName, this.monitoring.dashboard.dashboardName, 'The CloudWatch dashboard (GetDashboard)');
    output(JobSystemOutput.alarmTopicArn, this.monitoring.alarmTopic.topicArn, 'Alarm notifications');
    if (this.webDashboard) output(JobSystemOutput.dashboardApiUrl, this.webDashboard.functionUrl.url, 'Dashboard API (IAM auth)');
  }

  /**
   * The stuck-job sweeper: every 5 minutes it re-sends the message of jobs that
   * stopped moving with no live message, and marks dead those that still do not
   * move after a few re-sends (functions/sweeper/sweep.ts).
   */
  private createSweeper(queues: ReadonlyMap<string, JobQueueResources>, recordRetention: Duration): NodejsFunction {
    const stack = Stack.of(this);
    const longestVisibility = Math.max(...[...queues.values()].map(({ visibilityTimeout }) => visibilityTimeout.toSeconds()));
    const sweeper = new JobstackFunction(this, 'Sweeper', {
      entry: this.ownEntry('sweeper'),
      ...this.functionBundling,
      description: 'jobstack: re-sends or marks dead jobs that stopped moving',
      timeout: Duration.minutes(5),
      memorySize: 256,
      serviceName: 'jobstack-sweeper',
      environment: {
        [FunctionEnv.jobsTable]: this.jobsTable.tableName,
        [FunctionEnv.idempotencyTable]: this.idempotencyTable.tableName,
        [FunctionEnv.recordRetentionDays]: String(recordRetention.toDays({ integral: false })),
        [SweeperEnv.queues]: stack.toJsonString(
          Object.fromEntries(
            [...queues].map(([name, { queue, deadLetterQueue, undeliverableQueue, levels, workerEventSources }]) => [
              name,
              {
                url: queue.queueUrl,
                deadLetterUrl: deadLetterQueue.queueUrl,
                undeliverableUrl: undeliverableQueue.queueUrl,
                eventSourceMappingIds: workerEventSources.map((source) => source.eventSourceMappingId),
                ...(levels === undefined
                  ? {}
                  : { levels: [...levels].map(([level, levelQueue]) => ({ name: level, url: levelQueue.queueUrl })) }),
              },
            ]),
          ),
        ),
        // Its own stack, whose last update time decides whether a pause outlived a deploy.
        [SweeperEnv.stackName]: stack.stackName,
        // A message whose run died comes back after the visibility timeout; only later is the job stuck.
        JOBSTACK_SWEEP_RUNNING_GRACE_MS: String((longestVisibility + 60) * 1_000),
      },
    }).function;
    this.jobsTable.grantReadWriteData(sweeper);
    this.idempotencyTable.grantReadWriteData(sweeper);
    for (const resources of queues.values()) {
      const { deadLetterQueue, undeliverableQueue } = resources;
      for (const queue of jobQueuesOf(resources)) {
        queue.grantSendMessages(sweeper);
        // Message counts and retention: the sweeper's evidence that no message for a job exists.
        queue.grant(sweeper, 'sqs:GetQueueAttributes');
      }
      deadLetterQueue.grantSendMessages(sweeper);
      undeliverableQueue.grant(sweeper, 'sqs:GetQueueAttributes');
    }
    this.acknowledgeIndexWildcard(sweeper.role as iam.Role);
    // Reconciling pauses with deploys: the stack's update time; enabling or disabling the workers' mappings.
    iam.Grant.addToPrincipal({
      grantee: sweeper,
      actions: ['lambda:UpdateEventSourceMapping', 'lambda:GetEventSourceMapping'],
      resourceArns: [...queues.values()].flatMap(({ workerEventSources }) =>
        workerEventSources.map((source) => source.eventSourceMappingArn),
      ),
    });
    this.grantDescribeStack(sweeper);
    new events.Rule(this, 'SweeperSchedule', {
      description: 'Runs the jobstack stuck-job sweeper',
      schedule: events.Schedule.rate(Duration.minutes(5)),
      targets: [new targets.LambdaFunction(sweeper)],
    });
    return sweeper;
  }

  /** Writes (content-addressed) the entry that re-exports the handler of one of jobstack's own functions. */
  private ownEntry(kind: OwnEntryKind): string {
    return writeEntry(this.entryLocation.directory, kind, ownEntrySource(kind));
  }

  private acknowledgePayloadWildcard(role: iam.Role): void {
    const bucketLogicalId = Stack.of(this).getLogicalId(this.payloadBucket.node.defaultChild as CfnElement);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketLogicalId}.Arn>/${PAYLOAD_PREFIX}*]`,
      reason: 'Payload objects are named by job id under one prefix; the grant covers exactly that prefix of this bucket.',
    });
  }

  private acknowledgeIndexWildcard(role: iam.Role): void {
    const jobsTableLogicalId = Stack.of(this).getLogicalId(this.jobsTable.node.defaultChild as CfnElement);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${jobsTableLogicalId}.Arn>/index/*]`,
      reason:
        "The function reads the jobs table's attention index; CDK grants table access as table/index/*, and this " +
        "construct defines that table's only index, so the wildcard covers exactly it.",
    });
  }

  private createQueue(plan: QueuePlan, props: JobSystemProps, recordRetention: Duration): JobQueueResources {
    const suffix = queueOutputSuffix(plan.name);
    const settings = queueSettings(props, plan.name);
    const workerTimeout = settings.workerTimeout ?? defaultWorkerTimeout(plan);
    const visibilityTimeout =
      settings.visibilityTimeout ?? Duration.seconds(workerTimeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR);

    if (!workerTimeout.isUnresolved() && workerTimeout.toMilliseconds() < plan.longestJobTimeoutMs) {
      Annotations.of(this).addWarningV2(
        'jobstack:workerTimeoutBelowJobTimeout',
        `queue '${plan.name}': workerTimeout ${workerTimeout.toHumanString()} is shorter than its longest job timeout ` +
          `(${plan.longestJobTimeoutMs} ms); such jobs are cut off by Lambda and retried after their lease expires`,
      );
    }

    // A queue with ordered job types is FIFO, and so are its dead-letter queues (SQS requires a FIFO source's
    // redrive target to be FIFO). jobstack gives every send of its own an explicit deduplication id.
    const fifo = plan.fifo ? { fifo: true, contentBasedDeduplication: false } : {};
    const deadLetterQueue = new sqs.Queue(this, `DeadLetterQueue${suffix}`, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: MESSAGE_RETENTION,
      maxMessageSizeBytes: MAX_MESSAGE_SIZE_BYTES,
      ...fifo,
    });
    // Its consumer forwards to the DLQ; if even that keeps failing, SQS moves the message there itself.
    const undeliverableQueue = new sqs.Queue(this, `UndeliverableQueue${suffix}`, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: MESSAGE_RETENTION,
      maxMessageSizeBytes: MAX_MESSAGE_SIZE_BYTES,
      visibilityTimeout: Duration.minutes(6),
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: 5 },
      ...fifo,
    });
    const jobQueueProps: sqs.QueueProps = {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: MESSAGE_RETENTION,
      maxMessageSizeBytes: MAX_MESSAGE_SIZE_BYTES,
      visibilityTimeout,
      // The worker moves a job that ran out of attempts to the DLQ itself, with its
      // reason recorded. This redrive only catches messages whose worker crashed
      // (timeout, OOM) so often that the worker never got to do that; their jobs are
      // marked dead by the undeliverable queue's consumer.
      deadLetterQueue: { queue: undeliverableQueue, maxReceiveCount: maxReceiveCount(plan, settings) },
      // Scheduler's FIFO targets (delayed and recurring jobs) need content-based deduplication; jobstack's own
      // sends give explicit ids, which override it.
      // https://docs.aws.amazon.com/scheduler/latest/APIReference/API_SqsParameters.html
      // High-throughput FIFO: deduplication and the throughput quota per message group (per key), not per queue.
      // Every deduplication id jobstack gives is unique within its group already (the job id, or one per re-send).
      // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/high-throughput-fifo.html
      ...(plan.fifo
        ? {
            fifo: true,
            contentBasedDeduplication: true,
            deduplicationScope: sqs.DeduplicationScope.MESSAGE_GROUP,
            fifoThroughputLimit: sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
          }
        : {}),
    };
    const queue = new sqs.Queue(this, `Queue${suffix}`, jobQueueProps);
    // With priorities, one queue per level; the lowest level keeps the queue's own (so clients that know no levels
    // still reach the default level, and a queue that gains levels keeps its messages).
    const maxConcurrency = settings.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY;
    const levelNames = settings.priorities === undefined ? [] : orderedLevels(settings.priorities);
    const levels =
      levelNames.length === 0
        ? undefined
        : new Map(
            levelNames.map((level, index) => [
              level,
              index === levelNames.length - 1
                ? queue
                : new sqs.Queue(this, `Queue${priorityLevelOutputSuffix(plan.name, level)}`, jobQueueProps),
            ]),
          );
    const levelConcurrency =
      settings.priorities === undefined || Token.isUnresolved(maxConcurrency)
        ? undefined
        : splitConcurrency(settings.priorities, maxConcurrency);

    const logGroup = new logs.LogGroup(this, `WorkerLogs${suffix}`, {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const environment: Record<string, string> = {
      [FunctionEnv.jobsTable]: this.jobsTable.tableName,
      [FunctionEnv.idempotencyTable]: this.idempotencyTable.tableName,
      [FunctionEnv.queueUrl]: queue.queueUrl,
      [FunctionEnv.deadLetterQueueUrl]: deadLetterQueue.queueUrl,
      [FunctionEnv.queueName]: plan.name,
      [FunctionEnv.jobTypes]: plan.jobTypes.join(','),
      ...(levels === undefined
        ? {}
        : {
            [FunctionEnv.levelQueues]: Stack.of(this).toJsonString(
              Object.fromEntries([...levels.values()].map((level) => [level.queueArn, level.queueUrl])),
            ),
          }),
      [FunctionEnv.recordRetentionDays]: String(recordRetention.toDays({ integral: false })),
      POWERTOOLS_SERVICE_NAME: 'jobstack-worker',
    };
    environment[FunctionEnv.payloadBucket] = this.payloadBucket.bucketName;

    // An own role instead of AWSLambdaBasicExecutionRole: that managed policy may write
    // to every log group in the account; this one may write only to the worker's own.
    const role = new iam.Role(this, `WorkerRole${suffix}`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `jobstack worker for queue '${plan.name}'`,
    });
    logGroup.grantWrite(role);

    const workerEntry = this.registryEntry('worker');
    const worker = new NodejsFunction(this, `Worker${suffix}`, {
      entry: workerEntry,
      depsLockFilePath: this.functionBundling.depsLockFilePath,
      role,
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 512,
      timeout: workerTimeout,
      logGroup,
      tracing: lambda.Tracing.ACTIVE,
      // Lambda takes at most 256 characters: a queue with many job types lists the first ones.
      description: truncate(`jobstack worker for queue '${plan.name}' (${plan.jobTypes.join(', ')})`, 256),
      environment,
      bundling: withCodeSplitting(workerEntry, this.functionBundling.bundling ?? JOBSTACK_BUNDLING),
    });

    // One event source per level, each with its weight's share of the queue's concurrency (at least 2 each).
    const workerEventSources: SqsEventSource[] = [];
    for (const [level, levelQueue] of levels ?? new Map([['', queue]])) {
      const source = new SqsEventSource(levelQueue, {
        batchSize: settings.batchSize ?? 10,
        maxConcurrency: levelConcurrency?.get(level) ?? maxConcurrency,
        reportBatchItemFailures: true,
        ...(settings.maxBatchingWindow === undefined || (plan.fifo && !hasBatchingWindow(settings))
          ? {}
          : { maxBatchingWindow: settings.maxBatchingWindow }),
      });
      worker.addEventSource(source);
      workerEventSources.push(source);
    }

    this.jobsTable.grantReadWriteData(worker);
    // The batched success write is a PartiQL BatchExecuteStatement of UPDATEs, authorized per statement by
    // dynamodb:PartiQLUpdate (not by UpdateItem): https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-iam.html
    worker.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:PartiQLUpdate'], resources: [this.jobsTable.tableArn] }),
    );
    this.idempotencyTable.grantReadWriteData(worker);
    deadLetterQueue.grantSendMessages(worker);
    worker.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [this.payloadBucket.arnForObjects(`${PAYLOAD_PREFIX}*`)] }),
    );
    this.acknowledgePayloadWildcard(role);

    this.acknowledgeIndexWildcard(role);
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Active X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level ' +
        'permissions, so CDK grants them on *.',
    });
    Validations.of(worker).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22.x is the runtime jobstack is pinned to and tested on (an LTS line supported by Lambda); moving ' +
        'to a newer runtime is a deliberate upgrade made together with the test suite, not implicitly.',
    });

    const deadLetterHandler = new JobstackFunction(this, `DeadLetterHandler${suffix}`, {
      entry: this.ownEntry('deadLetter'),
      ...this.functionBundling,
      description: `jobstack: marks dead the jobs whose messages exceeded the delivery limit on queue '${plan.name}'`,
      timeout: Duration.seconds(60),
      memorySize: 256,
      environment,
      serviceName: 'jobstack-dead-letter',
    }).function;
    deadLetterHandler.addEventSource(new SqsEventSource(undeliverableQueue, { batchSize: 10, reportBatchItemFailures: true }));
    // Lets it hold back the copy of a job under a live lease until the lease ends (the event source grants ChangeMessageVisibility).
    deadLetterHandler.addEnvironment(DeadLetterEnv.undeliverableQueueUrl, undeliverableQueue.queueUrl);
    this.jobsTable.grantReadWriteData(deadLetterHandler);
    deadLetterQueue.grantSendMessages(deadLetterHandler);
    this.acknowledgeIndexWildcard(deadLetterHandler.role as iam.Role);

    return {
      queue,
      deadLetterQueue,
      undeliverableQueue,
      visibilityTimeout,
      worker,
      workerEventSources,
      deadLetterHandler,
      ...(levels === undefined ? {} : { levels }),
      ...(levelConcurrency === undefined ? {} : { levelConcurrency }),
    };
  }
}

function resolveEventBus(scope: Construct, bus: JobSystemProps['eventBus']): events.IEventBus {
  if (bus === undefined || bus === 'default') return events.EventBus.fromEventBusName(scope, 'DefaultEventBus', 'default');
  if (bus === 'create') return new events.EventBus(scope, 'EventBus');
  return bus;
}

/** A table as every jobstack table is: on-demand, AWS-managed encryption, point-in-time recovery, TTL on `expiresAt`. */
function jobstackTable(
  scope: Construct,
  id: string,
  options: {
    partitionKey: string;
    timeToLive: boolean;
    removalPolicy: RemovalPolicy;
    stream?: dynamodb.StreamViewType;
  },
): dynamodb.Table {
  return new dynamodb.Table(scope, id, {
    partitionKey: { name: options.partitionKey, type: dynamodb.AttributeType.STRING },
    ...(options.stream === undefined ? {} : { stream: options.stream }),
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    ...(options.timeToLive ? { timeToLiveAttribute: 'expiresAt' } : {}),
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: dynamodb.TableEncryption.AWS_MANAGED,
    removalPolicy: options.removalPolicy,
  });
}

function defaultWorkerTimeout(plan: QueuePlan): Duration {
  const seconds = Math.ceil(plan.longestJobTimeoutMs / 1000) + WORKER_TIMEOUT_HEADROOM.toSeconds();
  return Duration.seconds(Math.min(seconds, MAX_WORKER_TIMEOUT.toSeconds()));
}

function isResolvedNumber(value: number | undefined): value is number {
  return value !== undefined && !Token.isUnresolved(value);
}

function isResolvedDuration(value: Duration | undefined): value is Duration {
  return value !== undefined && !value.isUnresolved();
}

function validateProps(props: JobSystemProps, queuePlans: readonly QueuePlan[]): void {
  if (queuePlans.length === 0) {
    throw new ConfigurationError('registry must hold at least one job type (given none): defineRegistry(yourJob, ...)');
  }
  assertHandlersModule(props.handlers);
  const seenSuffixes = new Map<string, string>();
  for (const plan of queuePlans) {
    if (!QUEUE_NAME_PATTERN.test(plan.name)) {
      throw new Error(`queue name must match ${QUEUE_NAME_PATTERN} (given '${plan.name}')`);
    }
    const suffix = queueOutputSuffix(plan.name);
    const clash = seenSuffixes.get(suffix);
    if (clash !== undefined) {
      throw new Error(`queue names '${clash}' and '${plan.name}' map to the same output suffix '${suffix}'`);
    }
    seenSuffixes.set(suffix, plan.name);
    const receiveLimit = plan.maxAttempts + RECEIVE_COUNT_HEADROOM;
    if (!Number.isInteger(plan.maxAttempts) || plan.maxAttempts < 1 || receiveLimit > MAX_RECEIVE_COUNT_LIMIT) {
      throw new Error(
        `queue '${plan.name}': maxAttempts must be 1..${MAX_RECEIVE_COUNT_LIMIT - RECEIVE_COUNT_HEADROOM} (given ${plan.maxAttempts})`,
      );
    }
  }

  validateQueueSettings(props, '');
  if (isResolvedDuration(props.recordRetention)) {
    const days = props.recordRetention.toDays({ integral: false });
    if (!Number.isInteger(days) || days < 1) {
      throw new Error(
        `recordRetention must be a whole number of days, at least 1 (given ${props.recordRetention.toHumanString()})`,
      );
    }
  }

  const planned = new Set(queuePlans.map(({ name }) => name));
  for (const [name, overrides] of Object.entries(props.queues ?? {})) {
    if (!planned.has(name)) {
      throw new Error(
        `queues: unknown queue '${name}' (given queues.${name}; the registry's queues are ` +
          `${[...planned].map((queue) => `'${queue}'`).join(', ')})`,
      );
    }
    if (overrides !== undefined) validateQueueSettings(overrides, `queues['${name}'].`);
    if (overrides?.priorities !== undefined) {
      const problem = priorityLevelsProblem(overrides.priorities);
      if (problem !== undefined) throw new Error(`queues['${name}'].priorities ${problem}`);
    }
  }
  validatePriorityUse(props, queuePlans);

  // The rules that combine settings hold for each queue's merged settings.
  for (const plan of queuePlans) {
    const settings = queueSettings(props, plan.name);
    if (plan.fifo) validateFifoSettings(plan, settings);
    if (isResolvedNumber(settings.batchSize) && settings.batchSize > 10 && settings.maxBatchingWindow === undefined) {
      throw new Error(
        `queue '${plan.name}': batchSize above 10 needs maxBatchingWindow (given batchSize ${settings.batchSize} and no window)`,
      );
    }
    const workerTimeout = settings.workerTimeout ?? defaultWorkerTimeout(plan);
    if (workerTimeout.isUnresolved()) {
      if (settings.visibilityTimeout === undefined) {
        throw new Error(
          `queue '${plan.name}': visibilityTimeout is required when workerTimeout is an unresolved token (given no visibilityTimeout)`,
        );
      }
      continue;
    }
    const visibility = settings.visibilityTimeout;
    if (!isResolvedDuration(visibility)) continue;
    const needed = workerTimeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR;
    if (visibility.toSeconds() < needed) {
      throw new Error(
        `visibilityTimeout must be at least ${VISIBILITY_TIMEOUT_FACTOR} × the worker timeout for queue '${plan.name}' ` +
          `(given visibilityTimeout ${visibility.toHumanString()}, worker timeout ${workerTimeout.toHumanString()}, ` +
          `so at least ${needed} seconds)`,
      );
    }
  }
}

/**
 * A FIFO queue's event source takes at most 10 messages a batch and no batching window (AWS's limits:
 * FIFO_EVENT_SOURCE_DOCS). The construct-wide settings count too: a queue with ordered job types needs
 * its own `queues` entry when the construct-wide ones exceed them.
 */
function validateFifoSettings(plan: QueuePlan, settings: QueueSettings): void {
  const ordered = `queue '${plan.name}' is a FIFO queue (it carries job types with ordering)`;
  if (isResolvedNumber(settings.batchSize) && settings.batchSize > FIFO_MAX_BATCH_SIZE) {
    throw new Error(
      `${ordered}: batchSize must be 1..${FIFO_MAX_BATCH_SIZE} for a FIFO event source (given ${settings.batchSize}; ` +
        `set queues['${plan.name}'].batchSize; see ${FIFO_EVENT_SOURCE_DOCS})`,
    );
  }
  if (hasBatchingWindow(settings)) {
    throw new Error(
      `${ordered}: a FIFO event source takes no maxBatchingWindow (given ${settings.maxBatchingWindow?.toHumanString()}; ` +
        `set queues['${plan.name}'].maxBatchingWindow to Duration.seconds(0) to leave the construct-wide one out; ` +
        `see ${FIFO_EVENT_SOURCE_DOCS})`,
    );
  }
}

/** A batching window other than zero (an unresolved token counts as one). */
function hasBatchingWindow(settings: QueueSettings): boolean {
  const window = settings.maxBatchingWindow;
  return window !== undefined && (window.isUnresolved() || window.toSeconds() > 0);
}

/**
 * After how many receives SQS moves a message to the undeliverable queue. On a standard queue: the job's
 * attempts plus headroom. On a FIFO queue a message is also received, and not run, when an earlier job of
 * its group in the same batch fails (the worker hands it back untouched); each of the up to batchSize - 1
 * jobs ahead of it may do so once per attempt, so the limit grows by that much (capped at SQS's 1000).
 */
function maxReceiveCount(plan: QueuePlan, settings: QueueSettings): number {
  const own = plan.maxAttempts + RECEIVE_COUNT_HEADROOM;
  if (!plan.fifo) return own;
  const batchSize = isResolvedNumber(settings.batchSize) ? settings.batchSize : FIFO_MAX_BATCH_SIZE;
  return Math.min(MAX_RECEIVE_COUNT_LIMIT, own + (batchSize - 1) * plan.maxAttempts);
}

/** A queue's settings: its entry in `props.queues` merged over the construct-wide ones, key by key. */
function queueSettings(props: JobSystemProps, queueName: string): QueueSettings {
  const overrides = props.queues?.[queueName];
  return {
    batchSize: overrides?.batchSize ?? props.batchSize,
    maxConcurrency: overrides?.maxConcurrency ?? props.maxConcurrency,
    maxBatchingWindow: overrides?.maxBatchingWindow ?? props.maxBatchingWindow,
    workerTimeout: overrides?.workerTimeout ?? props.workerTimeout,
    visibilityTimeout: overrides?.visibilityTimeout ?? props.visibilityTimeout,
    ...(overrides?.priorities === undefined ? {} : { priorities: overrides.priorities }),
  };
}

/** The range of each setting given, construct-wide (`label` '') or of one queue (`label` "queues['name']."). */
function validateQueueSettings(settings: QueueSettings, label: string): void {
  if (isResolvedNumber(settings.batchSize)) {
    const { batchSize } = settings;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
      throw new Error(`${label}batchSize must be 1..10000 (given ${batchSize})`);
    }
  }
  if (isResolvedNumber(settings.maxConcurrency)) {
    const { maxConcurrency } = settings;
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 2 || maxConcurrency > 1000) {
      throw new Error(`${label}maxConcurrency must be 2..1000 (given ${maxConcurrency})`);
    }
  }
  if (isResolvedDuration(settings.maxBatchingWindow) && settings.maxBatchingWindow.toSeconds() > 300) {
    throw new Error(`${label}maxBatchingWindow must be at most 5 minutes (given ${settings.maxBatchingWindow.toHumanString()})`);
  }
  if (isResolvedDuration(settings.workerTimeout)) {
    const ms = settings.workerTimeout.toMilliseconds();
    if (ms < 1000 || ms > MAX_WORKER_TIMEOUT.toMilliseconds()) {
      throw new Error(`${label}workerTimeout must be 1 second..15 minutes (given ${settings.workerTimeout.toHumanString()})`);
    }
  }
  if (
    isResolvedDuration(settings.visibilityTimeout) &&
    settings.visibilityTimeout.toSeconds() > MAX_VISIBILITY_TIMEOUT.toSeconds()
  ) {
    throw new Error(`${label}visibilityTimeout must be at most 12 hours (given ${settings.visibilityTimeout.toHumanString()})`);
  }
}

/** jobstack's bundling with the user's settings over it (`define` merged key by key). */
function mergeBundling(overrides: JobSystemBundlingOptions | undefined): BundlingOptions {
  if (overrides === undefined) return JOBSTACK_BUNDLING;
  return {
    ...JOBSTACK_BUNDLING,
    ...overrides,
    ...(JOBSTACK_BUNDLING.define || overrides.define ? { define: { ...JOBSTACK_BUNDLING.define, ...overrides.define } } : {}),
  };
}

/** Every SQS queue jobs of a logical queue are sent to: its own and, with priorities, each other level's. */
export function jobQueuesOf(resources: Pick<JobQueueResources, 'queue' | 'levels'>): sqs.Queue[] {
  return [resources.queue, ...[...(resources.levels?.values() ?? [])].filter((level) => level !== resources.queue)];
}

/**
 * The rules priorities add: a queue with levels has `maxConcurrency` for 2 per level, and every job type that
 * declares a `priority` sits on a queue that has that level.
 */
function validatePriorityUse(props: JobSystemProps, queuePlans: readonly QueuePlan[]): void {
  for (const plan of queuePlans) {
    const settings = queueSettings(props, plan.name);
    const levels = settings.priorities;
    if (plan.fifo) {
      // A FIFO queue runs each ordering key's jobs in order in one queue, and groups its messages by that key.
      const ordered = plan.jobTypes.filter((jobType) => props.registry[jobType]?.ordering !== undefined);
      const fifoQueue = `queue '${plan.name}' is a FIFO queue (it carries job types with ordering: ${ordered.join(', ')})`;
      if (levels !== undefined) {
        throw new Error(
          `${fifoQueue}: it takes no priorities (given priorities ${Object.keys(levels)
            .map((level) => `'${level}'`)
            .join(', ')}); levels would split a key's jobs across queues and break their order`,
        );
      }
      const fair = plan.jobTypes.filter((jobType) => props.registry[jobType]?.fairness !== undefined);
      if (fair.length > 0) {
        throw new Error(
          `${fifoQueue}: job type${fair.length > 1 ? 's' : ''} ${fair.map((jobType) => `'${jobType}'`).join(', ')} ` +
            `cannot have fairness there (the FIFO message group is the ordering key); put ${fair.length > 1 ? 'them' : 'it'} on a standard queue`,
        );
      }
    }
    if (levels !== undefined) {
      const maxConcurrency = settings.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY;
      const needed = minConcurrencyFor(levels);
      if (isResolvedNumber(maxConcurrency) && maxConcurrency < needed) {
        throw new Error(
          `queue '${plan.name}': maxConcurrency must be at least ${needed} for ${Object.keys(levels).length} priority levels ` +
            `(${MIN_LEVEL_CONCURRENCY} each, AWS's least MaximumConcurrency) (given ${maxConcurrency})`,
        );
      }
    }
    for (const jobType of plan.jobTypes) {
      const priority = props.registry[jobType]?.priority;
      if (priority === undefined) continue;
      if (levels === undefined) {
        throw new Error(
          `job '${jobType}' has priority '${priority}', but its queue '${plan.name}' has no priority levels ` +
            `(give it queues: { '${plan.name}': { priorities: { ... } } })`,
        );
      }
      if (!Object.hasOwn(levels, priority)) {
        throw new Error(
          `job '${jobType}' has priority '${priority}', which queue '${plan.name}' does not have ` +
            `(levels: ${Object.keys(levels)
              .map((level) => `'${level}'`)
              .join(', ')})`,
        );
      }
    }
  }
}

/** `text`, cut to `max` characters with an ellipsis when longer. */
function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
