/**
 * Benchmark 3: cold start.
 *
 * Bundles every function of the real stack the way `cdk deploy` does (by
 * synthesizing JobstackStack, so NodejsFunction runs esbuild with the stack's
 * own settings), plus a reference handler (plain middy + Powertools Logger)
 * built through the very same construct, and reports for each: bundle size
 * (minified, AWS SDK included) and module initialisation time — a fresh `node`
 * process that imports the bundle (building the handler at module scope),
 * median of N runs, minus a bare `node` start.
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
import {
  type BundledFunction,
  bundleFiles,
  bundleReferenceFunction,
  bundleStackFunctions,
  demoWorkerEntry,
} from './lib/bundle.js';
import { flag, intOption, markdownTable, num, writeSection } from './lib/report.js';
import { median, summarize } from './lib/stats.js';

const REFERENCE_ENTRY = fileURLToPath(new URL('./fixtures/reference-handler.ts', import.meta.url));
const BUNDLE_TARGET_BYTES = 500 * 1024;
const INIT_TARGET_MS = 150;

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
  readonly initMs: number[];
}

async function main(): Promise<void> {
  const runs = intOption('runs', 'BENCH_COLD_RUNS', 20);
  console.error('cold-start: bundling the stack functions (cdk synth with local esbuild)');
  const stackFunctions = bundleStackFunctions();
  console.error('cold-start: bundling the reference handler with the same construct');
  const reference = bundleReferenceFunction(REFERENCE_ENTRY);

  const targets: { name: string; fn: BundledFunction }[] = [
    ...stackFunctions.map((fn) => ({ name: functionName(fn), fn })),
    { name: 'reference: middy + Powertools Logger', fn: reference },
  ];
  const scratch = mkdtempSync(join(tmpdir(), 'jobstack-bench-cold-'));
  const bare = join(scratch, 'bare.mjs');
  writeFileSync(bare, '');

  const measured: Measured[] = targets.map(({ name, fn }) => ({ name, files: bundleFiles(fn.assetDir), initMs: [] }));
  const bareMs: number[] = [];
  // Interleave the runs so drift on the machine hits every target alike.
  for (let run = 0; run < runs + 2; run++) {
    const bareRun = timeNode(bare, {});
    if (run >= 2) bareMs.push(bareRun);
    targets.forEach(({ name, fn }, i) => {
      const loader = join(scratch, `load-${i}.mjs`);
      writeFileSync(
        loader,
        `const m = await import(${JSON.stringify(`file://${join(fn.assetDir, 'index.mjs')}`)});\n` +
          `if (typeof m.${fn.handler.split('.').pop()} !== 'function') { console.error('no handler export'); process.exit(3); }\n`,
      );
      let ms: number;
      try {
        ms = timeNode(loader, fn.environment);
      } catch (error) {
        throw new Error(`${name} (${fn.logicalId}) failed to initialise: ${(error as Error).message}`);
      }
      if (run >= 2) (measured[i] as Measured).initMs.push(ms);
    });
  }
  const bareMedian = median(bareMs);

  const worker = targets.find((t) => t.name.startsWith('worker'));
  const breakdown = worker ? await packageBreakdown(worker.fn) : undefined;

  const body = render(measured, bareMedian, runs, breakdown);
  console.log(body);
  if (!flag('no-write')) writeSection('cold-start', body, `npm run bench:cold-start -- --runs ${runs}`);
}

function functionName(fn: BundledFunction): string {
  const id = fn.logicalId.replace(/^JobSystem/, '').replace(/[0-9A-F]{8}$/, '');
  return id.startsWith('Worker') ? `worker (${id})` : id;
}

/** Wall time of a fresh `node` running `file`, in ms. */
function timeNode(file: string, environment: Record<string, string>): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [file], {
    env: { PATH: process.env.PATH ?? '', ...LAMBDA_ENV, ...environment },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) {
    // The error is at the end; the start may be a minified source line.
    const stderr = result.stderr.toString();
    throw new Error(`node ${file} exited ${result.status}: …${stderr.slice(-1_500)}`);
  }
  return ms;
}

interface Breakdown {
  readonly totalBytes: number;
  readonly matchesDeployed: boolean;
  readonly packages: { name: string; bytes: number }[];
}

/**
 * Output bytes by package, from an esbuild build with NodejsFunction's
 * arguments for this stack (target node22, platform node, ESM, minify,
 * sourcemap, banner) plus a metafile.
 */
