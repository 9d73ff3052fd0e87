/**
 * Lifecycle events on the emulator: the demo stack publishes them (`lifecycleEvents` with `started` and
 * `retrying`) from the job table's stream to the default bus; this test routes `source: jobstack` events
 * of its own jobs to a queue of its own with an EventBridge rule, as a consumer would, and reads them.
 * MiniStack delivers the table's stream records to the publisher through the filtered event source
 * mapping and PutEvents to rules with SQS targets (checked by hand before writing this test); its handling of
 * reported batch item failures and of the retry limit comes from cli/local/ministack-with-patches.py.
 */

import { CloudFormationClient, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import {
  DeleteRuleCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { GetFunctionConfigurationCommand, LambdaClient, UpdateFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Registry } from '../../functions/jobs/contracts.js';
import {
  type LifecycleEventDetail,
  lifecycleDetailSchemaOf,
  lifecycleEventIdempotencyKey,
} from '../../shared/events/lifecycle-events.js';
import { type JobClient, localConnection } from '../../shared/index.js';
import { connectTestClient, testEndpoint, uniqueName } from './helpers.js';

interface ReceivedEvent {
  readonly source: string;
  readonly 'detail-type': string;
  readonly detail: LifecycleEventDetail;
}

const tag = uniqueName('lifecycle');
const ruleName = tag;
let jobs: JobClient<Registry>;
let sqs: SQSClient;
let eventBridge: EventBridgeClient;
let queueUrl: string;
const received: ReceivedEvent[] = [];

beforeAll(async () => {
  jobs = await connectTestClient();
  const connection = localConnection(testEndpoint());
  sqs = new SQSClient(connection);
  eventBridge = new EventBridgeClient(connection);
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: tag }))).QueueUrl as string;
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] })))
    .Attributes?.QueueArn as string;
  // The README's example rule, narrowed to this stack and to this test's jobs.
  await eventBridge.send(
    new PutRuleCommand({
      Name: ruleName,
      EventPattern: JSON.stringify({
        source: ['jobstack'],
        'detail-type': [{ prefix: 'jobstack.job.' }],
        detail: { stack: [inject('stackName')], correlationId: [tag] },
      }),
    }),
  );
  await eventBridge.send(new PutTargetsCommand({ Rule: ruleName, Targets: [{ Id: 'queue', Arn: queueArn }] }));
});

afterAll(async () => {
  await eventBridge.send(new RemoveTargetsCommand({ Rule: ruleName, Ids: ['queue'] }));
  await eventBridge.send(new DeleteRuleCommand({ Name: ruleName }));
  await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
});

/** Reads the test queue until `done` holds for what arrived so far (or the time is up). */
async function receiveUntil(done: (events: readonly ReceivedEvent[]) => boolean, timeoutMs = 30_000): Promise<ReceivedEvent[]> {
  const until = Date.now() + timeoutMs;
  while (!done(received) && Date.now() < until) {
    const output = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    const messages = output.Messages ?? [];
    for (const message of messages) received.push(JSON.parse(message.Body ?? '{}') as ReceivedEvent);
    if (messages.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle as string })),
        }),
      );
    }
  }
  return [...received];
}

const eventsOf = (events: readonly ReceivedEvent[], jobId: string) => events.filter((event) => event.detail.jobId === jobId);

