import { createHash } from 'node:crypto';
import { InvalidScheduleError } from './errors.js';

/**
 * Scheduler puts the time a fire was due (e.g. `2026-03-22T18:59:00Z`) in
 * place of this context attribute in the target input, so every fire of a recurring
 * schedule carries its own deterministic job id.
 */
export const SCHEDULED_TIME_PLACEHOLDER = '<aws.scheduler.scheduled-time>';

/** Prefix of the one-time schedules that carry delayed jobs; recurring schedules may not use it. */
export const ONE_TIME_SCHEDULE_PREFIX = 'once.';
/** Prefix of the job ids of recurring fires: `sched:<schedule name>:<scheduled time>`. */
export const RECURRING_JOB_ID_PREFIX = 'sched:';

/** EventBridge Scheduler schedule names: 1..64 of `0-9 a-z A-Z - _ .`. */
const SCHEDULE_NAME_PATTERN = /^[0-9A-Za-z_.-]{1,64}$/;
const MAX_SCHEDULE_NAME = 64;
/** Step Functions execution names: up to 80 characters, and no `:` among others. */
const MAX_EXECUTION_NAME = 80;

/**
 * Maps a job id (`A-Za-z0-9._:-`, up to 128) to a name of `A-Za-z0-9._-` of at
 * most `maxLength` characters, one-to-one: `_` becomes `__` and `:` becomes
 * `_c` (and, with `escapeDots`, `.` becomes `_d`, leaving `A-Za-z0-9_-`), so no
 * two ids share a name; ids too long for that get a readable prefix and a hash
 * (`_h` plus 24 hex digits), which escaping never produces. The usual ULID id
 * maps to itself.
 */
export function safeName(id: string, maxLength: number, options: { escapeDots?: boolean } = {}): string {
  let escaped = id.replaceAll('_', '__').replaceAll(':', '_c');
  if (options.escapeDots) escaped = escaped.replaceAll('.', '_d');
  if (escaped.length <= maxLength) return escaped;
  const hash = createHash('sha256').update(id).digest('hex').slice(0, 24);
  let prefix = escaped.slice(0, maxLength - hash.length - 2);
  // Never cut an escape pair in half: a lone trailing `_` would read as the start of one.
  if (/(^|[^_])(__)*_$/.test(prefix)) prefix = prefix.slice(0, -1);
  return `${prefix}_h${hash}`;
}

/** Name of the one-time schedule that starts delayed job `jobId`. */
export function oneTimeScheduleName(jobId: string): string {
  return `${ONE_TIME_SCHEDULE_PREFIX}${safeName(jobId, MAX_SCHEDULE_NAME - ONE_TIME_SCHEDULE_PREFIX.length)}`;
}

/** Room kept at the end of an execution name for a continuation's `_g<generation>`. */
const GENERATION_SUFFIX_ROOM = 8;
const GENERATION_SUFFIX = /_g\d+$/;

/** What tells one attempt series of a long job from another: the record as the worker found it, waiting to start. */
export interface ExecutionSeries {
  /** Attempts the job had when the series was started. */
  readonly attempts: number;
  /** The record's `updatedAt` when it was queued (written by enqueue, `retry` or `redrive`; not by a start). */
  readonly queuedAt: string;
}

/**
 * Name of the first Step Functions execution of an attempt series of long job
 * `jobId`: `<job id, escaped>_r<attempts>_q<8 hex digits of a hash of when it was queued>`.
 *
 * Stable for repeated deliveries of the same message (they see the same record,
 * so Step Functions refuses the second start), and new for every series: a
 * `retry` of a dead job rewrites `updatedAt`, even when its attempts did not
 * change (a job that died before its first attempt). At most 80 characters of
 * `A-Za-z0-9-_` (what CloudWatch logging of executions accepts), with room
 * left for the continuations' `_g<n>`.
 */
export function executionName(jobId: string, series: ExecutionSeries): string {
  const hash = createHash('sha256').update(`${series.attempts}|${series.queuedAt}`).digest('hex').slice(0, 8);
  const suffix = `_r${series.attempts}_q${hash}`;
  // Dots are allowed in execution names, but not when executions log to CloudWatch Logs (this state machine does).
  const id = safeName(jobId, MAX_EXECUTION_NAME - GENERATION_SUFFIX_ROOM - suffix.length, { escapeDots: true });
  return `${id}${suffix}`;
}

/**
 * The execution name in an execution ARN (or the name itself). A Standard
 * execution's ARN ends with it (`…:execution:<machine>:<name>`); an Express
 * execution's has a run id after it (`…:express:<machine>:<name>:<run id>`).
 */
export function executionNameOf(execution: string): string {
  const parts = execution.split(':');
  if (parts.length === 1) return execution;
  return parts[5] === 'express' && parts.length >= 9 ? (parts[7] as string) : (parts.at(-1) as string);
}

/** True for the ARN of an Express workflow execution (`arn:…:states:…:express:…`). */
export function isExpressExecution(executionArn: string): boolean {
  return executionArn.split(':')[5] === 'express';
}

/**
 * Name of the `generation`-th continuation (continue-as-new) of the execution
 * `current` (its name or ARN): the series' first name plus `_g<generation>`.
 */
export function continuedExecutionName(current: string, generation: number): string {
  return `${executionNameOf(current).replace(GENERATION_SUFFIX, '')}_g${generation}`;
}

/**
 * True when two executions (names or ARNs) belong to the same chain: one
 * attempt series and its continuations. A step run by another chain (a stray
 * second start) must not touch the job.
 *
 * Two Express executions are one chain only when they are the same run: Step
 * Functions does not refuse an Express start with a name already used, so a
 * repeated delivery starts a second run of the same name, which is a stray.
 * Between an Express run and the Standard execution it handed over to, the
 * names tell (the continuation is named `<name>_g<n>`).
 */
export function sameExecutionChain(a: string, b: string): boolean {
  if (isExpressExecution(a) && isExpressExecution(b)) return a === b;
  return executionNameOf(a).replace(GENERATION_SUFFIX, '') === executionNameOf(b).replace(GENERATION_SUFFIX, '');
}

/** @throws InvalidScheduleError unless `name` is a valid recurring schedule name. */
export function assertRecurringScheduleName(name: string): void {
  if (!SCHEDULE_NAME_PATTERN.test(name)) {
    throw new InvalidScheduleError(
      `schedule name must be 1..64 characters of A-Z a-z 0-9 - _ . (given ${JSON.stringify(name)})`,
      { scheduleName: name },
    );
  }
  if (name.startsWith(ONE_TIME_SCHEDULE_PREFIX)) {
    throw new InvalidScheduleError(
      `schedule name must not start with '${ONE_TIME_SCHEDULE_PREFIX}', which marks one-time schedules of delayed jobs (given '${name}')`,
      { scheduleName: name },
    );
  }
}

/**
 * The job id of the fire of recurring schedule `scheduleName` due at
 * `scheduledTime` (ISO-8601, as Scheduler renders it). Two fires for the same
 * due time (Scheduler delivers at least once) get the same id, and the worker's
 * conditional claim runs that job once.
 *
 * @example
 * recurringJobId('nightly-report', '2026-03-22T03:00:00Z'); // 'sched:nightly-report:2026-03-22T03:00:00Z'
 */
export function recurringJobId(scheduleName: string, scheduledTime: string): string {
  return `${RECURRING_JOB_ID_PREFIX}${scheduleName}:${scheduledTime}`;
}
