import { parseArgs } from 'node:util';
import type { FlowState } from '../../shared/index.js';
import { connect, connectionOptions } from '../connect.js';
import { UsageError } from '../errors.js';
import { formatTable, printJson } from '../format.js';

/**
 * `jobstack flow <type> [--key K] [--json]`: the state of every flow-control
 * option of a job type for one key (slot holders, starts in the window, the
 * debounce mark, the open throttle window).
 */
export async function flowCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...connectionOptions, key: { type: 'string' } },
  });
  const [type] = positionals;
  if (!type || positionals.length > 1) throw new UsageError('usage: jobstack flow <type> [--key K]');
  const jobs = await connect(values);
  const state = await jobs.flowState(type, values.key);
  if (values.json) printJson(state);
  else process.stdout.write(`${formatFlowState(state)}\n`);
}

export function formatFlowState(state: FlowState): string {
  const lines = [`${state.jobType}, key ${state.key}`];
  if (!state.concurrency && !state.rateLimit && !state.debounce && !state.throttle) {
    lines.push('no flow control on this job type (concurrency, rateLimit, debounce, throttle)');
  }
  if (state.concurrency) {
    lines.push(`concurrency: ${state.concurrency.holders.length} of ${state.concurrency.limit} slots held`);
    if (state.concurrency.holders.length > 0) {
      lines.push(
        formatTable(
          ['JOB', 'LEASE UNTIL'],
          state.concurrency.holders.map((holder) => [holder.jobId, holder.leaseUntil]),
        ),
      );
    }
  }
  if (state.rateLimit) {
    const { limit, perMs, startsInWindow, nextStartAt } = state.rateLimit;
    lines.push(
      `rate limit: ${startsInWindow.length} of ${limit} starts in the last ${perMs / 1_000} s` +
        (nextStartAt ? `; next start possible at ${nextStartAt}` : ''),
    );
    for (const start of startsInWindow) lines.push(`  ${start}`);
  }
  if (state.debounce) {
    const { latest, periodMs } = state.debounce;
    lines.push(
      latest
        ? `debounce (${periodMs / 1_000} s): latest job ${latest.jobId} (enqueued ${latest.enqueuedAt}), earlier ones superseded`
        : `debounce (${periodMs / 1_000} s): nothing pending`,
    );
  }
  if (state.throttle) {
    const { window, periodMs } = state.throttle;
    lines.push(
      window
        ? `throttle (${periodMs / 1_000} s): throttled until ${window.until}, window held by job ${window.jobId}`
        : `throttle (${periodMs / 1_000} s): no open window`,
    );
  }
  return lines.join('\n');
}
