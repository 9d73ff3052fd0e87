import { parseArgs } from 'node:util';
import type { FlowLimitState } from '../../shared/index.js';
import { connect, connectionOptions } from '../connect.js';
import { UsageError } from '../errors.js';
import { formatTable, printJson } from '../format.js';

/** `jobstack limits <type> [--key K] [--json]`: who holds a key's concurrency slots, and its recent starts. */
export async function limitsCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...connectionOptions, key: { type: 'string' } },
  });
  const [type] = positionals;
  if (!type || positionals.length > 1) throw new UsageError('usage: jobstack limits <type> [--key K]');
  const jobs = await connect(values);
  const state = await jobs.limits(type, values.key);
  if (values.json) printJson(state);
  else process.stdout.write(`${formatLimits(state)}\n`);
}

export function formatLimits(state: FlowLimitState): string {
  const lines = [`${state.jobType}, key ${state.key}`];
  if (!state.concurrency && !state.rateLimit) lines.push('no concurrency or rate limit on this job type');
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
  return lines.join('\n');
}
