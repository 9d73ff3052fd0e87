/**
 * `npm run bench`: every benchmark, one after another, each in its own process
 * (they must not share module state or CPU), each writing its section of
 * BENCHMARKS.md. Arguments are passed to every benchmark (e.g. `--endpoint`).
 * A failing benchmark is reported and the others still run; the exit code says
 * whether all passed.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCHMARKS = ['cold-start', 'worker-overhead', 'cost', 'throughput'] as const;

let failed = 0;
for (const name of BENCHMARKS) {
  const file = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  console.error(`\n=== bench: ${name} ===`);
  const started = Date.now();
  const result = spawnSync(process.execPath, ['--import', 'tsx', file, ...process.argv.slice(2)], { stdio: 'inherit' });
  const seconds = ((Date.now() - started) / 1_000).toFixed(0);
  if (result.status === 0) console.error(`=== bench: ${name} done in ${seconds} s ===`);
  else {
    failed++;
    console.error(`=== bench: ${name} FAILED (exit ${result.status}) after ${seconds} s ===`);
  }
}
process.exit(failed === 0 ? 0 : 1);
