import type { TestProject } from 'vitest/node';
import { bringUpLocalStack } from '../../cli/commands/local.js';

declare module 'vitest' {
  export interface ProvidedContext {
    endpoint: string;
    stackName: string;
  }
}

/**
 * Once per run: start the emulator if none answers, deploy the real stack to it
 * (a no-op when it is already up to date), and hand the endpoint to the tests.
 * An emulator this run started is left running for the next run; `jobstack
 * local down` stops it.
 */
export default async function setup(project: TestProject): Promise<void> {
  const stackName = process.env.JOBSTACK_TEST_STACK ?? 'jobstack';
  const { endpoint } = await bringUpLocalStack({ stackName });
  project.provide('endpoint', endpoint);
  project.provide('stackName', stackName);
}
