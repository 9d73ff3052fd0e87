import { type CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import * as z from 'zod';
import { priorityLevelOutputSuffix, queueOutputSuffix, StackOutput } from '../config.js';
import { ConfigurationError } from '../errors.js';
import type { PriorityLevelConfig } from '../flow/priorities.js';
import type { SchedulingConfig } from '../scheduling/job-scheduler.js';

/** One logical queue as a client reaches it. */
export interface QueueConfig {
  readonly url: string;
  readonly deadLetterUrl: string;
  readonly arn?: string;
  /**
   * The UUIDs of the event source mappings that feed the queue's worker (one per priority level on a queue
   * with levels), which `pause` and `resume` disable and enable; absent on stacks deployed before pausing existed.
   */
  readonly eventSourceMappingIds?: readonly string[];
  /**
   * The queue's priority levels, highest first, when it has `priorities`; the last is the default level
   * (its URL is `url`). Absent on a queue without levels.
   */
  readonly levels?: readonly PriorityLevelConfig[];
}

/** Everything a client needs to reach one deployed jobstack. */
export interface JobstackConfig {
  readonly stackName: string;
  readonly jobsTable: string;
  readonly idempotencyTable: string;
  /** Bucket for payloads over the inline limit (stacks deployed before it existed have none). */
  readonly payloadBucket?: string;
  /**
   * By logical queue name (the job types' `queue`), as in the stack output `QueueNames`. `arn` is the target of
   * schedules; absent on stacks deployed before schedules existed. A queue carrying job types with `ordering`
   * keeps its logical name here; only its SQS name, URL and ARN end in `.fifo` (that suffix is how the client
   * and the worker know a FIFO queue).
   */
  readonly queues: Readonly<Record<string, QueueConfig>>;
  /** The schedule group, role and dead-letter queue for delayed jobs and recurring schedules. */
  readonly scheduling?: SchedulingConfig;
  /** The long-job state machine (only when the stack's registry has long jobs). */
  readonly longJobStateMachineArn?: string;
}

/**
 * What a `JobstackConfig` must look like when it arrives as JSON (the
 * `JOBSTACK_CONFIG` environment variable). Built on first use: the worker
 * loads this module too, and never needs it.
 */
function jobstackConfigSchema() {
  const nonEmpty = z.string().min(1);
  return z.object({
    stackName: nonEmpty,
    jobsTable: nonEmpty,
    idempotencyTable: nonEmpty,
    payloadBucket: nonEmpty.optional(),
    queues: z
      .record(
        nonEmpty,
        z.object({
          url: nonEmpty,
          deadLetterUrl: nonEmpty,
          arn: nonEmpty.optional(),
          eventSourceMappingIds: z.array(nonEmpty).optional(),
          levels: z
            .array(z.object({ name: nonEmpty, url: nonEmpty, arn: nonEmpty.optional() }))
            .min(2)
            .optional(),
        }),
      )
      .refine((queues) => Object.keys(queues).length > 0, 'must name at least one queue'),
    scheduling: z.object({ groupName: nonEmpty, roleArn: nonEmpty, deadLetterQueueArn: nonEmpty }).optional(),
    longJobStateMachineArn: nonEmpty.optional(),
  }) satisfies z.ZodType<JobstackConfig>;
}

/**
 * Parses and checks a `JobstackConfig` given as JSON; `source` names where it
 * came from in the error (e.g. the environment variable).
 * @throws ConfigurationError naming the source and every field that is missing or malformed
 */
export function parseJobstackConfig(json: string, source: string): JobstackConfig {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new ConfigurationError(`${source} is not JSON (given ${JSON.stringify(json.slice(0, 200))})`, { cause: error });
  }
  const parsed = jobstackConfigSchema().safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new ConfigurationError(`${source} is not a jobstack configuration: ${issues.join('; ')}`);
  }
  return parsed.data;
}

/**
 * Reads a deployed stack's outputs into a `JobstackConfig`.
 * @throws ConfigurationError when the stack does not exist, the endpoint cannot be reached, or outputs are missing.
 */
export async function resolveStackConfig(cloudFormation: CloudFormationClient, stackName: string): Promise<JobstackConfig> {
  let outputs: Record<string, string>;
  try {
    const output = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = output.Stacks?.[0];
    if (!stack) throw new ConfigurationError(`stack '${stackName}' not found`);
    outputs = Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
  } catch (error) {
    if (error instanceof ConfigurationError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    if (/does not exist/i.test(message)) {
      throw new ConfigurationError(
        `stack '${stackName}' not found: deploy it first (\`jobstack local up\` for the emulator, \`npx cdk deploy\` on AWS)`,
        { cause: error },
      );
    }
    throw new ConfigurationError(`cannot read stack '${stackName}': ${describeNetworkError(error)}`, { cause: error });
  }
  return configFromOutputs(stackName, outputs);
}

export function configFromOutputs(stackName: string, outputs: Readonly<Record<string, string>>): JobstackConfig {
  const need = (key: string): string => {
    const value = outputs[key];
    if (!value)
      throw new ConfigurationError(`stack '${stackName}' has no output '${key}': is it a jobstack stack, and fully deployed?`);
    return value;
  };
  const queueNames = need(StackOutput.queueNames).split(',').filter(Boolean);
  const queues = Object.fromEntries(
    queueNames.map((name) => {
      const suffix = queueOutputSuffix(name);
      const arn = outputs[`${StackOutput.queueArnPrefix}${suffix}`];
      const levelNames = (outputs[`${StackOutput.queueLevelsPrefix}${suffix}`] ?? '').split(',').filter(Boolean);
      const levels = levelNames.map((level) => {
        const key = priorityLevelOutputSuffix(name, level);
        const levelArn = outputs[`${StackOutput.queueLevelArnPrefix}${key}`];
        return { name: level, url: need(`${StackOutput.queueLevelUrlPrefix}${key}`), ...(levelArn ? { arn: levelArn } : {}) };
      });
      const mappings = outputs[`${StackOutput.eventSourceMappingIdsPrefix}${suffix}`]?.split(',').filter(Boolean);
      return [
        name,
        {
          url: need(`${StackOutput.queueUrlPrefix}${suffix}`),
          deadLetterUrl: need(`${StackOutput.deadLetterQueueUrlPrefix}${suffix}`),
          ...(arn ? { arn } : {}),
          ...(mappings?.length ? { eventSourceMappingIds: mappings } : {}),
          ...(levels.length > 0 ? { levels } : {}),
        },
      ];
    }),
  );
  const payloadBucket = outputs[StackOutput.payloadBucketName];
  const groupName = outputs[StackOutput.scheduleGroupName];
  const roleArn = outputs[StackOutput.schedulerRoleArn];
  const deadLetterQueueArn = outputs[StackOutput.schedulerDeadLetterQueueArn];
  const longJobStateMachineArn = outputs[StackOutput.longJobStateMachineArn];
  return {
    stackName,
    jobsTable: need(StackOutput.jobsTableName),
    idempotencyTable: need(StackOutput.idempotencyTableName),
    queues,
    ...(payloadBucket ? { payloadBucket } : {}),
    ...(groupName && roleArn && deadLetterQueueArn ? { scheduling: { groupName, roleArn, deadLetterQueueArn } } : {}),
    ...(longJobStateMachineArn ? { longJobStateMachineArn } : {}),
  };
}

function describeNetworkError(error: unknown): string {
  const code =
    (error as { code?: string; cause?: { code?: string } })?.code ?? (error as { cause?: { code?: string } })?.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused (is the endpoint up? for the emulator run `jobstack local up`)';
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
