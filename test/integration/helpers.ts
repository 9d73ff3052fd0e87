import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { type Registry, registry } from '../../functions/jobs/registry.js';
import { connectJobClient, type JobClient, localConnection } from '../../shared/index.js';

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
