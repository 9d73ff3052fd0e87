#!/usr/bin/env node
// The `jobstack` command. tsx is registered first whichever CLI runs: the CLI imports the project's
// `jobstack.config.ts` and the contracts module it names, both TypeScript.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

// The SDK warns on every start under Node 20 that future releases need Node 22; the CLI's own
// output (one line per error) matters more here. Set the variable to 'false' to see it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// In a source checkout (this repository) the CLI runs from its TypeScript, so there is no build step to forget
// and a stale dist/ is never used. The published package ships no cli/*.ts, only the compiled dist/cli/.
// The choice depends on what the package contains, never on whether a build happens to exist.
const source = new URL('../cli/main.ts', import.meta.url);
const fromSource = existsSync(source);

// From source, the demo's modules import 'jobstack' by name, which the repository's tsconfig `paths` map to
// entrypoints/: use that tsconfig wherever the command runs from. An installed package resolves 'jobstack' from
// node_modules and reads the project's own tsconfig.
register(fromSource ? { tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) } : {});

await import(fromSource ? source.href : new URL('../dist/cli/main.js', import.meta.url).href);
