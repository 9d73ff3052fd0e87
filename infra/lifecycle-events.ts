import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EventPublisherEnv } from '../functions/event-publisher/environment.js';
import { LIFECYCLE_EVENT_STATE, type LifecycleEventName, TERMINAL_LIFECYCLE_STATES } from '../shared/events/lifecycle-events.js';
import { type FunctionBundling, JobstackFunction } from './jobstack-function.js';

/** Properties of a {@link LifecycleEvents}. */
export interface LifecycleEventsProps extends FunctionBundling {
  /** The job table; its stream (`NEW_AND_OLD_IMAGES`) is what the publisher reads. */
  readonly jobsTable: dynamodb.ITable;
  /** Where the events go. */
  readonly eventBus: events.IEventBus;
  /** The lifecycle events to publish (the terminal ones, plus `started` / `retrying` when asked for). */
  readonly events: readonly LifecycleEventName[];
  /** The generated Lambda entry of the publisher. */
  readonly entry: string;
}

/** Stream records per invocation: one PutEvents request carries 10 entries, so one invocation sends up to 10. */
const BATCH_SIZE = 100;
/** How long Lambda gathers records before invoking: fewer, fuller invocations for a second of latency. */
const BATCHING_WINDOW = Duration.seconds(1);
/** Retries of a failing batch (bisected on each error) before its records go to the on-failure queue. */
const RETRY_ATTEMPTS = 5;
/** Records older than this go to the on-failure queue instead of being retried (the stream keeps 24 hours). */
const MAX_RECORD_AGE = Duration.hours(6);

/**
 * Publishes job lifecycle events (`jobstack.job.*`, source `jobstack`) to an EventBridge bus from
 * the job table's stream, off the worker's path.
 *
 * A publisher function reads the stream through an event source mapping whose filters pass only
 * state changes into the published states, reports failed records (`ReportBatchItemFailures`),
 * bisects a failing batch, retries it a bounded number of times and then sends the records'
 * description to `failureQueue`, so a record that cannot be published never holds its shard. The
 * function may put events to the bus and nothing else.
 */
export class LifecycleEvents extends Construct {
  /** The publisher function. */
  public readonly publisher: NodejsFunction;
  /** Where the event source mapping sends the description of stream records it gave up on (alarmed). */
  public readonly failureQueue: sqs.Queue;
  /** The stream event source mapping of the publisher. */
  public readonly eventSource: DynamoEventSource;

  constructor(scope: Construct, id: string, props: LifecycleEventsProps) {
    super(scope, id);
    this.failureQueue = new sqs.Queue(this, 'FailureQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.failureQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: "This queue is itself the on-failure destination of the lifecycle-event publisher's stream; an alarm watches it.",
    });

    const fn = new JobstackFunction(this, 'Publisher', {
      entry: props.entry,
      depsLockFilePath: props.depsLockFilePath,
      ...(props.bundling === undefined ? {} : { bundling: props.bundling }),
      description: 'jobstack: publishes job lifecycle events from the job table stream to EventBridge',
      timeout: Duration.seconds(60),
      memorySize: 256,
      serviceName: 'jobstack-event-publisher',
      environment: {
        [EventPublisherEnv.eventBus]: props.eventBus.eventBusArn,
        [EventPublisherEnv.events]: props.events.join(','),
        [EventPublisherEnv.stackName]: Stack.of(this).stackName,
      },
    });
    this.publisher = fn.function;
    props.eventBus.grantPutEventsTo(this.publisher);

    this.eventSource = new DynamoEventSource(props.jobsTable, {
      // Events from the moment the mapping exists: turning events on later does not replay a day of history.
      startingPosition: lambda.StartingPosition.LATEST,
      batchSize: BATCH_SIZE,
      maxBatchingWindow: BATCHING_WINDOW,
      reportBatchItemFailures: true,
      bisectBatchOnError: true,
      retryAttempts: RETRY_ATTEMPTS,
      maxRecordAge: MAX_RECORD_AGE,
      onFailure: new SqsDlq(this.failureQueue),
      filters: lifecycleEventFilters(props.events),
    });
    this.publisher.addEventSource(this.eventSource);
    Validations.of(fn.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray tracing and dynamodb:ListStreams (which CDK grants for a stream event source) support no ' +
        'resource-level permissions.',
    });
  }
}

/**
 * The event source filters (Lambda event filtering, EventBridge pattern syntax) that pass a stream
 * record only when it moves a job into a published state: a change that leaves the state as it was
 * (progress, heartbeats, lease renewals, TTL deletions) never invokes the publisher. At most four
 * filters, within Lambda's default quota of five per mapping
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html):
 * one for the terminal states (no terminal state moves to another), one each for `running` and
 * `retrying`, and one for records created directly in a published state (no old image).
 */
export function lifecycleEventFilters(published: readonly LifecycleEventName[]): Record<string, unknown>[] {
  const states = published.map((name) => LIFECYCLE_EVENT_STATE[name]);
  const terminal = states.filter((state) => (TERMINAL_LIFECYCLE_STATES as readonly string[]).includes(state));
  const groups = [terminal, ...states.filter((state) => !terminal.includes(state as (typeof terminal)[number])).map((s) => [s])];
  const filters = groups
    .filter((group) => group.length > 0)
    .map((group) =>
      lambda.FilterCriteria.filter({
        eventName: lambda.FilterRule.isEqual('MODIFY'),
        dynamodb: {
          NewImage: { state: { S: [...group] } },
          OldImage: { state: { S: [{ 'anything-but': [...group] }] } },
        },
      }),
    );
  filters.push(
    lambda.FilterCriteria.filter({
      eventName: lambda.FilterRule.isEqual('INSERT'),
      dynamodb: { NewImage: { state: { S: [...states] } } },
    }),
  );
  return filters;
}
