import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { JobstackStack } from './jobstack-stack.js';

/** The stack name the CLI looks for unless told otherwise (`stackName` in jobstack.config.ts). */
const DEFAULT_STACK_NAME = 'jobstack';

/**
 * The CDK app (`cdk.json` runs it with tsx).
 *
 * Context: `stackName` (else env `JOBSTACK_STACK`, else `jobstack`), `demoJobs`
 * (default true), `nag=true` to run the cdk-nag AwsSolutions checks on synth
 * (the CDK tests always run them; off here to keep `cdk deploy` quick).
 */
const app = new App();
const stackName = (app.node.tryGetContext('stackName') as string | undefined) ?? process.env.JOBSTACK_STACK ?? DEFAULT_STACK_NAME;

new JobstackStack(app, stackName, {
  stackName,
  description: 'jobstack: serverless background jobs (SQS, Lambda, DynamoDB)',
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});

const nag = app.node.tryGetContext('nag') as unknown;
if (nag === true || nag === 'true') Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
