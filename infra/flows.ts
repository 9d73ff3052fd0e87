import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FlowCoordinatorEnv } from '../functions/flow-coordinator/environment.js';
import { FunctionEnv } from '../shared/config.js';
import { type FunctionBundling, JobstackFunction } from './jobstack-function.js';

/** One logical queue as the flow coordinator sends to it. */
export interface FlowQueue {
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  /** A prioritized queue's level queues by level name. */
  readonly levels?: ReadonlyMap<string, sqs.IQueue>;
}

export interface JobFlowsProps extends FunctionBundling {
  /** The job table; its stream (new and old images) feeds the coordinator. */
  readonly jobsTable: dynamodb.ITable;
  readonly queues: ReadonlyMap<string, FlowQueue>;
  /** The generated entry of the coordinator's handler. */
  readonly entry: string;
  readonly recordRetention: Duration;
}

/**
 * Attempts of a failing stream batch before its records are set aside in
 * `failures` (bisected first, so one bad record does not hold back the rest).
 * Every step of the coordinator is idempotent, so a retried batch is safe.
 */
export const FLOW_STREAM_RETRY_ATTEMPTS = 10;

/**
 * The flow coordinator: a Lambda function on the job table's stream that sends
 * the messages of jobs flows create (follow-ups, children, batch callbacks) and
 * of parents queued again, counts batch members and completes batches
 * (functions/flow-coordinator/). The event source mapping only passes records
 * of jobs that take part in a flow (filter criteria on the new image), so a
 * plain job costs no invocation: records filtered out are not billed
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html).
 */
export class JobFlows extends Construct {
  public readonly coordinator: NodejsFunction;
  /** Stream records the coordinator failed on after every retry (their metadata: shard and sequence numbers). */
  public readonly failures: sqs.Queue;

  constructor(scope: Construct, id: string, props: JobFlowsProps) {
    super(scope, id);
    const { jobsTable, queues } = props;
    if (jobsTable.tableStreamArn === undefined) {
      throw new Error('JobFlows needs the job table with its stream (NEW_AND_OLD_IMAGES)');
    }
    this.coordinator = new JobstackFunction(this, 'Coordinator', {
      entry: props.entry,
      depsLockFilePath: props.depsLockFilePath,
      bundling: props.bundling,
      description: 'jobstack: sends the jobs flows create, counts batch members and completes batches',
      timeout: Duration.minutes(1),
      memorySize: 256,
      serviceName: 'jobstack-flow-coordinator',
      environment: {
        [FunctionEnv.jobsTable]: jobsTable.tableName,
        [FunctionEnv.recordRetentionDays]: String(props.recordRetention.toDays({ integral: false })),
        [FlowCoordinatorEnv.queues]: Stack.of(this).toJsonString(
          Object.fromEntries(
            [...queues].map(([name, { queue, deadLetterQueue, levels }]) => [
              name,
              {
                url: queue.queueUrl,
                deadLetterUrl: deadLetterQueue.queueUrl,
                ...(levels === undefined ? {} : { levels: [...levels].map(([level, q]) => ({ name: level, url: q.queueUrl })) }),
              },
            ]),
          ),
        ),
      },
    }).function;
    this.failures = new sqs.Queue(this, 'Failures', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      maxMessageSizeBytes: 1_048_576,
    });
    Validations.of(this.failures).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself where failed stream records end up (the event source mapping on-failure destination).',
    });
    const newImageHas = (attribute: string) =>
      lambda.FilterCriteria.filter({ dynamodb: { NewImage: { [attribute]: { S: lambda.FilterRule.exists() } } } });
    this.coordinator.addEventSource(
      new DynamoEventSource(jobsTable, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        maxBatchingWindow: Duration.seconds(0),
        bisectBatchOnError: true,
        retryAttempts: FLOW_STREAM_RETRY_ATTEMPTS,
        onFailure: new SqsDlq(this.failures),
        // Members, children and callbacks; follow-ups; a parent's resume (it keeps `waitingFor`).
        filters: ['batchId', 'enqueuedBy', 'callbackOf', 'waitingFor'].map(newImageHas),
      }),
    );
    jobsTable.grantReadWriteData(this.coordinator);
    jobsTable.grantStreamRead(this.coordinator);
    for (const { queue, levels } of queues.values()) {
      queue.grantSendMessages(this.coordinator);
      for (const level of levels?.values() ?? []) level.grantSendMessages(this.coordinator);
    }
  }
}
