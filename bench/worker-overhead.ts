/**
 * Benchmark 2: worker overhead per job.
 *
 * CPU time and heap allocation per `demo.echo` job through the real worker
 * handler (functions/jobs/worker-entry.ts, with its SDK clients stubbed at the SDK
 * level so AWS "answers" at once), for batches of 1, 10 and 100, side by side
 * with a reference pipeline built only from Powertools batch processing and
 * Powertools idempotency (DynamoDB persistence, same stubs) running the same
 * echo handler. Each pipeline runs in its own process (see
 * bench/lib/overhead-child.ts); figures are the median over rounds, with the
 * spread.
 *
 *   npx tsx bench/worker-overhead.ts [--rounds 15] [--jobs-per-round 500] [--no-write]
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { OverheadRequest, OverheadRound, PipelineName } from './lib/overhead-child.js';
import { flag, intOption, markdownTable, num, writeSection } from './lib/report.js';
import { median, summarize } from './lib/stats.js';

const CHILD = fileURLToPath(new URL('./lib/overhead-child.ts', import.meta.url));
const BATCH_SIZES = [1, 10, 100] as const;
/** Issue 14, target 3: CPU per job at most this many times the reference's, by batch size (as deployed, INFO logs). */
const TARGET_RATIO: Record<(typeof BATCH_SIZES)[number], number> = { 1: 1.3, 10: 1.0, 100: 1.0 };

const PIPELINES: { name: PipelineName; label: string }[] = [
  { name: 'jobstack', label: 'jobstack worker (log level INFO, as deployed)' },
  { name: 'jobstack-warn', label: 'jobstack worker (POWERTOOLS_LOG_LEVEL=WARN)' },
  { name: 'jobstack-no-metrics', label: 'jobstack parts without metrics and tracer' },
  { name: 'reference', label: 'reference: Powertools batch + idempotency' },
];

function runPipeline(request: OverheadRequest): Promise<OverheadRound[]> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, [], {
      execArgv: ['--import', 'tsx', '--expose-gc', '--max-semi-space-size=256'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: { ...process.env, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench' },
    });
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`${request.pipeline}: no result after 10 minutes`));
    }, 600_000);
    child.once('message', (message: { ok: boolean; rounds?: OverheadRound[]; error?: string }) => {
      clearTimeout(timer);
      if (message.ok && message.rounds) resolve(message.rounds);
      else reject(new Error(`${request.pipeline}: ${message.error}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`${request.pipeline}: child exited ${code}`));
    });
    child.send(request);
  });
}

async function main(): Promise<void> {
  const rounds = intOption('rounds', 'BENCH_OVERHEAD_ROUNDS', 15);
  const jobsPerRound = intOption('jobs-per-round', 'BENCH_OVERHEAD_JOBS', 500);
  const results = new Map<PipelineName, OverheadRound[]>();
  for (const pipeline of PIPELINES) {
    console.error(`worker-overhead: ${pipeline.name}`);
    results.set(
      pipeline.name,
      await runPipeline({ pipeline: pipeline.name, batchSizes: BATCH_SIZES, jobsPerRound, rounds, warmupRounds: 3 }),
    );
  }

  const rows: (string | number)[][] = [];
  const verdicts: (string | number)[][] = [];
  for (const batchSize of BATCH_SIZES) {
    const medians = new Map<PipelineName, number>();
    for (const pipeline of PIPELINES) {
      const of = (results.get(pipeline.name) ?? []).filter((r) => r.batchSize === batchSize);
      const cpu = summarize(of.map((r) => r.cpuMicrosPerJob));
      const bytes = of.map((r) => r.bytesPerJob).filter((b): b is number => b !== undefined);
      medians.set(pipeline.name, cpu.median);
      rows.push([
        batchSize,
        pipeline.label,
        num(cpu.median, 1),
        `${num(cpu.p25, 1)}–${num(cpu.p75, 1)}`,
        `${num(cpu.min, 1)}–${num(cpu.max, 1)}`,
        bytes.length > 0 ? `${num(median(bytes) / 1024, 1)} KB (${bytes.length} rounds)` : 'n/a (GC in every round)',
      ]);
    }
    const ours = medians.get('jobstack') ?? Number.NaN;
    const reference = medians.get('reference') ?? Number.NaN;
    const goal = TARGET_RATIO[batchSize];
    verdicts.push([
      batchSize,
      num(ours, 1),
      num(reference, 1),
      num(ours / reference, 2),
      `≤ ${goal}`,
      ours <= goal * reference ? 'met' : '**missed**',
    ]);
  }

  const body = `
### Worker overhead per job

\`demo.echo\` jobs through each pipeline in-process, AWS SDK clients stubbed with aws-sdk-client-mock (every call
answers at once; the claim returns a fresh running record). CPU = process.cpuUsage (user + system) per job; heap =
growth of the used heap over a round after a forced GC (rounds in which a GC ran are left out). ${rounds} rounds of
about ${jobsPerRound} jobs per batch size after 3 warm-up rounds; median, interquartile range and min–max over rounds.
Each pipeline runs in its own process with stdout discarded. X-Ray is off (no daemon): the Tracer adds nothing here.

${markdownTable(['batch', 'pipeline', 'CPU µs/job (median)', 'IQR', 'min–max', 'heap/job (median)'], rows)}

Targets (jobstack as deployed vs. the reference, measured in the same run):

${markdownTable(['batch', 'jobstack µs/job', 'reference µs/job', 'ratio', 'goal', 'verdict'], verdicts)}
`;
  console.log(body);
  if (!flag('no-write'))
    writeSection('worker-overhead', body, `npm run bench:worker-overhead -- --rounds ${rounds} --jobs-per-round ${jobsPerRound}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
