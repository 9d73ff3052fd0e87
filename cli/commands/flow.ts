import { parseArgs } from 'node:util';
import type { FlowControlSummary, FlowState } from '../../shared/index.js';
import { connect, connectionOptions } from '../connect.js';
import { UsageError } from '../errors.js';
import { formatTable } from '../format.js';
import { printJsonOutput } from '../json/print.js';

/**
 * `jobstack flow [--json]`: the flow control each job type declares.
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
  if (positionals.length > 1) throw new UsageError('usage: jobstack flow [<type> [--key K]]');
  const jobs = await connect(values);
  if (type === undefined) {
    const declared = jobs.flowControl();
    if (values.json) printJsonOutput('flow', declared);
    else process.stdout.write(`${formatFlowControl(declared)}\n`);
    return;
  }
  const state = await jobs.flowState(type, values.key);
  if (values.json) printJsonOutput('flow-state', state);
  else process.stdout.write(`${formatFlowState(state)}\n`);
}

export function formatFlowControl(declared: readonly FlowControlSummary[]): string {
  if (declared.length === 0) return 'no job type declares flow control';
  const seconds = (ms: number) => `${ms / 1_000} s`;
  const perKey = (limit: { perKey: boolean }) => (limit.perKey ? 'per key' : 'whole type');
  return formatTable(
    ['TYPE', 'QUEUE', 'FLOW CONTROL'],
    declared.map((job) => [
      job.jobType,
      job.queue,
      [
        job.concurrency && `concurrency ${job.concurrency.limit} ${perKey(job.concurrency)}`,
        job.rateLimit && `rate ${job.rateLimit.limit}/${seconds(job.rateLimit.perMs)} ${perKey(job.rateLimit)}`,
        job.ordering && 'ordered per key',
        job.debounce && `debounce ${seconds(job.debounce.periodMs)}`,
        job.throttle && `throttle ${seconds(job.throttle.periodMs)}`,
        job.priority && `priority ${job.priority}`,
        job.fairness && 'fair per key',
      ]
        .filter(Boolean)
        .join(', '),
    ]),
  );
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
