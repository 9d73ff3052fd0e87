import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { priorityLevelOutputSuffix, queueOutputSuffix } from '../shared/config.js';
import { JobMetric, METRICS_NAMESPACE, MetricDimension, WORKER_SERVICE_NAME } from '../shared/metrics.js';

/** One alarm's switch and threshold. */
export interface CountAlarmOptions {
  /** @default true */
  readonly enabled?: boolean;
  /** The alarm fires when the watched value is at or above this. */
  readonly threshold?: number;
  /** The period the value is summed (or maxed) over. */
  readonly period?: Duration;
}

/** The backlog alarm's switch and threshold. */
export interface AgeAlarmOptions {
  /** @default true */
  readonly enabled?: boolean;
  /**
   * The alarm fires when a queue's oldest message is at least this old.
   *
   * @default Duration.minutes(15)
   */
  readonly threshold?: Duration;
}

/**
 * Which alarms to create and when they fire. Every alarm is on by default;
 * each can be tuned or switched off (`{ enabled: false }`).
 */
export interface JobAlarmsOptions {
  /**
   * Per queue: its dead-letter queue holds messages (visible messages ≥ threshold, maximum over the period).
   *
   * @default - on, threshold 1, period 1 minute
   */
  readonly deadLetterQueue?: CountAlarmOptions;
  /**
   * Per queue: its oldest message is older than the threshold (a backlog: workers are not keeping up or are failing).
   *
   * @default - on, threshold 15 minutes, over 1-minute periods
   */
  readonly oldestMessageAge?: AgeAlarmOptions;
  /**
   * Per worker: Lambda invocation errors (a crash or timeout of the function, not a job failure: those are
   * partial batch responses) summed over the period.
   *
   * @default - on, threshold 1, period 5 minutes
   */
  readonly workerErrors?: CountAlarmOptions;
  /**
   * Per worker: Lambda throttles summed over the period (account or reserved concurrency exhausted).
   *
   * @default - on, threshold 1, period 5 minutes
   */
  readonly workerThrottles?: CountAlarmOptions;
  /**
   * Per queue: jobs that went `dead` (the worker's `JobsDead` metric) summed over the period.
   *
   * @default - on, threshold 1, period 5 minutes
   */
  readonly deadJobs?: CountAlarmOptions;
  /**
   * The long-job state machine's failed and timed-out executions (two alarms), summed over the period.
   * Only created when a state machine is given.
   *
   * @default - on, threshold 1, period 5 minutes
   */
  readonly stateMachineFailures?: CountAlarmOptions;
  /**
   * The scheduler's dead-letter queue holds messages (schedules EventBridge Scheduler could not deliver).
   * Only created when a scheduler dead-letter queue is given.
   *
   * @default - on, threshold 1, period 1 minute
   */
  readonly schedulerDeadLetterQueue?: CountAlarmOptions;
  /**
   * The lifecycle-event publisher's on-failure queue holds messages (stream records whose events could not be
   * published). Only created with lifecycle events on.
   *
   * @default - on, threshold 1, period 1 minute
   */
  readonly lifecycleEventFailures?: CountAlarmOptions;
  /**
   * The event intake's dead-letter queue holds messages: events that named no job (a `jobstack.enqueue`
   * detail without a type), events the intake kept failing on, or events EventBridge could not deliver.
   * Only created when the job system has an event intake.
   *
   * @default - on, threshold 1, period 1 minute
   */
  readonly intakeDeadLetterQueue?: CountAlarmOptions;
  /**
   * The flow coordinator's failures queue holds messages: stream records it failed on after its retries, so a
   * batch may stay open or a waiting parent may not resume until an operator acts.
   *
   * @default - on, threshold 1, period 1 minute
   */
  readonly flowFailures?: CountAlarmOptions;
}

/** What {@link JobMonitoring} watches for one logical queue. */
export interface MonitoredQueue {
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly worker: lambda.IFunction;
  /** A prioritized queue's level queues by level name (the lowest is `queue`): each gets its own backlog alarm. */
  readonly levels?: ReadonlyMap<string, sqs.IQueue>;
}

/** The monitoring settings a `JobSystem` takes: what is watched comes from the construct itself. */
export interface JobSystemMonitoringOptions {
  /** Which alarms to create and their thresholds. @default - every alarm on, with the defaults in {@link JobAlarmsOptions} */
  readonly alarms?: JobAlarmsOptions;

  /**
   * An email address subscribed to the alarm topic (it must confirm the subscription).
   *
   * @default - no subscription; subscribe to `alarmTopic` yourself
   */
  readonly alarmEmail?: string;

