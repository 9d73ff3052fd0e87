import {
  type AwsConnection,
  connectJobClient,
  DEFAULT_STACK_NAME,
  type JobClient,
  type JobRegistry,
  LOCAL_ENDPOINT,
  localConnection,
} from '../shared/index.js';
import { loadProjectConfig, loadProjectRegistry, type ProjectConfig } from './load-config.js';

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

/** What a connection needs from the project config. */
export type ConnectionDefaults = Pick<ProjectConfig, 'stackName' | 'endpoint'>;

/**
 * The stack comes from `--stack`, else env `JOBSTACK_STACK`, else the config's `stackName`,
 * else `jobstack`. The endpoint from `--endpoint`, else `--local` (the emulator with its test
 * credentials: the config's endpoint when that is a local one, else port 4566), else the
 * config's `endpoint`, else the standard AWS environment (`AWS_ENDPOINT_URL`, profile, region).
 */
export function resolveConnection(
  flags: ConnectionFlags,
  defaults: ConnectionDefaults = {},
): { stackName: string; aws: AwsConnection } {
  const stackName = flags.stack ?? process.env.JOBSTACK_STACK ?? defaults.stackName ?? DEFAULT_STACK_NAME;
  if (flags.endpoint !== undefined) return { stackName, aws: connectionTo(flags.endpoint) };
  if (flags.local) {
    const local = defaults.endpoint !== undefined && isLoopback(defaults.endpoint) ? defaults.endpoint : LOCAL_ENDPOINT;
    return { stackName, aws: localConnection(local) };
  }
  if (defaults.endpoint !== undefined) return { stackName, aws: connectionTo(defaults.endpoint) };
  return { stackName, aws: {} };
}

/** The project config found from the current folder, its registry, and where its stack is. */
export async function loadConnection(flags: ConnectionFlags): Promise<{
  project: ProjectConfig;
  registry: JobRegistry;
  stackName: string;
  aws: AwsConnection;
}> {
  const project = await loadProjectConfig();
  const registry = await loadProjectRegistry(project);
  return { project, registry, ...resolveConnection(flags, project) };
}

/** A client for the project's stack, typed loosely: the registry is only known at run time. */
export async function connect(flags: ConnectionFlags): Promise<JobClient<JobRegistry>> {
  const { registry, stackName, aws } = await loadConnection(flags);
  return connectJobClient({ registry, stackName, aws });
}

/** An emulator on this machine gets its test credentials; any other endpoint the caller's own. */
function connectionTo(endpoint: string): AwsConnection {
  return isLoopback(endpoint) ? localConnection(endpoint) : { endpoint };
}

export function isLoopback(endpoint: string): boolean {
  try {
    const host = new URL(endpoint).hostname;
    return host === 'localhost' || host === '[::1]' || host.startsWith('127.');
  } catch {
    return false;
  }
}
