import { fileURLToPath } from 'node:url';
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { JobSystem } from 'jobstack/cdk';
import { contracts } from './contracts.js';

/** The app's own stack: its own resource, and jobstack beside it. */
export class AdoptionAppStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const invoiceEvents = new Topic(this, 'InvoiceEvents');
    new JobSystem(this, 'Jobs', {
      registry: contracts,
      handlers: fileURLToPath(new URL('./handlers.ts', import.meta.url)),
    });
    new CfnOutput(this, 'InvoiceEventsTopicArn', { value: invoiceEvents.topicArn });
  }
}
