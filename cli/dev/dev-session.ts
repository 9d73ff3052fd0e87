import { type FSWatcher, watch } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetEventSourceMappingCommand, GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createWorkerHandlerFor, type WorkerHandler } from '../../functions/worker/create-handler.js';
import { type AwsConnection, FunctionEnv, type HandlerRegistry, type JobstackConfig } from '../../shared/index.js';
import { planSchedules } from '../../shared/scheduling/declared.js';
import { HandlersBuildError, loadHandlersModule } from './handlers-module.js';
import { type DeployedShape, infrastructureChanges } from './infra-drift.js';
import { type RunningSqsPoller, startSqsPoller } from './sqs-poller.js';
import type { BackgroundTypeCheck } from './type-check.js';
import { repairStaleTakeover, takeOverWorkers, type WorkerTakeover } from './worker-takeover.js';

export interface DevSessionOptions {
  readonly config: JobstackConfig;
  readonly aws: AwsConnection;
  /** The handlers module the stack's `JobSystem` bundles (default export: the handler registry). */
  readonly handlersModule: string;
  /** Where builds of the handlers module go (`.jobstack/dev` in the project). */
  readonly buildDir: string;
  /** Batches run at once per queue. @default 2 */
  readonly concurrency?: number;
  /** Follow the handlers' source files and reload on save. @default true */
  readonly watch?: boolean;
  /** Type-checks the project after each reload, in the background. @default none */
  readonly typeCheck?: BackgroundTypeCheck;
  /** Where the session's own messages go (reloads, build errors, infrastructure changes). */
  readonly log: (line: string) => void;
}

/** A running `jobstack dev`. */
export interface DevSession {
  /** The number of the handlers build jobs run now (1 at start, +1 per successful reload). */
  generation(): number;
  /** Rebuilds and swaps the handlers now (what a save does). @returns false when the build failed */
  reload(): Promise<boolean>;
  /** Stops taking jobs, waits for the ones running, gives the deployed workers back. */
  stop(): Promise<void>;
}

/** A logical queue as the session runs it: the deployed worker's environment, and the URLs to poll. */
interface DevQueue {
  readonly name: string;
  readonly environment: NodeJS.ProcessEnv;
  readonly sources: readonly { readonly url: string; readonly arn?: string }[];
}

const RENEW_EVERY_MS = 10_000;
const RELOAD_DEBOUNCE_MS = 60;

/**
 * Runs the project's handlers in this process, with the real worker handler (record processor,
 * retries, flow control, pause), against the queues and tables of a deployed stack, while that
 * stack's own workers are held off (their event sources disabled; given back at the end, or by
 * the next session or `local up` should this process die).
 */
