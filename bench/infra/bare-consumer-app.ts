import { App } from 'aws-cdk-lib';
import { BARE_CONSUMER_STACK, BareConsumerStack } from './bare-consumer-stack.js';

/** CDK app of the throughput baseline: `cdk deploy --app 'npx tsx bench/infra/bare-consumer-app.ts'`. */
const app = new App();
new BareConsumerStack(app, BARE_CONSUMER_STACK, {
  stackName: BARE_CONSUMER_STACK,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
