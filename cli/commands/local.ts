import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { configFromOutputs } from '../../shared/client/stack-config.js';
import { DEFAULT_STACK_NAME, localConnection } from '../../shared/index.js';
import { isLoopback } from '../connect.js';
import { repairStaleTakeover } from '../dev/worker-takeover.js';
import { UsageError } from '../errors.js';
import { printJsonOutput } from '../json/print.js';
import { loadProjectConfig, type ProjectConfig } from '../load-config.js';
import { deployToEmulator } from '../local/deploy.js';
import { DEFAULT_ENDPOINT, ensureEmulator, isHealthy, LAMBDA_NODE_VERSION, REPO_ROOT, stopEmulator } from '../local/emulator.js';
import { DEFAULT_BRIDGE_INTERVAL_MS, MetricsBridge } from '../local/metrics-bridge/bridge.js';
import { BRIDGE_PID_FILE_ENV, ensureMetricsBridge, orphanReason, stopMetricsBridge } from '../local/metrics-bridge/process.js';

const log = (line: string) => process.stderr.write(`${line}\n`);

/**
 * `jobstack local up|down`: the emulator plus a deploy of the project's CDK app and the local metrics bridge,
 * or stopping what we started. The project is the one whose jobstack.config.ts is found from the current folder.
 * `jobstack local bridge` runs the metrics bridge in the foreground (what `up` starts in the background).
 */
export async function localCommand(argv: string[]): Promise<void> {
  const [action, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      stack: { type: 'string' },
      endpoint: { type: 'string' },
      json: { type: 'boolean' },
      'interval-ms': { type: 'string' },
    },
  });
  if (action !== 'up' && action !== 'down' && action !== 'bridge') {
    throw new UsageError('usage: jobstack local up|down|bridge [--stack NAME] [--endpoint URL]');
  }
  const project = await loadProjectConfig();
  const endpoint = values.endpoint ?? localEndpointOf(project);
  if (action === 'bridge') {
    if (values.json) throw new UsageError('jobstack local bridge has no --json output: it runs until stopped and logs to stderr');
    await runMetricsBridge(
      endpoint,
      values.stack ?? process.env.JOBSTACK_STACK ?? project.stackName ?? DEFAULT_STACK_NAME,
      values['interval-ms'],
    );
    return;
  }
  if (action === 'up') {
    const up = await bringUpLocalStack({
      stackName: values.stack ?? process.env.JOBSTACK_STACK ?? project.stackName,
      endpoint,
      projectDir: project.projectDir,
      appDir: project.appDir,
    });
    if (values.json) printJsonOutput('local-up', up);
    else log(`local stack '${up.stackName}' is ready on ${up.endpoint}`);
    return;
  }
  const bridgeStopped = await stopMetricsBridge({ endpoint, projectDir: project.projectDir, log });
  const stopped = await stopEmulator({ endpoint, projectDir: project.projectDir, log });
  if (values.json) printJsonOutput('local-down', { stopped, metricsBridgeStopped: bridgeStopped });
}

/** `jobstack local bridge`: the metrics bridge in the foreground until SIGINT or SIGTERM. */
async function runMetricsBridge(endpoint: string, stackName: string, intervalText: string | undefined): Promise<void> {
  if (!isLoopback(endpoint)) {
    throw new UsageError(`the metrics bridge only runs against a local emulator (given --endpoint ${endpoint})`);
  }
  const intervalMs = intervalText === undefined ? DEFAULT_BRIDGE_INTERVAL_MS : Number(intervalText);
  if (!Number.isInteger(intervalMs) || intervalMs < 500 || intervalMs > 60_000) {
    throw new UsageError(`--interval-ms must be a whole number of milliseconds in 500..60000 (given '${intervalText}')`);
  }
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());
  const stamped = (line: string) => log(`${new Date().toISOString()} ${line}`);
  // Started by `local up`: stop when the emulator is gone for good or the pid file no longer names this process.
  const pidFile = process.env[BRIDGE_PID_FILE_ENV];
  let unhealthySince: number | undefined;
  const watchdog = setInterval(async () => {
    unhealthySince = (await isHealthy(endpoint)) ? undefined : (unhealthySince ?? Date.now());
    const reason = orphanReason(pidFile, unhealthySince);
    if (reason !== undefined && !stop.signal.aborted) {
      stamped(`metrics bridge: stopping: ${reason}`);
      stop.abort();
    }
  }, 5_000);
  try {
    await new MetricsBridge({ endpoint, stackName, intervalMs, log: stamped }).run(stop.signal);
  } finally {
    clearInterval(watchdog);
  }
}

