// `npm run build`: compiles the library into dist/ (tsconfig.build.json) and copies the files the compiled code
// reads at run time but tsc does not emit. dist/ is emptied first so a source file deleted or moved since the
// last build cannot linger in the published package.
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

/** Non-TypeScript files the library loads relative to its own modules, as paths from the repository root. */
const ASSETS = [
  // dashboard/server.ts serves these from `new URL('./public/', import.meta.url)`.
  'dashboard/public',
  // cli/local/emulator.ts starts the emulator with this script, found from its own location.
  'cli/local/ministack-with-patches.py',
];

rmSync(dist, { recursive: true, force: true });

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (compiled.status !== 0) {
  process.exitCode = compiled.status ?? 1;
} else {
  for (const asset of ASSETS) cpSync(join(root, asset), join(dist, asset), { recursive: true });
}
