/**
 * Benchmark 3: cold start.
 *
 * Bundles every function of the real stack the way `cdk deploy` does (by
 * synthesizing JobstackStack, so NodejsFunction and jobstack's split build run
 * esbuild with the stack's own settings), plus a reference handler (plain
 * middy + Powertools Logger) built through the very same construct, and
 * reports for each: the code loaded at start (`index.mjs` and the chunks it
 * imports statically; minified, AWS SDK included), the lazily loaded chunks,
 * and module initialisation time — a fresh `node` process that imports the
 * bundle (building the handler at module scope), median of N runs, minus a
 * bare `node` start — as wall time and as the process's CPU time (user +
 * system), which other work on a shared machine disturbs less.
 *
 * It also breaks the worker bundle down by package (esbuild metafile, with the
 * same options; checked to produce the same size) to show where the bytes are.
 *
 *   npx tsx bench/cold-start.ts [--runs 20] [--no-write]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { CHUNK_FOLDER, JOBSTACK_BUNDLING } from '../infra/jobstack-function.js';
import {
  type BundledFunction,
  bundleFiles,
  bundleReferenceFunction,
  bundleStackFunctions,
  demoWorkerEntry,
  filesLoadedBy,
  initFiles,
} from './lib/bundle.js';
import { flag, intOption, markdownTable, num, writeSection } from './lib/report.js';
import { median, summarize } from './lib/stats.js';

const REFERENCE_ENTRY = fileURLToPath(new URL('./fixtures/reference-handler.ts', import.meta.url));
/** Issue 14: the code a worker loads at start, AWS SDK included, and its init time (median). */
const BUNDLE_TARGET_BYTES = 800 * 1024;
const INIT_TARGET_MS = 100;

