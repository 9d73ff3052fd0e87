import { ConfigurationError, FunctionEnv } from '../../shared/index.js';

/** Environment variables of the flow coordinator beyond the common ones in FunctionEnv. */
export const FlowCoordinatorEnv = {
  /** JSON `{ "<queue>": { "url": ..., "deadLetterUrl": ..., "levels"?: [{ "name", "url" }] } }`: where flow jobs are sent. */
  queues: 'JOBSTACK_FLOW_QUEUES',
} as const;

/** The URLs of one logical queue the coordinator sends to. */
export interface FlowQueueUrls {
  readonly url: string;
  readonly deadLetterUrl: string;
  readonly levels?: readonly { readonly name: string; readonly url: string }[];
}

export interface FlowCoordinatorEnvironment {
  readonly jobsTable: string;
  readonly recordRetentionDays: number;
  readonly queues: Readonly<Record<string, FlowQueueUrls>>;
}

/** Reads and checks the coordinator's configuration once, at cold start. */
export function readFlowCoordinatorEnvironment(env: NodeJS.ProcessEnv = process.env): FlowCoordinatorEnvironment {
  const missing = [FunctionEnv.jobsTable, FlowCoordinatorEnv.queues].filter((name) => !env[name]);
  if (missing.length > 0) throw new ConfigurationError(`flow coordinator environment is missing ${missing.join(', ')}`);
  const given = env[FlowCoordinatorEnv.queues] as string;
  let queues: unknown;
  try {
    queues = JSON.parse(given);
  } catch (error) {
    throw new ConfigurationError(`${FlowCoordinatorEnv.queues} is not JSON (given ${given.slice(0, 200)})`, { cause: error });
  }
  if (
    typeof queues !== 'object' ||
    queues === null ||
    !Object.values(queues).every((urls) => typeof (urls as { url?: unknown })?.url === 'string')
  ) {
    throw new ConfigurationError(
      `${FlowCoordinatorEnv.queues} must map queue names to their URLs (given ${given.slice(0, 200)})`,
    );
  }
  const retention = Number(env[FunctionEnv.recordRetentionDays] ?? '30');
  if (!Number.isFinite(retention) || retention <= 0) {
    throw new ConfigurationError(
      `${FunctionEnv.recordRetentionDays} must be a positive number (given ${env[FunctionEnv.recordRetentionDays]})`,
    );
  }
  return {
    jobsTable: env[FunctionEnv.jobsTable] as string,
    recordRetentionDays: retention,
    queues: queues as Record<string, FlowQueueUrls>,
  };
}
