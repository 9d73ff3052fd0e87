import { randomUUID } from 'node:crypto';
import type { Message } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent } from 'aws-lambda';

/** A Lambda context whose deadline is `timeoutMs` from now, as the runtime passes to a handler. */
export function lambdaContext(timeoutMs: number, memoryMb = 512): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'bench-worker',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:bench-worker',
    memoryLimitInMB: String(memoryMb),
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/bench-worker',
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** The event the SQS event source mapping builds from received messages. */
export function sqsEventFrom(messages: readonly Message[], queueArn: string): SQSEvent {
  return {
    Records: messages.map((m) => ({
      messageId: m.MessageId ?? randomUUID(),
      receiptHandle: m.ReceiptHandle ?? '',
      body: m.Body ?? '',
      attributes: {
        ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
        SentTimestamp: m.Attributes?.SentTimestamp ?? String(Date.now()),
        SenderId: m.Attributes?.SenderId ?? 'bench',
        ApproximateFirstReceiveTimestamp: m.Attributes?.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: m.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: queueArn,
      awsRegion: 'us-east-1',
    })),
  };
}

/**
 * Counts the bytes written to stdout and stderr while `work` runs and swallows
 * them: the Powertools Logger writes its JSON lines there (warnings and errors
 * to stderr), Lambda ships both to CloudWatch Logs, which bills by the byte.
 */
export async function captureOutput<T>(work: () => Promise<T>): Promise<{ result: T; bytes: number }> {
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((stream) => stream.write);
  let bytes = 0;
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array) => {
      bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
      return true;
    }) as typeof stream.write;
  }
  try {
    return { result: await work(), bytes };
  } finally {
    streams.forEach((stream, i) => {
      stream.write = originals[i] as typeof stream.write;
    });
  }
}
