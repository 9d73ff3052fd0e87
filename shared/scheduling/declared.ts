import type { z } from 'zod';
import { type JobOrdering, orderingKeyOf } from '../ordering/ordering.js';
import { unstorableNumbers } from '../storable.js';
import { type RecurrenceInput, toRecurrence } from './expressions.js';
import { assertRecurringScheduleName } from './names.js';

/**
 * A recurring schedule declared on a job type: the stack creates one
 * EventBridge Scheduler schedule for it, and each fire enqueues the job with
 * `payload`.
 *
 * @example
 * schedule: { cron: '0 3 * * ? *', timezone: 'Europe/Berlin', payload: { report: 'daily' } }
 */
export type ScheduleDeclaration<Payload> = RecurrenceInput & {
  /** Schedule name (1..64 of `A-Za-z0-9-_.`). @default the job name, `:` replaced by `-` (suffixed `-2`, `-3`, ... for further schedules) */
  readonly name?: string;
  /** The payload every fire enqueues; checked against the job's schema when the job is defined. */
  readonly payload: Payload;
};

/** A declared schedule, checked and rendered for the stack. */
export interface DeclaredSchedule {
  readonly name: string;
  readonly expression: string;
  readonly timezone: string;
  readonly payload: unknown;
}

/**
 * Checks a job type's schedule declarations: names, expressions, time zones,
 * and each payload against the schema (in its JSON form, as a fire carries it).
 * @throws RangeError naming the job and the schedule
 */
export function resolveDeclaredSchedules(
  jobName: string,
  schema: z.ZodType,
  declarations: ScheduleDeclaration<unknown> | readonly ScheduleDeclaration<unknown>[] | undefined,
): DeclaredSchedule[] {
  if (declarations === undefined) return [];
  const list = (Array.isArray(declarations) ? declarations : [declarations]) as readonly ScheduleDeclaration<unknown>[];
  const base = jobName.replaceAll(':', '-').slice(0, 60);
  const seen = new Set<string>();
  return list.map((declaration, index) => {
    const name = declaration.name ?? (index === 0 ? base : `${base}-${index + 1}`);
    try {
      assertRecurringScheduleName(name);
      if (seen.has(name)) throw new Error(`schedule name '${name}' is used twice`);
      seen.add(name);
      const recurrence = toRecurrence(declaration, name);
      const unstorable = unstorableNumbers(declaration.payload);
      if (unstorable.length > 0) throw new Error(`payload cannot be stored exactly: ${unstorable.join('; ')}`);
      const json = JSON.stringify(declaration.payload);
      if (json === undefined) throw new Error('payload is not JSON-serializable');
      const payload: unknown = JSON.parse(json);
      const checked = schema.safeParse(payload);
      if (!checked.success) {
        const issues = checked.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
        throw new Error(`payload does not match the schema: ${issues.join('; ')}`);
      }
      return { name, expression: recurrence.expression, timezone: recurrence.timezone, payload };
    } catch (error) {
      throw new RangeError(`job '${jobName}': schedule ${index + 1} (${name}): ${(error as Error).message}`, { cause: error });
    }
  });
}

/** A declared schedule with the job type and queue it enqueues to: what the CDK stack creates. */
export interface PlannedSchedule extends DeclaredSchedule {
  readonly jobType: string;
  readonly queue: string;
  /** The ordering key of the payload, for a job type with `ordering` (its fires' FIFO message group). */
  readonly messageGroupId?: string;
}

/**
 * Every schedule the registry's job types declare, for the CDK stack.
 * @throws RangeError when two job types declare the same schedule name
 */
export function planSchedules(
  registry: Readonly<
    Record<
      string,
      {
        readonly name: string;
        readonly queue: string;
        readonly schedules?: readonly DeclaredSchedule[];
        readonly schema?: z.ZodType;
        readonly ordering?: JobOrdering;
      }
    >
  >,
): PlannedSchedule[] {
  const planned: PlannedSchedule[] = [];
  const owner = new Map<string, string>();
  for (const job of Object.values(registry)) {
    for (const schedule of job.schedules ?? []) {
      const other = owner.get(schedule.name);
      if (other !== undefined) {
        throw new RangeError(`schedule name '${schedule.name}' is declared by both '${other}' and '${job.name}'`);
      }
      owner.set(schedule.name, job.name);
      planned.push({ ...schedule, jobType: job.name, queue: job.queue, ...orderingGroup(job, schedule.payload) });
    }
  }
  return planned.sort((a, b) => a.name.localeCompare(b.name));
}

/** The FIFO message group of a declared schedule of an ordered job type: the key of its (schema-output) payload. */
function orderingGroup(
  job: { readonly name: string; readonly schema?: z.ZodType; readonly ordering?: JobOrdering },
  payload: unknown,
): { messageGroupId?: string } {
  if (job.ordering === undefined) return {};
  const output = job.schema === undefined ? payload : job.schema.parse(payload);
  return { messageGroupId: orderingKeyOf(job.name, job.ordering, output) };
}
