import { parseDuration } from '../duration.js';
import { InvalidArgumentError } from '../errors.js';

/** The window read when none is asked for. */
export const DEFAULT_SINCE = '1h';
const MIN_SINCE_MS = 60_000;
/** CloudWatch keeps 1-minute data for 15 days; a longer window would be mostly gaps at dashboard periods. */
const MAX_SINCE_MS = 15 * 86_400_000;
/** Points per series with an explicit period: a day at one minute. */
export const MAX_POINTS = 1_440;
/** GetMetricData's periods below a minute (high-resolution metrics); above, whole minutes. */
const SUB_MINUTE_PERIODS = [1, 5, 10, 30];

/** How far back to read and, optionally, one period for every series. */
export interface MetricsWindow {
  readonly sinceMs: number;
  readonly periodSeconds?: number;
}

/**
 * Checks the window `jobstack metrics` and the web dashboard's metrics take: `since` a duration of 1m..15d
 * (`30m`, `1h`, `2d`), `period` a duration or bare seconds that GetMetricData accepts (1, 5, 10, 30 s or
 * whole minutes), at most 1,440 periods in the window. `names` are how the caller calls them in messages.
 * @throws InvalidArgumentError quoting the value given
 */
export function parseMetricsWindow(
  input: { readonly since?: string | undefined; readonly period?: string | undefined },
  names: { readonly since: string; readonly period: string } = { since: 'since', period: 'period' },
): MetricsWindow {
  const since = input.since ?? DEFAULT_SINCE;
  const sinceMs = durationOf(names.since, since);
  if (sinceMs < MIN_SINCE_MS || sinceMs > MAX_SINCE_MS) {
    throw new InvalidArgumentError(`${names.since} must be 1m..15d (given '${since}')`);
  }
  if (input.period === undefined) return { sinceMs };
  const periodSeconds = durationOf(names.period, input.period, 's') / 1000;
  const wholeMinutes = Number.isInteger(periodSeconds) && periodSeconds % 60 === 0;
  if (!SUB_MINUTE_PERIODS.includes(periodSeconds) && !wholeMinutes) {
    throw new InvalidArgumentError(
      `${names.period} must be 1s, 5s, 10s, 30s or a whole number of minutes (given '${input.period}')`,
    );
  }
  const points = Math.ceil(sinceMs / 1000 / periodSeconds);
  if (points > MAX_POINTS) {
    throw new InvalidArgumentError(
      `${names.since} ${since} at ${names.period} ${input.period} is ${points} points per series; at most ${MAX_POINTS}: use a longer ${names.period}`,
    );
  }
  return { sinceMs, periodSeconds };
}

/** A duration like `90s`, `5m`, `1h`, `2d`; a bare number is in `bareUnit` when given. */
function durationOf(name: string, text: string, bareUnit?: 's'): number {
  const input = bareUnit !== undefined && /^\d+$/.test(text.trim()) ? `${text.trim()}${bareUnit}` : text;
  try {
    const ms = parseDuration(input);
    if (ms > 0) return ms;
  } catch {
    // reported below with the name of the setting
  }
  throw new InvalidArgumentError(`${name} must be a duration like 30m, 1h or 2d (given '${text}')`);
}