describe('lifecycle events on the emulator', () => {
  it('a job that succeeds and one that dies publish started and their terminal event, in the documented shape', async () => {
    const echo = await jobs.enqueue('demo.echo', { message: 'hello events' }, { correlationId: tag });
    const fatal = await jobs.enqueue('demo.fatal', { message: 'no way' }, { correlationId: tag });
    await Promise.all([jobs.wait(echo.jobId, { timeout: '60s' }), jobs.wait(fatal.jobId, { timeout: '60s' })]);

    const events = await receiveUntil(
      (all) =>
        eventsOf(all, echo.jobId).some((event) => event.detail.state === 'succeeded') &&
        eventsOf(all, fatal.jobId).some((event) => event.detail.state === 'dead'),
    );

    const succeeded = eventsOf(events, echo.jobId).find((event) => event['detail-type'] === 'jobstack.job.succeeded');
    expect(succeeded).toMatchObject({
      source: 'jobstack',
      detail: {
        stack: inject('stackName'),
        jobId: echo.jobId,
        type: 'demo.echo',
        queue: 'default',
        state: 'succeeded',
        attempts: 1,
        result: { message: 'hello events' },
        correlationId: tag,
      },
    });
    expect(succeeded?.detail.durationMs).toBeGreaterThanOrEqual(0);
    expect(lifecycleDetailSchemaOf('succeeded').safeParse(succeeded?.detail).success).toBe(true);

    const dead = eventsOf(events, fatal.jobId).find((event) => event['detail-type'] === 'jobstack.job.dead');
    expect(dead).toMatchObject({
      detail: { jobId: fatal.jobId, type: 'demo.fatal', state: 'dead', attempts: 1, error: { retryable: false } },
    });
    expect(dead?.detail.error?.message).toContain('no way');
    expect(lifecycleDetailSchemaOf('dead').safeParse(dead?.detail).success).toBe(true);

    // `started` is opt-in; the demo stack includes it.
    for (const jobId of [echo.jobId, fatal.jobId]) {
      expect(eventsOf(events, jobId).map((event) => event['detail-type'])).toContain('jobstack.job.started');
    }
    // Whatever was delivered more than once carries the same idempotency key; distinct events distinct keys.
    const keys = new Set(events.map((event) => lifecycleEventIdempotencyKey(event.detail)));
    expect(keys).toEqual(
      new Set([`${echo.jobId}:running:1`, `${echo.jobId}:succeeded:1`, `${fatal.jobId}:running:1`, `${fatal.jobId}:dead:1`]),
    );
  });

  it('cancelling a scheduled job publishes jobstack.job.cancelled', async () => {
    const later = await jobs.enqueue('demo.echo', { message: 'never' }, { correlationId: tag, delay: '1h' });
    await jobs.cancel(later.jobId);
    const events = await receiveUntil((all) => eventsOf(all, later.jobId).length > 0);
    expect(
      eventsOf(events, later.jobId).map((event) => [event['detail-type'], event.detail.state, event.detail.attempts]),
    ).toEqual([['jobstack.job.cancelled', 'cancelled', 0]]);
  });

  it('a record whose event EventBridge keeps refusing ends in the on-failure queue after the retry limit, and the stream moves on', async () => {
    const lambda = new LambdaClient(localConnection(testEndpoint()));
    const publisher = await stackResource('JobSystemLifecycleEventsPublisherFunction', 'AWS::Lambda::Function');
    const failureQueueUrl = await stackResource('JobSystemLifecycleEventsFailureQueue', 'AWS::SQS::Queue');
    const { Environment } = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: publisher }));
    const variables = Environment?.Variables ?? {};
    const bus = variables.JOBSTACK_EVENT_BUS as string;
    try {
      // A bus in another region: PutEvents refuses each entry (ResourceNotFoundException), as a deleted bus would.
      await lambda.send(
        new UpdateFunctionConfigurationCommand({
          FunctionName: publisher,
          Environment: { Variables: { ...variables, JOBSTACK_EVENT_BUS: bus.replace(':us-east-1:', ':eu-west-1:') } },
        }),
      );
      const refused = await jobs.enqueue('demo.echo', { message: 'refused' }, { correlationId: tag });
      await jobs.wait(refused.jobId, { timeout: '60s' });
      const until = Date.now() + 30_000;
      let failure: { requestContext?: { condition?: string }; DDBStreamBatchInfo?: { batchSize?: number } } | undefined;
      while (failure === undefined && Date.now() < until) {
        const output = await sqs.send(new ReceiveMessageCommand({ QueueUrl: failureQueueUrl, WaitTimeSeconds: 1 }));
        const body = output.Messages?.[0]?.Body;
        if (body !== undefined) failure = JSON.parse(body) as typeof failure;
      }
      expect(failure?.requestContext?.condition).toBe('RetryAttemptsExhausted');
      expect(failure?.DDBStreamBatchInfo?.batchSize).toBeGreaterThanOrEqual(1);
    } finally {
      await lambda.send(
        new UpdateFunctionConfigurationCommand({ FunctionName: publisher, Environment: { Variables: variables } }),
      );
      await sqs.send(new PurgeQueueCommand({ QueueUrl: failureQueueUrl }));
    }
    // The stream moved on: the next job's events arrive.
    const after = await jobs.enqueue('demo.echo', { message: 'after' }, { correlationId: tag });
    await jobs.wait(after.jobId, { timeout: '60s' });
    const events = await receiveUntil((all) => eventsOf(all, after.jobId).some((event) => event.detail.state === 'succeeded'));
    expect(eventsOf(events, after.jobId).map((event) => event.detail.state)).toContain('succeeded');
  });
});

/** The physical id of the stack's resource whose logical id starts with `logicalIdPrefix` (ListStackResources pages). */
async function stackResource(logicalIdPrefix: string, type: string): Promise<string> {
  const cloudFormation = new CloudFormationClient(localConnection(testEndpoint()));
  let nextToken: string | undefined;
  do {
    const page = await cloudFormation.send(
      new ListStackResourcesCommand({ StackName: inject('stackName'), NextToken: nextToken }),
    );
    const found = (page.StackResourceSummaries ?? []).find(
      (resource) => resource.ResourceType === type && resource.LogicalResourceId?.startsWith(logicalIdPrefix),
    );
    if (found?.PhysicalResourceId) return found.PhysicalResourceId;
    nextToken = page.NextToken;
  } while (nextToken);
  throw new Error(`stack has no ${type} ${logicalIdPrefix}*`);
}
