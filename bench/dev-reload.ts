/**
 * Benchmark: `jobstack dev` (issue 13) — from saving a handler to a newly enqueued job running the new code.
 *
 * Starts the real `jobstack dev` (a child process) against the emulator's demo stack with a handlers module of
 * its own (the demo's, with demo.echo marking a version), then N times: save the file with the next version,
 * and enqueue demo.echo jobs one after another until one returns the new version. The time from the save to
 * that job's result is the figure: rebuild and reload, plus one enqueue → receive → run → record round trip.
 * Target: median under 2 s on this machine.
 *
 *   npx tsx bench/dev-reload.ts [--saves 10] [--endpoint URL] [--no-write]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Registry, registry } from '../functions/jobs/contracts.js';
import { connectJobClient, localConnection } from '../shared/index.js';
import { benchEndpoint, ensureStack } from './lib/emulator.js';
import { flag, intOption, markdownTable, num, writeSection } from './lib/report.js';
import { summarize } from './lib/stats.js';

const saves = intOption('saves', 'JOBSTACK_BENCH_SAVES', 10);
const endpoint = benchEndpoint();
const CLI = fileURLToPath(new URL('../bin/jobstack.js', import.meta.url));
const CONTRACTS = fileURLToPath(new URL('../functions/jobs/contracts.js', import.meta.url));
const DEMO_HANDLERS = fileURLToPath(new URL('../functions/jobs/handlers.js', import.meta.url));

const config = await ensureStack(endpoint);
const jobs = await connectJobClient<Registry>({ registry, stackName: config.stackName, aws: localConnection(endpoint) });
const handlersFile = join(mkdtempSync(join(tmpdir(), 'jobstack-bench-dev-')), 'handlers.ts');

function save(version: number): void {
  writeFileSync(
    handlersFile,
    `import { defineRegistry, implementJob } from 'jobstack';
import { echo } from '${CONTRACTS}';
import { registry as demo } from '${DEMO_HANDLERS}';
export default defineRegistry(
  ...Object.values(demo).filter((job) => job.name !== 'demo.echo'),
  implementJob(echo, async ({ message }) => ({ message: \`\${message} v${version}\` })),
);
`,
  );
}

async function echoed(): Promise<string> {
  const { jobId } = await jobs.enqueue('demo.echo', { message: 'bench' });
  const record = await jobs.wait(jobId, { timeout: '60s', pollInterval: '50ms' });
  return (record.result as { message: string }).message;
}

save(0);
const dev: ChildProcess = spawn(
  process.execPath,
  [CLI, 'dev', '--handlers', handlersFile, '--endpoint', endpoint, '--stack', config.stackName],
  { stdio: ['ignore', 'ignore', 'pipe'] },
);
let output = '';
dev.stderr?.on('data', (chunk: Buffer) => {
  output += chunk.toString();
});
try {
  while (!/Ctrl-C to stop/.test(output)) {
    if (dev.exitCode !== null) throw new Error(`jobstack dev ended:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if ((await echoed()) !== 'bench v0') throw new Error('jobstack dev does not run the benchmark handlers');

  const samples: number[] = [];
  const reloads: number[] = [];
  for (let version = 1; version <= saves; version++) {
    const saved = Date.now();
    save(version);
    for (;;) {
      const message = await echoed();
      if (message === `bench v${version}`) break;
      if (Date.now() - saved > 30_000) throw new Error(`version ${version} never ran:\n${output}`);
    }
    samples.push(Date.now() - saved);
    const reload = new RegExp(`build ${version + 1}, (\\d+) ms`).exec(output);
    if (reload) reloads.push(Number(reload[1]));
    console.error(`save ${version}: new code ran after ${samples.at(-1)} ms`);
  }
  const total = summarize(samples);
  const rebuild = summarize(reloads);
  const body = `### Dev loop: save → the next job runs the new code (issue 13)

\`jobstack dev\` against the emulator's demo stack; ${saves} saves of a handler, after each the time until a newly
enqueued job returned the new code (rebuild + reload, then enqueue → receive → run → record on the emulator).
Target: median under 2 s.

${markdownTable(
  ['', 'median ms', 'p25', 'p75', 'min', 'max'],
  [
    ['save → new code ran', num(total.median, 0), num(total.p25, 0), num(total.p75, 0), num(total.min, 0), num(total.max, 0)],
    [
      'of which rebuild + reload',
      num(rebuild.median, 0),
      num(rebuild.p25, 0),
      num(rebuild.p75, 0),
      num(rebuild.min, 0),
      num(rebuild.max, 0),
    ],
  ],
)}
`;
  console.log(body);
  if (!flag('no-write')) writeSection('dev-reload', body, 'npx tsx bench/dev-reload.ts');
} finally {
  dev.kill('SIGINT');
  await new Promise((resolve) => dev.on('exit', resolve));
}
