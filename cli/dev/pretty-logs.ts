/**
 * `jobstack dev` prints each job's log lines as one readable line (time, level, job type, job id,
 * attempt, message, the other fields) instead of the JSON a deployed worker writes for
 * CloudWatch. Powertools' documented dev mode (`POWERTOOLS_DEV`) sends its output through the
 * global console, which is where it is reformatted; anything that is not a structured log line
 * (a handler's own console.log) is printed as it was.
 */

import { LOG_LINE_ENVELOPE_FIELDS } from '../log-line-fields.js';

/** Besides the envelope, what a dev line already shows in its own columns. */
const SHOWN_FIELDS = new Set(['jobType', 'correlation_id']);

/**
 * The readable form of one console write, or `undefined` to drop it (CloudWatch embedded-metric
 * lines, which mean nothing outside CloudWatch).
 */
export function prettyLogLine(text: string): string | undefined {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return text;
  let line: Record<string, unknown>;
  try {
    line = JSON.parse(trimmed) as Record<string, unknown>;
  } catch {
    return text;
  }
  if ('_aws' in line) return undefined;
  if (typeof line.message !== 'string' || typeof line.level !== 'string') return text;
  const time = typeof line.timestamp === 'string' ? line.timestamp.slice(11, 23) : '';
  const job = [line.jobType, line.jobId, line.attempt === undefined ? undefined : `#${line.attempt}`]
    .filter((part) => part !== undefined)
    .join(' ');
  const extra = Object.fromEntries(
    Object.entries(line).filter(([key]) => !LOG_LINE_ENVELOPE_FIELDS.has(key) && !SHOWN_FIELDS.has(key)),
  );
  const rest = Object.keys(extra).length === 0 ? '' : ` ${JSON.stringify(extra)}`;
  return `${time} ${line.level.padEnd(5)} ${job ? `${job}  ` : ''}${line.message}${rest}`;
}

/** Routes the console through `prettyLogLine`; returns the function that restores it. */
export function installPrettyConsole(write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): () => void {
  const methods = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
  const saved = methods.map((method) => console[method]);
  for (const method of methods) {
    console[method] = (first?: unknown, ...rest: unknown[]) => {
      const text = [first, ...rest].map((part) => (typeof part === 'string' ? part : JSON.stringify(part))).join(' ');
      const pretty = prettyLogLine(text);
      if (pretty !== undefined) write(pretty);
    };
  }
  return () => {
    methods.forEach((method, index) => {
      console[method] = saved[index] as (typeof console)[typeof method];
    });
  };
}
