/**
 * The demo workload (`npm start`): brings the demo app up on the local emulator through the
 * jobstack CLI, enqueues a mix of demo jobs, shows progress until every job settles, and prints
 * a summary. It is a user of jobstack like any other app: only the public `jobstack` client API
 * and the CLI, never jobstack's internals, so the demo and the package cannot drift apart.
 *
 *   npx tsx demo/run.ts [--jobs 300] [--timeout 900] [--endpoint http://127.0.0.1:4566]
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connectJobClient, type EnqueueRequest, isTerminal, type JobClient, type JobState, localConnection } from 'jobstack';
import contracts from '../functions/jobs/contracts.js';

type Contracts = typeof contracts;

// The SDK's notice that its 2027 releases need Node 22 would interrupt the progress output on Node 20.
// Set before the first client is created, which is when the SDK checks; 'false' shows it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const CLI = fileURLToPath(new URL('../bin/jobstack.js', import.meta.url));
const DEMO_APP_DIR = fileURLToPath(new URL('../', import.meta.url));
const TERMINAL_STATES: readonly JobState[] = ['succeeded', 'dead', 'cancelled'];

/** What `jobstack local up --json` prints (the fields the demo uses). */
interface LocalUp {
  readonly stackName: string;
  readonly endpoint: string;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      jobs: { type: 'string', default: '300' },
      timeout: { type: 'string', default: '900' },
      // Another emulator port than jobstack.config.ts's, e.g. for a second checkout.
      endpoint: { type: 'string' },
    },
  });
  const total = Number(values.jobs);
  if (!Number.isInteger(total) || total < 1 || total > 10_000)
    throw new Error(`--jobs must be 1..10000 (given '${values.jobs}')`);
  const timeoutMs = Number(values.timeout) * 1_000;

  const { stackName, endpoint } = await localUp(values.endpoint);
  const jobs = await connectJobClient({ registry: contracts, stackName, aws: localConnection(endpoint) });

  const requests = demoMix(total);
  process.stderr.write(`enqueueing ${requests.length} demo jobs (${describeMix(requests)})\n`);
  const started = Date.now();
  const { jobIds, failed } = await jobs.enqueueMany(requests);
  if (failed.length > 0) process.stderr.write(`${failed.length} jobs could not be enqueued: ${failed[0]?.reason}\n`);
  const ids = jobIds.filter((id): id is string => id !== undefined);
  process.stderr.write(`enqueued ${ids.length} jobs in ${Date.now() - started} ms; processing on the local stack…\n`);

  const progress = new Progress(process.stderr);
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
      throw new Error(`the demo did not settle within ${values.timeout} s (${settled}/${ids.length} settled)`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  progress.done();

  const elapsedS = (Date.now() - started) / 1_000;
  const rows = [...types.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([type, perType]) => [type, ...TERMINAL_STATES.map((state) => String(perType.get(state) ?? 0))]);
  rows.push(['all', ...TERMINAL_STATES.map((state) => String(counts.get(state) ?? 0))]);
  process.stdout.write(`\n${table(['TYPE', ...TERMINAL_STATES.map((state) => state.toUpperCase())], rows)}\n`);
  process.stdout.write(
    `\n${ids.length} jobs settled in ${elapsedS.toFixed(1)} s (${(ids.length / elapsedS).toFixed(1)} jobs/s on the local emulator)\n`,
  );
  process.stdout.write(`try: npx jobstack list --local --state dead   ·   npx jobstack get --local ${ids[0]}\n`);
  await showFlows(jobs);
}

/**
 * A small flow of each kind: a batch of three `demo.square` jobs with an onComplete callback, and a
 * `demo.fanout` parent that waits for its children and enqueues a follow-up. Waits for both to finish.
 */
async function showFlows(jobs: JobClient<Contracts>): Promise<void> {
  process.stderr.write('\nflows: a batch with a callback, and a parent waiting for its children…\n');
  const { batchId } = await jobs.batch(
    [1, 2, 3].map((n) => ({ type: 'demo.square' as const, payload: { n } })),
    { onComplete: { type: 'demo.batch-done', payload: { label: 'demo batch' } } },
  );
  const parent = await jobs.enqueue('demo.fanout', { numbers: [1, 2, 3, 4] });
  const [callback, resumed] = await Promise.all([
    jobs.wait(`${batchId}.complete`, { timeout: '120s' }),
    jobs.wait(parent.jobId, { timeout: '120s' }),
  ]);
  const batch = await jobs.getBatch(batchId);
  process.stdout.write(
    `batch ${batchId}: ${batch?.succeeded ?? 0} of ${batch?.total ?? 0} succeeded, callback ${callback.id} ${callback.state}\n` +
      `parent ${parent.jobId}: ${resumed.state} with ${JSON.stringify(resumed.result)} after waiting for its children\n` +
      `try: npx jobstack batch --local ${batchId}   ·   npx jobstack get --local ${parent.jobId}\n`,
  );
}

/**
 * `jobstack local up --json` in the demo app's folder: its progress (emulator, deploy) goes
 * straight to this terminal, its JSON result comes back.
 */
function localUp(endpoint: string | undefined): Promise<LocalUp> {
  const args = [CLI, 'local', 'up', '--json', ...(endpoint === undefined ? [] : ['--endpoint', endpoint])];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: DEMO_APP_DIR,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) {
        reject(new Error(`jobstack local up exited with ${code ?? 'a signal'} (its output is above)`));
        return;
      }
      try {
        resolve(JSON.parse(stdout) as LocalUp);
      } catch (error) {
        reject(new Error(`jobstack local up --json printed no JSON: ${stdout.slice(0, 200)}`, { cause: error }));
      }
    });
  });
}

/** Mostly quick jobs, some sleepers, some that fail once or twice before succeeding, a few that never succeed. */
export function demoMix(total: number): EnqueueRequest<Contracts>[] {
  const requests: EnqueueRequest<Contracts>[] = [];
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

function describeMix(requests: readonly EnqueueRequest<Contracts>[]): string {
  const counts = new Map<string, number>();
  for (const request of requests) counts.set(request.type, (counts.get(request.type) ?? 0) + 1);
  return [...counts.entries()].map(([type, count]) => `${count} ${type}`).join(', ');
}

/**
 * One status line with a bar: redrawn in place on a terminal, printed at most every few seconds
 * elsewhere (CI logs), so progress is visible in both.
 */
class Progress {
  private lastText = '';
  private lastWritten = '';
  private lastPlainWrite = 0;
  private readonly tty: boolean;

  constructor(private readonly stream: NodeJS.WriteStream) {
    this.tty = Boolean(stream.isTTY);
  }

  update(text: string, percent: number): void {
    const width = 30;
    const filled = Math.round((Math.max(0, Math.min(100, percent)) / 100) * width);
    const line = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(percent)).padStart(3)}% ${text}`;
    if (this.tty) {
      this.stream.write(`\r\x1b[2K${line}`);
    } else if (line !== this.lastText && Date.now() - this.lastPlainWrite >= 3_000) {
      this.stream.write(`${line}\n`);
      this.lastPlainWrite = Date.now();
      this.lastWritten = line;
    }
    this.lastText = line;
  }

  done(): void {
    if (this.tty && this.lastText) this.stream.write('\n');
    else if (!this.tty && this.lastText && this.lastText !== this.lastWritten) this.stream.write(`${this.lastText}\n`);
    this.lastText = '';
  }
}

/** Columns padded to their widest cell. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

try {
  await main();
} catch (error) {
  process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
