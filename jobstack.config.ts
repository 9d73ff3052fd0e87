import { defineConfig } from 'jobstack';

/**
 * The demo app's jobstack config: the CLI (`npx jobstack ...`) reads the demo's job contracts
 * from `registry` and talks to the stack `stackName`; `npx jobstack local up` deploys the CDK
 * app in this folder (`cdk.json`) to the local emulator.
 */
export default defineConfig({
  registry: './functions/jobs/contracts.ts',
  handlers: './functions/jobs/handlers.ts',
  stackName: 'jobstack',
});