/** The config's endpoint when it is an emulator on this machine, else the default port. */
function localEndpointOf(project: ProjectConfig): string {
  return project.endpoint !== undefined && isLoopback(project.endpoint) ? project.endpoint : DEFAULT_ENDPOINT;
}

export interface BringUpOptions {
  /** @default env JOBSTACK_STACK, else 'jobstack' */
  readonly stackName?: string | undefined;
  /** @default DEFAULT_ENDPOINT */
  readonly endpoint?: string | undefined;
  /** Folder holding the emulator's `.venv` and `.jobstack/`. @default REPO_ROOT */
  readonly projectDir?: string | undefined;
  /** Folder of the CDK app to deploy. @default REPO_ROOT (the demo app) */
  readonly appDir?: string | undefined;
}

/** What `jobstack local up --json` prints. */
export interface LocalStackUp {
  readonly stackName: string;
  readonly endpoint: string;
  readonly startedByUs: boolean;
  /** The Node.js version the Lambdas run on; null when an emulator already answered (unknown). */
  readonly lambdaNodeVersion: string | null;
  /** The PID of the local metrics bridge (`.jobstack/port-<port>/metrics-bridge.pid`). */
  readonly metricsBridgePid: number;
  /** The stack's outputs (keys in `StackOutput`). */
  readonly outputs: Record<string, string>;
}

/** Starts the emulator if none answers, deploys the stack to it and returns where it is. */
export async function bringUpLocalStack(options: BringUpOptions = {}): Promise<LocalStackUp> {
  const stackName = options.stackName ?? process.env.JOBSTACK_STACK ?? DEFAULT_STACK_NAME;
  const projectDir = options.projectDir ?? REPO_ROOT;
  const emulator = await ensureEmulator({ endpoint: options.endpoint ?? DEFAULT_ENDPOINT, projectDir, log });
  const outputs = await deployToEmulator({
    endpoint: emulator.endpoint,
    stackName,
    projectDir,
    appDir: options.appDir ?? REPO_ROOT,
    log,
  });
  await giveBackStaleDevHold(emulator.endpoint, stackName, outputs);
  const metricsBridgePid = await ensureMetricsBridge({ endpoint: emulator.endpoint, stackName, projectDir, log });
  log(
    emulator.lambdaNodeVersion === undefined
      ? `lambdas: on whatever Node the emulator on ${emulator.endpoint} was started with (one jobstack starts runs them on v${LAMBDA_NODE_VERSION})`
      : `lambdas: Node ${emulator.lambdaNodeVersion} (the deployed runtime is nodejs22.x)`,
  );
  return {
    stackName,
    endpoint: emulator.endpoint,
    startedByUs: emulator.startedByUs,
    lambdaNodeVersion: emulator.lambdaNodeVersion ?? null,
    metricsBridgePid,
    outputs,
  };
}

/**
 * A `jobstack dev` that died (killed, crashed, machine asleep) leaves the deployed workers'
 * event sources disabled; once its lease has run out, `local up` gives them back.
 */
async function giveBackStaleDevHold(endpoint: string, stackName: string, outputs: Record<string, string>): Promise<void> {
  const aws = localConnection(endpoint);
  const owner = await repairStaleTakeover({
    documentClient: DynamoDBDocumentClient.from(new DynamoDBClient(aws)),
    lambda: new LambdaClient(aws),
    config: configFromOutputs(stackName, outputs),
  });
  if (owner !== undefined) log(`gave back the workers a stopped jobstack dev (${owner}) still held`);
}