async function packageBreakdown(fn: BundledFunction): Promise<Breakdown> {
  const outdir = mkdtempSync(join(tmpdir(), 'jobstack-bench-meta-'));
  const deployedBanner = readFileSync(join(fn.assetDir, 'index.mjs'), 'utf8').split('\n')[0] ?? '';
  const result = await build({
    entryPoints: [demoWorkerEntry()],
    bundle: true,
    target: 'node22',
    platform: 'node',
    format: 'esm',
    minify: true,
    sourcemap: true,
    outfile: join(outdir, 'index.mjs'),
    // esbuild writes the banner as the bundle's first line: reuse the deployed one verbatim.
    banner: { js: deployedBanner },
    metafile: true,
    logLevel: 'silent',
  });
  const output = Object.values(result.metafile.outputs).find((o) => o.entryPoint !== undefined);
  if (!output) throw new Error('esbuild metafile has no entry output');
  const byPackage = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const name = packageOf(input);
    byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput);
  }
  const ours = statSync(join(outdir, 'index.mjs')).size;
  const deployed = statSync(join(fn.assetDir, 'index.mjs')).size;
  return {
    totalBytes: ours,
    matchesDeployed: Math.abs(ours - deployed) <= 512,
    packages: [...byPackage.entries()].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes),
  };
}

/**
 * The worker bundle's parts, by what they are for (first match wins), so the
 * report says what a size target is up against. Unlisted packages go to "other".
 */
const BUNDLE_PARTS: readonly { name: string; test: RegExp }[] = [
  {
    name: 'S3 client for large payloads (loaded lazily; bytes still in the one-file bundle)',
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

function render(measured: readonly Measured[], bareMs: number, runs: number, breakdown: Breakdown | undefined): string {
  const kb = (bytes: number) => `${num(bytes / 1024, 1)} KB`;
  const rows = measured.map((m) => {
    const code = m.files['index.mjs'] ?? 0;
    const map = m.files['index.mjs.map'] ?? 0;
    const init = m.initMs.map((ms) => ms - bareMs);
    const s = summarize(init);
    const isReference = m.name.startsWith('reference');
    return [
      m.name,
      kb(code),
      kb(map),
      isReference ? '—' : code <= BUNDLE_TARGET_BYTES ? 'met' : '**missed**',
      num(s.median, 1),
      `${num(s.p25, 1)}–${num(s.p75, 1)}`,
      isReference ? '—' : s.median <= INIT_TARGET_MS ? 'met' : '**missed**',
    ];
  });
  const packages = breakdown
    ? markdownTable(
        ['package', 'bytes in worker bundle', 'share'],
        breakdown.packages.slice(0, 15).map((p) => [p.name, kb(p.bytes), `${num((100 * p.bytes) / breakdown.totalBytes, 1)}%`]),
      )
    : '';
  const byPart = new Map<string, number>();
  for (const p of breakdown?.packages ?? []) byPart.set(partOf(p.name), (byPart.get(partOf(p.name)) ?? 0) + p.bytes);
  const parts = breakdown
    ? markdownTable(
        ['part', 'bytes in worker bundle', 'share'],
        [...byPart.entries()]
          .sort((a, b) => b[1] - a[1])
          .map(([name, bytes]) => [name, kb(bytes), `${num((100 * bytes) / breakdown.totalBytes, 1)}%`]),
      )
    : '';
  return `
### Cold start

Bundles built by synthesizing the real stack (NodejsFunction, local esbuild: ESM, minify, source map, AWS SDK
bundled, node22 target, createRequire banner); the reference handler goes through the same construct. Init = wall
time of a fresh \`node\` importing the bundle (module scope builds the handler), median of ${runs} runs minus a bare
\`node\` start (${num(bareMs, 1)} ms here), with Lambda's environment variables set.

${markdownTable(['function', 'bundle (index.mjs)', 'source map', '≤ 500 KB', 'init ms (median)', 'init IQR', '≤ 150 ms'], rows)}

${breakdown ? `Worker bundle by package (esbuild metafile with the same options; ${breakdown.matchesDeployed ? 'same size as the deployed bundle' : '**size differs from the deployed bundle, treat as approximate**'}):\n\n${packages}\n\nThe same bundle by part (every package, grouped by what it is for; the rest of the file is esbuild's own glue):\n\n${parts}` : ''}
`;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