  /**
   * Name of the CloudWatch dashboard.
   *
   * @default - a name CloudFormation generates
   */
  readonly dashboardName?: string;
}

/** Properties of a {@link JobMonitoring}. */
export interface JobMonitoringProps extends JobSystemMonitoringOptions {
  /** The logical queues to watch, by name. */
  readonly queues: ReadonlyMap<string, MonitoredQueue>;

  /**
   * The long-job state machine, when the job system has one: adds its failure alarms and an executions graph.
   *
   * @default - no state machine alarms or graph
   */
  readonly stateMachine?: sfn.IStateMachine;

  /**
   * The dead-letter queue of EventBridge Scheduler schedules, when the job system has one.
   *
   * @default - no scheduler dead-letter alarm or graph
   */
  readonly schedulerDeadLetterQueue?: sqs.IQueue;

  /**
   * The on-failure queue of the lifecycle-event publisher, when lifecycle events are on.
   *
   * @default - no lifecycle-event failure alarm
   */
  readonly lifecycleEventsFailureQueue?: sqs.IQueue;
  /**
   * The dead-letter queue of the event intake (`JobSystem.eventIntake`), when the job system has one.
   *
   * @default - no intake dead-letter alarm
   */
  readonly intakeDeadLetterQueue?: sqs.IQueue;
  /**
   * The flow coordinator's failures queue (`JobSystem.flows.failures`), when the job system has one.
   *
   * @default - no flow-failure alarm
   */
  readonly flowFailuresQueue?: sqs.IQueue;
}

const DEFAULT_AGE_THRESHOLD = Duration.minutes(15);
const ONE_MINUTE = Duration.minutes(1);
const FIVE_MINUTES = Duration.minutes(5);
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const DASHBOARD_NAME_PATTERN = /^[A-Za-z0-9_-]{1,255}$/;

/**
 * Alarms, an alarm topic and a CloudWatch dashboard for a job system.
 *
 * Alarms send to `alarmTopic` (SNS, encrypted with its own KMS key that CloudWatch
 * may use, SSL only) on ALARM and on OK, so a notification also says when it is over.
 * Every alarm treats missing data as not breaching: a quiet queue publishes no
 * job metrics, and silence is not an incident.
 *
 * @example
 * const monitoring = new JobMonitoring(this, 'Monitoring', {
 *   queues: jobs.queues,
 *   alarmEmail: 'oncall@example.com',
 *   alarms: { oldestMessageAge: { threshold: Duration.hours(1) }, workerThrottles: { enabled: false } },
 * });
 * new CfnOutput(this, 'DashboardUrl', { value: monitoring.dashboardUrl });
 */
export class JobMonitoring extends Construct {
  /** Where every alarm sends its ALARM and OK notifications. */
  public readonly alarmTopic: sns.Topic;
  /** Every alarm created, in creation order. */
  public readonly alarms: cloudwatch.Alarm[] = [];
  /** The CloudWatch dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;
  /** The console address of the dashboard. */
  public readonly dashboardUrl: string;

  private readonly alarmAction: cloudwatchActions.SnsAction;