export async function startDevSession(options: DevSessionOptions): Promise<DevSession> {
  useConnectionForDefaultClients(options.aws);
  const clientConfig = { ...options.aws, maxAttempts: 3 };
  const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const lambda = new LambdaClient(clientConfig);
  const sqs = new SQSClient(clientConfig);
  const takeoverDeps = { documentClient, lambda, config: options.config };

  const repaired = await repairStaleTakeover(takeoverDeps);
  if (repaired) options.log(`gave back the workers a stopped jobstack dev (${repaired}) still held`);
  const queues = await deployedQueues(lambda, options.config);

  let generation = 0;
  let watchers: FSWatcher[] = [];
  let reloadTimer: NodeJS.Timeout | undefined;
  let reloading: Promise<boolean> = Promise.resolve(true);
  let registry = await loadInitial();
  const deployed: DeployedShape = {
    jobTypesByQueue: new Map(
      queues.map((queue) => [queue.name, (queue.environment[FunctionEnv.jobTypes] ?? '').split(',').filter(Boolean)]),
    ),
    scheduleNames: planSchedules(registry).map((schedule) => schedule.name),
  };
  let handlers = workerHandlers(registry);

  let takeover: WorkerTakeover;
  try {
    takeover = await takeOverWorkers(takeoverDeps);
  } catch (error) {
    // Nothing else may keep this process alive once it has failed to start.
    for (const watcher of watchers) watcher.close();
    throw error;
  }
  options.log(`holding the deployed workers of ${takeover.queues.join(', ')}: jobs run here`);
  const renewal = setInterval(() => {
    takeover.renew().catch((error: unknown) => options.log(`could not renew the hold on the workers: ${String(error)}`));
  }, RENEW_EVERY_MS);

  const pollers: RunningSqsPoller[] = queues.flatMap((queue) =>
    queue.sources.map((source) =>
      startSqsPoller({
        sqs,
        queueUrl: source.url,
        ...(source.arn === undefined ? {} : { queueArn: source.arn }),
        concurrency: options.concurrency ?? 2,
        processBatch: (event: SQSEvent, context): Promise<SQSBatchResponse> => {
          const handler = handlers.get(queue.name) as WorkerHandler;
          return handler(event, context);
        },
        onRecordError: (record, error) => options.log(`message ${record.messageId} failed: ${String(error)}`),
      }),
    ),
  );

  async function loadInitial(): Promise<HandlerRegistry> {
    const build = await loadHandlersModule(options.handlersModule, options.buildDir, ++generation);
    if (options.watch ?? true) follow(build.inputs);
    return build.registry;
  }

  function workerHandlers(current: HandlerRegistry): Map<string, WorkerHandler> {
    return new Map(queues.map((queue) => [queue.name, createWorkerHandlerFor(current, queue.environment)]));
  }

  function follow(inputs: readonly string[]): void {
    for (const watcher of watchers) watcher.close();
    const folders = new Set(
      inputs
        .map((input) => (isAbsolute(input) ? input : resolve(input)))
        .filter((path) => !path.includes(`${'/'}node_modules${'/'}`))
        .map((path) => dirname(path)),
    );
    watchers = [...folders].map((folder) =>
      watch(folder, (_event, file) => {
        if (file !== null && !/\.(m|c)?(t|j)sx?$/.test(String(file))) return;
        clearTimeout(reloadTimer);
        reloadTimer = setTimeout(() => void reload(), RELOAD_DEBOUNCE_MS);
      }),
    );
  }

  async function reload(): Promise<boolean> {
    reloading = reloading.then(async () => {
      const started = Date.now();
      try {
        const build = await loadHandlersModule(options.handlersModule, options.buildDir, generation + 1);
        generation++;
        registry = build.registry;
        handlers = workerHandlers(registry);
        if (options.watch ?? true) follow(build.inputs);
        options.log(`reloaded the handlers (build ${generation}, ${Date.now() - started} ms): the next job runs the new code`);
        options.typeCheck?.start((errors) =>
          options.log(
            errors.length === 0
              ? 'types: no errors'
              : `type errors (the build runs anyway):\n${errors.slice(0, 20).join('\n')}${errors.length > 20 ? `\n… ${errors.length - 20} more` : ''}`,
          ),
        );
        const changes = infrastructureChanges(registry, deployed);
        if (changes.length > 0) {
          options.log(
            `needs a deploy: ${changes.join('; ')}. Run \`jobstack local up\` (or cdk deploy), then restart jobstack dev`,
          );
        }
        return true;
      } catch (error) {
        const text = error instanceof HandlersBuildError ? error.message : `the handlers module failed to load: ${String(error)}`;
        options.log(`${text}\n(jobs keep running the last good build)`);
        return false;
      }
    });
    return reloading;
  }

  return {
    generation: () => generation,
    reload,
    async stop() {
      clearTimeout(reloadTimer);
      clearInterval(renewal);
      options.typeCheck?.stop();
      for (const watcher of watchers) watcher.close();
      await Promise.allSettled(pollers.map((poller) => poller.stop()));
      await takeover.release();
      options.log('gave the deployed workers back');
    },
  };
}

/**
 * The functions jobstack builds clients for with no settings (the payload reader's S3 client,
 * the long-job starter) read the endpoint and credentials from the environment, as in Lambda.
 */
function useConnectionForDefaultClients(aws: AwsConnection): void {
  if (aws.endpoint) process.env.AWS_ENDPOINT_URL = aws.endpoint;
  if (aws.region) process.env.AWS_REGION = aws.region;
  if (aws.credentials) {
    process.env.AWS_ACCESS_KEY_ID = aws.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = aws.credentials.secretAccessKey;
  }
  // Powertools' dev mode: loggers write through the console, which `jobstack dev` prints readably.
  process.env.POWERTOOLS_DEV = 'true';
}

/** Each queue's deployed worker environment (read from the function its event source feeds) and its queue URLs. */
async function deployedQueues(lambda: LambdaClient, config: JobstackConfig): Promise<DevQueue[]> {
  const queues: DevQueue[] = [];
  for (const [name, settings] of Object.entries(config.queues)) {
    const [mapping] = settings.eventSourceMappingIds ?? [];
    if (mapping === undefined) {
      throw new Error(`the stack lists no event source for queue '${name}': deploy it with this version of jobstack first`);
    }
    const { FunctionArn } = await lambda.send(new GetEventSourceMappingCommand({ UUID: mapping }));
    const configuration = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: FunctionArn }));
    const sources = settings.levels
      ? settings.levels.map((level) => ({ url: level.url, ...(level.arn ? { arn: level.arn } : {}) }))
      : [{ url: settings.url, ...(settings.arn ? { arn: settings.arn } : {}) }];
    queues.push({ name, environment: { ...process.env, ...configuration.Environment?.Variables }, sources });
  }
  return queues;
}
