import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const entrypoint = (name: string): string => fileURLToPath(new URL(`./entrypoints/${name}.ts`, import.meta.url));

export default defineConfig({
  // The repo consumes jobstack by its public names, as tsconfig `paths` maps them; exact matches, so
  // 'jobstack' does not also rewrite 'jobstack/worker'.
  resolve: {
    alias: [
      { find: /^jobstack$/, replacement: entrypoint('index') },
      { find: /^jobstack\/cdk$/, replacement: entrypoint('cdk') },
      { find: /^jobstack\/worker$/, replacement: entrypoint('worker') },
    ],
  },
  test: {
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          setupFiles: ['test/helpers/setup-matchers.ts'],
        },
      },
      {
        extends: true,
        test: {
          // The built package (dist/, npm pack): `npm run build` first, as npm test and npm run test:package do.
          name: 'package',
          include: ['test/package/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'cdk',
          include: ['test/cdk/**/*.test.ts'],
          // Synthesis bundles every Lambda with esbuild: seconds per stack.
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'realdb',
          include: ['test/realdb/**/*.test.ts'],
          // Starts MiniStack's DynamoDB alone on a free port (installing it into .venv first if needed).
          globalSetup: ['test/realdb/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/adoption/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          // One emulator runs one Lambda at a time: files share it, so run them one after another.
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
