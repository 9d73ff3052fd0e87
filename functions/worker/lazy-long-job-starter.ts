import type { SFNClient } from '@aws-sdk/client-sfn';
import type { JobStore } from '../../shared/index.js';
import type { LongJobStarter } from '../long-job/start-long-job.js';

export interface LazyLongJobStarterOptions {
  readonly stateMachineArn: string;
  readonly store: JobStore;
  /** Instruments the client once it exists (X-Ray). */
  readonly wrapClient?: (client: SFNClient) => SFNClient;
}

/**
 * A long-job starter that loads the Step Functions client and the starter on
 * the first long job, not at cold start: most workers never see one, and the
 * bundle keeps that code in a chunk of its own (infra `withCodeSplitting`).
 * A failed load is not remembered, so the next long job tries again.
 */
export function lazyLongJobStarter(options: LazyLongJobStarterOptions): LongJobStarter {
  let starter: Promise<LongJobStarter> | undefined;
  return async (envelope, definition, context) => {
    starter ??= Promise.all([import('@aws-sdk/client-sfn'), import('../long-job/start-long-job.js')]).then(
      ([{ SFNClient }, { createLongJobStarter }]) => {
        const client = new SFNClient({});
        return createLongJobStarter({
          sfn: options.wrapClient ? options.wrapClient(client) : client,
          stateMachineArn: options.stateMachineArn,
          store: options.store,
        });
      },
      (error: unknown) => {
        starter = undefined;
        throw error;
      },
    );
    return (await starter)(envelope, definition, context);
  };
}
