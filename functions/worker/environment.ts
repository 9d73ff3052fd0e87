import { ConfigurationError, FunctionEnv } from '../../shared/index.js';

export interface WorkerEnvironment {
  readonly jobsTable: string;
  readonly idempotencyTable: string;
  /** Bucket of payloads over the inline limit, if the stack has one. */
  readonly payloadBucket?: string;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly queueName: string;
  readonly recordRetentionDays: number;
  /** The job types the queue carries (`JOBSTACK_JOB_TYPES`), when the construct says; undefined skips the check. */
  readonly jobTypes?: readonly string[];
  /** Level queue URLs by queue ARN (`JOBSTACK_LEVEL_QUEUES`), on a queue with priorities. */
  readonly levelQueues?: Readonly<Record<string, string>>;
  /** How successes are written (`JOBSTACK_SUCCESS_WRITES`; see FunctionEnv.successWrites for the default). */
  readonly successWrites: 'batched' | 'single';
  /** `JOBSTACK_SUCCESS_LINGER_MS`, when set. */
  readonly successLingerMs?: number;
}

/** Reads and checks the worker's configuration once, at cold start: a broken deployment fails loudly, not per job. */
export function readWorkerEnvironment(env: NodeJS.ProcessEnv = process.env): WorkerEnvironment {
  const required = [
    FunctionEnv.jobsTable,
    FunctionEnv.idempotencyTable,
    FunctionEnv.queueUrl,
    FunctionEnv.deadLetterQueueUrl,
    FunctionEnv.queueName,
  ];
  const missing = required.filter((name) => !env[name]);
  if (missing.length > 0) throw new ConfigurationError(`worker environment is missing ${missing.join(', ')}`);
  const retention = Number(env[FunctionEnv.recordRetentionDays] ?? '30');
  if (!Number.isFinite(retention) || retention <= 0) {
    throw new ConfigurationError(
      `${FunctionEnv.recordRetentionDays} must be a positive number (given ${env[FunctionEnv.recordRetentionDays]})`,
    );
  }
  const jobTypes = env[FunctionEnv.jobTypes]
    ?.split(',')
    .map((type) => type.trim())
    .filter((type) => type.length > 0);
  const levelQueues = parseLevelQueues(env[FunctionEnv.levelQueues]);
  const elsewhereThanAws = Boolean(env.AWS_ENDPOINT_URL || env.AWS_ENDPOINT_URL_DYNAMODB);
  const streamsPartiqlWrites = !elsewhereThanAws || env[FunctionEnv.emulatorPartiqlStreams] === '1';
  const successWrites = env[FunctionEnv.successWrites] || (streamsPartiqlWrites ? 'batched' : 'single');
  if (successWrites !== 'batched' && successWrites !== 'single') {
    throw new ConfigurationError(`${FunctionEnv.successWrites} must be 'batched' or 'single' (given ${successWrites})`);
  }
  const linger = env[FunctionEnv.successLingerMs];
  const successLingerMs = linger ? Number(linger) : undefined;
  if (successLingerMs !== undefined && !(Number.isFinite(successLingerMs) && successLingerMs >= 0)) {
    throw new ConfigurationError(`${FunctionEnv.successLingerMs} must be a number of milliseconds ≥ 0 (given ${linger})`);
  }
  return {
    jobsTable: env[FunctionEnv.jobsTable] as string,
    idempotencyTable: env[FunctionEnv.idempotencyTable] as string,
    ...(env[FunctionEnv.payloadBucket] ? { payloadBucket: env[FunctionEnv.payloadBucket] as string } : {}),
    queueUrl: env[FunctionEnv.queueUrl] as string,
    deadLetterQueueUrl: env[FunctionEnv.deadLetterQueueUrl] as string,
    queueName: env[FunctionEnv.queueName] as string,
    recordRetentionDays: retention,
    ...(jobTypes === undefined ? {} : { jobTypes }),
    ...(levelQueues === undefined ? {} : { levelQueues }),
    successWrites,
    ...(successLingerMs === undefined ? {} : { successLingerMs }),
  };
}

function parseLevelQueues(json: string | undefined): Record<string, string> | undefined {
  if (json === undefined || json === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new ConfigurationError(`${FunctionEnv.levelQueues} is not JSON (given ${JSON.stringify(json.slice(0, 200))})`, {
      cause: error,
    });
  }
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    !Object.values(value).every((url) => typeof url === 'string' && url.length > 0)
  ) {
    throw new ConfigurationError(`${FunctionEnv.levelQueues} must map queue ARNs to URLs (given ${json.slice(0, 200)})`);
  }
  return value as Record<string, string>;
}
