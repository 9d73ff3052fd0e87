import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  type GetScheduleCommandOutput,
  paginateListSchedules,
  ResourceNotFoundException,
  type SchedulerClient,
  type Target,
} from '@aws-sdk/client-scheduler';
import { ENVELOPE_VERSION, type JobEnvelope, serializeEnvelope } from '../envelope.js';
import { ScheduleError } from './errors.js';
import { atExpression, type Recurrence } from './expressions.js';
import {
  assertRecurringScheduleName,
  ONE_TIME_SCHEDULE_PREFIX,
  oneTimeScheduleName,
  RECURRING_JOB_ID_PREFIX,
  SCHEDULED_TIME_PLACEHOLDER,
} from './names.js';

/** What the stack deploys for schedules (read from its outputs). */
export interface SchedulingConfig {
  /** The stack's schedule group: one-time and recurring schedules live there. */
  readonly groupName: string;
  /** Role Scheduler assumes to send to the job queues (and nothing else). */
  readonly roleArn: string;
  /** Where Scheduler puts a fire it could not deliver after its retries. */
  readonly deadLetterQueueArn: string;
}

/** Marks who manages a recurring schedule, in its description. */
export const ScheduleOwner = { stack: 'jobstack:stack', runtime: 'jobstack:runtime' } as const;

/** How long and how often Scheduler retries a fire the queue refused (throttling, an outage) before its DLQ. */
export const SCHEDULE_RETRY_POLICY = { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 } as const;

/** A recurring schedule as `listSchedules` reports it. */
export interface ScheduleInfo {
  readonly name: string;
  /** `cron(...)` or `rate(...)`. */
  readonly expression: string;
  readonly timezone: string;
  readonly state: 'ENABLED' | 'DISABLED';
  /** Job type each fire enqueues (absent if the target input is not a jobstack message). */
  readonly jobType?: string;
  readonly payload?: unknown;
  /** `stack`: declared in the registry, changed only by a deploy; `runtime`: created with `schedule()`. */
  readonly owner: 'stack' | 'runtime' | 'unknown';
}

/**
 * The input Scheduler sends to the queue on each fire of a recurring schedule:
 * a job envelope whose id and `enqueuedAt` Scheduler fills in with the fire's
 * due time, so each fire is its own job and a repeated fire is the same job.
 */
export function recurringEnvelopeTemplate(scheduleName: string, jobType: string, payload: unknown): string {
  const envelope: JobEnvelope = {
    v: ENVELOPE_VERSION,
    id: `${RECURRING_JOB_ID_PREFIX}${scheduleName}:${SCHEDULED_TIME_PLACEHOLDER}`,
    type: jobType,
    payload,
    enqueuedAt: SCHEDULED_TIME_PLACEHOLDER,
  };
  // Not through JobEnvelopeSchema: the placeholders only become valid once Scheduler substitutes them.
  return JSON.stringify(envelope);
}

/**
 * EventBridge Scheduler access for delayed jobs (one-time `at()` schedules that
 * delete themselves after firing) and recurring schedules created at runtime.
 */
export class JobScheduler {
  constructor(
    private readonly scheduler: SchedulerClient,
    readonly config: SchedulingConfig,
  ) {}

  /**
   * Creates the one-time schedule that sends `envelope` to the queue at
   * `runAt`. Creating it again for the same job (a retried enqueue) is not an
   * error: the name comes from the job id.
   */
  async createOneTime(envelope: JobEnvelope, queueArn: string, runAt: Date, messageGroupId?: string): Promise<string> {
    const name = oneTimeScheduleName(envelope.id);
    try {
      await this.scheduler.send(
        new CreateScheduleCommand({
          Name: name,
          GroupName: this.config.groupName,
          ScheduleExpression: atExpression(runAt),
          ScheduleExpressionTimezone: 'UTC',
          FlexibleTimeWindow: { Mode: 'OFF' },
          ActionAfterCompletion: 'DELETE',
          Description: `jobstack: delayed job ${envelope.id} (${envelope.type})`,
          Target: this.target(queueArn, serializeEnvelope(envelope), messageGroupId),
        }),
      );
    } catch (error) {
      if (!(error instanceof ConflictException)) {
        throw new ScheduleError(`could not create the one-time schedule for job ${envelope.id}: ${describe(error)}`, {
          jobId: envelope.id,
          jobType: envelope.type,
          scheduleName: name,
          cause: error,
        });
      }
    }
    return name;
  }

  /** Deletes a delayed job's one-time schedule. @returns false when there was none (already fired, or never created). */
  async deleteOneTime(jobId: string): Promise<boolean> {
    return this.deleteByName(oneTimeScheduleName(jobId));
  }

