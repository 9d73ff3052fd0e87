import { App } from 'aws-cdk-lib';
import { AdoptionAppStack } from '../src/stack.js';

const app = new App();
// The stack name is the one jobstack.config.ts names, so `npx jobstack` finds it.
new AdoptionAppStack(app, 'AdoptionApp');
