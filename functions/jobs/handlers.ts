import { defineRegistry } from 'jobstack';
import { echoJob } from './demo/echo.js';
import { effectJob } from './demo/effect.js';
import { failJob, fatalJob } from './demo/fail.js';
import { batchDoneJob, fanoutJob, squareJob } from './demo/fanout.js';
import { flakyJob } from './demo/flaky.js';
import { debouncedJob, rankedJob, tenantWorkJob, tenantWorkUnfairJob, throttledJob } from './demo/flow.js';
import { greetJob } from './demo/greet.js';
import { largeNumbersJob } from './demo/large-numbers.js';
import { longExpressJob, longJob } from './demo/long.js';
import { onceJob } from './demo/once.js';
import { orderedJob } from './demo/ordered.js';
import { progressJob } from './demo/progress.js';
import { sleepJob } from './demo/sleep.js';
import { tenantReportJob } from './demo/tenant-report.js';

/**
 * Every demo job type with its handler: the module the demo's `JobSystem`
 * bundles into the worker and the long-job step function. Each implements a
 * contract of `./contracts.ts`.
 */
export const registry = defineRegistry(
  echoJob,
  sleepJob,
  flakyJob,
  failJob,
  fatalJob,
  effectJob,
  progressJob,
  onceJob,
  longJob,
  longExpressJob,
  largeNumbersJob,
  debouncedJob,
  throttledJob,
  tenantReportJob,
  orderedJob,
  rankedJob,
  tenantWorkJob,
  tenantWorkUnfairJob,
  greetJob,
  squareJob,
  fanoutJob,
  batchDoneJob,
);

export default registry;
