import { parseArgs } from 'node:util';
import {
  createAwsClients,
  createJobClient,
  type PauseOptions,
  type QueueStatus,
  resolveStackConfig,
} from '../../shared/index.js';
import { collectStats, type QueueStats } from '../../shared/stats.js';
import { connect, connectionOptions, loadConnection } from '../connect.js';
import { UsageError } from '../errors.js';
import { formatTable } from '../format.js';
import { printJsonOutput } from '../json/print.js';

const PAUSE_USAGE = 'usage: jobstack pause <queue> [--reason TEXT] [--keep-on-deploy]';
const RESUME_USAGE = 'usage: jobstack resume <queue>';

/** `jobstack pause <queue> [--reason TEXT] [--keep-on-deploy]`, parsed. */
export function parsePauseArgs(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...connectionOptions, reason: { type: 'string' }, 'keep-on-deploy': { type: 'boolean' } },
  });
  const [queue] = positionals;
  if (!queue || positionals.length > 1) throw new UsageError(PAUSE_USAGE);
  if (values.reason !== undefined && values.reason.trim() === '') {
    throw new UsageError(`--reason must not be empty (given '${values.reason}')`);
  }
  const options: PauseOptions = {
    ...(values.reason === undefined ? {} : { reason: values.reason }),
    ...(values['keep-on-deploy'] ? { keepOnDeploy: true } : {}),
  };
  return { queue, options, flags: values };
}

/** `jobstack resume <queue>`, parsed. */
export function parseResumeArgs(argv: string[]) {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: connectionOptions });
  const [queue] = positionals;
  if (!queue || positionals.length > 1) throw new UsageError(RESUME_USAGE);
  return { queue, flags: values };
}

export async function pauseCommand(argv: string[]): Promise<void> {
  const { queue, options, flags } = parsePauseArgs(argv);
  const jobs = await connect(flags);
  const result = await jobs.pause(queue, options);
  if (flags.json) printJsonOutput('pause', result);
  else {
    const since = result.newlyPaused ? '' : ` (already paused since ${result.pause.pausedAt})`;
    const deploy = result.pause.keepOnDeploy ? 'kept across deploys' : 'until resumed or the next deploy';
    process.stdout.write(
      `${queue}: paused${since}, ${deploy}; enqueues keep landing, nothing starts (within 5 s) until \`jobstack resume ${queue}\`\n`,
    );
  }
}

export async function resumeCommand(argv: string[]): Promise<void> {
  const { queue, flags } = parseResumeArgs(argv);
  const jobs = await connect(flags);
  const result = await jobs.resume(queue);
  if (flags.json) printJsonOutput('resume', result);
  else
    process.stdout.write(
      `${queue}: ${result.wasPaused ? 'resumed; its backlog drains' : 'was not paused (its event source is enabled)'}\n`,
    );
}

/** `jobstack queues`: each logical queue, paused or active (since when, why), its event source, and its depths. */
export async function queuesCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: connectionOptions });
  const { registry, stackName, aws } = await loadConnection(values);
  const clients = createAwsClients(aws);
  const config = await resolveStackConfig(clients.cloudFormation, stackName);
  const jobs = createJobClient({ registry, config, clients });
  const [statuses, stats] = await Promise.all([jobs.queueStatus(), collectStats(clients, config)]);
  if (values.json) {
    printJsonOutput(
      'queues',
      statuses.map((status) => {
        const depths = stats.queues.find((q) => q.name === status.queue);
        return depths === undefined ? status : { ...status, depths };
      }),
    );
    return;
  }
  process.stdout.write(`${formatQueues(statuses, stats.queues)}\n`);
}

/** One row per queue: status, since, keep-on-deploy, event source states, depths, reason last. */
export function formatQueues(statuses: readonly QueueStatus[], depths: readonly QueueStats[]): string {
  return formatTable(
    ['QUEUE', 'STATUS', 'SINCE', 'KEEP ON DEPLOY', 'EVENT SOURCE', 'VISIBLE', 'IN FLIGHT', 'DELAYED', 'REASON'],
    statuses.map((status) => {
      const depth = depths.find((q) => q.name === status.queue);
      return [
        status.queue,
        status.status,
        status.pause?.pausedAt ?? '-',
        status.pause ? (status.pause.keepOnDeploy ? 'yes' : 'no') : '-',
        status.eventSources ? Object.values(status.eventSources).join(',') : '-',
        depth ? String(depth.visible) : '-',
        depth ? String(depth.inFlight) : '-',
        depth ? String(depth.delayed) : '-',
        status.pause?.reason ?? '-',
      ];
    }),
  );
}
