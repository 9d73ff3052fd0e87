import { parseArgs } from 'node:util';
import type { RecurrenceInput } from '../../shared/scheduling/expressions.js';
import { connect, connectionOptions } from '../connect.js';
import { UsageError } from '../errors.js';
import { formatTable, summarize } from '../format.js';
import { printJsonOutput } from '../json/print.js';

/** `jobstack schedules`: the stack's recurring schedules (declared in the registry and created at runtime). */
export async function schedulesCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: connectionOptions });
  if (positionals.length > 0) throw new UsageError('usage: jobstack schedules');
  const jobs = await connect(values);
  const schedules = await jobs.listSchedules();
  if (values.json) {
    printJsonOutput('schedules', schedules);
    return;
  }
  const rows = schedules.map((s) => [
    s.name,
    s.expression,
    s.timezone,
    s.jobType ?? '-',
    s.owner,
    s.state,
    summarize(s.payload ?? '', 40),
  ]);
  process.stdout.write(`${formatTable(['NAME', 'WHEN', 'TIMEZONE', 'TYPE', 'OWNER', 'STATE', 'PAYLOAD'], rows)}\n`);
}

/** `jobstack schedule <name> --cron EXPR | --rate EXPR [--timezone TZ] <type> --payload JSON`. */
export async function scheduleCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...connectionOptions,
      cron: { type: 'string' },
      rate: { type: 'string' },
      timezone: { type: 'string' },
      payload: { type: 'string' },
    },
  });
  const [name, type] = positionals;
  if (!name || !type || positionals.length > 2 || (values.cron === undefined) === (values.rate === undefined)) {
    throw new UsageError(
      "usage: jobstack schedule <name> --cron '0 3 * * ? *' | --rate '5 minutes' [--timezone TZ] <type> --payload <json>",
    );
  }
  let payload: unknown;
  try {
    payload = JSON.parse(values.payload ?? '{}');
  } catch (error) {
    throw new UsageError(`--payload is not valid JSON: ${(error as Error).message}`);
  }
  const timezone = values.timezone === undefined ? {} : { timezone: values.timezone };
  const recurrence: RecurrenceInput =
    values.cron !== undefined ? { cron: values.cron, ...timezone } : { rate: values.rate as string, ...timezone };
  const jobs = await connect(values);
  const created = await jobs.schedule(name, recurrence, type as never, payload as never);
  if (values.json) printJsonOutput('schedule', created);
  else process.stdout.write(`${created.name}: ${created.expression} (${created.timezone}) enqueues ${type}\n`);
}

/** `jobstack unschedule <name>`: deletes a schedule created at runtime. */
export async function unscheduleCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: connectionOptions });
  const [name] = positionals;
  if (!name || positionals.length > 1) throw new UsageError('usage: jobstack unschedule <name>');
  const jobs = await connect(values);
  const deleted = await jobs.unschedule(name);
  if (values.json) printJsonOutput('unschedule', { name, deleted });
  else process.stdout.write(deleted ? `${name}: deleted\n` : `${name}: no such schedule\n`);
  if (!deleted) throw new UsageError(`schedule '${name}' not found`);
}
