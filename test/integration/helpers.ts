import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ChangeMessageVisibilityCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { type Registry, registry } from '../../functions/jobs/contracts.js';
import { DEMO_LEDGER_OUTPUT } from '../../infra/jobstack-stack.js';
import { connectJobClient, type JobClient, localConnection } from '../../shared/index.js';
import { stackOutput } from '../soak/stack-controls.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../bin/jobstack.js', import.meta.url));

export function testEndpoint(): string {
  return inject('endpoint');
}

export function connectTestClient(): Promise<JobClient<Registry>> {
  return connectJobClient({ registry, stackName: inject('stackName'), aws: localConnection(testEndpoint()) });
}

/** A name no other test (or earlier run) uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** The demo stack's ledger table (an output of the demo stack, not of the JobSystem construct). */
export function demoLedgerTable(): Promise<string> {
  return stackOutput(localConnection(testEndpoint()), inject('stackName'), DEMO_LEDGER_OUTPUT);
}

export async function ledgerCount(tableName: string, key: string): Promise<number> {
  const client = DynamoDBDocumentClient.from(new DynamoDBClient(localConnection(testEndpoint())));
  const output = await client.send(new GetCommand({ TableName: tableName, Key: { key }, ConsistentRead: true }));
  return Number(output.Item?.count ?? 0);
}

/** Runs the real CLI against the test stack; never throws, returns the exit code and output. */
export async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const stack = args.includes('--stack') ? [] : ['--stack', inject('stackName')];
    const { stdout, stderr } = await run('node', [CLI, ...args, '--endpoint', testEndpoint(), ...stack], {
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof failure.code === 'number' ? failure.code : -1,
      stdout: failure.stdout ?? '',
      stderr: failure.stderr ?? '',
    };
  }
}

/**
 * Finds a message in a dead-letter queue whose body contains `needle`, leaving
 * the queue as it was: it receives with a short visibility timeout so each
 * receive moves on to messages not yet seen (an emulator returns the oldest
 * first), then makes every received message visible again.
 */
export async function findDeadLetter(
  deadLetterUrl: string,
  needle: string,
): Promise<{ body: string; errorName?: string } | undefined> {
  const sqs = new SQSClient(localConnection(testEndpoint()));
  const received: string[] = [];
  try {
    for (let round = 0; round < 100; round++) {
      const output = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: deadLetterUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: round === 0 ? 1 : 0,
          VisibilityTimeout: 30,
          MessageAttributeNames: ['All'],
        }),
      );
      const messages = output.Messages ?? [];
      received.push(...messages.map((message) => message.ReceiptHandle ?? ''));
      const found = messages.find((message) => message.Body?.includes(needle));
      if (found) {
        const errorName = found.MessageAttributes?.['jobstack-error-name']?.StringValue;
        return { body: found.Body ?? '', ...(errorName === undefined ? {} : { errorName }) };
      }
      if (messages.length === 0) return undefined;
    }
    return undefined;
  } finally {
    await Promise.all(
      received.map((handle) =>
        sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: deadLetterUrl, ReceiptHandle: handle, VisibilityTimeout: 0 })),
      ),
    );
  }
}
