import type { Logger } from '@aws-lambda-powertools/logger';

/** The logging the worker does about one job: every line carries the job's keys. */
export interface JobLog {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
  /** A Powertools child logger with the same keys, for the job's own code; built on first use. */
  readonly child: Logger;
}

/**
 * Adds the job's keys to each line instead of creating a child logger per job:
 * a Powertools child re-reads its configuration from the environment, which
 * cost more CPU than running a small job. The child is still made, once, for
 * a handler that uses `ctx.logger`. A class, so a job allocates one object
 * rather than a closure per level.
 */
export function jobLog(logger: Logger, keys: Readonly<Record<string, unknown>>): JobLog {
  return new KeyedJobLog(logger, keys);
}

class KeyedJobLog implements JobLog {
  #child: Logger | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly keys: Readonly<Record<string, unknown>>,
  ) {}

  debug(message: string, extra?: Record<string, unknown>): void {
    this.logger.debug(message, extra ? { ...this.keys, ...extra } : this.keys);
  }

  info(message: string, extra?: Record<string, unknown>): void {
    this.logger.info(message, extra ? { ...this.keys, ...extra } : this.keys);
  }

  warn(message: string, extra?: Record<string, unknown>): void {
    this.logger.warn(message, extra ? { ...this.keys, ...extra } : this.keys);
  }

  error(message: string, extra?: Record<string, unknown>): void {
    this.logger.error(message, extra ? { ...this.keys, ...extra } : this.keys);
  }

  get child(): Logger {
    this.#child ??= this.logger.createChild({ persistentKeys: { ...this.keys } });
    return this.#child;
  }
}
