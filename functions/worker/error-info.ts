import { InvalidPayloadError, type JobErrorInfo, NonRetryableError } from '../../shared/index.js';

const MAX_STACK_CHARS = 4_000;
const MAX_MESSAGE_CHARS = 2_000;

/**
 * Whether another attempt might succeed: false for errors that retrying cannot
 * fix (NonRetryableError and its subclasses, an invalid payload), true for
 * everything else, including errors that are not Error instances.
 */
export function isRetryable(error: unknown): boolean {
  return !(error instanceof NonRetryableError || error instanceof InvalidPayloadError);
}

/** The stored form of an error, trimmed so a record stays far below DynamoDB's 400 KB item limit. */
export function toErrorInfo(error: unknown, retryable: boolean): JobErrorInfo {
  if (error instanceof Error) {
    return {
      name: error.name || 'Error',
      message: error.message.slice(0, MAX_MESSAGE_CHARS),
      ...(error.stack ? { stack: error.stack.slice(0, MAX_STACK_CHARS) } : {}),
      retryable,
    };
  }
  return { name: 'NonErrorThrown', message: safeString(error).slice(0, MAX_MESSAGE_CHARS), retryable };
}

function safeString(value: unknown): string {
  try {
    return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    return String(value);
  }
}
