import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import { ExecutionDoesNotExist, type SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import type { ZodType } from 'zod';
import type { JobstackConfig } from '../client/stack-config.js';
import type { JobEnvelope } from '../envelope.js';
import { ConfigurationError, InvalidPayloadError, UnknownJobTypeError } from '../errors.js';
import { type AnyJobContract, findJobDefinition, type JobRegistry } from '../job-definition.js';
import { isFifoQueue, messageGroupOf, orderingKeyOf } from '../ordering/ordering.js';
import type { JobRecord } from '../record.js';
import { unstorableNumbers } from '../storable.js';
import type { CancelResult, JobStore } from '../store/job-store.js';
import { type DelayPlan, type DelayRequest, planDelay } from './delay.js';
import { type RecurrenceInput, toRecurrence } from './expressions.js';
import { JobScheduler, type ScheduleInfo } from './job-scheduler.js';
import { isExpressExecution } from './names.js';

export interface TimeFeaturesOptions {
  readonly registry: JobRegistry;
  readonly config: JobstackConfig;
  readonly store: JobStore;
  readonly scheduler?: SchedulerClient | undefined;
  readonly sfn?: SFNClient | undefined;
  /** Longest delay sent through SQS; longer ones use a one-time schedule. */
  readonly thresholdMs: number;
  readonly clock?: () => number;
}

/**
 * The time-related part of the job client: picking the delay route, one-time
 * schedules of delayed jobs, recurring schedules, and the extra steps of
 * cancelling a scheduled or long job. Kept apart from `createJobClient` so
 * the client only calls into it.
 */
export function createTimeFeatures(options: TimeFeaturesOptions) {
  const { config, registry, store } = options;
  const clock = options.clock ?? Date.now;
  let jobScheduler: JobScheduler | undefined;

  function schedulerOrThrow(): JobScheduler {
    if (jobScheduler) return jobScheduler;
    if (!config.scheduling) {
      throw new ConfigurationError(
        `stack '${config.stackName}' has no schedule group in its outputs: deploy a jobstack version with schedules`,
      );
    }
    if (!options.scheduler) throw new ConfigurationError('the job client was given no EventBridge Scheduler client');
    jobScheduler = new JobScheduler(options.scheduler, config.scheduling);
    return jobScheduler;
  }

  function queueArnOf(definition: AnyJobContract): string {
    const arn = config.queues[definition.queue]?.arn;
    if (!arn) {
      throw new ConfigurationError(
        `stack '${config.stackName}' has no ARN output for queue '${definition.queue}' (needed as a schedule target)`,
        { jobType: definition.name },
      );
    }
    return arn;
  }

  function checkedPayload(type: string, payload: unknown): { definition: AnyJobContract; payload: unknown; output: unknown } {
    const definition = findJobDefinition(registry, type);
    if (!definition) throw new UnknownJobTypeError(type, Object.keys(registry));
    // Each fire's job record stores the payload: refuse what DynamoDB cannot hold before creating the schedule.
    const unstorable = unstorableNumbers(payload);
    if (unstorable.length > 0) throw new InvalidPayloadError(type, unstorable);
    const json = JSON.stringify(payload);
    if (json === undefined) throw new InvalidPayloadError(type, ['payload is not JSON-serializable']);
    const wire: unknown = JSON.parse(json);
    const schema: ZodType = definition.schema;
    const checked = schema.safeParse(wire);
    if (!checked.success) {
      throw new InvalidPayloadError(
        type,
        checked.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
      );
    }
    return { definition, payload: wire, output: checked.data as unknown };
  }

  async function stopExecution(record: JobRecord): Promise<void> {
    if (!options.sfn || !config.longJobStateMachineArn) return;
    // No execution ARN yet: no step has begun the attempt, and the first one finds the job cancelled and ends.
    const executionArn = record.executionArn;
    if (executionArn === undefined) return;
    // Express executions cannot be stopped (StopExecution: "not supported by EXPRESS state machines"); the record's
    // cancel ends them: the running step's signal aborts within the cancel watch's 5 s, and no checkpoint is stored after.
    if (isExpressExecution(executionArn)) return;
    try {
      await options.sfn.send(
        new StopExecutionCommand({ executionArn, error: 'JobCancelled', cause: `job ${record.id} was cancelled` }),
      );
    } catch (error) {
      // Not started yet (its first step will find the job cancelled), or already ended: nothing to stop.
      if (!(error instanceof ExecutionDoesNotExist) && !/not running|does not exist/i.test((error as Error).message)) throw error;
    }
  }

  return {
    /** Picks the delay route for an enqueue. */
    plan(request: DelayRequest): DelayPlan {
      return planDelay(request, clock(), options.thresholdMs);
    },

    /**
     * Creates the one-time schedule that sends a delayed job's envelope to its queue at `runAt`: to its priority
     * level's queue (`levelArn`) when it has one; to a FIFO queue in the job's message group (its ordering key,
     * else its id).
     */
    async sendScheduled(
      envelope: JobEnvelope,
      definition: AnyJobContract,
      runAt: Date,
      target: { readonly levelArn?: string | undefined; readonly orderingKey?: string | undefined } = {},
    ): Promise<void> {
      const arn = target.levelArn ?? queueArnOf(definition);
      const group = isFifoQueue(arn) ? messageGroupOf({ id: envelope.id, orderingKey: target.orderingKey }) : undefined;
      await schedulerOrThrow().createOneTime(envelope, arn, runAt, group);
    },

    /**
     * What `cancel` does after the record's own transition: deletes the
     * one-time schedule of a delayed job, and stops the execution of a long job
     * (marking a running one `cancelled` once its execution is stopped, so a
     * long job waiting between steps does not stay `running`).
     */
    async afterCancel(result: CancelResult): Promise<CancelResult> {
      if (result.outcome === 'not-found' || result.outcome === 'finished') return result;
      const record = result.record;
      if (result.outcome === 'cancelled' && record.runAt !== undefined && config.scheduling && options.scheduler) {
        await schedulerOrThrow().deleteOneTime(record.id);
      }
      if (findJobDefinition(registry, record.type)?.mode !== 'long') return result;
      await stopExecution(record);
      if (result.outcome === 'requested') {
        const cancelled = await store.markCancelledByRun(record.id, record.attempts);
        const latest = await store.get(record.id);
        if (cancelled && latest) return { outcome: 'cancelled', record: latest };
        if (latest) return { outcome: latest.state === 'running' ? 'requested' : 'finished', record: latest };
      }
      return result;
    },

    /**
     * Creates a recurring schedule at runtime.
     * @throws InvalidScheduleError, UnknownJobTypeError, InvalidPayloadError, ScheduleError
     */
    async schedule(name: string, recurrence: RecurrenceInput, type: string, payload: unknown): Promise<ScheduleInfo> {
      const rendered = toRecurrence(recurrence, name);
      const checked = checkedPayload(type, payload);
      const arn = queueArnOf(checked.definition);
      await schedulerOrThrow().createRecurring(
        name,
        rendered,
        type,
        checked.payload,
        arn,
        isFifoQueue(arn) ? recurringMessageGroup(name, checked.definition, checked.output) : undefined,
      );
      return {
        name,
        expression: rendered.expression,
        timezone: rendered.timezone,
        state: 'ENABLED',
        jobType: type,
        payload: checked.payload,
        owner: 'runtime',
      };
    },

    unschedule(name: string): Promise<boolean> {
      return schedulerOrThrow().deleteRecurring(name);
    },

    listSchedules(): Promise<ScheduleInfo[]> {
      return schedulerOrThrow().listRecurring();
    },
  };
}

export type TimeFeatures = ReturnType<typeof createTimeFeatures>;

/**
 * The message group of a recurring schedule's fires on a FIFO queue: the ordering key of its payload
 * (the same for every fire), or for a job type without ordering the schedule's name (its fires then run
 * one after another, none overtaking the one before).
 * @throws InvalidOrderingKeyError when the key cannot be computed from the payload
 */
export function recurringMessageGroup(
  scheduleName: string,
  definition: Pick<AnyJobContract, 'name' | 'ordering'>,
  payload: unknown,
): string {
  return definition.ordering === undefined ? scheduleName : orderingKeyOf(definition.name, definition.ordering, payload);
}
