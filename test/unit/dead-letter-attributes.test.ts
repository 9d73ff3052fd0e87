import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { JobQueue } from '../../shared/index.js';
import { DLQ_URL, QUEUE_URL } from '../helpers/events.js';

/**
 * What SQS accepts in a message attribute value: #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
 */
const SQS_ALLOWED = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]+$/u;

const sqs = mockClient(SQSClient);
beforeEach(() => {
  sqs.reset();
  sqs.onAnyCommand().resolves({});
});

async function sentAttributes(reason: { jobId?: string; errorName: string; errorMessage: string }) {
  await new JobQueue(new SQSClient({ region: 'us-east-1' }), QUEUE_URL, DLQ_URL).sendToDeadLetter('{}', reason);
  const input = sqs.commandCalls(SendMessageCommand)[0]?.args[0].input;
  return Object.fromEntries(Object.entries(input?.MessageAttributes ?? {}).map(([name, value]) => [name, value.StringValue]));
}

describe('dead-letter copy attributes (fault 5)', () => {
  it('replaces characters SQS refuses (control characters, lone surrogates, U+FFFE) and keeps the rest', async () => {
    const attributes = await sentAttributes({
      jobId: 'job-1',
      errorName: 'Bad\u0000Name',
      errorMessage: 'line one\nbell \u0007 escape \u001b[31m lone \ud800 nonchar \uFFFE emoji 😀 tab\tend',
    });
    for (const value of Object.values(attributes)) expect(value).toMatch(SQS_ALLOWED);
    expect(attributes['jobstack-error-name']).toBe('Bad\uFFFDName');
    expect(attributes['jobstack-error-message']).toBe(
      'line one\nbell \uFFFD escape \uFFFD[31m lone \uFFFD nonchar \uFFFD emoji 😀 tab\tend',
    );
  });

  it('bounds every value without splitting a character and never sends an empty one', async () => {
    const attributes = await sentAttributes({
      jobId: 'j'.repeat(600),
      errorName: '',
      errorMessage: '😀'.repeat(1_500),
    });
    for (const value of Object.values(attributes)) expect(value).toMatch(SQS_ALLOWED);
    expect(attributes['jobstack-error-name']).toBe('-');
    expect([...(attributes['jobstack-error-message'] ?? '')]).toHaveLength(1_000);
    expect(attributes['jobstack-job-id']?.length).toBeLessThanOrEqual(256);
  });

  it('sends a message of nothing but refused characters as replacement characters, not as an empty value', async () => {
    const attributes = await sentAttributes({ errorName: 'E', errorMessage: '\u0000\u0001' });
    expect(attributes['jobstack-error-message']).toBe('\uFFFD\uFFFD');
  });
});
