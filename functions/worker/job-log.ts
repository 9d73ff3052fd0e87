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
 * a handler that uses `ctx.logger`.
 */
export function jobLog(logger: Logger, keys: Readonly<Record<string, unknown>>): JobLog {
  let child: Logger | undefined;
  return {
    debug: (message, extra) => logger.debug(message, { ...keys, ...extra }),
    info: (message, extra) => logger.info(message, { ...keys, ...extra }),
    warn: (message, extra) => logger.warn(message, { ...keys, ...extra }),
    error: (message, extra) => logger.error(message, { ...keys, ...extra }),
    get child() {
      child ??= logger.createChild({ persistentKeys: { ...keys } });
      return child;
    },
  };
}
