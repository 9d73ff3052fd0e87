import { fileURLToPath } from 'node:url';
import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { JobSystem, type JobSystemProps } from 'jobstack/cdk';
import contracts, { DEMO_LEDGER_TABLE_ENV } from '../functions/jobs/contracts.js';

/** The demo's handlers module: its default export is the handler registry the worker and the step function bundle. */
export const DEMO_HANDLERS = fileURLToPath(new URL('../functions/jobs/handlers.ts', import.meta.url));

/** Output with the demo ledger's table name, which the integration tests and the soak read. */
export const DEMO_LEDGER_OUTPUT = 'DemoLedgerTableName';

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
  readonly jobSystem?: Omit<JobSystemProps, 'registry' | 'handlers' | 'removalPolicy'>;
}

/**
 * The demo app's stack: one {@link JobSystem} running the demo jobs, built only from the public
 * `jobstack/cdk` entry, as a user's own stack would be.
 */
export class JobstackStack extends Stack {
  public readonly jobSystem: JobSystem;
  /** The table the demo `effect` job counts its side effects in (only with `demoJobs`). */
  public readonly demoLedgerTable?: dynamodb.Table;

  constructor(scope: Construct, id: string, props: JobstackStackProps = {}) {
    super(scope, id, props);

    const demoJobs = props.demoJobs ?? parseBooleanContext(this.node.tryGetContext('demoJobs'), 'demoJobs') ?? true;
    // `-c webDashboard=true` deploys the dashboard API behind an IAM-auth Function URL (off by default).
    const webDashboardContext = parseBooleanContext(this.node.tryGetContext('webDashboard'), 'webDashboard');
    this.jobSystem = new JobSystem(this, 'JobSystem', {
      ...(webDashboardContext === undefined ? {} : { webDashboard: { enabled: webDashboardContext } }),
      // Every lifecycle event on the default bus, the optional ones too: the demo shows them all.
      lifecycleEvents: { include: ['started', 'retrying'] },
      ...props.jobSystem,
      queues: {
        // The demo's prioritized queue: `high` gets 3 of its 5 concurrent workers, `low` 2 (never starved).
        ranked: { priorities: { high: 3, low: 1 }, maxConcurrency: 5 },
        // Few consumers, so a tenant's backlog waits in the queue, where fairness decides who goes next.
        tenants: { maxConcurrency: 2 },
        ...props.jobSystem?.queues,
      },
      registry: contracts,
      handlers: DEMO_HANDLERS,
      ...(props.removalPolicy === undefined ? {} : { removalPolicy: props.removalPolicy }),
    });

    // The demo's own resource, wired to the job functions the way a user's stack wires its tables.
    if (demoJobs) {
      const ledger = new dynamodb.Table(this, 'DemoLedgerTable', {
        partitionKey: { name: 'key', type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: dynamodb.TableEncryption.AWS_MANAGED,
        removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      });
      for (const fn of this.jobSystem.jobFunctions) {
        ledger.grantReadWriteData(fn);
        fn.addEnvironment(DEMO_LEDGER_TABLE_ENV, ledger.tableName);
      }
      new CfnOutput(this, DEMO_LEDGER_OUTPUT, { value: ledger.tableName });
      this.demoLedgerTable = ledger;
    }
  }
}

function parseBooleanContext(value: unknown, key: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new Error(`context ${key} must be true or false (given ${JSON.stringify(value)})`);
}
