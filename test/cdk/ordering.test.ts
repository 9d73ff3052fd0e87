import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { defineJobContract, defineRegistry } from 'jobstack';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { echo } from './fixtures/contracts.js';
import { jobSystemStack } from './fixtures/stacks.js';

// Ordering per key: a logical queue carrying a job type with `ordering` becomes an SQS FIFO queue, with FIFO
// dead-letter and undeliverable queues (SQS requires a FIFO source's redrive target to be FIFO:
// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html), and
// its event source keeps to Lambda's FIFO limits (batch size ≤ 10, no batching window:
// https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-parameters.html).

const ledger = defineJobContract({
  name: 'ledger.apply',
  schema: z.object({ account: z.string() }),
  queue: 'ordered',
  retry: { maxAttempts: 4 },
  ordering: { key: (payload) => payload.account },
  schedule: { name: 'ledger-close', rate: '1 day', payload: { account: 'acct-9' } },
});
const audit = defineJobContract({ name: 'ledger.audit', schema: z.object({}), queue: 'ordered', retry: { maxAttempts: 2 } });
const ORDERED = defineRegistry(echo, ledger, audit);

function fifoQueues(template: Template) {
  return Object.entries(template.findResources('AWS::SQS::Queue', { Properties: { FifoQueue: true } }));
}

describe('JobSystem with ordered job types', () => {
  it('makes their queue, its dead-letter and undeliverable queues FIFO; other queues stay standard', () => {
    // GIVEN / WHEN
    const { stack } = jobSystemStack({ registry: ORDERED });
    const template = Template.fromStack(stack);
    // THEN
    const fifo = fifoQueues(template).map(([id]) => id);
    expect(fifo).toHaveLength(3);
    expect(fifo.some((id) => id.startsWith('JobsQueueOrdered'))).toBe(true);
    expect(fifo.some((id) => id.startsWith('JobsDeadLetterQueueOrdered'))).toBe(true);
    expect(fifo.some((id) => id.startsWith('JobsUndeliverableQueueOrdered'))).toBe(true);
    expect(fifo.some((id) => id.includes('Default'))).toBe(false);
  });

  it('gives the job queue content-based deduplication (Scheduler requires it of FIFO targets), not its dead-letter queues', () => {
    const template = Template.fromStack(jobSystemStack({ registry: ORDERED }).stack);
    const byId = Object.fromEntries(fifoQueues(template));
    const queue = Object.entries(byId).find(([id]) => id.startsWith('JobsQueueOrdered'))?.[1];
    const deadLetter = Object.entries(byId).find(([id]) => id.startsWith('JobsDeadLetterQueueOrdered'))?.[1];
    expect(queue?.Properties).toMatchObject({
      ContentBasedDeduplication: true,
      // High-throughput FIFO: the quota is per message group (per key), not per queue.
      DeduplicationScope: 'messageGroup',
      FifoThroughputLimit: 'perMessageGroupId',
    });
    expect(deadLetter?.Properties.ContentBasedDeduplication).toBe(false);
  });

  it('raises maxReceiveCount on the FIFO queue by the receives of messages held back behind failed group mates', () => {
    const template = Template.fromStack(jobSystemStack({ registry: ORDERED }).stack);
    const queue = fifoQueues(template).find(([id]) => id.startsWith('JobsQueueOrdered'))?.[1];
    // maxAttempts 4: own 4 + 2, plus 9 jobs ahead in a batch of 10 × 4 attempts.
    expect(queue?.Properties.RedrivePolicy.maxReceiveCount).toBe(4 + 2 + 9 * 4);
  });

  it('keeps the FIFO event source at batch size 10 with no batching window, with partial batch responses', () => {
    const template = Template.fromStack(jobSystemStack({ registry: ORDERED }).stack);
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'));
    const fifoMapping = mappings.find((mapping) =>
      JSON.stringify(mapping.Properties.EventSourceArn).includes('JobsQueueOrdered'),
    );
    expect(fifoMapping?.Properties).toMatchObject({ BatchSize: 10, FunctionResponseTypes: ['ReportBatchItemFailures'] });
    expect(fifoMapping?.Properties.MaximumBatchingWindowInSeconds).toBeUndefined();
  });

  it("sends a declared schedule of an ordered job type in its payload's message group", () => {
    const template = Template.fromStack(jobSystemStack({ registry: ORDERED }).stack);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'ledger-close',
      Target: Match.objectLike({ SqsParameters: { MessageGroupId: 'acct-9' } }),
    });
  });

  it('keeps the logical queue name in the outputs; only the SQS queue name ends in .fifo', () => {
    const template = Template.fromStack(jobSystemStack({ registry: ORDERED }).stack);
    template.hasOutput('QueueNames', { Value: 'default,ordered' });
    template.hasOutput('QueueUrlOrdered', { Value: { Ref: Match.stringLikeRegexp('^JobsQueueOrdered') } });
  });

  it('leaves a construct-wide batching window out of a FIFO queue that sets its own to zero', () => {
    const { stack } = jobSystemStack({
      registry: ORDERED,
      batchSize: 100,
      maxBatchingWindow: Duration.seconds(5),
      queues: { ordered: { batchSize: 10, maxBatchingWindow: Duration.seconds(0) } },
    });
    const mappings = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::EventSourceMapping'));
    const fifoMapping = mappings.find((mapping) =>
      JSON.stringify(mapping.Properties.EventSourceArn).includes('JobsQueueOrdered'),
    );
    expect(fifoMapping?.Properties.MaximumBatchingWindowInSeconds).toBeUndefined();
    expect(fifoMapping?.Properties.BatchSize).toBe(10);
  });
});

describe('JobSystem validation of FIFO queues', () => {
  it('fails if a FIFO queue gets a batch size above 10', () => {
    expect(() =>
      jobSystemStack({ registry: ORDERED, queues: { ordered: { batchSize: 20, maxBatchingWindow: Duration.seconds(0) } } }),
    ).toThrow(
      /queue 'ordered' is a FIFO queue \(it carries job types with ordering\): batchSize must be 1\.\.10 for a FIFO event source \(given 20;.*services-sqs-parameters\.html/,
    );
  });

  it('fails if a FIFO queue inherits a construct-wide batch size above 10', () => {
    expect(() => jobSystemStack({ registry: ORDERED, batchSize: 50, maxBatchingWindow: Duration.seconds(1) })).toThrow(
      /queue 'ordered' is a FIFO queue .*given 50; set queues\['ordered'\]\.batchSize/,
    );
  });

  it('fails if a FIFO queue gets a batching window', () => {
    expect(() => jobSystemStack({ registry: ORDERED, queues: { ordered: { maxBatchingWindow: Duration.seconds(2) } } })).toThrow(
      /queue 'ordered' is a FIFO queue .*takes no maxBatchingWindow \(given 2 seconds;.*services-sqs-parameters\.html/,
    );
  });
});
