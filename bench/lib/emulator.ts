import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { deployToEmulator, EMULATOR_REGION, ensureEmulator, readStackOutputs } from '../../cli/local/index.js';
import { configFromOutputs, DEFAULT_STACK_NAME, type JobstackConfig } from '../../shared/index.js';
import { flag, option } from './report.js';

/** The emulator endpoint: `--endpoint`, else `JOBSTACK_BENCH_ENDPOINT`, else MiniStack's default port. */
export function benchEndpoint(): string {
  return option('endpoint', 'JOBSTACK_BENCH_ENDPOINT', 'http://127.0.0.1:4566');
}

/** Client settings for the emulator (its fixed test credentials). */
export function emulatorClientConfig(endpoint: string) {
  return { endpoint, region: EMULATOR_REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
}

/**
 * Makes sure the emulator answers and the jobstack stack is deployed on it
 * (starting and deploying only when needed, or always with `--redeploy` so the
 * deployed worker is the code in the working tree), and returns the stack's config.
 */
export async function ensureStack(endpoint: string, log: (line: string) => void = console.error): Promise<JobstackConfig> {
  await ensureEmulator({ endpoint, log });
  const cloudFormation = new CloudFormationClient(emulatorClientConfig(endpoint));
  let outputs: Record<string, string>;
  try {
    if (flag('redeploy')) throw new Error('redeploy requested');
    outputs = await readStackOutputs(cloudFormation, DEFAULT_STACK_NAME);
    if (!outputs.JobsTableName) throw new Error('stack has no outputs yet');
  } catch {
    log(`bench: deploying ${DEFAULT_STACK_NAME} to ${endpoint}`);
    outputs = await deployToEmulator({ endpoint, log });
  }
  return configFromOutputs(DEFAULT_STACK_NAME, outputs);
}
