import { fileURLToPath } from 'node:url';
import { type RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { JobSystem, type JobSystemProps } from 'jobstack/cdk';
import contracts from '../functions/jobs/contracts.js';

/** The demo's handlers module: its default export is the handler registry the worker and the step function bundle. */
export const DEMO_HANDLERS = fileURLToPath(new URL('../functions/jobs/handlers.ts', import.meta.url));

/** Properties of a {@link JobstackStack}. */
export interface JobstackStackProps extends StackProps {
  /**
   * Deploy the demo ledger table the demo `effect` job writes to.
   *
   * @default - context `demoJobs` when set ("false" turns it off), else true
   */
  readonly demoJobs?: boolean;

  /**
   * What happens to the tables when the stack is deleted.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Further `JobSystem` settings (batch size, concurrency, timeouts, ...).
   *
   * @default - the `JobSystem` defaults
   */
  readonly jobSystem?: Omit<JobSystemProps, 'registry' | 'handlers' | 'demoJobs' | 'removalPolicy'>;
}

/**
 * The demo app's stack: one {@link JobSystem} running the demo jobs, built only from the public
 * `jobstack/cdk` entry, as a user's own stack would be.
 */
export class JobstackStack extends Stack {
  public readonly jobSystem: JobSystem;

  constructor(scope: Construct, id: string, props: JobstackStackProps = {}) {
    super(scope, id, props);

    const demoJobs = props.demoJobs ?? parseBooleanContext(this.node.tryGetContext('demoJobs'), 'demoJobs') ?? true;
    // `-c webDashboard=true` deploys the dashboard API behind an IAM-auth Function URL (off by default).
    const webDashboardContext = parseBooleanContext(this.node.tryGetContext('webDashboard'), 'webDashboard');
    this.jobSystem = new JobSystem(this, 'JobSystem', {
      ...(webDashboardContext === undefined ? {} : { webDashboard: { enabled: webDashboardContext } }),
      ...props.jobSystem,
      registry: contracts,
      handlers: DEMO_HANDLERS,
      demoJobs,
      ...(props.removalPolicy === undefined ? {} : { removalPolicy: props.removalPolicy }),
    });
  }
}

function parseBooleanContext(value: unknown, key: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new Error(`context ${key} must be true or false (given ${JSON.stringify(value)})`);
}
