import { InvalidScheduleError } from './errors.js';

/** When a recurring schedule fires: exactly one of `cron` or `rate`. */
export type RecurrenceInput =
  | {
      /** AWS six-field cron: minutes hours day-of-month month day-of-week year, e.g. `'0 3 * * ? *'`. */
      readonly cron: string;
      readonly rate?: never;
      /** IANA time zone the cron is read in. @default 'UTC' */
      readonly timezone?: string;
    }
  | {
      /** `'<n> minute(s)|hour(s)|day(s)'`, at least `'1 minute'`, e.g. `'5 minutes'`. */
      readonly rate: string;
      readonly cron?: never;
      readonly timezone?: string;
    };

export interface Recurrence {
  /** `cron(...)` or `rate(...)`, as Scheduler takes it. */
  readonly expression: string;
  readonly timezone: string;
}

const RATE_PATTERN = /^\s*(\d+)\s*(minute|minutes|hour|hours|day|days)\s*$/;
const CRON_FIELD = /^[0-9A-Za-z*?,/#-]+$/;

/**
 * Checks a cron or rate recurrence and renders it as a Scheduler expression.
 * Catching a malformed expression here means a bad schedule fails at synth or
 * at `schedule()`, not silently at its first fire.
 *
 * @example
 * toRecurrence({ rate: '5 minutes' }); // { expression: 'rate(5 minutes)', timezone: 'UTC' }
 * toRecurrence({ cron: '0 3 * * ? *', timezone: 'Europe/Berlin' });
 * @throws InvalidScheduleError with the given value
 */
export function toRecurrence(input: RecurrenceInput, scheduleName?: string): Recurrence {
  const context = scheduleName === undefined ? {} : { scheduleName };
  const timezone = input.timezone ?? 'UTC';
  if (!isTimeZone(timezone)) {
    throw new InvalidScheduleError(`timezone must be an IANA time zone such as 'Europe/Berlin' (given '${timezone}')`, context);
  }
  const hasCron = typeof input.cron === 'string';
  const hasRate = typeof input.rate === 'string';
  if (hasCron === hasRate) {
    throw new InvalidScheduleError(
      `a schedule needs exactly one of cron or rate (given ${JSON.stringify({ cron: input.cron, rate: input.rate })})`,
      context,
    );
  }
  if (hasRate) {
    const match = RATE_PATTERN.exec(input.rate as string);
    const amount = Number(match?.[1]);
    if (!match || !Number.isInteger(amount) || amount < 1) {
      throw new InvalidScheduleError(
        `rate must be '<n> minutes', '<n> hours' or '<n> days' with n ≥ 1 (given '${input.rate}')`,
        context,
      );
    }
    const unit = (match[2] as string).replace(/s$/, '');
    return { expression: `rate(${amount} ${amount === 1 ? unit : `${unit}s`})`, timezone };
  }
  const fields = (input.cron as string).trim().split(/\s+/);
  if (fields.length !== 6 || !fields.every((field) => CRON_FIELD.test(field))) {
    throw new InvalidScheduleError(
      `cron must have six fields (minutes hours day-of-month month day-of-week year), e.g. '0 3 * * ? *' (given '${input.cron}')`,
      context,
    );
  }
  const [, , dayOfMonth, , dayOfWeek] = fields;
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    throw new InvalidScheduleError(
      `cron needs '?' in exactly one of day-of-month and day-of-week (given '${input.cron}')`,
      context,
    );
  }
  return { expression: `cron(${fields.join(' ')})`, timezone };
}

/**
 * A one-time `at()` expression in UTC, rounded up to the whole second so the
 * job never starts before `runAt`.
 *
 * @example
 * atExpression(new Date('2026-03-22T18:59:42.100Z')); // 'at(2026-03-22T18:59:43)'
 */
export function atExpression(runAt: Date): string {
  const seconds = Math.ceil(runAt.getTime() / 1_000);
  return `at(${new Date(seconds * 1_000).toISOString().slice(0, 19)})`;
}

function isTimeZone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}
