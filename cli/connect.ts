import { type Registry, registry } from '../functions/jobs/contracts.js';
import {
  type AwsConnection,
  connectJobClient,
  DEFAULT_STACK_NAME,
  type JobClient,
  LOCAL_ENDPOINT,
  localConnection,
} from '../shared/index.js';

/** Options every command that talks to a stack accepts. */
export const connectionOptions = {
  stack: { type: 'string' },
  endpoint: { type: 'string' },
  local: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

export interface ConnectionFlags {
  readonly stack?: string | undefined;
  readonly endpoint?: string | undefined;
  readonly local?: boolean | undefined;
}

/**
 * The stack comes from `--stack`, else `JOBSTACK_STACK`, else `jobstack`. The
 * endpoint from `--endpoint`, else `--local` (the emulator with its test
 * credentials), else the standard AWS environment (`AWS_ENDPOINT_URL`, profile, region).
 */
export function resolveConnection(flags: ConnectionFlags): { stackName: string; aws: AwsConnection } {
  const stackName = flags.stack ?? process.env.JOBSTACK_STACK ?? DEFAULT_STACK_NAME;
  if (flags.endpoint !== undefined) {
    const local = isLoopback(flags.endpoint) ? localConnection(flags.endpoint) : { endpoint: flags.endpoint };
    return { stackName, aws: local };
  }
  if (flags.local) return { stackName, aws: localConnection(LOCAL_ENDPOINT) };
  return { stackName, aws: {} };
}

export function connect(flags: ConnectionFlags): Promise<JobClient<Registry>> {
  const { stackName, aws } = resolveConnection(flags);
  return connectJobClient({ registry, stackName, aws });
}

function isLoopback(endpoint: string): boolean {
  try {
    const host = new URL(endpoint).hostname;
    return host === 'localhost' || host === '[::1]' || host.startsWith('127.');
  } catch {
    return false;
  }
}