  constructor(scope: Construct, id: string, props: JobMonitoringProps) {
    super(scope, id);
    validateMonitoringProps(props);
    const options = props.alarms ?? {};

    // CloudWatch can publish to an encrypted topic only with a customer managed key whose policy lets it
    // use the key; the AWS managed SNS key does not allow that.
    const topicKey = new kms.Key(this, 'AlarmTopicKey', {
      description: 'Encrypts the jobstack alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', { masterKey: topicKey, enforceSSL: true });
    if (props.alarmEmail !== undefined) {
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    }
    this.alarmAction = new cloudwatchActions.SnsAction(this.alarmTopic);

    const widgets: cloudwatch.IWidget[][] = [];
    for (const [name, resources] of props.queues) {
      this.addQueueAlarms(name, resources, options);
      widgets.push(queueWidgets(name, resources));
    }
    if (props.stateMachine) this.addStateMachineAlarms(props.stateMachine, options.stateMachineFailures);
    if (props.schedulerDeadLetterQueue) {
      this.addCountAlarm(
        'SchedulerDeadLetterAlarm',
        options.schedulerDeadLetterQueue,
        { threshold: 1, period: ONE_MINUTE },
        (period) => props.schedulerDeadLetterQueue?.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
        'The scheduler dead-letter queue has messages: EventBridge Scheduler could not deliver scheduled jobs',
      );
    }

    if (props.lifecycleEventsFailureQueue) {
      this.addCountAlarm(
        'LifecycleEventFailuresAlarm',
        options.lifecycleEventFailures,
        { threshold: 1, period: ONE_MINUTE },
        (period) => props.lifecycleEventsFailureQueue?.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
        'The lifecycle-event failure queue has messages: job lifecycle events could not be published to EventBridge',
      );
    }
    if (props.intakeDeadLetterQueue) {
      this.addCountAlarm(
        'IntakeDeadLetterAlarm',
        options.intakeDeadLetterQueue,
        { threshold: 1, period: ONE_MINUTE },
        (period) => props.intakeDeadLetterQueue?.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
        'The event intake dead-letter queue has messages: events that could not become jobs (see their jobstack-error-message attribute)',
      );
    }
    if (props.flowFailuresQueue) {
      this.addCountAlarm(
        'FlowFailuresAlarm',
        options.flowFailures,
        { threshold: 1, period: ONE_MINUTE },
        (period) => props.flowFailuresQueue?.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
        'The flow coordinator failures queue has messages: a batch may stay open or a waiting parent not resume',
      );
    }

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      ...(props.dashboardName === undefined ? {} : { dashboardName: props.dashboardName }),
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms',
        alarms: this.alarms,
        width: 24,
        height: 4,
        sortBy: cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
      }),
    );
    this.dashboard.addWidgets(...jobWidgets([...props.queues.keys()]));
    for (const row of widgets) this.dashboard.addWidgets(...row);
    this.dashboard.addWidgets(...lambdaWidgets(props.queues));
    if (props.stateMachine) this.dashboard.addWidgets(stateMachineWidget(props.stateMachine));
    if (props.schedulerDeadLetterQueue) {
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'Scheduler dead-letter queue',
          left: [props.schedulerDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ label: 'messages' })],
          width: 12,
        }),
      );
    }

    const region = Stack.of(this).region;
    this.dashboardUrl = `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${this.dashboard.dashboardName}`;
  }

  private addQueueAlarms(
    name: string,
    { queue, deadLetterQueue, worker, levels }: MonitoredQueue,
    options: JobAlarmsOptions,
  ): void {
    const id = queueOutputSuffix(name);
    this.addCountAlarm(
      `DeadLetterAlarm${id}`,
      options.deadLetterQueue,
      { threshold: 1, period: ONE_MINUTE },
      (period) => deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
      `Queue '${name}': its dead-letter queue has messages (dead jobs or crashed deliveries to inspect and redrive)`,
    );

    const age = options.oldestMessageAge ?? {};
    if (age.enabled !== false) {
      const threshold = age.threshold ?? DEFAULT_AGE_THRESHOLD;
      this.addAlarm(`OldestMessageAlarm${id}`, {
        metric: queue.metricApproximateAgeOfOldestMessage({ period: ONE_MINUTE, statistic: 'Maximum' }),
        threshold: threshold.toSeconds(),
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        alarmDescription: `Queue '${name}': the oldest message is at least ${threshold.toHumanString()} old (backlog)`,
      });
      // Every other priority level is a queue of its own: a backlog on it would not show in `queue`'s age.
      for (const [level, levelQueue] of levels ?? []) {
        if (levelQueue === queue) continue;
        this.addAlarm(`OldestMessageAlarm${priorityLevelOutputSuffix(name, level)}`, {
          metric: levelQueue.metricApproximateAgeOfOldestMessage({ period: ONE_MINUTE, statistic: 'Maximum' }),
          threshold: threshold.toSeconds(),
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          alarmDescription: `Queue '${name}', priority level '${level}': the oldest message is at least ${threshold.toHumanString()} old (backlog)`,
        });
      }
    }

    this.addCountAlarm(
      `WorkerErrorsAlarm${id}`,
      options.workerErrors,
      { threshold: 1, period: FIVE_MINUTES },
      (period) => worker.metricErrors({ period, statistic: 'Sum' }),
      `Queue '${name}': the worker function failed (crash or timeout; job failures are not counted here)`,
    );
    this.addCountAlarm(
      `WorkerThrottlesAlarm${id}`,
      options.workerThrottles,
      { threshold: 1, period: FIVE_MINUTES },
      (period) => worker.metricThrottles({ period, statistic: 'Sum' }),
      `Queue '${name}': the worker function was throttled (concurrency exhausted)`,
    );
    this.addCountAlarm(
      `DeadJobsAlarm${id}`,
      options.deadJobs,
      { threshold: 1, period: FIVE_MINUTES },
      (period) => queueJobMetric(name, JobMetric.dead, period),
      `Queue '${name}': jobs went dead (out of attempts, non-retryable, or poison input)`,
    );
  }

  private addStateMachineAlarms(stateMachine: sfn.IStateMachine, options: CountAlarmOptions | undefined): void {
    const defaults = { threshold: 1, period: FIVE_MINUTES };
    this.addCountAlarm(
      'StateMachineFailedAlarm',
      options,
      defaults,
      (period) => stateMachine.metricFailed({ period, statistic: 'Sum' }),
      'Long-job state machine: executions failed',
    );
    this.addCountAlarm(
      'StateMachineTimedOutAlarm',
      options,
      defaults,
      (period) => stateMachine.metricTimedOut({ period, statistic: 'Sum' }),
      'Long-job state machine: executions timed out',
    );
  }

  private addCountAlarm(
    id: string,
    options: CountAlarmOptions | undefined,
    defaults: { threshold: number; period: Duration },
    metric: (period: Duration) => cloudwatch.IMetric | undefined,
    description: string,
  ): void {
    if (options?.enabled === false) return;
    const watched = metric(options?.period ?? defaults.period);
    if (!watched) return;
    this.addAlarm(id, {
      metric: watched,
      threshold: options?.threshold ?? defaults.threshold,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      alarmDescription: description,
    });
  }

  private addAlarm(id: string, props: cloudwatch.AlarmProps): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...props,
    });
    alarm.addAlarmAction(this.alarmAction);
    alarm.addOkAction(this.alarmAction);
    this.alarms.push(alarm);
  }
}

