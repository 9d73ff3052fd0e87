import { type CfnElement, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { EventIntakeEnv } from '../functions/event-intake/environment.js';
import { ConfigurationError } from '../shared/errors.js';
import type { JobRegistry } from '../shared/job-definition.js';
import { ENQUEUE_EVENT_DETAIL_TYPE } from '../shared/triggers/enqueue-event.js';
import { intakeInputTemplate } from '../shared/triggers/intake-message.js';
import { eventPatternOf } from '../shared/triggers/trigger.js';
import { type FunctionBundling, JobstackFunction } from './jobstack-function.js';

/** How a job system takes jobs from EventBridge events (`JobSystemProps.eventIntake`). */
export interface EventIntakeOptions {
  /**
   * Enqueue a job for every `jobstack.enqueue` event on the bus (any language enqueues with
   * `PutEvents`). Triggered job types (`defineJob({ trigger })`) get their rules either way.
   * @default true
   */
  readonly enqueueEvents?: boolean;
  /**
   * Take `jobstack.enqueue` events only from these sources: set it when several job systems share a
   * bus, so each takes only the events meant for it (an event for a type it does not have would end
   * as a dead record naming the type).
   * @default - from any source
   */
  readonly enqueueEventSources?: readonly string[];
}

/** One job type's trigger, as the stack creates its rule. */
export interface PlannedTrigger {
  readonly jobType: string;
  /** The rule's event pattern, in EventBridge's JSON syntax. */
  readonly pattern: Readonly<Record<string, unknown>>;
}

export interface EventIntakeProps extends EventIntakeOptions, FunctionBundling {
  /** The bus the rules listen on. */
  readonly eventBus: events.IEventBus;
  /** The intake function's generated entry (it bundles the handler registry, for the triggers' payload functions). */
  readonly entry: string;
  /** The rules of triggered job types. */
  readonly triggers: readonly PlannedTrigger[];
  /** The function's environment beyond the intake's own (the client configuration, the record retention). */
  readonly environment: Readonly<Record<string, string>>;
}

/** Receives before a message that keeps failing (DynamoDB or SQS down) moves to the intake dead-letter queue. */
const INTAKE_MAX_RECEIVE_COUNT = 5;
const INTAKE_FUNCTION_TIMEOUT = Duration.seconds(60);
const MESSAGE_RETENTION = Duration.days(14);
/** SQS's largest message, set explicitly like every jobstack queue (an event is at most 256 KB). */
const MAX_MESSAGE_SIZE_BYTES = 1_048_576;

/**
 * The triggers of a registry's job types, for the stack.
 */
export function planTriggers(registry: JobRegistry): PlannedTrigger[] {
  return Object.values(registry)
    .filter((job) => job.trigger !== undefined)
    .map((job) => ({ jobType: job.name, pattern: eventPatternOf(job.trigger as NonNullable<typeof job.trigger>) }))
    .sort((a, b) => a.jobType.localeCompare(b.jobType));
}

/**
 * Jobs started by EventBridge events: rules on the job system's bus (one for
 * `jobstack.enqueue` events, one per triggered job type) send to one SQS intake
 * queue, whose function enqueues through the client SDK. The queue's policy lets
 * each rule send and nothing else (CDK's `SqsQueue` target adds a statement for
 * `events.amazonaws.com` conditioned on the rule's ARN). A message the function
 * keeps failing on moves to the dead-letter queue after 5 receives; so do events
 * EventBridge could not deliver to the queue (the targets' dead-letter queue).
 */
export class EventIntake extends Construct {
  /** The queue the rules send events to. */
  public readonly queue: sqs.Queue;
  /** Messages the function could not handle and events EventBridge could not deliver. */
  public readonly deadLetterQueue: sqs.Queue;
  /** The function that turns events into jobs. */
  public readonly function: NodejsFunction;
  /** The `jobstack.enqueue` rule, when `enqueueEvents` is on. */
  public readonly enqueueRule?: events.Rule;
  /** The rule of each triggered job type, by job type. */
  public readonly triggerRules: ReadonlyMap<string, events.Rule>;

  constructor(scope: Construct, id: string, props: EventIntakeProps) {
    super(scope, id);
    validateIntakeProps(props);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: MESSAGE_RETENTION,
      maxMessageSizeBytes: MAX_MESSAGE_SIZE_BYTES,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: MESSAGE_RETENTION,
      maxMessageSizeBytes: MAX_MESSAGE_SIZE_BYTES,
      // AWS's rule for SQS event sources: at least six times the function timeout.
      visibilityTimeout: Duration.seconds(INTAKE_FUNCTION_TIMEOUT.toSeconds() * 6),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: INTAKE_MAX_RECEIVE_COUNT },
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This is the dead-letter queue of the intake queue and of the rules targeting it.',
    });

    this.function = new JobstackFunction(this, 'Function', {
      entry: props.entry,
      ...(props.depsLockFilePath === undefined ? {} : { depsLockFilePath: props.depsLockFilePath }),
      ...(props.bundling === undefined ? {} : { bundling: props.bundling }),
      description: 'jobstack: enqueues jobs from EventBridge events (jobstack.enqueue and job triggers)',
      timeout: INTAKE_FUNCTION_TIMEOUT,
      memorySize: 512,
      serviceName: 'jobstack-event-intake',
      environment: {
        ...props.environment,
        [EventIntakeEnv.queueUrl]: this.queue.queueUrl,
        [EventIntakeEnv.deadLetterQueueUrl]: this.deadLetterQueue.queueUrl,
      },
    }).function;
    this.function.addEventSource(new SqsEventSource(this.queue, { batchSize: 10, reportBatchItemFailures: true }));
    this.deadLetterQueue.grantSendMessages(this.function);

    if (props.enqueueEvents !== false) {
      this.enqueueRule = new events.Rule(this, 'EnqueueRule', {
        eventBus: props.eventBus,
        description: `jobstack: ${ENQUEUE_EVENT_DETAIL_TYPE} events enqueue jobs`,
        eventPattern: {
          detailType: [ENQUEUE_EVENT_DETAIL_TYPE],
          ...(props.enqueueEventSources === undefined ? {} : { source: [...props.enqueueEventSources] }),
        },
        targets: [this.target({ kind: 'enqueue' })],
      });
    }
    const triggerRules = new Map<string, events.Rule>();
    for (const trigger of props.triggers) {
      // CDK renders its EventPattern key by key as given, renaming only `detailType` to `detail-type`.
      const { 'detail-type': detailType, ...rest } = trigger.pattern;
      const rule = new events.Rule(this, `Trigger-${trigger.jobType}`, {
        eventBus: props.eventBus,
        description: `jobstack: matching events start job type '${trigger.jobType}'`,
        eventPattern: { ...rest, detailType } as events.EventPattern,
        targets: [this.target({ kind: 'trigger', jobType: trigger.jobType })],
      });
      triggerRules.set(trigger.jobType, rule);
    }
    this.triggerRules = triggerRules;
  }

  /** Lets `grantee` send events to the intake queue directly (tests, tools that skip EventBridge). */
  public grantSendEvents(grantee: iam.IGrantable): iam.Grant {
    return this.queue.grantSendMessages(grantee);
  }

  private target(rule: Parameters<typeof intakeInputTemplate>[0]): events.IRuleTarget {
    return new targets.SqsQueue(this.queue, {
      message: new IntakeTargetInput(intakeInputTemplate(rule)),
      // Events EventBridge could not deliver to the queue (after its own retries for 24 hours) are kept here.
      deadLetterQueue: this.deadLetterQueue,
    });
  }
}

