import type { JobstackConfig } from '../../shared/client/stack-config.js';
import { ConfigurationError, FunctionEnv } from '../../shared/index.js';

/** Environment variables of the dashboard API function, besides the shared `FunctionEnv` table names. */
export const DashboardEnv = {
  /** Name of the stack, shown in the overview. */
  stackName: 'JOBSTACK_STACK_NAME',
  /** JSON: `{ "<queue>": { "url": "...", "deadLetterUrl": "...", "eventSourceMappingIds"?: ["..."] } }` for every queue of the stack. */
  queues: 'JOBSTACK_QUEUES',
  /** Name of the stack's CloudWatch dashboard, whose widgets the metrics route draws; unset, the route answers 404. */
  dashboardName: 'JOBSTACK_DASHBOARD_NAME',
} as const;

/**
 * Reads the stack's configuration from the function's environment (set by the
 * `JobSystem` construct), so the function needs no CloudFormation access.
 * @throws ConfigurationError naming the missing or malformed variable.
 */
export function readDashboardEnvironment(env: NodeJS.ProcessEnv = process.env): JobstackConfig {
  const need = (name: string): string => {
    const value = env[name];
    if (!value) throw new ConfigurationError(`environment variable ${name} is not set`);
    return value;
  };
  const queuesText = need(DashboardEnv.queues);
  let queues: unknown;
  try {
    queues = JSON.parse(queuesText);
  } catch (error) {
    throw new ConfigurationError(`${DashboardEnv.queues} is not JSON (given ${queuesText})`, { cause: error });
  }
  const entries = typeof queues === 'object' && queues !== null ? Object.values(queues as Record<string, unknown>) : [];
  const valid =
    entries.length > 0 &&
    entries.every((urls) => {
      const candidate = urls as { url?: unknown; deadLetterUrl?: unknown; eventSourceMappingIds?: unknown } | null;
      const mappings = candidate?.eventSourceMappingIds;
      return (
        typeof candidate?.url === 'string' &&
        typeof candidate.deadLetterUrl === 'string' &&
        (mappings === undefined || (Array.isArray(mappings) && mappings.every((id) => typeof id === 'string')))
      );
    });
  if (!valid) {
    throw new ConfigurationError(`${DashboardEnv.queues} must map queue names to { url, deadLetterUrl } (given ${queuesText})`);
  }
  return {
    stackName: need(DashboardEnv.stackName),
    jobsTable: need(FunctionEnv.jobsTable),
    idempotencyTable: need(FunctionEnv.idempotencyTable),
    queues: queues as JobstackConfig['queues'],
  };
}

/** The CloudWatch dashboard whose widgets `/api/metrics` reads, when the construct set one (else no metrics route). */
export function readDashboardName(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const name = env[DashboardEnv.dashboardName]?.trim();
  return name ? name : undefined;
}
