import { fileURLToPath } from 'node:url';
import { CfnOutput, type RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { registry as defaultRegistry } from '../functions/jobs/contracts.js';
import { queueOutputSuffix, StackOutput } from '../shared/config.js';
import { type JobRegistry, planQueues } from '../shared/job-definition.js';
import { planLongJobs } from '../shared/long-jobs/define-long-job.js';
import { planSchedules } from '../shared/scheduling/declared.js';
import { JobSystem, type JobSystemProps } from './job-system.js';

/** The worker handler shipped with jobstack. */
export const DEFAULT_WORKER_ENTRY = fileURLToPath(new URL('../functions/worker/handler.ts', import.meta.url));
/** The long-job step handler shipped with jobstack. */
export const DEFAULT_LONG_JOB_STEP_ENTRY = fileURLToPath(new URL('../functions/long-job/handler.ts', import.meta.url));

/** Properties of a {@link JobstackStack}. */
export interface JobstackStackProps extends StackProps {
  /**
   * The job types to deploy queues and workers for.
   *
   * @default - the demo contracts in `functions/jobs/contracts.ts`
   */
  readonly registry?: JobRegistry;

  /**
   * Deploy the demo ledger table the demo `effect` job writes to.
   *
   * @default - context `demoJobs` when set ("false" turns it off), else true
   */
  readonly demoJobs?: boolean;

  /**
   * Path of the worker handler file.
   *
   * @default DEFAULT_WORKER_ENTRY (`functions/worker/handler.ts`)
   */
  readonly workerEntry?: string;

  /**
   * Path of the long-job step handler (used when the registry has long jobs).
   *
   * @default DEFAULT_LONG_JOB_STEP_ENTRY (`functions/long-job/handler.ts`)
   */
  readonly longJobStepEntry?: string;

  /**
   * What happens to the tables when the stack is deleted.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Further `JobSystem` settings (batch size, concurrency, timeouts, ...).
   *
   * @default - the `JobSystem` defaults
   */
  readonly jobSystem?: Omit<
    JobSystemProps,
    'queues' | 'workerEntry' | 'demoJobs' | 'removalPolicy' | 'schedules' | 'longJobs' | 'longJobStepEntry'
  >;
}

/**
 * The deployable jobstack: a {@link JobSystem} built from the job registry,
 * plus the stack outputs the client SDK and CLI discover their configuration from
 * (keys in `StackOutput`).
 */
export class JobstackStack extends Stack {
  public readonly jobSystem: JobSystem;

  constructor(scope: Construct, id: string, props: JobstackStackProps = {}) {
    super(scope, id, props);

    const demoJobs = props.demoJobs ?? parseBooleanContext(this.node.tryGetContext('demoJobs'), 'demoJobs') ?? true;
    // `-c webDashboard=true` deploys the dashboard API behind an IAM-auth Function URL (off by default).
    const webDashboardContext = parseBooleanContext(this.node.tryGetContext('webDashboard'), 'webDashboard');
    const registry = props.registry ?? defaultRegistry;
    const longJobs = planLongJobs(registry);
    this.jobSystem = new JobSystem(this, 'JobSystem', {
      ...(webDashboardContext === undefined ? {} : { webDashboard: { enabled: webDashboardContext } }),
      ...props.jobSystem,
      queues: planQueues(registry),
      workerEntry: props.workerEntry ?? DEFAULT_WORKER_ENTRY,
      schedules: planSchedules(registry),
      ...(longJobs ? { longJobs, longJobStepEntry: props.longJobStepEntry ?? DEFAULT_LONG_JOB_STEP_ENTRY } : {}),
      demoJobs,
      ...(props.removalPolicy === undefined ? {} : { removalPolicy: props.removalPolicy }),
    });

    const { jobsTable, idempotencyTable, demoLedgerTable, queues } = this.jobSystem;
    new CfnOutput(this, StackOutput.jobsTableName, { value: jobsTable.tableName });
    new CfnOutput(this, StackOutput.idempotencyTableName, { value: idempotencyTable.tableName });
    if (demoLedgerTable) new CfnOutput(this, StackOutput.demoLedgerTableName, { value: demoLedgerTable.tableName });
    new CfnOutput(this, StackOutput.payloadBucketName, { value: this.jobSystem.payloadBucket.bucketName });
    new CfnOutput(this, StackOutput.queueNames, { value: [...queues.keys()].join(',') });
    for (const [name, { queue, deadLetterQueue, worker }] of queues) {
      const suffix = queueOutputSuffix(name);
      new CfnOutput(this, `${StackOutput.queueUrlPrefix}${suffix}`, { value: queue.queueUrl });
      new CfnOutput(this, `${StackOutput.deadLetterQueueUrlPrefix}${suffix}`, { value: deadLetterQueue.queueUrl });
      new CfnOutput(this, `WorkerFunctionName${suffix}`, { value: worker.functionName });
      new CfnOutput(this, `${StackOutput.queueArnPrefix}${suffix}`, { value: queue.queueArn });
    }
    const { scheduling, longJobs: longJobResources } = this.jobSystem;
    new CfnOutput(this, StackOutput.scheduleGroupName, { value: scheduling.groupName });
    new CfnOutput(this, StackOutput.schedulerRoleArn, { value: scheduling.role.roleArn });
    new CfnOutput(this, StackOutput.schedulerDeadLetterQueueArn, { value: scheduling.deadLetterQueue.queueArn });
    if (longJobResources) {
      new CfnOutput(this, StackOutput.longJobStateMachineArn, { value: longJobResources.stateMachine.stateMachineArn });
    }
    const { monitoring } = this.jobSystem;
    new CfnOutput(this, 'DashboardUrl', { value: monitoring.dashboardUrl, description: 'The CloudWatch dashboard' });
    new CfnOutput(this, 'AlarmTopicArn', { value: monitoring.alarmTopic.topicArn, description: 'Alarm notifications' });
    const { webDashboard } = this.jobSystem;
    if (webDashboard) {
      new CfnOutput(this, 'DashboardApiUrl', { value: webDashboard.functionUrl.url, description: 'Dashboard API (IAM auth)' });
    }
  }
}

function parseBooleanContext(value: unknown, key: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new Error(`context ${key} must be true or false (given ${JSON.stringify(value)})`);
}
