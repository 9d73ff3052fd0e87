import { ConfigurationError, FunctionEnv } from '../../shared/index.js';

/** Environment variables of the event intake function besides the client's `JOBSTACK_CONFIG`. */
export const EventIntakeEnv = {
  /** The intake queue the rules send to (its messages are what the function consumes). */
  queueUrl: 'JOBSTACK_INTAKE_QUEUE_URL',
  /** Where a message that names no job it could record goes, with the reason in its attributes. */
  deadLetterQueueUrl: 'JOBSTACK_INTAKE_DEAD_LETTER_QUEUE_URL',
} as const;

export interface EventIntakeEnvironment {
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly recordRetentionDays: number;
}

/** Reads and checks the intake function's configuration once, at cold start. @throws ConfigurationError naming what is missing */
export function readEventIntakeEnvironment(env: NodeJS.ProcessEnv = process.env): EventIntakeEnvironment {
  const missing = [EventIntakeEnv.queueUrl, EventIntakeEnv.deadLetterQueueUrl].filter((name) => !env[name]);
  if (missing.length > 0) throw new ConfigurationError(`event intake environment is missing ${missing.join(', ')}`);
  const retention = Number(env[FunctionEnv.recordRetentionDays] ?? '30');
  if (!Number.isFinite(retention) || retention <= 0) {
    throw new ConfigurationError(
      `${FunctionEnv.recordRetentionDays} must be a positive number (given ${env[FunctionEnv.recordRetentionDays]})`,
    );
  }
  return {
    queueUrl: env[EventIntakeEnv.queueUrl] as string,
    deadLetterQueueUrl: env[EventIntakeEnv.deadLetterQueueUrl] as string,
    recordRetentionDays: retention,
  };
}
