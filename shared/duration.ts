import { InvalidDurationError } from './errors.js';

/** A duration: milliseconds as a number, or a string like `'500ms'`, `'30s'`, `'15m'`, `'2h'`, `'7d'`. */
export type DurationInput = number | `${number}${DurationUnit}`;
export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd';

const MS_PER_UNIT: Record<DurationUnit, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Longest duration accepted: 2^53 − 1 ms (about 285,000 years), the largest
 * whole number a double holds exactly. Callers that turn a duration into a date
 * check their own, shorter limits.
 */
export const MAX_DURATION_MS = Number.MAX_SAFE_INTEGER;

const DURATION_PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

/**
 * Parses a duration into whole milliseconds.
 *
 * @example
 * parseDuration('90s'); // 90000
 * parseDuration(250);   // 250
 * @throws InvalidDurationError for negative, non-finite or malformed input, and
 * beyond MAX_DURATION_MS (no longer exact as a number of milliseconds).
 */
export function parseDuration(input: unknown): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0 || input > MAX_DURATION_MS) throw new InvalidDurationError(input);
    return Math.round(input);
  }
  if (typeof input !== 'string') throw new InvalidDurationError(input);
  const match = DURATION_PATTERN.exec(input.trim());
  if (!match) throw new InvalidDurationError(input);
  const [, amount, unit] = match as unknown as [string, string, DurationUnit];
  const ms = Number(amount) * MS_PER_UNIT[unit];
  if (!Number.isFinite(ms) || ms > MAX_DURATION_MS) throw new InvalidDurationError(input);
  return Math.round(ms);
}

/** Formats milliseconds for humans: `1500` → `'1.5s'`, `7200000` → `'2h'`. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${trim(ms / 1_000)}s`;
  if (ms < 3_600_000) return `${trim(ms / 60_000)}m`;
  if (ms < 86_400_000) return `${trim(ms / 3_600_000)}h`;
  return `${trim(ms / 86_400_000)}d`;
}

function trim(value: number): string {
  return String(Math.round(value * 10) / 10);
}