/** A job metric summed over one queue (the per-queue series the worker publishes). */
function queueJobMetric(queue: string, name: JobMetric, period: Duration, label?: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: { [MetricDimension.service]: WORKER_SERVICE_NAME, [MetricDimension.queue]: queue },
    period,
    statistic: 'Sum',
    // No label on alarm metrics: a label turns the alarm into the `Metrics` (math) form, which needs no
    // reason here and which the local emulator cannot deploy.
    ...(label === undefined ? {} : { label }),
  });
}

/** Every job type's series of one metric, found by a search (job types are code, not infrastructure). */
function perTypeSearch(name: JobMetric, statistic: string, label: string): cloudwatch.MathExpression {
  const dimensions = [MetricDimension.service, MetricDimension.queue, MetricDimension.jobType].join(',');
  return new cloudwatch.MathExpression({
    expression: `SEARCH('{${METRICS_NAMESPACE},${dimensions}} MetricName="${name}"', '${statistic}', 300)`,
    label,
    usingMetrics: {},
    period: FIVE_MINUTES,
  });
}

function jobWidgets(queueNames: readonly string[]): cloudwatch.IWidget[] {
  const outcomes = [JobMetric.started, JobMetric.succeeded, JobMetric.retried, JobMetric.dead, JobMetric.cancelled];
  return [
    new cloudwatch.GraphWidget({
      title: 'Jobs by outcome (per queue)',
      left: queueNames.flatMap((queue) => outcomes.map((name) => queueJobMetric(queue, name, FIVE_MINUTES, `${queue} ${name}`))),
      width: 8,
    }),
    new cloudwatch.GraphWidget({
      title: 'Jobs by outcome and type',
      left: outcomes.map((name) => perTypeSearch(name, 'Sum', name)),
      width: 8,
    }),
    new cloudwatch.GraphWidget({
      title: 'Job duration p50 / p95 by type (ms)',
      left: [perTypeSearch(JobMetric.duration, 'p50', 'p50'), perTypeSearch(JobMetric.duration, 'p95', 'p95')],
      width: 8,
    }),
  ];
}

function queueWidgets(name: string, { queue, deadLetterQueue, levels }: MonitoredQueue): cloudwatch.IWidget[] {
  const otherLevels = [...(levels ?? [])].filter(([, levelQueue]) => levelQueue !== queue);
  return [
    new cloudwatch.GraphWidget({
      title: `Queue '${name}': depth`,
      left: [
        queue.metricApproximateNumberOfMessagesVisible({ label: 'visible', statistic: 'Maximum' }),
        queue.metricApproximateNumberOfMessagesNotVisible({ label: 'in flight', statistic: 'Maximum' }),
        queue.metricApproximateNumberOfMessagesDelayed({ label: 'delayed', statistic: 'Maximum' }),
        // With priority levels, `queue` is the lowest level; each other level's waiting messages beside it.
        ...otherLevels.map(([level, levelQueue]) =>
          levelQueue.metricApproximateNumberOfMessagesVisible({ label: `visible (${level})`, statistic: 'Maximum' }),
        ),
      ],
      width: 8,
    }),
    new cloudwatch.GraphWidget({
      title: `Queue '${name}': age of oldest message (s)`,
      left: [queue.metricApproximateAgeOfOldestMessage({ label: 'oldest', statistic: 'Maximum' })],
      width: 8,
    }),
    new cloudwatch.GraphWidget({
      title: `Queue '${name}': dead-letter queue depth`,
      left: [deadLetterQueue.metricApproximateNumberOfMessagesVisible({ label: 'dead letters', statistic: 'Maximum' })],
      width: 8,
    }),
  ];
}

