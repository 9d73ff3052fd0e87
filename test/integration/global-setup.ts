import type { TestProject } from 'vitest/node';
import { bringUpLocalStack } from '../../cli/commands/local.js';
import { DEFAULT_ENDPOINT, ensureEmulator, stopEmulator } from '../../cli/local/emulator.js';
import { ensureMetricsBridge, stopMetricsBridge } from '../../cli/local/metrics-bridge/process.js';

declare module 'vitest' {
  export interface ProvidedContext {
    endpoint: string;
    stackName: string;
  }
}

/**
 * Once per run: start the emulator if none answers, deploy the real stack to it,
 * and hand the endpoint to the tests. The run leaves the machine as it found
 * it: an emulator this run started is stopped at the end (set
 * JOBSTACK_KEEP_EMULATOR=1, or start one first with `npx jobstack local up`, to
 * keep it between runs).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stackName = process.env.JOBSTACK_TEST_STACK ?? 'jobstack';
  // JOBSTACK_TEST_ENDPOINT picks another local emulator, e.g. http://127.0.0.1:4567 for a second checkout.
  // JOBSTACK_SKIP_DEPLOY=1 reuses the stack already deployed there (a faster loop while editing tests only).
  const { endpoint, startedByUs } =
    process.env.JOBSTACK_SKIP_DEPLOY === '1'
      ? await ensureEmulator({ endpoint: process.env.JOBSTACK_TEST_ENDPOINT ?? DEFAULT_ENDPOINT })
      : await bringUpLocalStack({ stackName, endpoint: process.env.JOBSTACK_TEST_ENDPOINT });
  // `local up` starts the metrics bridge (the alarm tests read what it puts); a reused stack gets it here.
  if (process.env.JOBSTACK_SKIP_DEPLOY === '1') await ensureMetricsBridge({ endpoint, stackName });
  project.provide('endpoint', endpoint);
  project.provide('stackName', stackName);
  return async () => {
    if (startedByUs && process.env.JOBSTACK_KEEP_EMULATOR !== '1') {
      await stopMetricsBridge({ endpoint, log: (line) => console.log(line) });
      await stopEmulator({ endpoint, log: (line) => console.log(line) });
    }
  };
}
