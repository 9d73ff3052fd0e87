import { defineConfig } from 'jobstack';

// What `npx jobstack` reads in this folder: where the contracts are and which stack to talk to.
export default defineConfig({ registry: './src/contracts.ts', stackName: 'AdoptionApp' });