function lambdaWidgets(queues: ReadonlyMap<string, MonitoredQueue>): cloudwatch.IWidget[] {
  const workers = [...queues].map(([name, { worker }]) => ({ name, worker }));
  return [
    new cloudwatch.GraphWidget({
      title: 'Workers: concurrent executions',
      left: workers.map(({ name, worker }) =>
        worker.metric('ConcurrentExecutions', { statistic: 'Maximum', label: name, period: ONE_MINUTE }),
      ),
      width: 8,
    }),
    new cloudwatch.GraphWidget({
      title: 'Workers: errors',
      left: workers.map(({ name, worker }) => worker.metricErrors({ statistic: 'Sum', label: name })),
      width: 8,
    }),
    new cloudwatch.GraphWidget({
      title: 'Workers: throttles',
      left: workers.map(({ name, worker }) => worker.metricThrottles({ statistic: 'Sum', label: name })),
      width: 8,
    }),
  ];
}

function stateMachineWidget(stateMachine: sfn.IStateMachine): cloudwatch.IWidget {
  return new cloudwatch.GraphWidget({
    title: 'Long jobs: state machine executions',
    left: [
      stateMachine.metricStarted({ statistic: 'Sum', label: 'started' }),
      stateMachine.metricSucceeded({ statistic: 'Sum', label: 'succeeded' }),
      stateMachine.metricFailed({ statistic: 'Sum', label: 'failed' }),
      stateMachine.metricTimedOut({ statistic: 'Sum', label: 'timed out' }),
      stateMachine.metricAborted({ statistic: 'Sum', label: 'aborted' }),
    ],
    width: 24,
  });
}

function validateCount(label: string, options: CountAlarmOptions | undefined): void {
  if (options === undefined) return;
  const { threshold, period } = options;
  if (threshold !== undefined && !Token.isUnresolved(threshold) && (!Number.isFinite(threshold) || threshold < 1)) {
    throw new Error(`alarms.${label}.threshold must be a number ≥ 1 (given ${threshold})`);
  }
  if (period !== undefined && !period.isUnresolved()) {
    const seconds = period.toSeconds({ integral: false });
    if (!Number.isInteger(seconds) || seconds < 60 || seconds % 60 !== 0) {
      throw new Error(`alarms.${label}.period must be a whole number of minutes (given ${period.toHumanString()})`);
    }
  }
}

function validateMonitoringProps(props: JobMonitoringProps): void {
  const alarms = props.alarms ?? {};
  validateCount('deadLetterQueue', alarms.deadLetterQueue);
  validateCount('workerErrors', alarms.workerErrors);
  validateCount('workerThrottles', alarms.workerThrottles);
  validateCount('deadJobs', alarms.deadJobs);
  validateCount('stateMachineFailures', alarms.stateMachineFailures);
  validateCount('schedulerDeadLetterQueue', alarms.schedulerDeadLetterQueue);
  validateCount('lifecycleEventFailures', alarms.lifecycleEventFailures);
  validateCount('intakeDeadLetterQueue', alarms.intakeDeadLetterQueue);
  validateCount('flowFailures', alarms.flowFailures);
  const age = alarms.oldestMessageAge?.threshold;
  if (age !== undefined && !age.isUnresolved() && age.toSeconds({ integral: false }) < 60) {
    throw new Error(`alarms.oldestMessageAge.threshold must be at least 1 minute (given ${age.toHumanString()})`);
  }
  if (props.alarmEmail !== undefined && !Token.isUnresolved(props.alarmEmail) && !EMAIL_PATTERN.test(props.alarmEmail)) {
    throw new Error(`alarmEmail must be an email address (given '${props.alarmEmail}')`);
  }
  if (
    props.dashboardName !== undefined &&
    !Token.isUnresolved(props.dashboardName) &&
    !DASHBOARD_NAME_PATTERN.test(props.dashboardName)
  ) {
    throw new Error(`dashboardName must be 1..255 of A-Z a-z 0-9 _ - (given '${props.dashboardName}')`);
  }
}