/**
 * The rule target's input: the intake message around the whole event (`<aws.events.event.json>`), a
 * predefined variable CDK's `RuleTargetInput.fromObject` cannot express.
 */
class IntakeTargetInput extends events.RuleTargetInput {
  constructor(private readonly template: string) {
    super();
  }

  public bind(): events.RuleTargetInputProperties {
    return { inputTemplate: this.template };
  }
}

function validateIntakeProps(props: EventIntakeProps): void {
  if (props.enqueueEventSources !== undefined) {
    const sources = props.enqueueEventSources;
    if (
      sources.length === 0 ||
      sources.some((source) => typeof source !== 'string' || source.length === 0 || source.length > 256)
    ) {
      throw new ConfigurationError(
        `eventIntake.enqueueEventSources must be a non-empty list of 1..256-character sources (given ${JSON.stringify(sources)})`,
      );
    }
  }
  if (props.enqueueEvents === false && props.enqueueEventSources !== undefined) {
    throw new ConfigurationError(
      `eventIntake.enqueueEventSources is set (given ${JSON.stringify(props.enqueueEventSources)}) but enqueueEvents is false`,
    );
  }
}

/**
 * cdk-nag acknowledgements of the two wildcards `grantEnqueue` gives a jobstack function of the
 * construct's own (the intake): one-time schedules in the job system's schedule group (delays over
 * 15 minutes), and stopping executions of the long-job state machine (cancel).
 */
export function acknowledgeEnqueueTimeGrants(
  role: iam.IRole,
  scheduleGroup: scheduler.CfnScheduleGroup,
  stateMachine: sfn.IStateMachine | undefined,
): void {
  const stack = Stack.of(role);
  const region = nagPart(stack.region, 'AWS::Region');
  const account = nagPart(stack.account, 'AWS::AccountId');
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:${region}:${account}:schedule/<${stack.getLogicalId(scheduleGroup)}>/*]`,
    reason:
      "A delay over 15 minutes is a one-time schedule named by job id in the job system's own schedule group; " +
      'the grant covers exactly that group.',
  });
  if (stateMachine === undefined) return;
  const machineId = stack.getLogicalId(stateMachine.node.defaultChild as CfnElement);
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${region}:${account}:execution:<${machineId}.Name>:*]`,
    reason: "Cancelling a long job stops its execution, named by job id, of the job system's own state machine only.",
  });
}

/** How cdk-nag writes one part of an ARN: its value, or `<AWS::Region>`-style for an environment-agnostic stack. */
function nagPart(value: string, pseudoParameter: string): string {
  return Token.isUnresolved(value) ? `<${pseudoParameter}>` : value;
}
