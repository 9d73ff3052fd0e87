import { parseArgs } from 'node:util';
import { connect, connectionOptions } from '../connect.js';
import { UsageError } from '../errors.js';
import { printJson } from '../format.js';

/** `jobstack flow-state <type> <key>`: the debounce mark or the open throttle window of one key. */
export async function flowStateCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: connectionOptions });
  const [type, key] = positionals;
  if (!type || key === undefined || positionals.length > 2) throw new UsageError('usage: jobstack flow-state <type> <key>');
  const jobs = await connect(values);
  const state = await jobs.flowKeyState(type as never, key);
  if (values.json) {
    printJson(state ?? null);
    return;
  }
  if (!state) process.stdout.write(`${type} key ${key}: nothing pending (no debounce mark, no open throttle window)\n`);
  else if (state.until !== undefined)
    process.stdout.write(`${type} key ${key}: throttled until ${state.until}, window held by job ${state.jobId}\n`);
  else
    process.stdout.write(
      `${type} key ${key}: latest job ${state.jobId} (enqueued ${state.enqueuedAt}), earlier ones superseded\n`,
    );
}
