#!/usr/bin/env node
// The `jobstack` command. tsx is registered first whichever CLI runs: the CLI imports the project's
// `jobstack.config.ts` and the contracts module it names, both TypeScript.
import { existsSync } from 'node:fs';
import { register } from 'tsx/esm/api';

// The SDK warns on every start under Node 20 that future releases need Node 22; the CLI's own
// output (one line per error) matters more here. Set the variable to 'false' to see it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

register();

// In a source checkout (this repository) the CLI runs from its TypeScript, so there is no build step to forget
// and a stale dist/ is never used. The published package ships no cli/*.ts, only the compiled dist/cli/.
// The choice depends on what the package contains, never on whether a build happens to exist.
const source = new URL('../cli/main.ts', import.meta.url);
await import(existsSync(source) ? source.href : new URL('../dist/cli/main.js', import.meta.url).href);
