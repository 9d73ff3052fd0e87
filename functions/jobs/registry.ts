import { defineRegistry } from '../../shared/index.js';
import { echoJob } from './demo/echo.js';
import { effectJob } from './demo/effect.js';
import { failJob, fatalJob } from './demo/fail.js';
import { flakyJob } from './demo/flaky.js';
import { largeNumbersJob } from './demo/large-numbers.js';
import { longJob } from './demo/long.js';
import { onceJob } from './demo/once.js';
import { progressJob } from './demo/progress.js';
import { sleepJob } from './demo/sleep.js';

/**
 * Every job type this deployment runs. The worker looks handlers up here, the
 * client validates payloads against it, and the CDK stack derives its queues
 * and their retry limits from it. Replace the demo jobs with your own.
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
  largeNumbersJob,
);

export type Registry = typeof registry;
