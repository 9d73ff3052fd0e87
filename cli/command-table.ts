import { batchCommand } from './commands/batch.js';
import { completionCommand } from './commands/completion.js';
import { dashboardCommand } from './commands/dashboard.js';
import { devCommand } from './commands/dev.js';
import { flowCommand } from './commands/flow.js';
import {
  cancelCommand,
  enqueueCommand,
  getCommand,
  listCommand,
  redriveCommand,
  resolveStepCommand,
  retryCommand,
  waitCommand,
} from './commands/jobs.js';
import { localCommand } from './commands/local.js';
import { logsCommand } from './commands/logs.js';
import { metricsCommand } from './commands/metrics.js';
import { pauseCommand, queuesCommand, resumeCommand } from './commands/queues.js';
import { scheduleCommand, schedulesCommand, unscheduleCommand } from './commands/schedules.js';
import { statsCommand, watchCommand } from './commands/stats.js';

/** Every command of the CLI by name. */
export const COMMANDS: Readonly<Record<string, (argv: string[]) => Promise<void>>> = {
  local: localCommand,
  enqueue: enqueueCommand,
  get: getCommand,
  batch: batchCommand,
  logs: logsCommand,
  wait: waitCommand,
  list: listCommand,
  cancel: cancelCommand,
  retry: retryCommand,
  'resolve-step': resolveStepCommand,
  redrive: redriveCommand,
  pause: pauseCommand,
  resume: resumeCommand,
  queues: queuesCommand,
  flow: flowCommand,
  stats: statsCommand,
  watch: watchCommand,
  dashboard: dashboardCommand,
  dev: devCommand,
  metrics: metricsCommand,
  completion: completionCommand,
  schedules: schedulesCommand,
  schedule: scheduleCommand,
  unschedule: unscheduleCommand,
};
