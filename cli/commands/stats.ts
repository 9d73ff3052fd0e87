import { parseArgs } from 'node:util';
import { createAwsClients, JOB_STATES, PauseStore, resolveStackConfig } from '../../shared/index.js';
import { collectStats, type JobStats } from '../../shared/stats.js';
import { type ConnectionFlags, connectionOptions, resolveConnection } from '../connect.js';
import { UsageError } from '../errors.js';
import { formatTable } from '../format.js';
import { errorLine, jsonOutputLine, printJsonOutput } from '../json/print.js';
import { loadProjectConfig } from '../load-config.js';

/** `jobstack stats [--json]`: queue depths and jobs per state, read once. */
export async function statsCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: connectionOptions });
  const read = await statsReader(values);
  const stats = await read();
  if (values.json) printJsonOutput('stats', stats);
  else process.stdout.write(`${formatStats(stats)}\n`);
}

/** `jobstack watch [--interval 2]`: the same figures, redrawn every 2 seconds (by default) until Ctrl-C. */
export async function watchCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { ...connectionOptions, interval: { type: 'string', default: '2' } } });
  const seconds = Number(values.interval);
  if (!Number.isFinite(seconds) || seconds < 0.5 || seconds > 3600) {
    throw new UsageError(`--interval must be 0.5..3600 seconds (given '${values.interval}')`);
  }
  const intervalMs = seconds * 1000;
  const read = await statsReader(values);
  const tty = process.stdout.isTTY === true;
  let stopped = false;
  let wake: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const stop = () => {
    stopped = true;
    clearTimeout(timer);
    wake?.();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    while (!stopped) {
      let text: string | undefined;
      try {
        const stats = await read();
        if (values.json) process.stdout.write(jsonOutputLine('watch', stats));
        else text = formatStats(stats);
      } catch (error) {
        // A failed read (endpoint briefly down) is shown and retried at the next tick, not fatal. Under --json
        // it goes to stderr, so stdout stays one stats object per line.
        if (values.json) process.stderr.write(errorLine(error, true));
        else text = `jobstack watch: ${(error as Error).message}`;
      }
      // Clear and redraw on a terminal; append when piped, so a log keeps every sample.
      if (text !== undefined && tty)
        process.stdout.write(`\x1b[2J\x1b[H${text}\n\n(every ${intervalMs / 1000} s; Ctrl-C to stop)\n`);
      else if (text !== undefined) process.stdout.write(`${text}\n`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, intervalMs);
      });
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

/** The stack's figures and its paused queues (one GetItem per queue for the pauses). */
export type StatsWithPauses = JobStats & { readonly paused: readonly string[] };

/** Resolves the stack once and returns a function that reads its figures. */
async function statsReader(flags: ConnectionFlags): Promise<() => Promise<StatsWithPauses>> {
  const { stackName, aws } = resolveConnection(flags, await loadProjectConfig());
  const clients = createAwsClients(aws);
  const config = await resolveStackConfig(clients.cloudFormation, stackName);
  const pauses = new PauseStore(clients.documentClient, config.jobsTable);
  return async () => {
    const [stats, paused] = await Promise.all([
      collectStats(clients, config),
      Promise.all(Object.keys(config.queues).map((queue) => pauses.get(queue, { consistent: false }))),
    ]);
    return { ...stats, paused: paused.flatMap((pause) => (pause ? [pause.queue] : [])) };
  };
}

/** Two plain tables: queues (paused ones marked), then jobs per state (approximate ones marked `~`, uncounted ones `-`). */
export function formatStats(stats: JobStats & { readonly paused?: readonly string[] }): string {
  const queues = formatTable(
    ['QUEUE', 'STATUS', 'VISIBLE', 'IN FLIGHT', 'DELAYED', 'DLQ'],
    stats.queues.flatMap((queue) => [
      [
        queue.name,
        stats.paused?.includes(queue.name) ? 'paused' : 'active',
        String(queue.visible),
        String(queue.inFlight),
        String(queue.delayed),
        String(queue.deadLetter),
      ],
      // A prioritized queue's levels, each on its own line under the queue's sums (they share its dead-letter queue).
      ...(queue.levels ?? []).map((level) => [
        `  ${queue.name}:${level.name}`,
        '',
        String(level.visible),
        String(level.inFlight),
        String(level.delayed),
        '',
      ]),
    ]),
  );
  const states = formatTable(
    ['STATE', 'JOBS'],
    JOB_STATES.map((state) => {
      const count = stats.states[state];
      if (count === null) return [state, '- (not counted; see the JobsSucceeded metric)'];
      return [state, stats.approximate.includes(state) ? `~${count}` : String(count)];
    }),
  );
  return `stack ${stats.stackName} at ${stats.at}\n\n${queues}\n\n${states}\n\n~ derived from queue depths (approximate)`;
}
