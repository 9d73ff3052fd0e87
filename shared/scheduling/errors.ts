import { type JobErrorContext, JobstackError } from '../errors.js';

/** A schedule could not be created, read or deleted, or its definition is invalid. */
export class ScheduleError extends JobstackError {
  readonly scheduleName?: string;

  constructor(message: string, context: JobErrorContext & { readonly scheduleName?: string } = {}) {
    super(message, context);
    this.name = 'ScheduleError';
    if (context.scheduleName !== undefined) this.scheduleName = context.scheduleName;
  }
}

/** A cron or rate expression, timezone or schedule name is malformed. */
export class InvalidScheduleError extends ScheduleError {
  constructor(message: string, context: JobErrorContext & { readonly scheduleName?: string } = {}) {
    super(message, context);
    this.name = 'InvalidScheduleError';
  }
}
