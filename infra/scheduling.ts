import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { PlannedSchedule } from '../shared/scheduling/declared.js';
import { recurringEnvelopeTemplate, SCHEDULE_RETRY_POLICY, ScheduleOwner } from '../shared/scheduling/job-scheduler.js';

/** Properties of a {@link JobScheduling}. */
export interface JobSchedulingProps {
  /** The job queues by logical name: the only targets the Scheduler role may send to. */
  readonly queues: ReadonlyMap<string, sqs.IQueue>;
  /** More queues schedules may send to: the priority levels of queues with `priorities` (delayed jobs). */
  readonly levelQueues?: readonly sqs.IQueue[];
  /** The queue a job type's recurring schedules target when not its logical queue's (its contract's priority level). */
  readonly targetOf?: (jobType: string) => sqs.IQueue | undefined;

  /**
   * Recurring schedules to create, one EventBridge Scheduler schedule each. Build
   * them from the registry with `planSchedules(registry)`.
   *
   * @default - none
   */
  readonly schedules?: readonly PlannedSchedule[];
}

/**
 * EventBridge Scheduler for a job system: a schedule group for the one-time
 * schedules of delayed jobs and for recurring schedules, the role Scheduler
 * assumes (it may send only to the job queues and to its own dead-letter
 * queue), that dead-letter queue, and one schedule per declared recurrence.
 *
 * Each recurring fire sends a job envelope whose id Scheduler fills in from the
 * fire's due time (`<aws.scheduler.scheduled-time>`), so a repeated fire is the
 * same job; the worker creates its record on first sight.
 *
 * @example
 * const scheduling = new JobScheduling(this, 'Scheduling', {
 *   queues: new Map([['default', queue]]),
 *   schedules: planSchedules(registry),
 * });
 * scheduling.grantSchedule(apiFunction);
 */
export class JobScheduling extends Construct {
  /** The schedule group; its name is what the client creates one-time schedules in. */
  public readonly group: scheduler.CfnScheduleGroup;
  /** Name of the schedule group. */
  public readonly groupName: string;
  /** Role EventBridge Scheduler assumes to deliver fires. */
  public readonly role: iam.Role;
  /** Fires Scheduler could not deliver after its retries. */
  public readonly deadLetterQueue: sqs.Queue;
  /** The recurring schedules, by name. */
  public readonly schedules: ReadonlyMap<string, scheduler.CfnSchedule>;

  constructor(scope: Construct, id: string, props: JobSchedulingProps) {
    super(scope, id);
    if (props.queues.size === 0) throw new Error('queues must hold at least one queue (given none)');
    const stack = Stack.of(this);

    this.group = new scheduler.CfnScheduleGroup(this, 'Group', {});
    this.groupName = this.group.ref;

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      // SQS's largest message, like the job queues: a fire carries a whole job envelope.
      maxMessageSizeBytes: 1_048_576,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the schedules; an alarm watches it.',
    });

    this.role = new iam.Role(this, 'SchedulerRole', {
      description: 'jobstack: EventBridge Scheduler sends delayed and recurring jobs to the job queues',
      // Only Scheduler, only for this account's schedule group: no confused deputy. Scheduler sets
      // aws:SourceArn to the schedule GROUP's ARN, so a schedule ARN or a `schedule/<group>/*` pattern never
      // matches and every fire would fail to assume the role. AWS's rule, pinned in test/cdk/aws-rules.test.ts:
      // https://docs.aws.amazon.com/scheduler/latest/UserGuide/cross-service-confused-deputy-prevention.html
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnEquals: { 'aws:SourceArn': this.group.attrArn },
        },
      }),
    });
    // sqs:SendMessage on the job queues and the DLQ, nothing else.
    for (const queue of [...props.queues.values(), ...(props.levelQueues ?? [])]) queue.grantSendMessages(this.role);
    this.deadLetterQueue.grantSendMessages(this.role);

    const schedules = new Map<string, scheduler.CfnSchedule>();
    for (const planned of props.schedules ?? []) {
      const queue = props.targetOf?.(planned.jobType) ?? props.queues.get(planned.queue);
      if (!queue) {
        throw new Error(
          `schedule '${planned.name}' enqueues '${planned.jobType}' to queue '${planned.queue}', which is not a job queue`,
        );
      }
      if (schedules.has(planned.name)) throw new Error(`schedule names must be unique (given '${planned.name}' twice)`);
      schedules.set(
        planned.name,
        new scheduler.CfnSchedule(this, `Schedule-${planned.name}`, {
          name: planned.name,
          groupName: this.groupName,
          description: ScheduleOwner.stack,
          scheduleExpression: planned.expression,
          scheduleExpressionTimezone: planned.timezone,
          flexibleTimeWindow: { mode: 'OFF' },
          state: 'ENABLED',
          target: {
            arn: queue.queueArn,
            roleArn: this.role.roleArn,
            input: recurringEnvelopeTemplate(planned.name, planned.jobType, planned.payload),
            // A FIFO queue (ordered job types) needs a message group: the payload's ordering key, else the schedule.
            ...(queue.fifo ? { sqsParameters: { messageGroupId: planned.messageGroupId ?? planned.name } } : {}),
            deadLetterConfig: { arn: this.deadLetterQueue.queueArn },
            retryPolicy: {
              maximumEventAgeInSeconds: SCHEDULE_RETRY_POLICY.MaximumEventAgeInSeconds,
              maximumRetryAttempts: SCHEDULE_RETRY_POLICY.MaximumRetryAttempts,
            },
          },
        }),
      );
    }
    this.schedules = schedules;
  }

  /**
   * Lets `grantee` delay jobs beyond 15 minutes, cancel them, and manage
   * runtime schedules (the client SDK's `enqueue` with a long delay, `cancel`,
   * `schedule`, `unschedule`, `listSchedules`).
   *
   * Actions: `scheduler:CreateSchedule`, `scheduler:GetSchedule`,
   * `scheduler:DeleteSchedule` on the schedules of this group;
   * `scheduler:ListSchedules` (no resource-level permissions exist for it);
   * `iam:PassRole` of the Scheduler role, to Scheduler only.
   */
  public grantSchedule(grantee: iam.IGrantable): void {
    const stack = Stack.of(this);
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['scheduler:CreateSchedule', 'scheduler:GetSchedule', 'scheduler:DeleteSchedule'],
      resourceArns: [stack.formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${this.groupName}/*` })],
    });
    iam.Grant.addToPrincipal({ grantee, actions: ['scheduler:ListSchedules'], resourceArns: ['*'] });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['iam:PassRole'],
      resourceArns: [this.role.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    });
  }
}