/** What the Lambda runtime sets that our code may read at init. */
const LAMBDA_ENV = {
  AWS_REGION: 'us-east-1',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_LAMBDA_FUNCTION_NAME: 'bench-cold-start',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
  AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

interface Measured {
  readonly name: string;
  readonly files: Record<string, number>;
  /** The files loaded at start (index.mjs and its static imports). */
  readonly init: readonly string[];
  readonly initMs: number[];
  readonly cpuMs: number[];
}

/** One timed `node` run: wall time from spawn to exit, and the process's own CPU time. */
interface Timing {
  readonly wallMs: number;
  readonly cpuMs: number;
}

/** Printed last by every timed script: the CPU time of the whole process (start-up included). */
const PRINT_CPU = 'const __cpu = process.cpuUsage(); console.log(JSON.stringify((__cpu.user + __cpu.system) / 1000));\n';

async function main(): Promise<void> {
  const runs = intOption('runs', 'BENCH_COLD_RUNS', 20);
  console.error('cold-start: bundling the stack functions (cdk synth with local esbuild)');
  const stackFunctions = bundleStackFunctions();
  console.error('cold-start: bundling the reference handler with the same construct');
  const reference = bundleReferenceFunction(REFERENCE_ENTRY);

  const defaultWorker = stackFunctions.find((fn) => functionName(fn) === 'worker (WorkerDefault)');
  const targets: { name: string; fn: BundledFunction }[] = [
    ...stackFunctions.map((fn) => ({ name: functionName(fn), fn })),
    // The same worker where the Tracer does not trace (JobSystem `tracing: false`): the X-Ray SDK's chunk is not loaded.
    ...(defaultWorker
      ? [
          {
            name: 'worker (WorkerDefault), tracing off',
            fn: { ...defaultWorker, environment: { ...defaultWorker.environment, POWERTOOLS_TRACE_ENABLED: 'false' } },
          },
        ]
      : []),
    { name: 'reference: middy + Powertools Logger', fn: reference },
  ];
  const scratch = mkdtempSync(join(tmpdir(), 'jobstack-bench-cold-'));
  const bare = join(scratch, 'bare.mjs');
  writeFileSync(bare, PRINT_CPU);

  const loaderOf = (i: number, fn: BundledFunction): string => {
    const loader = join(scratch, `load-${i}.mjs`);
    writeFileSync(
      loader,
      `const m = await import(${JSON.stringify(`file://${join(fn.assetDir, 'index.mjs')}`)});\n` +
        `if (typeof m.${fn.handler.split('.').pop()} !== 'function') { console.error('no handler export'); process.exit(3); }\n` +
        PRINT_CPU,
    );
    return loader;
  };
  const measured: Measured[] = targets.map(({ name, fn }, i) => ({
    name,
    files: bundleFiles(fn.assetDir),
    init: filesLoadedBy(loaderOf(i, fn), fn.assetDir, { PATH: process.env.PATH ?? '', ...LAMBDA_ENV, ...fn.environment }),
    initMs: [],
    cpuMs: [],
  }));
  const bareMs: number[] = [];
  const bareCpuMs: number[] = [];
  // Interleave the runs so drift on the machine hits every target alike.
  for (let run = 0; run < runs + 2; run++) {
    const bareRun = timeNode(bare, {});
    if (run >= 2) {
      bareMs.push(bareRun.wallMs);
      bareCpuMs.push(bareRun.cpuMs);
    }
    targets.forEach(({ name, fn }, i) => {
      const loader = join(scratch, `load-${i}.mjs`);
      let timing: Timing;
      try {
        timing = timeNode(loader, fn.environment);
      } catch (error) {
        throw new Error(`${name} (${fn.logicalId}) failed to initialise: ${(error as Error).message}`);
      }
      if (run >= 2) {
        (measured[i] as Measured).initMs.push(timing.wallMs);
        (measured[i] as Measured).cpuMs.push(timing.cpuMs);
      }
    });
  }
  const bareStart: Timing = { wallMs: median(bareMs), cpuMs: median(bareCpuMs) };

  const worker = targets.find((t) => t.name.startsWith('worker'));
  const breakdown = worker ? await packageBreakdown(worker.fn) : undefined;

  const body = render(measured, bareStart, runs, breakdown);
  console.log(body);
  if (!flag('no-write')) writeSection('cold-start', body, `npm run bench:cold-start -- --runs ${runs}`);
}

function functionName(fn: BundledFunction): string {
  const id = fn.logicalId.replace(/^JobSystem/, '').replace(/[0-9A-F]{8}$/, '');
  return id.startsWith('Worker') ? `worker (${id})` : id;
}

/** Wall time of a fresh `node` running `file`, and the CPU time it reports, in ms. */
function timeNode(file: string, environment: Record<string, string>): Timing {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [file], {
    env: { PATH: process.env.PATH ?? '', ...LAMBDA_ENV, ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) {
    // The error is at the end; the start may be a minified source line.
    const stderr = result.stderr.toString();
    throw new Error(`node ${file} exited ${result.status}: …${stderr.slice(-1_500)}`);
  }
  const cpuMs = Number(result.stdout.toString().trim().split('\n').pop());
  if (!Number.isFinite(cpuMs)) throw new Error(`node ${file} printed no CPU time: ${result.stdout.toString().slice(-500)}`);
  return { wallMs, cpuMs };
}

interface Breakdown {
  /** Bytes of the files loaded at start (index.mjs and its static imports). */
  readonly initBytes: number;
  readonly lazyBytes: number;
  readonly matchesDeployed: boolean;
  /** By package: bytes in the files loaded at start, and in the lazily loaded chunks. */
  readonly packages: { name: string; initBytes: number; lazyBytes: number }[];
}

/**
 * Output bytes by package, from an esbuild split build with the arguments of
 * jobstack's bundling for this stack (target node22, platform node, ESM,
 * module main field, minify, sourcemap, banner, chunks) plus a metafile.
 */
async function packageBreakdown(fn: BundledFunction): Promise<Breakdown> {
  const outdir = mkdtempSync(join(tmpdir(), 'jobstack-bench-meta-'));
  const deployedBanner = readFileSync(join(fn.assetDir, 'index.mjs'), 'utf8').split('\n')[0] ?? '';
  const result = await build({
    entryPoints: { index: demoWorkerEntry() },
    bundle: true,
    splitting: true,
    target: 'node22',
    platform: 'node',
    format: 'esm',
    mainFields: [...(JOBSTACK_BUNDLING.mainFields ?? [])],
    minify: true,
    sourcemap: true,
    outdir,
    outExtension: { '.js': '.mjs' },
    chunkNames: `${CHUNK_FOLDER}/[name]-[hash]`,
    // esbuild writes the banner as each file's first line: reuse the deployed one verbatim.
    banner: { js: deployedBanner },
    metafile: true,
    logLevel: 'silent',
  });
  const init = new Set(initFiles(outdir).map((file) => join(outdir, file)));
  const byPackage = new Map<string, { initBytes: number; lazyBytes: number }>();
  let initBytes = 0;
  let lazyBytes = 0;
  for (const [file, output] of Object.entries(result.metafile.outputs)) {
    if (file.endsWith('.map')) continue;
    const atStart = init.has(join(process.cwd(), file)) || init.has(file);
    if (atStart) initBytes += output.bytes;
    else lazyBytes += output.bytes;
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name = packageOf(input);
      const entry = byPackage.get(name) ?? { initBytes: 0, lazyBytes: 0 };
      if (atStart) entry.initBytes += bytesInOutput;
      else entry.lazyBytes += bytesInOutput;
      byPackage.set(name, entry);
    }
  }
  const deployed = initFiles(fn.assetDir).reduce((sum, file) => sum + statSync(join(fn.assetDir, file)).size, 0);
  return {
    initBytes,
    lazyBytes,
    matchesDeployed: Math.abs(initBytes - deployed) <= 2_048,
    packages: [...byPackage.entries()]
      .map(([name, bytes]) => ({ name, ...bytes }))
      .sort((a, b) => b.initBytes + b.lazyBytes - (a.initBytes + a.lazyBytes)),
  };
}

/**
 * The worker bundle's parts, by what they are for (first match wins), so the
 * report says what a size target is up against. Unlisted packages go to "other".
 */
const BUNDLE_PARTS: readonly { name: string; test: RegExp }[] = [
  {
    name: 'S3 client for large payloads',
    test: /^@aws-sdk\/(client-s3|middleware-sdk-s3|checksums|xml-builder|signature-v4-multi-region|middleware-(bucket-endpoint|expect-continue|flexible-checksums|location-constraint|ssec))$|^@aws-crypto\/crc32/,
  },
  { name: 'Step Functions client (long jobs)', test: /^@aws-sdk\/client-sfn$/ },
  {
    name: 'AWS SDK core + DynamoDB and SQS clients (@smithy/*, @aws-sdk/*, their helpers)',
    test: /^@smithy\/|^@aws-sdk\/|^@aws-crypto\/|^bowser$|^mnemonist$|^obliterator$|^fast-xml-parser$|^strnum$|^tslib$|^uuid$/,
  },
  {
    name: 'Tracer: X-Ray SDK and its dependencies',
    test: /^aws-xray-sdk-core$|^semver$|^cls-hooked$|^emitter-listener$|^shimmer$|^atomic-batcher$|^async-hook-jl$|^stack-chain$|^@aws-lambda-powertools\/tracer$/,
  },
  {
    name: 'Powertools (logger, metrics, batch, commons) and middy',
    test: /^@aws-lambda-powertools\/|^@middy\/|^@aws\/lambda-invoke-store$/,
  },
  { name: 'zod', test: /^zod$/ },
  { name: 'jobstack code', test: /^\(jobstack / },
];

function partOf(pkg: string): string {
  return BUNDLE_PARTS.find((part) => part.test.test(pkg))?.name ?? 'other';
}

function packageOf(input: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  if (match) return match[1] as string;
  const top = input.split('/')[0] ?? input;
  return `(jobstack ${top}/)`;
}

function render(measured: readonly Measured[], bare: Timing, runs: number, breakdown: Breakdown | undefined): string {
  const kb = (bytes: number) => `${num(bytes / 1024, 1)} KB`;
  const rows = measured.map((m) => {
    const files = Object.entries(m.files);
    const sum = (test: (file: string) => boolean) => files.filter(([file]) => test(file)).reduce((s, [, b]) => s + b, 0);
    const initCode = sum((file) => m.init.includes(file));
    const lazyCode = sum((file) => file.endsWith('.mjs') && !m.init.includes(file));
    const maps = sum((file) => file.endsWith('.map'));
    const wall = summarize(m.initMs.map((ms) => ms - bare.wallMs));
    const cpu = summarize(m.cpuMs.map((ms) => ms - bare.cpuMs));
    const isReference = m.name.startsWith('reference');
    return [
      m.name,
      `${kb(initCode)} (${m.init.length} file${m.init.length === 1 ? '' : 's'})`,
      kb(lazyCode),
      kb(maps),
      isReference ? '—' : initCode <= BUNDLE_TARGET_BYTES ? 'met' : '**missed**',
      num(wall.median, 1),
      `${num(wall.p25, 1)}–${num(wall.p75, 1)}`,
      num(cpu.median, 1),
      isReference ? '—' : wall.median <= INIT_TARGET_MS ? 'met' : '**missed**',
    ];
  });
  const share = (bytes: number) => (breakdown ? `${num((100 * bytes) / breakdown.initBytes, 1)}%` : '');
  const packages = breakdown
    ? markdownTable(
        ['package', 'loaded at start', 'share of start', 'lazy chunks'],
        breakdown.packages.slice(0, 15).map((p) => [p.name, kb(p.initBytes), share(p.initBytes), kb(p.lazyBytes)]),
      )
    : '';
  const byPart = new Map<string, { initBytes: number; lazyBytes: number }>();
  for (const p of breakdown?.packages ?? []) {
    const part = byPart.get(partOf(p.name)) ?? { initBytes: 0, lazyBytes: 0 };
    part.initBytes += p.initBytes;
    part.lazyBytes += p.lazyBytes;
    byPart.set(partOf(p.name), part);
  }
  const parts = breakdown
    ? markdownTable(
        ['part', 'loaded at start', 'share of start', 'lazy chunks'],
        [...byPart.entries()]
          .sort((a, b) => b[1].initBytes + b[1].lazyBytes - (a[1].initBytes + a[1].lazyBytes))
          .map(([name, bytes]) => [name, kb(bytes.initBytes), share(bytes.initBytes), kb(bytes.lazyBytes)]),
      )
    : '';
  return `
### Cold start

Bundles built by synthesizing the real stack (NodejsFunction, then jobstack's split build with local esbuild: ESM,
the SDK's ES modules, minify, source map, AWS SDK bundled, node22 target, createRequire banner, code splitting into
\`${CHUNK_FOLDER}/\`); the reference handler goes through the same construct. "Code at start" = the files Node loads
before the handler exists (read from \`NODE_DEBUG=esm\`: \`index.mjs\`, its static imports, and the Tracer's chunk
where tracing is on); "lazy" = chunks loaded by \`import()\` when their code first runs. Init = a fresh \`node\` importing the bundle (module scope builds the handler), median of ${runs}
runs minus a bare \`node\` start (${num(bare.wallMs, 1)} ms wall, ${num(bare.cpuMs, 1)} ms CPU here), with Lambda's
environment variables set; CPU = the process's user + system time, less disturbed by other work on the machine.

${markdownTable(['function', 'code at start', 'lazy chunks', 'source maps', '≤ 800 KB', 'init ms (median)', 'init IQR', 'init CPU ms', '≤ 100 ms'], rows)}

${breakdown ? `Worker bundle by package (esbuild metafile with the same options; ${breakdown.matchesDeployed ? 'same size at start as the deployed bundle' : '**size differs from the deployed bundle, treat as approximate**'}; ${kb(breakdown.initBytes)} in \`index.mjs\` and its static imports, ${kb(breakdown.lazyBytes)} in lazy chunks, of which the Tracer's is loaded at start where tracing is on):\n\n${packages}\n\nThe same bundle by part (every package, grouped by what it is for; the rest is esbuild's own glue):\n\n${parts}` : ''}
`;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