  /**
   * Creates a recurring schedule that enqueues `jobType` with `payload` on each fire.
   * @throws ScheduleError when a schedule of that name exists (unschedule it first)
   */
  async createRecurring(
    name: string,
    recurrence: Recurrence,
    jobType: string,
    payload: unknown,
    queueArn: string,
    messageGroupId?: string,
  ) {
    assertRecurringScheduleName(name);
    try {
      await this.scheduler.send(
        new CreateScheduleCommand({
          Name: name,
          GroupName: this.config.groupName,
          ScheduleExpression: recurrence.expression,
          ScheduleExpressionTimezone: recurrence.timezone,
          FlexibleTimeWindow: { Mode: 'OFF' },
          State: 'ENABLED',
          Description: ScheduleOwner.runtime,
          Target: this.target(queueArn, recurringEnvelopeTemplate(name, jobType, payload), messageGroupId),
        }),
      );
    } catch (error) {
      const reason =
        error instanceof ConflictException ? 'a schedule with this name already exists (unschedule it first)' : describe(error);
      throw new ScheduleError(`could not create schedule '${name}': ${reason}`, {
        jobType,
        scheduleName: name,
        cause: error,
      });
    }
  }

  /**
   * Deletes a recurring schedule created with `createRecurring`. Schedules the
   * stack declares are refused: a deploy owns them.
   * @returns false when no schedule of that name exists
   */
  async deleteRecurring(name: string): Promise<boolean> {
    assertRecurringScheduleName(name);
    const schedule = await this.get(name);
    if (!schedule) return false;
    if (schedule.Description === ScheduleOwner.stack) {
      throw new ScheduleError(
        `schedule '${name}' is declared by the stack (in the job registry); remove it there and deploy instead`,
        { scheduleName: name },
      );
    }
    return this.deleteByName(name);
  }

  /** Recurring schedules of the stack's group (one-time schedules of delayed jobs left out), by name. */
  async listRecurring(): Promise<ScheduleInfo[]> {
    const names: string[] = [];
    for await (const page of paginateListSchedules({ client: this.scheduler }, { GroupName: this.config.groupName })) {
      for (const summary of page.Schedules ?? []) {
        if (summary.Name && !summary.Name.startsWith(ONE_TIME_SCHEDULE_PREFIX)) names.push(summary.Name);
      }
    }
    const infos: ScheduleInfo[] = [];
    for (const name of names.sort()) {
      const schedule = await this.get(name);
      if (schedule) infos.push(toInfo(name, schedule));
    }
    return infos;
  }

  /**
   * A target on a FIFO queue needs a message group (`SqsParameters`); its deduplication id is the hash of
   * the input (the queue has content-based deduplication, as Scheduler requires), unique per job or fire.
   * https://docs.aws.amazon.com/scheduler/latest/APIReference/API_SqsParameters.html
   */
  private target(queueArn: string, input: string, messageGroupId: string | undefined): Target {
    return {
      Arn: queueArn,
      RoleArn: this.config.roleArn,
      Input: input,
      ...(messageGroupId === undefined ? {} : { SqsParameters: { MessageGroupId: messageGroupId } }),
      DeadLetterConfig: { Arn: this.config.deadLetterQueueArn },
      RetryPolicy: { ...SCHEDULE_RETRY_POLICY },
    };
  }

  private async get(name: string): Promise<GetScheduleCommandOutput | undefined> {
    try {
      return await this.scheduler.send(new GetScheduleCommand({ Name: name, GroupName: this.config.groupName }));
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined;
      throw new ScheduleError(`could not read schedule '${name}': ${describe(error)}`, { scheduleName: name, cause: error });
    }
  }

  private async deleteByName(name: string): Promise<boolean> {
    try {
      await this.scheduler.send(new DeleteScheduleCommand({ Name: name, GroupName: this.config.groupName }));
      return true;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return false;
      throw new ScheduleError(`could not delete schedule '${name}': ${describe(error)}`, { scheduleName: name, cause: error });
    }
  }
}

function toInfo(name: string, schedule: GetScheduleCommandOutput): ScheduleInfo {
  let jobType: string | undefined;
  let payload: unknown;
  try {
    const input = JSON.parse(schedule.Target?.Input ?? '') as { type?: unknown; payload?: unknown };
    if (typeof input.type === 'string') jobType = input.type;
    payload = input.payload;
  } catch {
    // Not a jobstack message: list it without a job type.
  }
  const owner =
    schedule.Description === ScheduleOwner.stack
      ? 'stack'
      : schedule.Description === ScheduleOwner.runtime
        ? 'runtime'
        : 'unknown';
  return {
    name,
    expression: schedule.ScheduleExpression ?? '',
    timezone: schedule.ScheduleExpressionTimezone ?? 'UTC',
    state: schedule.State === 'DISABLED' ? 'DISABLED' : 'ENABLED',
    ...(jobType === undefined ? {} : { jobType }),
    ...(payload === undefined ? {} : { payload }),
    owner,
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
