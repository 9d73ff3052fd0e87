import { parseArgs } from 'node:util';
import type { Registry } from '../../functions/jobs/contracts.js';
import { type EnqueueRequest, isTerminal, type JobState } from '../../shared/index.js';
import { connect } from '../connect.js';
import { UsageError } from '../errors.js';
import { formatTable } from '../format.js';
import { ProgressLine } from '../progress.js';
import { bringUpLocalStack } from './local.js';

/**
 * The main job (`npm start`): bring the emulator up, deploy the stack, enqueue a
 * mix of demo jobs, show progress until every job settles, print a summary.
 */
export async function demoCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { jobs: { type: 'string', default: '300' }, timeout: { type: 'string', default: '900' }, stack: { type: 'string' } },
  });
  const total = Number(values.jobs);
  if (!Number.isInteger(total) || total < 1 || total > 10_000)
    throw new UsageError(`--jobs must be 1..10000 (given '${values.jobs}')`);
  const timeoutMs = Number(values.timeout) * 1_000;

  const { stackName, endpoint } = await bringUpLocalStack({ stackName: values.stack });
  const jobs = await connect({ stack: stackName, endpoint });

  const requests = demoMix(total);
  process.stderr.write(`enqueueing ${requests.length} demo jobs (${describeMix(requests)})\n`);
  const started = Date.now();
  const { jobIds, failed } = await jobs.enqueueMany(requests);
  if (failed.length > 0) process.stderr.write(`${failed.length} jobs could not be enqueued: ${failed[0]?.reason}\n`);
  const ids = jobIds.filter((id): id is string => id !== undefined);
  process.stderr.write(`enqueued ${ids.length} jobs in ${Date.now() - started} ms; processing on the local stack…\n`);

  const progress = new ProgressLine(process.stderr);
  let counts = new Map<JobState, number>();
  let types = new Map<string, Map<JobState, number>>();
  for (;;) {
    const records = await jobs.getMany(ids);
    counts = new Map();
    types = new Map();
    for (const record of records) {
      counts.set(record.state, (counts.get(record.state) ?? 0) + 1);
      const perType = types.get(record.type) ?? new Map<JobState, number>();
      perType.set(record.state, (perType.get(record.state) ?? 0) + 1);
      types.set(record.type, perType);
    }
    const settled = records.filter((record) => isTerminal(record.state)).length;
    const summary = [...counts.entries()].map(([state, count]) => `${state} ${count}`).join(' · ');
    progress.update(`${settled}/${ids.length} settled · ${summary}`, (settled / ids.length) * 100);
    if (settled === ids.length) break;
    if (Date.now() - started > timeoutMs) {
      progress.done();
      throw new Error(`demo did not settle within ${values.timeout} s (${settled}/${ids.length} settled)`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  progress.done();
  const elapsedS = (Date.now() - started) / 1_000;
  const states: JobState[] = ['succeeded', 'dead', 'cancelled'];
  const rows = [...types.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([type, perType]) => [type, ...states.map((state) => String(perType.get(state) ?? 0))]);
  rows.push(['all', ...states.map((state) => String(counts.get(state) ?? 0))]);
  process.stdout.write(`\n${formatTable(['TYPE', ...states.map((s) => s.toUpperCase())], rows)}\n`);
  process.stdout.write(
    `\n${ids.length} jobs settled in ${elapsedS.toFixed(1)} s (${(ids.length / elapsedS).toFixed(1)} jobs/s on the local emulator)\n`,
  );
  process.stdout.write(`try: npx jobstack list --local --state dead   ·   npx jobstack get --local ${ids[0]}\n`);
}

/** Mostly quick jobs, some sleepers, some that fail once or twice before succeeding, a few that never succeed. */
export function demoMix(total: number): EnqueueRequest<Registry>[] {
  const requests: EnqueueRequest<Registry>[] = [];
  for (let i = 0; i < total; i++) {
    const slot = i % 20;
    if (slot < 10) requests.push({ type: 'demo.echo', payload: { message: `hello #${i}` } });
    else if (slot < 14) requests.push({ type: 'demo.sleep', payload: { ms: 50 + ((i * 37) % 250) } });
    else if (slot < 18) requests.push({ type: 'demo.flaky', payload: { failTimes: i % 3 } });
    else if (slot === 18) requests.push({ type: 'demo.effect', payload: { key: `demo-${Date.now()}-${i}` } });
    else requests.push(i % 40 === 19 ? { type: 'demo.fatal', payload: {} } : { type: 'demo.fail', payload: {} });
  }
  return requests;
}

function describeMix(requests: readonly EnqueueRequest<Registry>[]): string {
  const counts = new Map<string, number>();
  for (const request of requests) counts.set(request.type, (counts.get(request.type) ?? 0) + 1);
  return [...counts.entries()].map(([type, count]) => `${count} ${type}`).join(', ');
}
