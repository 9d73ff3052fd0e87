import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { registry } from '../../functions/jobs/contracts.js';
import { JobStore, redriveDeadLetters } from '../../shared/index.js';
import { claimedRecord, envelopeBody } from '../helpers/events.js';

const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const sqsClient = new SQSClient({ region: 'us-east-1' });
const dynamo = mockClient(documentClient);
const sqs = mockClient(sqsClient);
const urls = { url: 'https://sqs/jobs', deadLetterUrl: 'https://sqs/jobs-dlq' };
const deps = { sqs: sqsClient, store: new JobStore(documentClient, 'jobs'), registry };

function deadLetter(jobId: string, errorName = 'Error') {
  return {
    MessageId: `m-${jobId}`,
    ReceiptHandle: `r-${jobId}`,
    Body: envelopeBody('demo.fail', {}, jobId),
    MessageAttributes: { 'jobstack-error-name': { DataType: 'String', StringValue: errorName } },
  };
}

function jobsInState(states: Record<string, string>) {
  dynamo.on(GetCommand).callsFake((input: { Key: { id: string } }) => {
    const state = states[input.Key.id];
    return state ? { Item: claimedRecord({ id: input.Key.id, type: 'demo.fail', state: state as never, attempts: 3 }) } : {};
  });
}

beforeEach(() => {
  dynamo.reset();
  sqs.reset();
  dynamo.onAnyCommand().resolves({});
  sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
  sqs.on(DeleteMessageBatchCommand).resolves({});
});

describe('redriveDeadLetters', () => {
  it('requeues each dead job, sends its message back, and only then deletes it from the DLQ', async () => {
    jobsInState({ a: 'dead', b: 'dead' });
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [deadLetter('a'), deadLetter('b')] })
      .resolves({ Messages: [] });

    expect(await redriveDeadLetters(deps, urls)).toEqual({ moved: 2, discarded: 0, leftInPlace: 0 });
    expect(dynamo).toHaveReceivedCommandTimes(UpdateCommand, 2);
    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { id: 'a' },
      ExpressionAttributeValues: expect.objectContaining({ ':queued': 'queued', ':maxAttempts': 6 }),
    });
    expect(sqs).toHaveReceivedCommandWith(SendMessageBatchCommand, { QueueUrl: urls.url });
    expect(sqs).toHaveReceivedCommandWith(DeleteMessageBatchCommand, { QueueUrl: urls.deadLetterUrl });
    const order = sqs.calls().map((call) => (call.args[0] as object).constructor.name);
    expect(order.indexOf('SendMessageBatchCommand')).toBeLessThan(order.indexOf('DeleteMessageBatchCommand'));
  });

  it('keeps a message in the DLQ when its send fails (interrupted redrive loses nothing)', async () => {
    jobsInState({ a: 'dead' });
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [deadLetter('a')] })
      .resolves({ Messages: [] });
    sqs.on(SendMessageBatchCommand).rejects(new Error('network down'));
    await expect(redriveDeadLetters(deps, urls)).rejects.toThrow('network down');
    expect(sqs).not.toHaveReceivedCommand(DeleteMessageBatchCommand);
  });

  it('on a second run after an interruption, sends again for a requeued job and discards copies of finished ones', async () => {
    // 'a' was requeued by the interrupted run but maybe not sent; 'b' has since succeeded.
    jobsInState({ a: 'queued', b: 'succeeded' });
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [deadLetter('a'), deadLetter('b')] })
      .resolves({ Messages: [] });

    expect(await redriveDeadLetters(deps, urls)).toEqual({ moved: 1, discarded: 1, leftInPlace: 0 });
    const sent = sqs.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.Entries ?? [];
    expect(sent.map((entry) => JSON.parse(entry.MessageBody ?? '{}').id)).toEqual(['a']);
    const deleted = sqs.commandCalls(DeleteMessageBatchCommand)[0]?.args[0].input.Entries ?? [];
    expect(deleted.map((entry) => entry.ReceiptHandle)).toEqual(['r-a', 'r-b']);
  });

  it('moves only the dead letters of the named error', async () => {
    jobsInState({ a: 'dead', b: 'dead' });
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [deadLetter('a', 'JobTimeoutError'), deadLetter('b', 'Error')] })
      .resolves({ Messages: [] });
    expect(await redriveDeadLetters(deps, urls, { errorName: 'JobTimeoutError' })).toEqual({
      moved: 1,
      discarded: 0,
      leftInPlace: 1,
    });
  });

  it("sends back on FIFO queues in the group of the record's ordering key, with a deduplication id per dead letter", async () => {
    // The worker's dead-letter copy is grouped by job id; the way back uses the record's ordering key.
    const dead = claimedRecord({ id: 'a', type: 'demo.fail', state: 'dead', attempts: 3, orderingKey: 'tenant-7' });
    dynamo.on(GetCommand).resolves({ Item: dead });
    dynamo.on(UpdateCommand).resolves({ Attributes: { ...dead, state: 'queued' } });
    const message = { ...deadLetter('a'), Attributes: { MessageGroupId: 'a' } };
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [message] })
      .resolves({ Messages: [] });
    await redriveDeadLetters(deps, { url: 'https://sqs/jobs.fifo', deadLetterUrl: 'https://sqs/jobs-dlq.fifo' });
    expect(sqs).toHaveReceivedCommandWith(SendMessageBatchCommand, {
      Entries: [expect.objectContaining({ MessageGroupId: 'tenant-7', MessageDeduplicationId: 'redrive-m-a' })],
    });
  });

  it('sends a job without ordering back to a FIFO queue in a group of its own (its id)', async () => {
    jobsInState({ a: 'dead' });
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [{ ...deadLetter('a'), Attributes: { MessageGroupId: 'a' } }] })
      .resolves({ Messages: [] });
    await redriveDeadLetters(deps, { url: 'https://sqs/jobs.fifo', deadLetterUrl: 'https://sqs/jobs-dlq.fifo' });
    expect(sqs).toHaveReceivedCommandWith(SendMessageBatchCommand, {
      Entries: [expect.objectContaining({ MessageGroupId: 'a', MessageDeduplicationId: 'redrive-m-a' })],
    });
  });

  it('stops at the limit', async () => {
    jobsInState({ a: 'dead', b: 'dead', c: 'dead' });
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [deadLetter('a')] })
      .resolves({ Messages: [deadLetter('b')] });
    expect((await redriveDeadLetters(deps, urls, { limit: 1 })).moved).toBe(1);
    expect(sqs).toHaveReceivedCommandTimes(ReceiveMessageCommand, 1);
  });
});
