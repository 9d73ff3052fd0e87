import { JobstackError } from '../errors.js';

/**
 * A long job's declaration is inconsistent (its `maxDuration` is not a
 * duration, or is shorter than its `stepTimeout`). Raised by
 * `defineLongJobContract` / `defineLongJob`, when the module is loaded.
 */
export class InvalidLongJobError extends JobstackError {
  /** The option at fault. */
  readonly option: string;

  constructor(jobType: string, option: string, reason: string) {
    super(`long job '${jobType}': ${option} ${reason}`, { jobType });
    this.name = 'InvalidLongJobError';
    this.option = option;
  }
}
